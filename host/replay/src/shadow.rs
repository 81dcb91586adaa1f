//! Comparing two rules on the same inputs: the replay plans with one rule and evaluates a
//! second beside it on every rule input, recording where their plans differ. This is how a
//! new rule (a plugin replacing a script, say) is checked against real bookings before it
//! is activated.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use latchkey_engine::rules::{Plan, Rule, RuleError, RuleInput};
use serde::Serialize;

/// How many differing inputs a comparison keeps as examples.
const EXAMPLES: usize = 10;

/// The plan a replay uses, with a second rule evaluated beside it.
#[derive(Debug)]
pub struct Shadowed {
    primary: Arc<dyn Rule>,
    shadow: Arc<dyn Rule>,
    evaluations: AtomicU64,
    differing: AtomicU64,
    examples: Mutex<Vec<PlanDifference>>,
}

/// One input on which the two rules disagreed.
#[derive(Debug, Clone, Serialize)]
pub struct PlanDifference {
    /// The reservation planned.
    pub reservation: String,
    /// The input's `now`, Unix seconds UTC.
    pub now: i64,
    /// The rule in use: its plan as JSON, or its error.
    pub primary: String,
    /// The rule compared: its plan as JSON, or its error.
    pub shadow: String,
}

/// The outcome of a comparison, in the replay's report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Comparison {
    /// Rule inputs both rules were given.
    pub evaluations: u64,
    /// Inputs on which their plans differed (both failing counts as agreeing).
    pub differing: u64,
    /// The first differing inputs.
    pub examples: Vec<PlanDifference>,
}

impl Shadowed {
    /// Plans with `primary`, and compares `shadow` with it on every input.
    pub fn new(primary: Arc<dyn Rule>, shadow: Arc<dyn Rule>) -> Shadowed {
        Shadowed {
            primary,
            shadow,
            evaluations: AtomicU64::new(0),
            differing: AtomicU64::new(0),
            examples: Mutex::new(Vec::new()),
        }
    }

    /// The comparison so far.
    pub fn comparison(&self) -> Comparison {
        Comparison {
            evaluations: self.evaluations.load(Ordering::Relaxed),
            differing: self.differing.load(Ordering::Relaxed),
            examples: self
                .examples
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }
}

impl Rule for Shadowed {
    fn plan(&self, input: &RuleInput) -> Result<Plan, RuleError> {
        let primary = self.primary.plan(input);
        let shadow = self.shadow.plan(input);
        self.evaluations.fetch_add(1, Ordering::Relaxed);
        let agree = match (&primary, &shadow) {
            (Ok(a), Ok(b)) => a == b,
            (Err(_), Err(_)) => true,
            _ => false,
        };
        if !agree {
            self.differing.fetch_add(1, Ordering::Relaxed);
            let mut examples = self.examples.lock().unwrap_or_else(PoisonError::into_inner);
            if examples.len() < EXAMPLES {
                examples.push(PlanDifference {
                    reservation: input.reservation.id.to_string(),
                    now: input.now.unix(),
                    primary: describe(&primary),
                    shadow: describe(&shadow),
                });
            }
        }
        primary
    }
}

fn describe(outcome: &Result<Plan, RuleError>) -> String {
    match outcome {
        Ok(plan) => serde_json::to_string(plan).unwrap_or_else(|e| format!("(unprintable: {e})")),
        Err(e) => format!("error: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_engine::rules::RuleLimits;
    use latchkey_engine::rules::rhai::RhaiRule;

    fn rhai(source: &str) -> Arc<dyn Rule> {
        Arc::new(RhaiRule::compile(source, RuleLimits::default()).expect("compiles"))
    }

    fn input() -> RuleInput {
        serde_json::from_str(include_str!("../../../examples/hotel/rule-input.json"))
            .expect("the example input parses")
    }

    #[test]
    fn agreeing_rules_count_evaluations_and_no_differences() {
        let rule = rhai("fn plan(input) { #{ grants: [] } }");
        let shadowed = Shadowed::new(rule.clone(), rule);
        shadowed.plan(&input()).expect("plans");
        shadowed.plan(&input()).expect("plans");
        let c = shadowed.comparison();
        assert_eq!((c.evaluations, c.differing), (2, 0));
    }

    #[test]
    fn a_differing_plan_is_recorded_and_the_primary_plan_is_used() {
        let primary = rhai("fn plan(input) { #{ grants: [] } }");
        let shadow = rhai(r#"fn plan(input) { throw "no" }"#);
        let shadowed = Shadowed::new(primary, shadow);
        let plan = shadowed.plan(&input()).expect("the primary rule's plan");
        assert!(plan.grants.is_empty());
        let c = shadowed.comparison();
        assert_eq!(c.differing, 1);
        assert!(c.examples[0].shadow.contains("no"), "{:?}", c.examples);
    }
}
