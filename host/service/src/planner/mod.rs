//! What every plan reads besides the reservation: the rule the workspace plans with and
//! each lock's effective branch, both changed by admins at run time.
//!
//! The database is the truth for both; each process keeps a copy ([`Revisioned`]) and
//! [`Planner::refresh`] brings it up to the revisions on record (table
//! `workspace_revisions`) before a plan, so every replica plans with what was last
//! acknowledged to an admin, whichever replica served the change.

pub mod assignments;
pub mod revisioned;
pub mod rule;

use std::sync::Arc;

use latchkey_engine::rules::Rule;
use latchkey_store::{self as store, Conn};

pub use assignments::{Assignment, Assignments, Origin};
pub use revisioned::Revisioned;
pub use rule::{ActiveRule, CurrentRule, RuleSource};

use crate::catalog::Catalog;
use crate::error::Result;
use crate::rule_loader::RuleLoader;

/// The rule, the lock branch assignments and the loader that compiles rules: the narrow
/// state the reconciler, the rule and plugin endpoints and the lock admin need.
#[derive(Debug)]
pub struct Planner {
    /// The rule the workspace plans with: an activated plugin or Rhai version, or the
    /// property's rule file.
    pub rule: ActiveRule,
    /// Each lock's effective branch: the property file's, overridden through the API.
    pub assignments: Assignments,
    /// Compiles rules, and holds the rule limits.
    pub loader: RuleLoader,
}

impl Planner {
    /// The property's rule file and its branches, at no revision: the first
    /// [`Planner::refresh`] loads what the database says.
    pub fn new(file_rule: Arc<dyn Rule>, catalog: &Catalog, loader: RuleLoader) -> Planner {
        Planner {
            rule: ActiveRule::new(file_rule, catalog.rule_path.display().to_string()),
            assignments: Assignments::new(catalog),
            loader,
        }
    }

    /// Brings this process's copies up to the revisions on record for the catalog's
    /// workspace, and returns the rule to plan with. Call it with the connection (or
    /// transaction) the plan reads through.
    ///
    /// # Errors
    /// Database errors.
    pub async fn refresh(&self, conn: &mut Conn, catalog: &Catalog) -> Result<CurrentRule> {
        let ws = &catalog.workspace;
        let at = store::revisions::get(conn, ws).await?;
        self.assignments
            .refresh(conn, catalog, at.assignments)
            .await?;
        self.rule.refresh(conn, ws, &self.loader, at.rule).await
    }
}
