//! The rule a workspace plans with right now: an activated plugin or Rhai version, or
//! else its property's rule file.

use std::sync::{Arc, PoisonError, RwLock};

use latchkey_engine::rules::{Plan, Rule, RuleError, RuleInput};
use serde::Serialize;

/// Which rule a workspace plans with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleSource {
    /// The rule file the property names (`rules` in `property.toml`).
    File {
        /// Its path.
        path: String,
    },
    /// An uploaded plugin version.
    Plugin {
        /// The plugin's name.
        name: String,
        /// Its version.
        version: i64,
        /// SHA-256 of the component, lower-case hex.
        sha256: String,
        /// When activated, Unix seconds UTC.
        activated_at: i64,
    },
    /// A Rhai rule version uploaded through the API (`/v1/rules`).
    Rhai {
        /// The version's id.
        version: i64,
        /// SHA-256 of the source, lower-case hex.
        sha256: String,
        /// When activated, Unix seconds UTC.
        activated_at: i64,
    },
}

/// The workspace's current rule, swapped whole when a plugin or a Rhai version is
/// activated, or a plugin deactivated;
/// evaluations already running finish with the rule they started with.
pub struct ActiveRule {
    file: (Arc<dyn Rule>, RuleSource),
    current: RwLock<(Arc<dyn Rule>, RuleSource)>,
    /// Serializes activations, so the rule in memory is the one committed last.
    pub(super) changing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ActiveRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveRule")
            .field("source", &self.source())
            .finish_non_exhaustive()
    }
}

impl ActiveRule {
    /// Starts with the property's rule file.
    pub fn new(file: Arc<dyn Rule>, path: String) -> ActiveRule {
        let file = (file, RuleSource::File { path });
        ActiveRule {
            current: RwLock::new(file.clone()),
            file,
            changing: tokio::sync::Mutex::new(()),
        }
    }

    /// The rule to evaluate now.
    pub fn current(&self) -> Arc<dyn Rule> {
        Arc::clone(&self.read().0)
    }

    /// Where the current rule comes from.
    pub fn source(&self) -> RuleSource {
        self.read().1.clone()
    }

    pub(crate) fn set(&self, rule: Arc<dyn Rule>, source: RuleSource) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = (rule, source);
    }

    pub(super) fn reset_to_file(&self) {
        self.set(Arc::clone(&self.file.0), self.file.1.clone());
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, (Arc<dyn Rule>, RuleSource)> {
        // Written whole in one assignment: never half-updated, even after a panic.
        self.current.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Stands in for an activated plugin or Rhai version that no longer loads (for example after an upgrade
/// of the runtime changed its limits): every evaluation fails with the reason, so events
/// are kept with the error and no access changes until an admin activates another rule.
#[derive(Debug)]
pub(super) struct Unloadable(pub(super) String);

impl Rule for Unloadable {
    fn plan(&self, _input: &RuleInput) -> Result<Plan, RuleError> {
        Err(RuleError::Compile(self.0.clone()))
    }
}
