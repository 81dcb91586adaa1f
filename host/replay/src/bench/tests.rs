//! The report's goals and table, on figures made up for the purpose.

use std::time::Duration;

use super::figures::{self, Figures, Ingest, Phase, ReplayFigures, RuleFigures};
use super::load::LoadSpec;
use super::report;
use super::rss::Memory;
use super::table::{self, Met, Row};

fn ingest(rps: f64, failed: u64, peak_mb: u64) -> Phase<Ingest> {
    Phase::Done(Ingest {
        requests_per_second: rps,
        p50_ms: 1.0,
        p99_ms: 4.5,
        completed: (rps * 10.0) as u64,
        failed,
        first_failure: (failed > 0).then(|| "POST /v1/hooks/demo: 401 Unauthorized".into()),
        serve_memory: (peak_mb > 0).then_some(Memory {
            peak_bytes: peak_mb * 1_000_000,
            current_bytes: 0,
        }),
        cpu: None,
    })
}

fn figures() -> Figures {
    Figures {
        cores: 2,
        load: LoadSpec {
            concurrency: 32,
            warmup: Duration::from_secs(2),
            measure: Duration::from_secs(10),
        },
        noop: ingest(10_000.0, 0, 0),
        sqlite: ingest(3_500.0, 0, 60),
        postgres: vec![
            ingest(2_000.0, 0, 70),
            ingest(2_900.0, 0, 160),
            ingest(3_000.0, 0, 80),
        ],
        rules: Phase::Done(RuleFigures {
            rule: "default.rhai".into(),
            evaluations: 80_000,
            seconds: 2.0,
        }),
        replay: Phase::Done(ReplayFigures {
            bookings: 9_999,
            wall_secs: 23.6,
            violations: 0,
        }),
        bench_memory: None,
    }
}

fn find<'a>(rows: &'a [Row], measure: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.measure.starts_with(measure))
        .unwrap_or_else(|| panic!("no row `{measure}` in {rows:#?}"))
}

#[test]
fn ratios_and_scaling_are_held_to_the_issue_goals() {
    assert_eq!(report::ratio(3.0, 10.0), Some(0.3));
    assert_eq!(report::ratio(3.0, 0.0), None);
    // 2 replicas need 1.4× one, 3 need 2.1×.
    assert_eq!(report::scaling(2, 1_400.0, 1_000.0).1, Met::Yes);
    assert_eq!(report::scaling(2, 1_399.0, 1_000.0).1, Met::No);
    assert_eq!(report::scaling(3, 2_100.0, 1_000.0).1, Met::Yes);
    assert_eq!(report::scaling(3, 2_000.0, 1_000.0).1, Met::No);
    assert_eq!(report::scaling(3, 2_000.0, 0.0), (None, Met::NotApplicable));
}

#[test]
fn every_goal_is_judged_from_the_figures() {
    let rows = report::rows(&figures());
    let sqlite = find(&rows, "SQLite ingest ÷ no-op");
    assert_eq!((sqlite.figure.as_str(), sqlite.met), ("0.35×", Met::Yes));
    assert_eq!(find(&rows, "scaling, 2 serves").met, Met::Yes);
    assert_eq!(find(&rows, "scaling, 2 serves").figure, "1.45× 1 serve");
    assert_eq!(find(&rows, "scaling, 3 serves").met, Met::No);
    assert_eq!(find(&rows, "resort replay, 9,999 bookings").met, Met::No);
    assert_eq!(find(&rows, "resort replay, violations").met, Met::Yes);
    // The largest peak of any serve counts: 160 MB with 2 replicas.
    let rss = find(&rows, "peak resident memory of serve");
    assert_eq!((rss.figure.as_str(), rss.met), ("160.0 MB", Met::No));
    assert_eq!(
        find(&rows, "rule evaluations").figure,
        "40,000 /s (25.0 µs each)"
    );
    assert!(!figures::any_failed(&figures()));
}

#[test]
fn failed_requests_and_phases_are_reported_not_hidden() {
    let mut f = figures();
    f.sqlite = ingest(3_500.0, 7, 60);
    f.postgres = vec![
        Phase::Failed("serve exited".into()),
        Phase::Skipped("1 serve failed".into()),
    ];
    let rows = report::rows(&f);
    assert_eq!(find(&rows, "durable ingest, SQLite").met, Met::No);
    let pg = find(&rows, "durable ingest, PostgreSQL, 1 serve");
    assert_eq!(
        (pg.figure.as_str(), pg.met),
        ("failed (see below)", Met::NotApplicable)
    );
    assert_eq!(find(&rows, "scaling, 2 serves").figure, "not measured");
    assert!(figures::any_failed(&f));
    let failures = figures::failures(&f);
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures[0].starts_with("SQLite ingest: 7 requests not answered 2xx"));
}

#[test]
fn the_tables_line_up_and_escape_pipes() {
    let rows = vec![
        Row {
            measure: "a".into(),
            figure: "1 | 2".into(),
            goal: "—".into(),
            met: Met::NotApplicable,
        },
        Row {
            measure: "longer measure".into(),
            figure: "3".into(),
            goal: "≥ 1".into(),
            met: Met::Yes,
        },
    ];
    let text = table::text(&rows);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    // The figure column starts at the same character on every line.
    let at = |l: &str, what: &str| l.find(what).map(|b| l[..b].chars().count());
    assert_eq!(at(lines[0], "figure"), at(lines[2], "1 | 2"));
    assert_eq!(at(lines[0], "figure"), at(lines[3], "3"));
    let md = table::markdown(&rows);
    assert!(md.contains("| a | 1 \\| 2 | — | — |"), "{md}");
    assert!(md.contains("| longer measure | 3 | ≥ 1 | yes |"), "{md}");
}

#[test]
fn the_cpu_use_of_a_run_follows_its_row() {
    let mut f = figures();
    if let Phase::Done(i) = &mut f.sqlite {
        i.cpu = Some(super::cpu::CpuUse {
            cores: 2.0,
            busy: 1.97,
            bench: 0.81,
            serves: 1.02,
            postgres: None,
            rest: 0.14,
        });
    }
    let rows = report::rows(&f);
    let at = rows
        .iter()
        .position(|r| r.measure == "durable ingest, SQLite, 1 serve")
        .expect("the SQLite row");
    assert_eq!(
        rows[at + 1].figure,
        "1.97 of 2 cores busy: bench process 0.81, serve 1.02, others 0.14"
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.measure.contains("CPU while"))
            .count(),
        1
    );
    if let Phase::Done(i) = &mut f.postgres[0] {
        i.cpu = Some(super::cpu::CpuUse {
            cores: 2.0,
            busy: 2.0,
            bench: 0.1,
            serves: 0.5,
            postgres: Some(0.9),
            rest: 0.5,
        });
    }
    let rows = report::rows(&f);
    assert!(rows.iter().any(|r| r.figure
        == "2.00 of 2 cores busy: bench process 0.10, serve 0.50, PostgreSQL backends 0.90, others 0.50"));
}

#[test]
fn numbers_are_grouped_by_thousands() {
    assert_eq!(report::grouped(0.0), "0");
    assert_eq!(report::grouped(999.4), "999");
    assert_eq!(report::grouped(1_000.0), "1,000");
    assert_eq!(report::grouped(1_234_567.0), "1,234,567");
}
