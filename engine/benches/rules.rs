//! One plan for the same input (`examples/hotel/rule-input.json`), evaluated four ways:
//! natively in Rust, by `rules/default.rhai` (compiled once), and by the example plugin
//! (`examples/plugin-hotel`, built beforehand) both instantiated per call, as the service
//! does, and on a warm instance; then many evaluations on every core at once.
//!
//! ```text
//! cargo build --release --target wasm32-wasip2 --manifest-path examples/plugin-hotel/Cargo.toml
//! cargo bench -p latchkey-engine --bench rules
//! ```
//!
//! Goals (issue "Partner plugins"): WASM instantiate + call ≤ 25 µs and Rhai ≤ 10 µs per
//! plan, each within 3× of native Rust. Results: `docs/performance.md`.

// `criterion_group!` generates an undocumented function.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use latchkey_engine::rules::rhai::RhaiRule;
use latchkey_engine::rules::wasm::{WasmConfig, WasmRuntime};
use latchkey_engine::rules::{Channel, Notify, Plan, Rule, RuleError, RuleInput, RuleLimits};
use latchkey_engine::time::{at_local, local_day};
use latchkey_engine::{DoorKind, Grant, ReservationStatus};

const INPUT: &str = include_str!("../../examples/hotel/rule-input.json");
const DEFAULT_RULE: &str = include_str!("../../rules/default.rhai");

/// The policy of `rules/default.rhai` written directly against the engine's types: the
/// baseline the sandboxed runtimes are measured against.
#[derive(Debug)]
struct NativeHotel;

impl Rule for NativeHotel {
    fn plan(&self, input: &RuleInput) -> Result<Plan, RuleError> {
        const OPEN_BEFORE: i64 = 3600;
        const CLOSE_AFTER: i64 = 900;
        const ISSUE_DAYS_BEFORE: i64 = 3;
        let r = &input.reservation;
        let p = &input.property;
        let entitled = match r.status {
            ReservationStatus::Paid | ReservationStatus::CheckedOut => true,
            ReservationStatus::Confirmed => !p.requires_payment,
            ReservationStatus::Cancelled | ReservationStatus::NoShow => false,
        };
        // Like the rule: e-mail and SMS, and a notice when access is withdrawn.
        let notify = Some(Notify {
            channels: vec![Channel::Email, Channel::Sms],
            on_revoke: true,
        });
        let no_access = || {
            Ok(Plan {
                grants: Vec::new(),
                notify: notify.clone(),
            })
        };
        if !entitled {
            return no_access();
        }
        let tz = p.timezone;
        let (first, last) = (local_day(r.check_in, tz), local_day(r.check_out, tz));
        let (open, close) = if first == last {
            (p.day_use_start, p.day_use_end)
        } else {
            (p.check_in_time, p.check_out_time)
        };
        let starts_at = at_local(first, open, tz).plus(-OPEN_BEFORE);
        let mut ends_at = at_local(last, close, tz).plus(CLOSE_AFTER);
        if r.status == ReservationStatus::CheckedOut
            && let Some(left) = r.checked_out_at
        {
            ends_at = ends_at.min(left.plus(CLOSE_AFTER));
        }
        if ends_at <= starts_at {
            return no_access();
        }
        let issue_at = starts_at.plus(-ISSUE_DAYS_BEFORE * 86_400);
        let grants = input
            .locks
            .iter()
            .filter(|lock| {
                let Some(branch) = &lock.branch else {
                    return false;
                };
                match lock.door {
                    DoorKind::Private => lock.resources.iter().any(|id| r.resources.contains(id)),
                    DoorKind::Shared => input.resources.iter().any(|res| &res.branch == branch),
                }
            })
            .map(|lock| Grant {
                lock: lock.id.clone(),
                starts_at,
                ends_at,
                issue_at: Some(issue_at),
                credential: Default::default(),
                when_full: Default::default(),
            })
            .collect();
        Ok(Plan { grants, notify })
    }
}

fn plugin_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/plugin-hotel/target/wasm32-wasip2/release/plugin_hotel.wasm")
}

fn rules(c: &mut Criterion) {
    let input: RuleInput = serde_json::from_str(INPUT).expect("the example input parses");
    let native = NativeHotel;
    let rhai =
        RhaiRule::compile(DEFAULT_RULE, RuleLimits::default()).expect("default.rhai compiles");
    let bytes = std::fs::read(plugin_path()).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the example plugin first (see the top of this file)",
            plugin_path().display()
        )
    });
    let runtime = WasmRuntime::new(WasmConfig::default()).expect("wasmtime starts");
    let wasm = runtime.load(&bytes).expect("the example plugin loads");
    let mut warm = wasm.warm().expect("the example plugin starts");

    // The three must agree, or the comparison is meaningless.
    let expected = native.plan(&input).expect("native plans");
    assert!(
        !expected.grants.is_empty(),
        "the sample input grants access"
    );
    assert_eq!(
        rhai.plan(&input).expect("rhai plans"),
        expected,
        "rhai differs from native"
    );
    assert_eq!(
        wasm.plan(&input).expect("wasm plans"),
        expected,
        "the plugin differs from native"
    );
    assert_eq!(
        warm.plan(&input).expect("warm plans"),
        expected,
        "the warm plugin differs"
    );

    let mut group = c.benchmark_group("plan");
    group.throughput(Throughput::Elements(1));
    group.bench_function("native", |b| {
        b.iter(|| native.plan(std::hint::black_box(&input)))
    });
    group.bench_function("rhai", |b| {
        b.iter(|| rhai.plan(std::hint::black_box(&input)))
    });
    group.bench_function("wasm_instantiate_and_call", |b| {
        b.iter(|| wasm.plan(std::hint::black_box(&input)))
    });
    group.bench_function("wasm_warm_call", |b| {
        b.iter(|| warm.plan(std::hint::black_box(&input)))
    });
    group.finish();

    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut group = c.benchmark_group("parallel");
    let per_thread = 1_000u64;
    group.throughput(Throughput::Elements(per_thread * threads as u64));
    let runtimes: [(&str, Arc<dyn Rule>); 3] = [
        ("native", Arc::new(NativeHotel)),
        ("rhai", Arc::new(rhai)),
        ("wasm_instantiate_and_call", Arc::new(wasm)),
    ];
    for (name, rule) in runtimes {
        group.bench_with_input(BenchmarkId::new(name, threads), &rule, |b, rule| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += in_parallel(rule, &input, threads, per_thread);
                }
                total
            })
        });
    }
    group.finish();
}

/// Wall time for `threads` threads to plan `per_thread` times each.
fn in_parallel(
    rule: &Arc<dyn Rule>,
    input: &RuleInput,
    threads: usize,
    per_thread: u64,
) -> Duration {
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per_thread {
                    rule.plan(std::hint::black_box(input)).expect("plans");
                }
            });
        }
    });
    started.elapsed()
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).sample_size(50);
    targets = rules
}
criterion_main!(benches);
