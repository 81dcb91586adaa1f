//! What one `latchkey bench` run measured, phase by phase.

use super::cpu::CpuUse;
use super::load::{LoadResult, LoadSpec};
use super::rss::Memory;

/// How a phase of the run ended.
#[derive(Debug, Clone)]
pub enum Phase<T> {
    /// Measured.
    Done(T),
    /// Not run, and why (a flag asked so, or an earlier phase failed).
    Skipped(String),
    /// Failed, with the error.
    Failed(String),
}

impl<T> Phase<T> {
    /// The figures, when measured.
    pub fn done(&self) -> Option<&T> {
        match self {
            Phase::Done(t) => Some(t),
            _ => None,
        }
    }
}

/// One load run against one or more servers.
#[derive(Debug, Clone)]
pub struct Ingest {
    /// 2xx answers per second in the measured period.
    pub requests_per_second: f64,
    /// Median latency, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, in milliseconds.
    pub p99_ms: f64,
    /// 2xx answers in the measured period.
    pub completed: u64,
    /// Requests not answered 2xx (no answer included), warm-up included.
    pub failed: u64,
    /// The first failure, if any.
    pub first_failure: Option<String>,
    /// The largest peak resident set among the `serve` processes, read before they
    /// were stopped; `None` for the in-process no-op server.
    pub serve_memory: Option<Memory>,
    /// Where the CPU went in the measured period, when it could be read.
    pub cpu: Option<CpuUse>,
}

impl Ingest {
    /// The figures of `load`, with the servers' memory and the CPU use.
    pub fn new(load: &LoadResult, serve_memory: Option<Memory>, cpu: Option<CpuUse>) -> Ingest {
        Ingest {
            requests_per_second: load.requests_per_second(),
            p50_ms: load.latency_ms(0.5),
            p99_ms: load.latency_ms(0.99),
            completed: load.completed,
            failed: load.non_2xx + load.transport_errors,
            first_failure: load.first_failure.clone(),
            serve_memory,
            cpu,
        }
    }
}

/// Rule evaluations on one thread.
#[derive(Debug, Clone)]
pub struct RuleFigures {
    /// The rule file evaluated.
    pub rule: String,
    /// Evaluations done.
    pub evaluations: u64,
    /// Wall time they took, in seconds.
    pub seconds: f64,
}

/// The resort replay.
#[derive(Debug, Clone)]
pub struct ReplayFigures {
    /// Bookings replayed.
    pub bookings: usize,
    /// Wall time, in seconds.
    pub wall_secs: f64,
    /// Violations the oracle found.
    pub violations: usize,
}

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct Figures {
    /// CPU cores this process may use.
    pub cores: usize,
    /// The load every ingest figure was measured under.
    pub load: LoadSpec,
    /// The no-op handler.
    pub noop: Phase<Ingest>,
    /// Durable ingest on SQLite, one `serve`.
    pub sqlite: Phase<Ingest>,
    /// Durable ingest on PostgreSQL; entry `i` is `i + 1` replicas on one database.
    pub postgres: Vec<Phase<Ingest>>,
    /// Rule evaluations.
    pub rules: Phase<RuleFigures>,
    /// The resort replay.
    pub replay: Phase<ReplayFigures>,
    /// This process's memory at the end (load generator, no-op server, rule loop, replay).
    pub bench_memory: Option<Memory>,
}

/// The failures of `f`, each with its phase, for the lines below the table.
pub fn failures(f: &Figures) -> Vec<String> {
    let mut out = Vec::new();
    let mut note = |what: &str, phase_error: Option<&String>| {
        if let Some(e) = phase_error {
            out.push(format!("{what}: {e}"));
        }
    };
    let failed = |p: &Phase<Ingest>| match p {
        Phase::Failed(e) => Some(e.clone()),
        Phase::Done(i) if i.failed > 0 => i
            .first_failure
            .clone()
            .map(|f| format!("{} requests not answered 2xx; the first: {f}", i.failed)),
        _ => None,
    };
    note("no-op handler", failed(&f.noop).as_ref());
    note("SQLite ingest", failed(&f.sqlite).as_ref());
    for (i, p) in f.postgres.iter().enumerate() {
        note(
            &format!("PostgreSQL, {} serve(s)", i + 1),
            failed(p).as_ref(),
        );
    }
    if let Phase::Failed(e) = &f.rules {
        note("rule evaluations", Some(e));
    }
    if let Phase::Failed(e) = &f.replay {
        note("resort replay", Some(e));
    }
    out
}

/// Whether any phase failed (an error, not an unmet goal).
pub fn any_failed(f: &Figures) -> bool {
    let failed = |p: &Phase<Ingest>| matches!(p, Phase::Failed(_));
    failed(&f.noop)
        || failed(&f.sqlite)
        || f.postgres.iter().any(failed)
        || matches!(f.rules, Phase::Failed(_))
        || matches!(f.replay, Phase::Failed(_))
}
