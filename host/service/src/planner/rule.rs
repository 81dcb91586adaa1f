//! The rule a workspace plans with right now: an activated plugin or Rhai version, or
//! else its property's rule file.

use std::sync::Arc;

use latchkey_engine::WorkspaceId;
use latchkey_engine::rules::rhai::RhaiRule;
use latchkey_engine::rules::{Plan, Rule, RuleError, RuleInput};
use latchkey_store::Conn;
use latchkey_store::plugins::{self as stored, Activation, PluginVersion};
use latchkey_store::rule_versions::{self, RuleActivation, RuleVersion};
use serde::Serialize;

use super::revisioned::Revisioned;
use crate::error::{Error, Result};
use crate::rule_loader::RuleLoader;
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

    /// An activated plugin version.
    pub fn plugin(activation: &Activation, record: &PluginVersion) -> RuleSource {
        RuleSource::Plugin {
            name: record.name.clone(),
            version: record.version,
            sha256: record.sha256.clone(),
            activated_at: activation.activated_at,
        }
    }

    /// An activated Rhai version.
    pub fn rhai(activation: &RuleActivation, record: &RuleVersion) -> RuleSource {
        RuleSource::Rhai {
            version: record.id,
            sha256: record.sha256.clone(),
            activated_at: activation.activated_at,
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
/// rule revision on record differs from the one it was loaded at ([`ActiveRule::refresh`]),
/// so every replica plans with the rule activated last, whichever replica served the
/// activation. Evaluations already running finish with the rule they started with.
pub struct ActiveRule {
    file: CurrentRule,
    current: Revisioned<CurrentRule>,
    /// Serializes this process's activations, so that its own requests never interleave.
    pub(crate) changing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ActiveRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveRule")
            .field("source", &self.cached().source)
            .field("revision", &self.current.revision())
            .finish_non_exhaustive()
    }
}

impl ActiveRule {
    /// Starts with the property's rule file, at no revision: the first
    /// [`ActiveRule::refresh`] loads what the database says.
    pub fn new(file: Arc<dyn Rule>, path: String) -> ActiveRule {
        let file = CurrentRule {
            rule: file,
            source: RuleSource::File { path },
        };
        ActiveRule {
            current: Revisioned::new(file.clone()),
            file,
            changing: tokio::sync::Mutex::new(()),
        }
    }

    /// The rule as last loaded. Planning goes through [`ActiveRule::refresh`] instead,
    /// which checks the revision on record first.
    pub fn cached(&self) -> CurrentRule {
        self.current.with(Clone::clone)
    }

    /// Puts `rule`, loaded at `revision`, in place, unless a newer revision already is.
    pub fn set(&self, rule: CurrentRule, revision: i64) -> CurrentRule {
        self.current.set(rule, revision, Clone::clone)
    }

    /// The property's rule file.
    pub fn file(&self) -> CurrentRule {
        self.file.clone()
    }

    /// The rule `ws` plans with now, as the database says: the copy when it was loaded at
    /// `revision` (the rule revision just read from the database), else reloaded (see
    /// [`restore`]) and kept.
    ///
    /// # Errors
    /// Database errors.
    pub async fn refresh(
        &self,
        conn: &mut Conn,
        ws: &WorkspaceId,
        loader: &RuleLoader,
        revision: i64,
    ) -> Result<CurrentRule> {
        if self.current.revision() == Some(revision) {
            return Ok(self.cached());
        }
        // Read after the revision: what is loaded is at least as new as the revision kept.
        let current = match restore(conn, ws, loader).await? {
            Some(current) => current,
            None => self.file(),
        };
        Ok(self.set(current, revision))
    }
}

/// The rule on record for `ws`: the plugin version or the Rhai version activated last,
/// compiled (a plugin from the on-disk cache when warm), or `None` for the property's
/// rule file. A stored version that no longer loads becomes a rule that fails
/// every evaluation with the reason, so nothing is planned with a rule the admin did not
/// choose.
///
/// # Errors
/// Database errors; [`Error::Internal`] when the activation names a version that is gone.
async fn restore(
    conn: &mut Conn,
    ws: &WorkspaceId,
    loader: &RuleLoader,
) -> Result<Option<CurrentRule>> {
    let plugin = stored::active(conn, ws).await?;
    let rhai = rule_versions::active(conn, ws).await?;
    // Each activation removes the other kind's, so both are on record only in a database
    // written otherwise; the later one wins then too.
    if let Some(rhai) = rhai
        && plugin
            .as_ref()
            .is_none_or(|p| p.activated_at <= rhai.activated_at)
    {
        return restore_rhai(conn, ws, loader, &rhai).await.map(Some);
    }
    let Some(activation) = plugin else {
        return Ok(None);
    };
    let (record, bytes) = stored::get(conn, &activation.plugin, activation.version)
        .await?
        .ok_or_else(|| {
            Error::internal(format!(
                "active plugin `{}` version {} is missing",
                activation.plugin, activation.version
            ))
        })?;
    let rule: Arc<dyn Rule> = match loader.compile_component(bytes.into()).await? {
        Ok(rule) => Arc::new(rule),
        Err(e) => {
            let reason = format!(
                "active plugin `{}` version {} no longer loads: {e}",
                activation.plugin, activation.version
            );
            tracing::error!(workspace = %ws, "{reason}");
            Arc::new(Unloadable(reason))
        }
    };
    Ok(Some(CurrentRule {
        rule,
        source: RuleSource::plugin(&activation, &record),
    }))
}

async fn restore_rhai(
    conn: &mut Conn,
    ws: &WorkspaceId,
    loader: &RuleLoader,
    activation: &RuleActivation,
) -> Result<CurrentRule> {
    let id = activation.version_id;
    let (record, source) = rule_versions::get(conn, ws, id)
        .await?
        .ok_or_else(|| Error::internal(format!("active rule version {id} is missing")))?;
    let rule: Arc<dyn Rule> = match RhaiRule::compile(&source, loader.limits().clone()) {
        Ok(rule) => Arc::new(rule),
        Err(e) => {
            let reason = format!("active rule version {id} no longer compiles: {e}");
            tracing::error!(workspace = %ws, "{reason}");
            Arc::new(Unloadable(reason))
        }
    };
    Ok(CurrentRule {
        rule,
        source: RuleSource::rhai(activation, &record),
    })
}

/// Stands in for an activated plugin or Rhai version that no longer loads (for example
/// after an upgrade of the runtime changed its limits): every evaluation fails with the
/// reason, so events are kept with the error and no access changes until an admin
/// activates another rule.
#[derive(Debug)]
struct Unloadable(String);

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
