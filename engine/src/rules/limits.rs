//! The sandbox's limits, in one place.

use std::time::Duration;

/// Limits applied to every rule evaluation, whatever the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleLimits {
    /// Most interpreter operations per evaluation (deterministic).
    pub max_operations: u64,
    /// Wall-clock deadline per evaluation.
    pub deadline: Duration,
    /// Deepest function-call nesting.
    pub max_call_depth: usize,
    /// Longest string a rule may build, in bytes.
    pub max_string_len: usize,
    /// Longest array a rule may build.
    pub max_array_len: usize,
    /// Largest map a rule may build.
    pub max_map_len: usize,
    /// Most grants in one plan.
    pub max_grants: usize,
    /// Largest rule source, in bytes.
    pub max_source_len: usize,
}

impl Default for RuleLimits {
    fn default() -> Self {
        RuleLimits {
            max_operations: 1_000_000,
            deadline: Duration::from_millis(250),
            max_call_depth: 32,
            max_string_len: 64 * 1024,
            max_array_len: 10_000,
            max_map_len: 10_000,
            max_grants: 256,
            max_source_len: 256 * 1024,
        }
    }
}
