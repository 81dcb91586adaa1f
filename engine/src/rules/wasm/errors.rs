//! Why a plugin is refused at load, and how its traps become the errors Rhai rules give.

use wasmtime::Trap;

use super::WasmLimits;
use super::no_wait::WaitRefused;
use super::state::GrowthRefused;
use crate::rules::{RuleError, RuleLimits};

/// Why a component was refused at load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// Larger than [`WasmLimits::max_component_bytes`].
    #[error("component is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Its size, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// Not a WebAssembly component (garbage, a core module, or a component that does not
    /// validate or compile).
    #[error("not a valid WebAssembly component: {0}")]
    NotAComponent(String),
    /// Imports interfaces plugins may not use.
    #[error("component imports {}, which plugins may not use (allowed: log, {allowed})", quoted(.imports))]
    ForbiddenImport {
        /// Every forbidden import's full name, e.g. `wasi:filesystem/types@0.2.0`.
        imports: Vec<String>,
        /// The allowed prefixes, comma-separated.
        allowed: String,
    },
    /// Does not export `plan` with the world's signature.
    #[error("component does not implement world latchkey:rules/rule: {0}")]
    WrongWorld(String),
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Turns a trap into the same errors Rhai rules give.
pub(super) fn classify(
    e: &wasmtime::Error,
    limits: &WasmLimits,
    rule_limits: &RuleLimits,
) -> RuleError {
    if let Some(refused) = e.downcast_ref::<GrowthRefused>() {
        return match refused {
            GrowthRefused::Memory { desired } => RuleError::Limit {
                limit: "memory",
                detail: format!(
                    "asked for {desired} bytes, more than the cap of {}",
                    limits.max_memory_bytes
                ),
            },
            GrowthRefused::Table { desired } => RuleError::Limit {
                limit: "table size",
                detail: format!(
                    "asked for {desired} elements, more than the cap of {}",
                    limits.max_table_elements
                ),
            },
        };
    }
    if let Some(refused) = e.downcast_ref::<WaitRefused>() {
        return RuleError::Runtime(refused.to_string());
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => RuleError::Limit {
            limit: "operations",
            detail: format!("ran out of its fuel budget of {}", limits.fuel),
        },
        Some(Trap::Interrupt) => RuleError::Limit {
            limit: "time",
            detail: format!(
                "still running after {} ms",
                rule_limits.deadline.as_millis()
            ),
        },
        Some(Trap::StackOverflow) => RuleError::Limit {
            limit: "call depth",
            detail: "the stack overflowed".into(),
        },
        Some(Trap::UnreachableCodeReached) => {
            RuleError::Runtime("plugin trapped: it panicked or reached `unreachable`".into())
        }
        Some(trap) => RuleError::Runtime(format!("plugin trapped: {trap}")),
        None => RuleError::Runtime(format!("plugin failed: {e:#}")),
    }
}
