//! What a rule returns, and its validation.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{RuleError, RuleInput, RuleLimits};
use crate::Grant;

/// The desired grants for one reservation. An empty list means "no access".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// At most one grant per lock.
    pub grants: Vec<Grant>,
}

impl Plan {
    /// Checks the plan against the input it was computed from.
    ///
    /// # Errors
    /// [`RuleError::InvalidPlan`] naming the first offending grant: too many grants, a lock
    /// not in `input.locks`, the same lock twice, an empty window, or `issue_at` after
    /// `starts_at`.
    pub fn validate(&self, input: &RuleInput, limits: &RuleLimits) -> Result<(), RuleError> {
        if self.grants.len() > limits.max_grants {
            return Err(RuleError::InvalidPlan(format!(
                "{} grants, more than the limit of {}",
                self.grants.len(),
                limits.max_grants
            )));
        }
        let mut seen = HashSet::new();
        for (i, g) in self.grants.iter().enumerate() {
            if !input.locks.iter().any(|l| l.id == g.lock) {
                return Err(RuleError::InvalidPlan(format!(
                    "grants[{i}] names lock `{}`, which is not among the input's locks",
                    g.lock
                )));
            }
            if !seen.insert(&g.lock) {
                return Err(RuleError::InvalidPlan(format!(
                    "grants[{i}] repeats lock `{}`",
                    g.lock
                )));
            }
            if g.starts_at >= g.ends_at {
                return Err(RuleError::InvalidPlan(format!(
                    "grants[{i}] has an empty window: starts_at {} is not before ends_at {}",
                    g.starts_at, g.ends_at
                )));
            }
            if g.issue_at() > g.starts_at {
                return Err(RuleError::InvalidPlan(format!(
                    "grants[{i}] has issue_at {} after starts_at {}: the guest would be locked out",
                    g.issue_at(),
                    g.starts_at
                )));
            }
        }
        Ok(())
    }
}
