//! The acceptance test: real hotel bookings replayed through the real HTTP path, checked
//! by the independent oracle; and the oracle itself, shown to catch wrong behaviour.

use std::path::PathBuf;

use latchkey_engine::clock::Clock;
use latchkey_replay::clouds::ProviderMix;
use latchkey_replay::driver::{self, ReplayOptions, Report};
use latchkey_replay::faults::FaultSpec;
use latchkey_replay::oracle::{Acked, ViolationKind};

use crate::harness::{TestApp, at, hotel_dir, paid_stay};

fn resort_csv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/hotel_bookings_resort.csv")
}

fn replay(bookings: PathBuf, rules: Option<PathBuf>, faults: FaultSpec) -> Report {
    replay_comparing(bookings, rules, None, faults, ProviderMix::Simulator)
}

fn replay_comparing(
    bookings: PathBuf,
    rules: Option<PathBuf>,
    compare_with: Option<PathBuf>,
    faults: FaultSpec,
    providers: ProviderMix,
) -> Report {
    let opts = ReplayOptions {
        rules,
        compare_with,
        providers,
        ..options(bookings, faults)
    };
    driver::run_blocking(opts).expect("replay runs")
}

/// `bookings` through the example hotel with the default rule on the simulator, seed 1.
fn options(bookings: PathBuf, faults: FaultSpec) -> ReplayOptions {
    ReplayOptions {
        bookings,
        property: hotel_dir(),
        rules: None,
        compare_with: None,
        faults,
        seed: 1,
        database: None,
        replicas: 1,
        progress: false,
        providers: ProviderMix::Simulator,
        source: Default::default(),
        shared_door_capacity: None,
    }
}

fn summary(r: &Report) -> String {
    format!("{:?}; first: {:?}", r.by_kind(), r.violations.first())
}

/// The first `rows` bookings of the resort file, as a CSV of their own.
fn sample(dir: &tempfile::TempDir, rows: usize) -> PathBuf {
    let text = std::fs::read_to_string(resort_csv()).expect("resort bookings (../shared/data)");
    let path = dir.path().join("sample.csv");
    std::fs::write(
        &path,
        text.lines().take(rows + 1).collect::<Vec<_>>().join("\n"),
    )
    .expect("write sample");
    path
}

/// The default rule with `from` replaced by `to`, written next to the sample.
fn broken_rule(dir: &tempfile::TempDir, from: &str, to: &str) -> PathBuf {
    let default = include_str!("../../rules/default.rhai");
    assert!(
        default.contains(from),
        "the default rule no longer contains {from:?}"
    );
    let path = dir.path().join("broken.rhai");
    std::fs::write(&path, default.replacen(from, to, 1)).expect("write rule");
    path
}

/// The whole resort, once each way. `.ci/run` prints these reports' figures and runs the
/// integration suite a second time (on PostgreSQL) without this module, whose replays do
/// not use the test store.
mod resort {
    use std::path::Path;

    use super::*;

    /// Codes each simulated shared door holds in the below-capacity replay.
    const SHARED_DOOR_CAPACITY: u32 = 100;

    /// Checks what `latchkey replay` checks before its exit status, after writing the
    /// report to `<target>/tmp/replay-{name}.json` for `.ci/run`.
    fn check(report: &Report, name: &str) {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("replay-{name}.json"));
        std::fs::write(
            &path,
            serde_json::to_vec_pretty(report).expect("report serializes"),
        )
        .expect("write the report");
        assert!(report.violations.is_empty(), "{}", summary(report));
        assert_eq!(
            report.counts.repeated_creates, 0,
            "a provider call was repeated for one idempotency marker"
        );
    }

    #[test]
    fn resort_bookings_replay_with_no_violations() {
        let report = replay(resort_csv(), None, FaultSpec::none());
        println!("resort replay, no faults: {:?}", report.counts);
        check(&report, "none");
        assert!(report.counts.bookings >= 9_999);
        assert_eq!(
            report.counts.webhooks_acknowledged,
            report.counts.webhooks_sent
        );
        assert!(report.counts.codes_created > 10_000, "{:?}", report.counts);
    }

    #[test]
    fn resort_bookings_replay_under_default_faults_with_no_violations() {
        let report = replay(resort_csv(), None, FaultSpec::default_mix());
        println!("resort replay, default faults: {:?}", report.counts);
        check(&report, "default");
        assert!(
            report.counts.restarts > 0,
            "the fault mix restarts the service"
        );
        assert!(
            report.counts.webhooks_sent > report.counts.bookings * 3,
            "duplicates and redeliveries were sent"
        );
        let counts = &report.counts;
        assert!(
            counts.codes_tampered > 30,
            "codes changed behind the service's back: {counts:?}"
        );
        assert!(
            counts.codes_restored + 3 >= counts.codes_tampered,
            "{counts:?}"
        );
    }

    /// The whole resort with its room locks spread over the simulator and the four contract
    /// fakes, reached by the real clients over loopback; the oracle asks each fake's lock
    /// model what the door held. About 1 % of the codes are changed behind the service's
    /// back in the clouds that list codes, and each is put back through the real clients.
    #[test]
    fn resort_bookings_replay_across_the_lock_clouds_with_no_violations() {
        let faults = FaultSpec {
            tamper: 0.01,
            ..FaultSpec::none()
        };
        let report = replay_comparing(resort_csv(), None, None, faults, ProviderMix::Fakes);
        println!("resort replay across the clouds: {:?}", report.counts);
        check(&report, "fakes");
        assert_eq!(
            report.counts.webhooks_acknowledged,
            report.counts.webhooks_sent
        );
        assert!(report.counts.codes_created > 10_000, "{:?}", report.counts);
        // A code changed while an update of it is in flight is set back by that update,
        // not by the lock sync: nearly all, not all, are counted as put back.
        let counts = &report.counts;
        assert!(counts.codes_tampered > 30, "{counts:?}");
        assert!(
            counts.codes_restored + 3 >= counts.codes_tampered,
            "{counts:?}"
        );
    }

    /// Outages of up to 10 hours on 5 % of lock-days, with restarts every 100 deliveries
    /// (the first 3,000 bookings; `latchkey replay` runs the whole resort the same way):
    /// guests whose code cannot reach their online lock in time are given backup codes,
    /// and nobody is locked out or told a PIN that does not work.
    #[test]
    fn long_outages_are_bridged_by_backup_codes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let faults: FaultSpec = "default,outage=0.05,outage-max=600,restart-every=100"
            .parse()
            .expect("fault spec");
        // Seed 5, the issue's. Seeds 5 and 7 once showed a given backup code whose
        // narrowing landed 30 s past the oracle's 5-minute grace after a 10-hour outage:
        // its job waited out its own backoff on top of the lock's circuit. A job the
        // circuit refuses now runs again when the circuit lets a trial through.
        let opts = ReplayOptions {
            seed: 5,
            ..options(sample(&dir, 3_000), faults)
        };
        let report = driver::run_blocking(opts).expect("replay runs");
        println!("resort replay, long outages: {:?}", report.counts);
        check(&report, "long-outages");
        assert!(
            report.counts.backups_given > 0,
            "backup codes were given: {:?}",
            report.counts
        );
    }

    /// The shared doors' capacity below the busiest night's demand (the first 3,000
    /// bookings need up to 125 main-entrance codes at once; the doors hold 100): the
    /// forecast alerts the days over capacity ahead (counting the bookings not yet paid,
    /// which the rule would grant once paid), the guests
    /// beyond the main entrance's capacity are given the side entrance (the default rule's
    /// `when_full = "overflow"`), and nobody is locked out or let in without entitlement.
    #[test]
    fn a_full_main_entrance_sends_the_guests_beyond_it_to_the_side_entrance() {
        let dir = tempfile::tempdir().expect("temp dir");
        let opts = ReplayOptions {
            shared_door_capacity: Some(SHARED_DOOR_CAPACITY),
            ..options(sample(&dir, 3_000), FaultSpec::default_mix())
        };
        let report = driver::run_blocking(opts).expect("replay runs");
        println!(
            "resort replay, shared doors below demand: {:?}",
            report.counts
        );
        check(&report, "below-capacity");
        let c = &report.counts;
        assert!(
            c.overflowed > 0,
            "guests were sent to the side entrance: {c:?}"
        );
        assert!(
            c.capacity_alerts > 0,
            "days over capacity were alerted: {c:?}"
        );
        assert!(
            c.capacity_alerts_72h_ahead * 10 >= c.capacity_alerts * 9,
            "at least 9 in 10 alerted 72 hours ahead: {c:?}"
        );
        assert_eq!(report.readiness.percent, 100.0, "{:?}", report.readiness);
    }

    /// The whole resort planned by the example plugin, with `default.rhai` evaluated beside
    /// it on every rule input: the same plan every time, and no violations.
    #[test]
    fn the_example_plugin_plans_every_resort_event_like_the_default_rule() {
        let report = replay_comparing(
            resort_csv(),
            Some(latchkey_tests::example_plugin()),
            Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rules/default.rhai")),
            FaultSpec::none(),
            ProviderMix::Simulator,
        );
        check(&report, "plugin");
        let comparison = report
            .comparison
            .as_ref()
            .expect("a comparison was asked for");
        println!(
            "resort replay with the plugin: {:?}; compared: {} inputs",
            report.counts, comparison.evaluations
        );
        assert!(
            comparison.evaluations as usize >= report.counts.bookings,
            "every event was planned by both rules: {comparison:?}"
        );
        assert_eq!(comparison.differing, 0, "{:?}", comparison.examples);
        assert!(report.counts.codes_created > 10_000, "{:?}", report.counts);
    }
}

#[test]
fn the_oracle_catches_a_window_an_hour_short() {
    let dir = tempfile::tempdir().expect("dir");
    let rule = broken_rule(&dir, "const OPEN_BEFORE = 3600;", "const OPEN_BEFORE = 0;");
    let report = replay(sample(&dir, 300), Some(rule), FaultSpec::none());
    let kinds = report.by_kind();
    assert!(
        kinds
            .iter()
            .any(|(k, n)| *k == ViolationKind::Lockout && *n > 0),
        "{kinds:?}"
    );
}

#[test]
fn the_oracle_catches_a_forgotten_cancellation() {
    let dir = tempfile::tempdir().expect("dir");
    let rule = broken_rule(
        &dir,
        r#"if status == "paid" || status == "checked_out" {"#,
        r#"if status == "paid" || status == "checked_out" || status == "cancelled" {"#,
    );
    let report = replay(sample(&dir, 300), Some(rule), FaultSpec::none());
    let kinds = report.by_kind();
    assert!(
        kinds
            .iter()
            .any(|(k, n)| *k == ViolationKind::StaleAccess && *n > 0),
        "{kinds:?}"
    );
    assert!(
        !kinds.iter().any(|(k, _)| *k == ViolationKind::Lockout),
        "only the cancellation is wrong: {kinds:?}"
    );
}

#[tokio::test]
async fn the_oracle_catches_a_pin_reused_on_one_lock() {
    let app = TestApp::spawn("2026-11-22T10:00:00Z").await;
    let body = paid_stay();
    app.send_as("msg-1", &body).await;
    app.run_jobs().await;
    let acked = [Acked {
        reservation: serde_json::from_value(body["data"].clone()).expect("reservation"),
        webhook_id: "msg-1".into(),
        acked_at: app.clock.now(),
    }];
    let end = at("2026-11-26T00:00:00Z");
    let models = std::collections::HashMap::from([(
        "simulator".to_owned(),
        std::sync::Arc::new(app.simulator.clone())
            as std::sync::Arc<dyn latchkey_providers::segment::HeldCodes>,
    )]);
    // The guest was told their PIN (the harness captures the messages).
    let told = latchkey_replay::guests::told(&app.capture);
    let api_key = crate::harness::admin_key(&app);
    let judge_with = |told| {
        driver::judge(
            driver::Api {
                routes: &app.router,
                key: &api_key,
            },
            &app.app.catalog,
            &models,
            &acked,
            &[],
            told,
            end,
        )
    };
    let judge = || judge_with(told.as_slice());

    let judged = judge().await.expect("judged");
    let clean = judged.violations;
    assert!(clean.is_empty(), "{clean:?}");
    // Booked and paid well ahead, the guest's three doors (room, main entrance, pool) were
    // ready when the window opened.
    assert_eq!(
        (
            judged.readiness.pairs,
            judged.readiness.ready,
            judged.readiness.late
        ),
        (3, 3, 0),
        "{:?}",
        judged.readiness
    );
    // The same codes, with no message delivered: on the lock, but nobody ready.
    let untold = judge_with(&[]).await.expect("judged").readiness;
    assert_eq!(
        (untold.pairs, untold.code_on_lock, untold.ready),
        (3, 3, 0),
        "{untold:?}"
    );
    assert_eq!(untold.percent, 0.0);
    assert!(
        untold.examples.iter().all(|n| n.why == "not told on email"),
        "{:?}",
        untold.examples
    );

    // Staff type the guest's PIN into the vendor's app for someone else.
    let (pin, _) = app.code_on("R-1", "main-entrance").await.expect("code");
    let window = latchkey_engine::Window {
        starts_at: at("2026-11-24T00:00:00Z"),
        ends_at: at("2026-11-24T06:00:00Z"),
    };
    app.simulator
        .put_foreign_code("main-entrance", &pin, window);
    let violations = judge().await.expect("judged").violations;
    let kinds: Vec<_> = violations.iter().map(|v| v.kind).collect();
    assert!(kinds.contains(&ViolationKind::SharedPin), "{violations:?}");
    assert!(
        kinds.contains(&ViolationKind::StaleAccess),
        "a code nobody is entitled to opens the door: {violations:?}"
    );
}
