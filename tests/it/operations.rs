//! Operations: `/metrics` counts what happened (webhooks by outcome, rule evaluations by
//! runtime, job runs by state, provider calls by outcome, alerts by kind) in Prometheus'
//! text format; `/readyz` fails when the database lacks a migration the binary embeds;
//! every request carries an `x-request-id`. These routes need no credentials.
//!
//! The metrics recorder is one per process and the tests run side by side, so a test
//! reads deltas between two scrapes, and owns its labels where it asserts exact counts
//! (its own source and provider key).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use latchkey_engine::Window;
use latchkey_engine::clock::{Clock, SimClock};
use latchkey_providers::simulator::{SimProfile, Simulator};
use serde_json::Value;
use tower::ServiceExt;

use crate::harness::{DEMO_SECRET, Reply, TestApp, at, paid_stay, room_101_door, source};

const NOW: &str = "2026-11-22T10:00:00Z";
/// The source only these tests post to.
const SOURCE: &str = "ops-metrics";
/// The provider key only these tests register.
const PROVIDER: &str = "ops-sim";
const DOOR: &str = "ops-door";

/// One scrape: every sample, as (name, labels) → value.
struct Scrape {
    text: String,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Scrape {
    fn parse(text: String) -> Scrape {
        let samples = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("a sample line");
                let value: f64 = value.parse().expect("a numeric value");
                let (name, labels) = match series.split_once('{') {
                    Some((name, rest)) => {
                        let body = rest.strip_suffix('}').expect("closed labels");
                        let labels = body
                            .split("\",")
                            .filter(|p| !p.is_empty())
                            .map(|pair| {
                                let (k, v) = pair.split_once("=\"").expect("label=\"value\"");
                                (k.to_owned(), v.trim_end_matches('"').to_owned())
                            })
                            .collect();
                        (name.to_owned(), labels)
                    }
                    None => (series.to_owned(), BTreeMap::new()),
                };
                (name, labels, value)
            })
            .collect();
        Scrape { text, samples }
    }

    /// The sum of the samples of `name` whose labels include `labels`; 0 when none.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).is_some_and(|x| x == v))
            })
            .map(|(_, _, v)| v)
            .sum()
    }

    fn has_type(&self, name: &str, kind: &str) -> bool {
        self.text
            .lines()
            .any(|l| l == format!("# TYPE {name} {kind}"))
    }
}

async fn scrape(app: &TestApp) -> Scrape {
    let reply = app.get("/metrics").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(
        reply.content_type.starts_with("text/plain"),
        "{}",
        reply.content_type
    );
    Scrape::parse(reply.text)
}

/// The example hotel with a source of its own, and room 101's door on a simulator
/// registered under a provider key of its own (its battery low).
async fn spawn() -> (TestApp, Simulator) {
    let clock = SimClock::new(at(NOW));
    let sim = Simulator::new(Arc::new(clock.clone()), 43);
    sim.add_lock(DOOR, SimProfile::Online);
    sim.set_battery(DOOR, 20);
    let app = TestApp::spawn_with(
        clock,
        None,
        |file| {
            file.sources.push(source(
                serde_json::json!({ "name": SOURCE, "secret": DEMO_SECRET }),
            ));
            file.locks.push(room_101_door(DOOR, PROVIDER, DOOR));
        },
        vec![(PROVIDER, Arc::new(sim.clone()))],
    )
    .await;
    (app, sim)
}

/// Posts `body` to this test's source as `webhook_id`, signed now (or badly).
async fn deliver(app: &TestApp, webhook_id: &str, body: &Value, sign_well: bool) -> Reply {
    let secret = if sign_well {
        DEMO_SECRET
    } else {
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    };
    app.send_signed(SOURCE, secret, webhook_id, body).await
}

#[tokio::test]
async fn metrics_count_webhooks_rules_jobs_provider_calls_and_alerts() {
    let (app, sim) = spawn().await;
    let before = scrape(&app).await;
    // The lock is down for the first attempt: one failed call, one retry.
    let now = app.clock.now();
    sim.add_outage(
        DOOR,
        Window {
            starts_at: now,
            ends_at: now.plus(1),
        },
    );

    let stay = paid_stay();
    assert_eq!(
        deliver(&app, "ops-1", &stay, true).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        deliver(&app, "ops-1", &stay, true).await.status,
        StatusCode::OK
    );
    // The same version under another id: stored, but older than (as old as) the state.
    let reply = deliver(&app, "ops-2", &stay, true).await;
    assert_eq!(reply.body["outcome"], "stale", "{:?}", reply.body);
    let refused = deliver(&app, "ops-3", &stay, false).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    app.advance_to(now.plus(600)).await;
    // Read from the lock itself: the reservation's view needs credentials.
    assert_eq!(sim.history(DOOR).len(), 1, "one code on the door");
    let synced = latchkey_service::monitor::sync(&app.app)
        .await
        .expect("sync");
    assert!(synced.alerts_raised >= 1, "{synced:?}");

    let after = scrape(&app).await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };

    let webhooks = "latchkey_webhooks_received_total";
    for (outcome, count) in [
        ("applied", 1.0),
        ("duplicate", 1.0),
        ("stale", 1.0),
        ("ignored", 0.0),
    ] {
        assert_eq!(
            delta(webhooks, &[("source", SOURCE), ("outcome", outcome)]),
            count,
            "{outcome}:\n{}",
            after.text
        );
    }
    assert!(delta("latchkey_webhooks_refused_total", &[("status", "401")]) >= 1.0);

    assert!(
        delta(
            "latchkey_rule_evaluations_total",
            &[("runtime", "rhai"), ("outcome", "ok")]
        ) >= 1.0
    );
    let rule_seconds = "latchkey_rule_evaluation_duration_seconds";
    assert!(after.has_type(rule_seconds, "histogram"), "{}", after.text);
    assert!(delta(&format!("{rule_seconds}_count"), &[("runtime", "rhai")]) >= 1.0);
    assert!(
        delta(
            &format!("{rule_seconds}_bucket"),
            &[("runtime", "rhai"), ("le", "+Inf")]
        ) >= 1.0
    );

    let jobs = "latchkey_job_runs_total";
    assert!(delta(jobs, &[("kind", "reconcile"), ("state", "done")]) >= 1.0);
    assert!(delta(jobs, &[("kind", "create_code"), ("state", "retry")]) >= 1.0);
    assert!(delta(jobs, &[("kind", "create_code"), ("state", "done")]) >= 1.0);

    // This provider key is the test's own: exact counts.
    let calls = "latchkey_provider_calls_total";
    let on = |operation, outcome| {
        delta(
            calls,
            &[
                ("provider", PROVIDER),
                ("operation", operation),
                ("outcome", outcome),
            ],
        )
    };
    assert_eq!(on("create_code", "unavailable"), 1.0, "{}", after.text);
    assert_eq!(on("create_code", "ok"), 1.0, "{}", after.text);
    assert_eq!(on("lock_status", "ok"), 1.0, "{}", after.text);
    let call_seconds = "latchkey_provider_call_duration_seconds";
    assert!(after.has_type(call_seconds, "histogram"), "{}", after.text);
    assert_eq!(
        delta(
            &format!("{call_seconds}_count"),
            &[("provider", PROVIDER), ("operation", "create_code")]
        ),
        2.0
    );
    assert_eq!(
        delta(
            &format!("{call_seconds}_bucket"),
            &[
                ("provider", PROVIDER),
                ("operation", "create_code"),
                ("le", "+Inf")
            ]
        ),
        2.0
    );

    assert!(delta("latchkey_alerts_raised_total", &[("kind", "battery_low")]) >= 1.0);
}

#[tokio::test]
async fn readyz_needs_every_embedded_migration_and_healthz_needs_nothing() {
    let app = TestApp::spawn(NOW).await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["database"], "ok");
    let migrations = &ready.body["migrations"];
    assert!(
        migrations["embedded"].as_u64().expect("count") >= 1,
        "{migrations}"
    );
    assert_eq!(migrations["applied"], migrations["embedded"]);
    assert_eq!(migrations["missing"], serde_json::json!([]));

    // Forget the latest migration, as a database from an older release would.
    let deleted: i64 = sqlx::query_scalar(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)
         RETURNING version",
    )
    .fetch_one(&app.app.pool)
    .await
    .expect("the latest migration forgotten");

    let unready = app.get("/readyz").await;
    assert_eq!(
        unready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        unready.text
    );
    assert_eq!(unready.body["status"], "unavailable");
    assert_eq!(unready.body["database"], "ok");
    let missing = unready.body["migrations"]["missing"]
        .as_array()
        .expect("missing list");
    assert_eq!(missing.len(), 1, "{}", unready.text);
    assert_eq!(missing[0]["version"], deleted);
    assert_eq!(
        unready.body["migrations"]["applied"]
            .as_u64()
            .expect("count")
            + 1,
        migrations["embedded"].as_u64().expect("count")
    );

    let health = app.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
}

/// The `x-request-id` of the answer to GET `path` sent with `id`, if any.
async fn request_id(app: &TestApp, path: &str, id: Option<&str>) -> String {
    let mut request = Request::get(path);
    if let Some(id) = id {
        request = request.header("x-request-id", id);
    }
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("router answers");
    response
        .headers()
        .get("x-request-id")
        .expect("an x-request-id on every answer")
        .to_str()
        .expect("ASCII")
        .to_owned()
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[tokio::test]
async fn every_answer_carries_the_request_id_given_or_a_new_one() {
    let app = TestApp::spawn(NOW).await;
    assert_eq!(
        request_id(&app, "/healthz", Some("lb-7f3a:42")).await,
        "lb-7f3a:42"
    );
    let first = request_id(&app, "/healthz", None).await;
    let second = request_id(&app, "/readyz", None).await;
    assert!(is_uuid(&first) && is_uuid(&second), "{first} {second}");
    assert_ne!(first, second);
    // Unknown routes and errors too.
    assert!(is_uuid(&request_id(&app, "/no/such/route", None).await));
    // An id too long, or with characters that do not belong in a log line, is replaced.
    let long = "a".repeat(200);
    assert!(is_uuid(&request_id(&app, "/healthz", Some(&long)).await));
    assert!(is_uuid(&request_id(&app, "/healthz", Some("a b\"c")).await));
}
