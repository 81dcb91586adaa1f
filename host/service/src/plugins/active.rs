//! The rule a workspace plans with right now: an activated plugin or Rhai version, or
//! else its property's rule file.

use std::sync::{Arc, PoisonError, RwLock};

use latchkey_engine::rules::{Plan, Rule, RuleError, RuleInput};
use serde::Serialize;

use crate::telemetry::metrics::RuleRuntime;

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

impl RuleSource {
    /// The runtime this rule runs on, as the metrics label it: plugins are WebAssembly;
    /// a rule file is known by its extension, as `RuleLoader::file` loads it.
    pub fn runtime(&self) -> RuleRuntime {
        match self {
            RuleSource::Plugin { .. } => RuleRuntime::Wasm,
            RuleSource::Rhai { .. } => RuleRuntime::Rhai,
            RuleSource::File { path } if path.ends_with(".rhai") => RuleRuntime::Rhai,
            RuleSource::File { path } if path.ends_with(".wasm") => RuleRuntime::Wasm,
            RuleSource::File { .. } => RuleRuntime::Native,
        }
    }
}

/// The rule a plan uses, with where it comes from.
#[derive(Clone)]
pub struct CurrentRule {
    /// The compiled rule.
    pub rule: Arc<dyn Rule>,
    /// Where it comes from.
    pub source: RuleSource,
}

/// This process's copy of the workspace's active rule: the database is the truth
/// (`workspace_rules`, `workspace_rule_versions`), and the copy is reloaded whenever the
/// rule revision on record differs from the one it was loaded at (see
/// [`super::refresh`]), so every replica plans with the rule activated last, whichever
/// replica served the activation. Evaluations already running finish with the rule they
/// started with.
pub struct ActiveRule {
    file: CurrentRule,
    current: RwLock<(CurrentRule, Option<i64>)>,
    /// Serializes this process's activations, so that its own requests never interleave.
    pub(super) changing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ActiveRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveRule")
            .field("source", &self.read().0.source)
            .field("revision", &self.read().1)
            .finish_non_exhaustive()
    }
}

impl ActiveRule {
    /// Starts with the property's rule file, at no revision: the first
    /// [`super::refresh`] loads what the database says.
    pub fn new(file: Arc<dyn Rule>, path: String) -> ActiveRule {
        let file = CurrentRule {
            rule: file,
            source: RuleSource::File { path },
        };
        ActiveRule {
            current: RwLock::new((file.clone(), None)),
            file,
            changing: tokio::sync::Mutex::new(()),
        }
    }

    /// The rule as last loaded. Planning goes through [`super::refresh`] instead, which
    /// checks the revision on record first.
    pub fn cached(&self) -> CurrentRule {
        self.read().0.clone()
    }

    /// The revision the copy was loaded at; `None` before the first load.
    pub(super) fn revision(&self) -> Option<i64> {
        self.read().1
    }

    /// Puts `rule`, loaded at `revision`, in place, unless a newer revision already is:
    /// two loads racing leave the newer one.
    pub(super) fn set(&self, rule: CurrentRule, revision: i64) -> CurrentRule {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.1.is_none_or(|at| at <= revision) {
            *current = (rule, Some(revision));
        }
        current.0.clone()
    }

    /// The property's rule file.
    pub(super) fn file(&self) -> CurrentRule {
        self.file.clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, (CurrentRule, Option<i64>)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_runtime_is_known_by_its_source() {
        let file = |path: &str| RuleSource::File { path: path.into() };
        assert_eq!(
            file("examples/hotel/rule.rhai").runtime(),
            RuleRuntime::Rhai
        );
        assert_eq!(file("plugin.wasm").runtime(), RuleRuntime::Wasm);
        assert_eq!(file("built-in").runtime(), RuleRuntime::Native);
        let plugin = RuleSource::Plugin {
            name: "p".into(),
            version: 1,
            sha256: String::new(),
            activated_at: 0,
        };
        assert_eq!(plugin.runtime().as_str(), "wasm");
    }
}
