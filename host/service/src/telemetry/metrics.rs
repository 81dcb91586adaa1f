//! Prometheus metrics: every name and label value the service records, and the helpers
//! that record them, so the exposition at `/metrics` is described in this one file.
//!
//! The recorder is process-wide (the `metrics` facade has one global recorder), installed
//! once by [`install`]; building more apps in the same process (tests, replays) shares
//! it. Counters only go up, so a reader compares two scrapes rather than trusting a value
//! to start at zero.

use std::sync::OnceLock;
use std::time::Duration;

use axum::http::StatusCode;
use latchkey_providers::metered::{PROVIDER_CALL_SECONDS, PROVIDER_CALLS};
use latchkey_store::alerts::ALERTS_RAISED;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Counter: deliveries the inbox handled, by `source` and `outcome`
/// ([`WebhookOutcome`]). Polled feeds (iCal, reenio fetches) count under their source too.
pub const WEBHOOKS_RECEIVED: &str = "latchkey_webhooks_received_total";
/// Counter: webhook requests refused before the inbox, by HTTP `status` (401, 404, 413,
/// 415, 422, 500, …). No source label: a refused request may name any source it likes.
pub const WEBHOOKS_REFUSED: &str = "latchkey_webhooks_refused_total";
/// Counter: rule evaluations by `runtime` ([`RuleRuntime`]) and `outcome` (`ok`, `error`).
pub const RULE_EVALUATIONS: &str = "latchkey_rule_evaluations_total";
/// Histogram: how long a rule evaluation took, plan validation included, in seconds, by
/// `runtime`.
pub const RULE_EVALUATION_SECONDS: &str = "latchkey_rule_evaluation_duration_seconds";
/// Counter: job runs by `kind` (`create_code`, `reconcile`, …) and how each run ended,
/// `state` ([`JobState`]).
pub const JOB_RUNS: &str = "latchkey_job_runs_total";

/// Upper bounds of the latency histograms' buckets, in seconds: from a Rhai rule's tenth
/// of a millisecond to a lock cloud's 30 s timeout.
pub const LATENCY_BUCKETS_SECONDS: [f64; 18] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0,
];

/// How often histogram samples are folded into their buckets when nobody scrapes, so
/// they do not pile up in memory.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder on first call (later calls return the
/// same handle), describes every metric, and starts the upkeep thread.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        // The bounds are a non-empty constant, so the fallback (summaries) never happens.
        let builder = PrometheusBuilder::new()
            .set_buckets(&LATENCY_BUCKETS_SECONDS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if let Err(e) = metrics::set_global_recorder(recorder) {
            // Another recorder (an embedding program's) keeps the samples; ours renders
            // empty rather than failing the service.
            tracing::warn!(error = %e, "a metrics recorder was already installed; /metrics will be empty");
        }
        describe();
        let upkeep = handle.clone();
        if let Err(e) = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            })
        {
            tracing::warn!(error = %e, "metrics upkeep thread did not start; histograms are folded at each scrape only");
        }
        handle
    })
}

/// The exposition text (Prometheus text format 0.0.4) of every metric recorded so far.
pub fn render() -> String {
    install().render()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_histogram};
    describe_counter!(
        WEBHOOKS_RECEIVED,
        "Deliveries handled by the inbox, by source and outcome"
    );
    describe_counter!(
        WEBHOOKS_REFUSED,
        "Webhook requests refused before the inbox, by HTTP status"
    );
    describe_counter!(RULE_EVALUATIONS, "Rule evaluations by runtime and outcome");
    describe_histogram!(
        RULE_EVALUATION_SECONDS,
        Unit::Seconds,
        "Rule evaluation time, plan validation included, by runtime"
    );
    describe_counter!(JOB_RUNS, "Job runs by kind and how they ended");
    describe_counter!(
        PROVIDER_CALLS,
        "Calls that reached a lock provider, by provider, operation and outcome"
    );
    describe_histogram!(
        PROVIDER_CALL_SECONDS,
        Unit::Seconds,
        "Lock provider call time by provider and operation"
    );
    describe_counter!(ALERTS_RAISED, "Alerts raised by kind");
}

/// What the inbox did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Stored, and its state became current.
    Applied,
    /// Stored, older than the state on record: changed nothing.
    Stale,
    /// Its id was seen before: nothing stored.
    Duplicate,
    /// Authentic but about nothing Latchkey acts on: not stored.
    Ignored,
}

impl WebhookOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookOutcome::Applied => "applied",
            WebhookOutcome::Stale => "stale",
            WebhookOutcome::Duplicate => "duplicate",
            WebhookOutcome::Ignored => "ignored",
        }
    }
}

/// Counts a delivery from `source` that the inbox handled.
pub fn webhook_received(source: &str, outcome: WebhookOutcome) {
    metrics::counter!(WEBHOOKS_RECEIVED, "source" => source.to_owned(), "outcome" => outcome.as_str())
        .increment(1);
}

/// Counts a webhook request refused with `status`.
pub fn webhook_refused(status: StatusCode) {
    metrics::counter!(WEBHOOKS_REFUSED, "status" => status.as_str().to_owned()).increment(1);
}

/// The engine a rule runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleRuntime {
    /// A Rhai script.
    Rhai,
    /// A WebAssembly component (an uploaded plugin, or a `.wasm` rule file).
    Wasm,
    /// Rust code built into the program (replays, benchmarks).
    Native,
}

impl RuleRuntime {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleRuntime::Rhai => "rhai",
            RuleRuntime::Wasm => "wasm",
            RuleRuntime::Native => "native",
        }
    }
}

/// Records one rule evaluation on `runtime` that took `elapsed` and succeeded or not.
pub fn rule_evaluated(runtime: RuleRuntime, ok: bool, elapsed: Duration) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!(RULE_EVALUATIONS, "runtime" => runtime.as_str(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!(RULE_EVALUATION_SECONDS, "runtime" => runtime.as_str())
        .record(elapsed.as_secs_f64());
}

/// How a job run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Finished: the job is gone.
    Done,
    /// Failed, and queued again with a backoff.
    Retry,
    /// Failed for good: moved to the dead letters.
    Dead,
    /// Outlived its lease: another worker claimed it, and this run's effects were rolled
    /// back.
    LeaseLost,
}

impl JobState {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Done => "done",
            JobState::Retry => "retry",
            JobState::Dead => "dead",
            JobState::LeaseLost => "lease_lost",
        }
    }
}

/// Counts a run of a job of `kind` that ended in `state`.
pub fn job_ran(kind: &str, state: JobState) {
    metrics::counter!(JOB_RUNS, "kind" => kind.to_owned(), "state" => state.as_str()).increment(1);
}
