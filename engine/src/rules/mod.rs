//! Rules: pure functions from a reservation snapshot to the grants that should exist.
//!
//! A rule receives a [`RuleInput`] and returns a [`Plan`]. It does no I/O and keeps no
//! state, so the same input always yields the same plan: rules can run in a sandbox, be
//! dry-run, and be replayed. Rhai scripts ([`rhai::RhaiRule`]) and WebAssembly components
//! ([`wasm::WasmRule`]) share this one schema; `docs/rules.md` documents it for rule authors.

mod input;
mod limits;
mod plan;
pub mod rhai;
pub mod transform;
pub mod wasm;

pub use input::{EventType, RuleEvent, RuleInput};
pub use limits::RuleLimits;
pub use plan::{Channel, Notify, Plan};

/// Why a rule produced no plan. The message is meant for the rule's author: it is stored on
/// the event and shown by the CLI and the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The rule's source does not compile.
    #[error("rule does not compile: {0}")]
    Compile(String),
    /// The rule raised an error or misused a value while running.
    #[error("rule failed: {0}")]
    Runtime(String),
    /// The rule ran past one of its limits (operations, time, depth, sizes).
    #[error("rule exceeded its limit on {limit}: {detail}")]
    Limit {
        /// Which limit: `operations`, `time`, `call depth`, `string size`, …
        limit: &'static str,
        /// What happened, with the limit's value.
        detail: String,
    },
    /// The rule returned something that is not a valid plan.
    #[error("rule returned an invalid plan: {0}")]
    InvalidPlan(String),
}

/// Anything that turns a rule input into a plan.
pub trait Rule: Send + Sync + std::fmt::Debug {
    /// Evaluates the rule. Implementations must be deterministic in `input`.
    ///
    /// # Errors
    /// [`RuleError`] when the rule fails, exceeds a limit or returns an invalid plan.
    fn plan(&self, input: &RuleInput) -> Result<Plan, RuleError>;

    /// Evaluates like [`Rule::plan`] and also returns the lines the rule logged, for dry
    /// runs. A runtime without a log returns none.
    fn plan_with_log(&self, input: &RuleInput) -> (Result<Plan, RuleError>, Vec<String>) {
        (self.plan(input), Vec::new())
    }
}

/// Evaluates `rule` and validates its plan against `input` (known locks, sane windows).
///
/// # Errors
/// Whatever the rule raises, or [`RuleError::InvalidPlan`].
pub fn evaluate(
    rule: &dyn Rule,
    input: &RuleInput,
    limits: &RuleLimits,
) -> Result<Plan, RuleError> {
    let plan = rule.plan(input)?;
    plan.validate(input, limits)?;
    Ok(plan)
}

/// Like [`evaluate`], and also returns the lines the rule logged, for dry runs.
pub fn evaluate_with_log(
    rule: &dyn Rule,
    input: &RuleInput,
    limits: &RuleLimits,
) -> (Result<Plan, RuleError>, Vec<String>) {
    let (outcome, log) = rule.plan_with_log(input);
    let checked = outcome.and_then(|plan| {
        plan.validate(input, limits)?;
        Ok(plan)
    });
    (checked, log)
}
