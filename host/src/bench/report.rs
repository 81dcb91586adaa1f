//! The figures of one `latchkey bench` run, the goals of issue 8 they are held to, and
//! the table they are printed as (plain text, or Markdown for `docs/`).

use super::cpu::CpuUse;
use super::load::{LoadResult, LoadSpec};
use super::rss::Memory;

/// Durable ingest on SQLite must reach this share of the no-op handler's requests/s.
pub const SQLITE_RATIO_GOAL: f64 = 0.3;
/// N replicas must reach this many times N times one replica's requests/s.
pub const SCALING_GOAL_PER_REPLICA: f64 = 0.7;
/// The resort replay must finish within this many seconds.
pub const REPLAY_GOAL_SECS: f64 = 20.0;
/// `serve` must stay under this many megabytes (10^6 bytes) resident under load.
pub const RSS_GOAL_MB: f64 = 150.0;

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

/// Whether a figure meets its goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Met {
    /// It does.
    Yes,
    /// It does not.
    No,
    /// No goal, or nothing measured.
    NotApplicable,
}

impl Met {
    /// `yes`, `no` or `—`.
    pub fn as_str(self) -> &'static str {
        match self {
            Met::Yes => "yes",
            Met::No => "no",
            Met::NotApplicable => "—",
        }
    }

    fn from_bool(ok: bool) -> Met {
        if ok { Met::Yes } else { Met::No }
    }
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What is measured.
    pub measure: String,
    /// The figure, with its unit.
    pub figure: String,
    /// The goal, or `—`.
    pub goal: String,
    /// Whether the figure meets it.
    pub met: Met,
}

fn row(measure: impl Into<String>, figure: impl Into<String>, goal: &str, met: Met) -> Row {
    Row {
        measure: measure.into(),
        figure: figure.into(),
        goal: goal.into(),
        met,
    }
}

/// `part / whole`, or `None` when `whole` is not positive.
pub fn ratio(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole)
}

/// Whether `n` replicas at `rps_n` requests/s against one at `rps_1` meet the scaling
/// goal (at least 0.7·N times one replica); the scaling factor with it.
pub fn scaling(n: usize, rps_n: f64, rps_1: f64) -> (Option<f64>, Met) {
    match ratio(rps_n, rps_1) {
        Some(factor) => (
            Some(factor),
            Met::from_bool(factor >= SCALING_GOAL_PER_REPLICA * n as f64),
        ),
        None => (None, Met::NotApplicable),
    }
}

/// Thousands separated by commas, for requests per second.
pub fn grouped(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ingest_figure(i: &Ingest) -> String {
    format!(
        "{} req/s, p50 {:.2} ms, p99 {:.2} ms; {} not 2xx",
        grouped(i.requests_per_second),
        i.p50_ms,
        i.p99_ms,
        i.failed
    )
}

fn not_measured<T>(phase: &Phase<T>) -> String {
    match phase {
        Phase::Done(_) => String::new(),
        Phase::Skipped(why) => format!("skipped: {why}"),
        Phase::Failed(_) => "failed (see below)".into(),
    }
}

/// Where the CPU went: `busy` of `cores` cores, and whose.
pub fn cpu_figure(c: &CpuUse) -> String {
    let postgres = c
        .postgres
        .map_or(String::new(), |p| format!(", PostgreSQL backends {p:.2}"));
    format!(
        "{:.2} of {:.0} cores busy: bench process {:.2}, serve {:.2}{postgres}, others {:.2}",
        c.busy, c.cores, c.bench, c.serves, c.rest
    )
}

/// The CPU row that follows an ingest row, when the use was read.
fn push_cpu(out: &mut Vec<Row>, phase: &Phase<Ingest>) {
    if let Some(c) = phase.done().and_then(|i| i.cpu) {
        out.push(row(
            "  CPU while measured",
            cpu_figure(&c),
            "—",
            Met::NotApplicable,
        ));
    }
}

/// An ingest row: the figure, held to "every request answered 2xx".
fn ingest_row(measure: String, phase: &Phase<Ingest>) -> Row {
    match phase {
        Phase::Done(i) => row(
            measure,
            ingest_figure(i),
            "0 not 2xx",
            Met::from_bool(i.failed == 0),
        ),
        other => row(
            measure,
            not_measured(other),
            "0 not 2xx",
            Met::NotApplicable,
        ),
    }
}

/// The table of `f`, in order.
pub fn rows(f: &Figures) -> Vec<Row> {
    let mut out = vec![
        row(
            "CPU cores available",
            f.cores.to_string(),
            "—",
            Met::NotApplicable,
        ),
        row(
            "load",
            format!(
                "{} requests in flight, keep-alive over loopback, {} s warm-up, {} s measured",
                f.load.concurrency,
                f.load.warmup.as_secs_f64(),
                f.load.measure.as_secs_f64()
            ),
            "—",
            Met::NotApplicable,
        ),
    ];
    let noop = f.noop.done().map(|i| i.requests_per_second);
    let mut no_op = ingest_row("no-op axum handler (the ceiling)".into(), &f.noop);
    no_op.goal = "—".into();
    no_op.met = Met::NotApplicable;
    out.push(no_op);
    push_cpu(&mut out, &f.noop);

    out.push(ingest_row(
        "durable ingest, SQLite, 1 serve".into(),
        &f.sqlite,
    ));
    push_cpu(&mut out, &f.sqlite);
    let goal = format!("≥ {SQLITE_RATIO_GOAL}×");
    out.push(match (f.sqlite.done(), noop) {
        (Some(s), Some(n)) => match ratio(s.requests_per_second, n) {
            Some(r) => row(
                "SQLite ingest ÷ no-op",
                format!("{r:.2}×"),
                &goal,
                Met::from_bool(r >= SQLITE_RATIO_GOAL),
            ),
            None => row(
                "SQLite ingest ÷ no-op",
                "no-op measured 0 req/s",
                &goal,
                Met::NotApplicable,
            ),
        },
        _ => row(
            "SQLite ingest ÷ no-op",
            "not measured",
            &goal,
            Met::NotApplicable,
        ),
    });

    let one = f
        .postgres
        .first()
        .and_then(Phase::done)
        .map(|i| i.requests_per_second);
    for (i, phase) in f.postgres.iter().enumerate() {
        let n = i + 1;
        let plural = if n == 1 { "" } else { "s" };
        out.push(ingest_row(
            format!("durable ingest, PostgreSQL, {n} serve{plural}"),
            phase,
        ));
        push_cpu(&mut out, phase);
        if n == 1 {
            let figure = match (phase.done(), noop) {
                (Some(p), Some(n)) => {
                    ratio(p.requests_per_second, n).map_or("—".into(), |r| format!("{r:.2}×"))
                }
                _ => "not measured".into(),
            };
            out.push(row(
                "PostgreSQL ingest ÷ no-op",
                figure,
                "—",
                Met::NotApplicable,
            ));
            continue;
        }
        let goal = format!("≥ {:.1}× 1 serve", SCALING_GOAL_PER_REPLICA * n as f64);
        let r = match (phase.done(), one) {
            (Some(p), Some(one)) => {
                let (factor, met) = scaling(n, p.requests_per_second, one);
                let figure = factor.map_or("—".into(), |x| format!("{x:.2}× 1 serve"));
                row(format!("scaling, {n} serves"), figure, &goal, met)
            }
            _ => row(
                format!("scaling, {n} serves"),
                "not measured",
                &goal,
                Met::NotApplicable,
            ),
        };
        out.push(r);
    }

    out.push(match &f.rules {
        Phase::Done(r) => {
            let per_sec = ratio(r.evaluations as f64, r.seconds).unwrap_or(0.0);
            let each_us = ratio(r.seconds * 1e6, r.evaluations as f64).unwrap_or(0.0);
            row(
                format!("rule evaluations, {}, 1 thread", r.rule),
                format!("{} /s ({each_us:.1} µs each)", grouped(per_sec)),
                "—",
                Met::NotApplicable,
            )
        }
        other => row(
            "rule evaluations, 1 thread",
            not_measured(other),
            "—",
            Met::NotApplicable,
        ),
    });

    let wall_goal = format!("< {REPLAY_GOAL_SECS} s");
    match &f.replay {
        Phase::Done(r) => {
            out.push(row(
                format!(
                    "resort replay, {} bookings, wall time",
                    grouped(r.bookings as f64)
                ),
                format!("{:.1} s", r.wall_secs),
                &wall_goal,
                Met::from_bool(r.wall_secs < REPLAY_GOAL_SECS),
            ));
            out.push(row(
                "resort replay, violations",
                r.violations.to_string(),
                "0",
                Met::from_bool(r.violations == 0),
            ));
        }
        other => out.push(row(
            "resort replay, wall time",
            not_measured(other),
            &wall_goal,
            Met::NotApplicable,
        )),
    }

    let serve_peak = std::iter::once(&f.sqlite)
        .chain(f.postgres.iter())
        .filter_map(|p| p.done().and_then(|i| i.serve_memory))
        .max_by_key(|m| m.peak_bytes);
    let rss_goal = format!("< {RSS_GOAL_MB} MB");
    out.push(match serve_peak {
        Some(m) => row(
            "peak resident memory of serve under load (VmHWM)",
            format!("{:.1} MB", m.peak_mb()),
            &rss_goal,
            Met::from_bool(m.peak_mb() < RSS_GOAL_MB),
        ),
        None => row(
            "peak resident memory of serve under load (VmHWM)",
            "not measured",
            &rss_goal,
            Met::NotApplicable,
        ),
    });
    out.push(row(
        "peak resident memory of this bench process (VmHWM)",
        f.bench_memory
            .map_or("not measured".into(), |m| format!("{:.1} MB", m.peak_mb())),
        "—",
        Met::NotApplicable,
    ));
    out
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

const HEADER: [&str; 4] = ["measure", "figure", "goal", "met?"];

fn cells(r: &Row) -> [&str; 4] {
    [&r.measure, &r.figure, &r.goal, r.met.as_str()]
}

/// The rows as a plain-text table, columns padded to line up.
pub fn text(rows: &[Row]) -> String {
    let mut widths = HEADER.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in widths.iter_mut().zip(cells(r)) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |c: [&str; 4]| {
        let padded: Vec<String> = c
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(HEADER);
    out.push_str(&line(
        widths.map(|w| "-".repeat(w)).each_ref().map(String::as_str),
    ));
    for r in rows {
        out.push_str(&line(cells(r)));
    }
    out
}

/// The rows as a Markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = format!("| {} |\n|---|---|---|---|\n", HEADER.join(" | "));
    for r in rows {
        let c = cells(r).map(esc);
        out.push_str(&format!("| {} |\n", c.join(" | ")));
    }
    out
}
