//! The example partner plugin against the default Rhai rule: the same plans, every time.

use latchkey_engine::rules::rhai::RhaiRule;
use latchkey_engine::rules::wasm::{WasmConfig, WasmRule, WasmRuntime};
use latchkey_engine::rules::{Rule, RuleInput, RuleLimits, evaluate};
use latchkey_engine::{ReservationStatus, Timestamp};

const DEFAULT_RULE: &str = include_str!("../../rules/default.rhai");
const SAMPLE_INPUT: &str = include_str!("../../examples/hotel/rule-input.json");

fn plugin() -> WasmRule {
    let bytes = std::fs::read(latchkey_tests::example_plugin()).expect("plugin built");
    let runtime = WasmRuntime::new(WasmConfig::default()).expect("wasmtime starts");
    runtime.load(&bytes).expect("plugin loads")
}

fn sample() -> RuleInput {
    serde_json::from_str(SAMPLE_INPUT).expect("sample input parses")
}

#[test]
fn the_example_plugin_plans_like_the_default_rhai_rule() {
    let plugin = plugin();
    let rhai = RhaiRule::compile(DEFAULT_RULE, RuleLimits::default()).expect("rule compiles");
    let limits = RuleLimits::default();
    let mut input = sample();
    for status in [
        ReservationStatus::Confirmed,
        ReservationStatus::Paid,
        ReservationStatus::Cancelled,
    ] {
        for requires_payment in [false, true] {
            input.reservation.status = status;
            input.property.requires_payment = requires_payment;
            let from_wasm = evaluate(&plugin, &input, &limits).expect("plugin plans");
            let from_rhai = evaluate(&rhai, &input, &limits).expect("rule plans");
            assert_eq!(
                from_wasm, from_rhai,
                "{status:?}, payment required: {requires_payment}"
            );
        }
    }
    // Across the spring-forward night in Lisbon.
    input.reservation.status = ReservationStatus::Paid;
    input.reservation.check_in = Timestamp::parse_rfc3339("2016-03-26T15:00:00Z").expect("ts");
    input.reservation.check_out = Timestamp::parse_rfc3339("2016-03-28T10:00:00Z").expect("ts");
    assert_eq!(
        evaluate(&plugin, &input, &limits),
        evaluate(&rhai, &input, &limits)
    );
}

#[test]
fn the_same_input_gives_the_same_plan_every_time() {
    let plugin = plugin();
    let input = sample();
    let first = plugin.plan(&input).expect("plans");
    for _ in 0..20 {
        assert_eq!(plugin.plan(&input).expect("plans"), first);
    }
}
