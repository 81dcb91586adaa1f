//! Transforms: small Rhai scripts that turn a platform's JSON payload into Latchkey's
//! canonical event, for webhook sources whose payload no field mapping can describe.
//!
//! A transform defines `fn transform(payload)`, where `payload` is the request body as a
//! Rhai value (objects become maps), and returns either a map with the canonical event's
//! fields (`type`, `id`, `status`, `resources`, `check_in`, `check_out`, `guest`,
//! optionally `version`) or `()` to ignore the payload. It runs in the rules' sandbox,
//! under the same [`RuleLimits`] and with the same helpers (`local_date`, `at_local`,
//! `days_between`): no I/O, no `eval`, no imports, bounded operations, time and sizes.

use std::sync::Arc;

use rhai::{AST, Engine};

use super::rhai::{call_sandboxed, compile_script};
use super::{RuleError, RuleLimits};

/// A compiled transform. Cheap to clone; safe to share between threads.
#[derive(Clone)]
pub struct Transform {
    engine: Arc<Engine>,
    ast: Arc<AST>,
    limits: RuleLimits,
}

impl std::fmt::Debug for Transform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transform")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Transform {
    /// Compiles `source` under `limits`.
    ///
    /// # Errors
    /// [`RuleError::Compile`] with the parser's message, when the script is larger than
    /// `limits.max_source_len`, or when it defines no `transform(payload)` function.
    pub fn compile(source: &str, limits: RuleLimits) -> Result<Transform, RuleError> {
        let (engine, ast) = compile_script(source, &limits, "transform", "payload")?;
        Ok(Transform {
            engine,
            ast,
            limits,
        })
    }

    /// Runs the transform on `payload`: `Ok(None)` when it returned `()`.
    ///
    /// # Errors
    /// [`RuleError::Runtime`] when the script raises an error or returns something that is
    /// not a map or `()`; [`RuleError::Limit`] when it runs past a limit.
    pub fn run(&self, payload: &serde_json::Value) -> Result<Option<serde_json::Value>, RuleError> {
        let arg = rhai::serde::to_dynamic(payload).map_err(|e| {
            RuleError::Runtime(format!("cannot pass the payload to the script: {e}"))
        })?;
        let value = call_sandboxed(&self.engine, &self.ast, "transform", arg, &self.limits)?;
        if value.is_unit() {
            return Ok(None);
        }
        if !value.is_map() {
            return Err(RuleError::Runtime(format!(
                "`transform` must return a map or `()`, not {}",
                value.type_name()
            )));
        }
        rhai::serde::from_dynamic::<serde_json::Value>(&value)
            .map(Some)
            .map_err(|e| RuleError::Runtime(format!("`transform` returned an unreadable map: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCRIPT: &str = r#"
        fn transform(payload) {
            if payload.kind != "booking" { return (); }
            let b = payload.booking;
            #{ type: "reservation.confirmed", id: "B-" + b.ref, status: "confirmed",
               resources: [b.room], check_in: b.from, check_out: b.to,
               guest: #{ name: b.who } }
        }
    "#;

    #[test]
    fn maps_a_payload_and_ignores_on_unit() {
        let t = Transform::compile(SCRIPT, RuleLimits::default()).expect("compiles");
        let out = t
            .run(
                &json!({"kind": "booking", "booking": {"ref": 17, "room": "101",
                "from": "2026-11-23", "to": "2026-11-25", "who": "Ana"}}),
            )
            .expect("runs")
            .expect("a map");
        assert_eq!(out["id"], "B-17");
        assert_eq!(out["resources"], json!(["101"]));
        assert_eq!(t.run(&json!({"kind": "rate"})).expect("runs"), None);
    }

    #[test]
    fn runs_under_the_rule_limits() {
        let limits = RuleLimits {
            max_operations: 10_000,
            ..RuleLimits::default()
        };
        let spin = Transform::compile("fn transform(p) { loop {} }", limits).expect("compiles");
        assert!(matches!(
            spin.run(&json!({})),
            Err(RuleError::Limit {
                limit: "operations",
                ..
            })
        ));
        let no_fn = Transform::compile("fn plan(input) { () }", RuleLimits::default());
        assert!(matches!(no_fn, Err(RuleError::Compile(_))));
        let eval = Transform::compile(r#"fn transform(p) { eval("1") }"#, RuleLimits::default());
        assert!(eval.is_err(), "eval is not available");
        let number =
            Transform::compile("fn transform(p) { 42 }", RuleLimits::default()).expect("compiles");
        assert!(matches!(number.run(&json!({})), Err(RuleError::Runtime(_))));
        let raised = Transform::compile(
            r#"fn transform(p) { throw "no room" }"#,
            RuleLimits::default(),
        )
        .expect("compiles");
        let err = raised.run(&json!({})).expect_err("raised");
        assert!(err.to_string().contains("no room"), "{err}");
    }
}
