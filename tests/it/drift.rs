//! Drift: a code deleted or changed on the lock behind Latchkey's back is put back at the
//! next lock sync, with its PIN, and alerted; a code Latchkey did not make is listed as
//! unmanaged, left alone, and counted against the lock's capacity.

use axum::http::StatusCode;
use latchkey_engine::clock::Clock;
use latchkey_engine::{Pin, Window};
use latchkey_providers::simulator::Tamper;

use crate::harness::{TestApp, at, paid_stay};

#[tokio::test]
async fn a_code_deleted_or_changed_on_the_lock_is_put_back_with_its_pin_and_alerted() {
    let app = TestApp::spawn("2026-11-22T10:00:00Z").await;
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.advance_to(at("2026-11-23T16:00:00Z")).await;
    let (pin, state) = app.code_on("R-1", "room-101").await.expect("a code");
    assert_eq!(state, "active");
    let report = app.sync_locks().await;
    assert_eq!(report["codes_restored"], 0, "nothing drifted yet: {report}");

    // Deleted in the vendor's app: the guest is locked out until the next sync.
    let reference = app.reference_on("room-101", &pin);
    assert!(app.simulator.tamper("room-101", &reference, Tamper::Delete));
    assert!(!app.simulator.enter_pin("room-101", &pin));
    let report = app.sync_locks().await;
    assert_eq!(report["codes_restored"], 1, "{report}");
    app.run_jobs().await;
    assert!(
        app.simulator.enter_pin("room-101", &pin),
        "the same PIN opens again"
    );
    assert_eq!(
        app.code_on("R-1", "room-101").await,
        Some((pin.clone(), "active".to_owned()))
    );
    let drift = app.alerts_of("code_drift").await;
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(drift[0]["lock_id"], "room-101");
    assert_eq!(drift[0]["reservation_id"], "R-1");
    let message = drift[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("deleted"), "{message}");

    // Given another PIN: that one is deleted, and the guest's is put back.
    let reference = app.reference_on("room-101", &pin);
    assert!(app.simulator.tamper(
        "room-101",
        &reference,
        Tamper::ChangePin(Pin::new("135792"))
    ));
    let report = app.sync_locks().await;
    assert_eq!(report["codes_restored"], 1, "{report}");
    app.run_jobs().await;
    assert!(app.simulator.enter_pin("room-101", &pin));
    assert!(
        !app.simulator.enter_pin("room-101", "135792"),
        "the PIN set behind Latchkey's back no longer opens"
    );
    let drift = app.alerts_of("code_drift").await;
    assert_eq!(drift.len(), 2, "{drift:?}");
    assert!(
        drift.iter().any(|a| a["message"]
            .as_str()
            .unwrap_or_default()
            .contains("another PIN")),
        "{drift:?}"
    );

    let report = app.sync_locks().await;
    assert_eq!(report["codes_restored"], 0, "put back for good: {report}");
    assert_eq!(app.alerts_of("unmanaged_code").await.len(), 0);
}

#[tokio::test]
async fn a_code_made_outside_latchkey_is_listed_left_alone_and_counted_against_capacity() {
    let app = TestApp::spawn("2026-11-22T10:00:00Z").await;
    let now = app.clock.now();
    app.simulator.put_foreign_code(
        "main-entrance",
        "579135",
        Window {
            starts_at: now,
            ends_at: now.plus(30 * 86_400),
        },
    );
    let report = app.sync_locks().await;
    assert_eq!(report["unmanaged_codes"], 1, "{report}");
    assert_eq!(report["codes_restored"], 0, "{report}");
    let alerts = app.alerts_of("unmanaged_code").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["lock_id"], "main-entrance");

    let listed = app.get("/v1/locks/main-entrance/unmanaged").await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    let codes = listed.body["codes"].as_array().expect("codes");
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(codes[0]["ends_at"], now.plus(30 * 86_400).unix());
    assert!(codes[0].get("pin").is_none(), "its PIN is not ours to keep");
    assert!(
        app.get("/v1/locks/room-101/unmanaged").await.body["codes"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    assert_eq!(
        app.get("/v1/locks/no-such-lock/unmanaged").await.status,
        StatusCode::NOT_FOUND
    );

    // Left alone: it still opens, and a second sync raises nothing new.
    app.sync_locks().await;
    assert!(app.simulator.enter_pin("main-entrance", "579135"));
    assert_eq!(app.alerts_of("unmanaged_code").await.len(), 1);

    // Counted: with no reservation at all, the main entrance needs one slot each day.
    let forecast = app.get("/v1/capacity").await.body;
    let entrance = forecast["locks"]
        .as_array()
        .expect("locks")
        .iter()
        .find(|l| l["lock"] == "main-entrance")
        .cloned()
        .expect("the main entrance has a budget");
    let days = entrance["days"].as_array().expect("days");
    assert!(days.iter().all(|d| d["needed"] == 1), "{days:?}");

    // Three more at once (a keypad filled from the vendor's app): one alert, not three.
    for pin in ["246813", "975312", "864201"] {
        let window = Window {
            starts_at: now,
            ends_at: now.plus(86_400),
        };
        app.simulator.put_foreign_code("main-entrance", pin, window);
    }
    let report = app.sync_locks().await;
    assert_eq!(report["unmanaged_codes"], 4, "{report}");
    let alerts = app.alerts_of("unmanaged_code").await;
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert!(
        alerts.iter().any(|a| a["message"]
            .as_str()
            .is_some_and(|m| m.contains("holds 3 codes") && m.contains("(4 in all)"))),
        "{alerts:?}"
    );
}
