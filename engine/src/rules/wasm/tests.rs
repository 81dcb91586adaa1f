use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use super::*;
use crate::rules::evaluate;
use crate::rules::rhai::RhaiRule;
use crate::{ReservationStatus, Timestamp};

const DEFAULT_RULE: &str = include_str!("../../../../rules/default.rhai");
const SAMPLE_INPUT: &str = include_str!("../../../../examples/hotel/rule-input.json");

/// The example plugin, built from source once per test run (it needs the
/// `wasm32-wasip2` target: `rustup target add wasm32-wasip2`).
fn example_plugin() -> Vec<u8> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let path = BUILT.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/plugin-hotel");
        let out = Command::new(env!("CARGO"))
            .args(["build", "--release", "--target", "wasm32-wasip2", "--quiet"])
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "building {} failed (is the wasm32-wasip2 target installed?):\n{}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(dir.join("target/wasm32-wasip2/release/plugin_hotel.wasm"))
    });
    let path = path.as_ref().unwrap_or_else(|e| panic!("{e}"));
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn runtime() -> Arc<WasmRuntime> {
    WasmRuntime::new(WasmLimits::default(), RuleLimits::default()).expect("wasmtime starts")
}

fn sample() -> RuleInput {
    serde_json::from_str(SAMPLE_INPUT).expect("sample input parses")
}

#[test]
fn the_example_plugin_plans_like_the_default_rhai_rule() {
    let plugin = runtime().load(&example_plugin()).expect("plugin loads");
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
    // And across the spring-forward night in Lisbon.
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
    let plugin = runtime().load(&example_plugin()).expect("plugin loads");
    let input = sample();
    let first = plugin.plan(&input).expect("plans");
    for _ in 0..20 {
        assert_eq!(plugin.plan(&input).expect("plans"), first);
    }
}

#[test]
fn a_component_importing_the_filesystem_is_refused_by_name() {
    let wat = r#"(component (import "wasi:filesystem/types@0.2.0" (instance)))"#;
    let err = runtime().load(wat.as_bytes()).expect_err("must be refused");
    assert!(
        err.to_string().contains("wasi:filesystem/types@0.2.0"),
        "{err}"
    );
    let wat = r#"(component (import "wasi:sockets/tcp@0.2.0" (instance)))"#;
    let err = runtime().load(wat.as_bytes()).expect_err("must be refused");
    assert!(err.to_string().contains("wasi:sockets/tcp@0.2.0"), "{err}");
}

#[test]
fn garbage_a_core_module_and_the_wrong_world_are_refused() {
    let rt = runtime();
    let err = rt
        .load(b"\0asm but not really")
        .expect_err("must be refused");
    assert!(
        err.to_string()
            .contains("not a valid WebAssembly component"),
        "{err}"
    );
    let err = rt.load(b"(module)").expect_err("must be refused");
    assert!(
        err.to_string()
            .contains("not a valid WebAssembly component"),
        "{err}"
    );
    let err = rt.load(b"(component)").expect_err("must be refused");
    assert!(
        err.to_string().contains("does not implement world"),
        "{err}"
    );
}

#[test]
fn an_oversized_component_is_refused_before_compiling() {
    let rt = WasmRuntime::new(
        WasmLimits {
            max_component_bytes: 16,
            ..WasmLimits::default()
        },
        RuleLimits::default(),
    )
    .expect("wasmtime starts");
    let err = rt.load(&example_plugin()).expect_err("must be refused");
    assert!(
        err.to_string().contains("more than the limit of 16"),
        "{err}"
    );
}
