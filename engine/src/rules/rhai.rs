//! Rules written in Rhai, run in a sandbox.
//!
//! A script defines `fn plan(input)` returning `#{ grants: [...] }`. Top-level `const`s are
//! its parameters (read inside functions as `global::NAME`). The sandbox allows no `eval`,
//! no module imports, no printing, and caps operations, call depth, string, array and map
//! sizes and wall-clock time ([`RuleLimits`]). The script is compiled once into an AST and
//! reused for every evaluation.
//!
//! Helpers registered for rule authors (instants are UTC Unix seconds):
//! - `local_date(instant, tz) -> "YYYY-MM-DD"`: the property-local day of an instant;
//! - `at_local(date, "HH:MM", tz) -> instant`: when the local wall clock shows that time;
//! - `days_between(date_a, date_b) -> int`: whole days from `date_a` to `date_b`.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use rhai::{AST, Dynamic, Engine, EvalAltResult, Scope};

use super::{Plan, Rule, RuleError, RuleInput, RuleLimits};
use crate::time::{self, LocalTime, Timestamp};

thread_local! {
    /// Deadline of the evaluation running on this thread. Evaluation is synchronous, so a
    /// thread-local lets one shared `Engine` serve every rule.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// How often (in operations) the wall-clock deadline is checked; reading the clock on every
/// operation would dominate small scripts.
const DEADLINE_CHECK_EVERY: u64 = 512;

/// A compiled Rhai rule. Cheap to clone; safe to share between threads.
#[derive(Clone)]
pub struct RhaiRule {
    engine: Arc<Engine>,
    ast: Arc<AST>,
    limits: RuleLimits,
}

impl std::fmt::Debug for RhaiRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RhaiRule")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl RhaiRule {
    /// Compiles `source` under `limits`.
    ///
    /// # Errors
    /// [`RuleError::Compile`] with the parser's message and position, or when the script
    /// is larger than `limits.max_source_len` or defines no `plan(input)` function.
    pub fn compile(source: &str, limits: RuleLimits) -> Result<RhaiRule, RuleError> {
        let (engine, ast) = compile_script(source, &limits, "plan", "input")?;
        Ok(RhaiRule {
            engine,
            ast,
            limits,
        })
    }
}

impl Rule for RhaiRule {
    fn plan(&self, input: &RuleInput) -> Result<Plan, RuleError> {
        let arg = rhai::serde::to_dynamic(input)
            .map_err(|e| RuleError::Runtime(format!("cannot pass the input to the script: {e}")))?;
        let value = call_sandboxed(&self.engine, &self.ast, "plan", arg, &self.limits)?;
        rhai::serde::from_dynamic::<Plan>(&value).map_err(|e| {
            RuleError::InvalidPlan(format!(
                "expected #{{ grants: [#{{ lock, starts_at, ends_at, issue_at, when_full }}], notify: #{{ channels, on_revoke }} }}: {e}"
            ))
        })
    }
}

/// Calls `name(arg)` in `ast` under the wall-clock deadline of `limits` (the other limits
/// are the engine's), and names the limit a failure ran into.
/// Compiles a script in the sandbox under `limits`, and checks that it defines
/// `fn {function}({param})`: what rules and source transforms share.
///
/// # Errors
/// [`RuleError::Compile`] with the parser's message, for a script larger than
/// `limits.max_source_len`, or for one without the function.
pub(super) fn compile_script(
    source: &str,
    limits: &RuleLimits,
    function: &str,
    param: &str,
) -> Result<(Arc<Engine>, Arc<AST>), RuleError> {
    if source.len() > limits.max_source_len {
        return Err(RuleError::Compile(format!(
            "script is {} bytes, more than the limit of {}",
            source.len(),
            limits.max_source_len
        )));
    }
    let engine = sandboxed_engine(limits);
    let ast = engine
        .compile(source)
        .map_err(|e| RuleError::Compile(e.to_string()))?;
    if !ast
        .iter_functions()
        .any(|f| f.name == function && f.params.len() == 1)
    {
        return Err(RuleError::Compile(format!(
            "script defines no `fn {function}({param})`"
        )));
    }
    Ok((Arc::new(engine), Arc::new(ast)))
}

pub(super) fn call_sandboxed(
    engine: &Engine,
    ast: &AST,
    name: &'static str,
    arg: Dynamic,
    limits: &RuleLimits,
) -> Result<Dynamic, RuleError> {
    DEADLINE.set(Some(Instant::now() + limits.deadline));
    let result = engine.call_fn::<Dynamic>(&mut Scope::new(), ast, name, (arg,));
    DEADLINE.set(None);
    result.map_err(|e| classify(*e, limits, name))
}

fn classify(e: EvalAltResult, l: &RuleLimits, entry: &str) -> RuleError {
    match e {
        EvalAltResult::ErrorTooManyOperations(pos) => RuleError::Limit {
            limit: "operations",
            detail: format!("more than {} operations (at {pos})", l.max_operations),
        },
        EvalAltResult::ErrorTerminated(_, pos) => RuleError::Limit {
            limit: "time",
            detail: format!(
                "still running after {} ms (at {pos})",
                l.deadline.as_millis()
            ),
        },
        EvalAltResult::ErrorStackOverflow(pos) => RuleError::Limit {
            limit: "call depth",
            detail: format!("calls nested deeper than {} (at {pos})", l.max_call_depth),
        },
        EvalAltResult::ErrorDataTooLarge(what, pos) => RuleError::Limit {
            limit: "data size",
            detail: format!("{what} (at {pos})"),
        },
        EvalAltResult::ErrorInFunctionCall(name, _, inner, _) if name == entry => {
            classify(*inner, l, entry)
        }
        other => RuleError::Runtime(other.to_string()),
    }
}

/// An engine with the sandbox's limits and helpers, shared by rules and transforms.
pub(super) fn sandboxed_engine(limits: &RuleLimits) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_depth)
        .set_max_expr_depths(64, 64)
        .set_max_string_size(limits.max_string_len)
        .set_max_array_size(limits.max_array_len)
        .set_max_map_size(limits.max_map_len)
        .set_max_modules(0)
        .set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new())
        .disable_symbol("eval")
        .on_print(|_| {})
        .on_debug(|_, _, _| {})
        .on_progress(|ops| {
            if ops % DEADLINE_CHECK_EVERY == 0
                && DEADLINE
                    .get()
                    .is_some_and(|deadline| Instant::now() > deadline)
            {
                return Some(Dynamic::UNIT);
            }
            None
        });
    engine.register_fn("local_date", local_date);
    engine.register_fn("at_local", at_local);
    engine.register_fn("days_between", days_between);
    engine
}

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

fn parse_date(s: &str) -> RhaiResult<NaiveDate> {
    // `NaiveDate`'s own ISO 8601 form is YYYY-MM-DD, and cheaper than a strftime pattern.
    s.parse::<NaiveDate>()
        .map_err(|_| format!("`{s}` is not a date as YYYY-MM-DD").into())
}

fn local_date(at: i64, tz: &str) -> RhaiResult<String> {
    let tz = time::parse_tz(tz)?;
    Ok(time::local_day(Timestamp(at), tz).to_string())
}

fn at_local(day: &str, hhmm: &str, tz: &str) -> RhaiResult<i64> {
    let tz = time::parse_tz(tz)?;
    let t: LocalTime = hhmm.parse::<LocalTime>()?;
    Ok(time::at_local(parse_date(day)?, t, tz).unix())
}

fn days_between(a: &str, b: &str) -> RhaiResult<i64> {
    Ok((parse_date(b)? - parse_date(a)?).num_days())
}

#[cfg(test)]
mod tests;
