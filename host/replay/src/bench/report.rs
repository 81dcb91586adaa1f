//! The goals of issue 8 and the rows of the table that holds each figure to its goal.

use super::cpu::CpuUse;
use super::figures::{Figures, Ingest, Phase};
use super::table::{Met, Row};

/// Durable ingest on SQLite must reach this share of the no-op handler's requests/s.
pub const SQLITE_RATIO_GOAL: f64 = 0.3;
/// N replicas must reach this many times N times one replica's requests/s.
pub const SCALING_GOAL_PER_REPLICA: f64 = 0.7;
/// The resort replay must finish within this many seconds.
pub const REPLAY_GOAL_SECS: f64 = 20.0;
/// `serve` must stay under this many megabytes (10^6 bytes) resident under load.
pub const RSS_GOAL_MB: f64 = 150.0;

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
