//! The lock sync through the service: status and battery stored, alerts raised once per
//! spell (lock offline after its grace, battery low or critical), the activity log read
//! with who opened the door, and a door opened by a code Latchkey never issued raised as
//! an incident. Unassigned locks are not synced and raise nothing.

use axum::http::StatusCode;
use latchkey_engine::clock::Clock;
use latchkey_engine::{Timestamp, Window};
use serde_json::Value;

use crate::harness::{TestApp, at, paid_stay};

fn lock_status(locks: &Value, id: &str) -> Value {
    locks["locks"]
        .as_array()
        .expect("locks")
        .iter()
        .find(|l| l["id"] == id)
        .map(|l| l["status"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_sync_stores_status_and_alerts_offline_locks_and_batteries_once_per_spell() {
    let app = TestApp::spawn("2026-11-22T10:00:00Z").await;
    let now = app.clock.now();
    app.simulator.add_outage(
        "room-101",
        Window {
            starts_at: now,
            ends_at: now.plus(3600),
        },
    );
    app.simulator.set_battery("room-102", 20);
    app.simulator.set_battery("main-entrance", 5);

    let report = app.sync_locks().await;
    assert_eq!(report["offline"], 1, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert!(
        app.alerts_of("lock_offline").await.is_empty(),
        "no alert within the grace period"
    );
    let low = app.alerts_of("battery_low").await;
    assert_eq!(low.len(), 1, "{low:?}");
    assert_eq!(low[0]["lock_id"], "room-102");
    let critical = app.alerts_of("battery_critical").await;
    assert_eq!(critical.len(), 1, "{critical:?}");
    assert_eq!(critical[0]["lock_id"], "main-entrance");

    app.clock.advance_to(now.plus(6 * 60));
    app.sync_locks().await;
    app.sync_locks().await;
    let offline = app.alerts_of("lock_offline").await;
    assert_eq!(offline.len(), 1, "raised once for the spell: {offline:?}");
    assert_eq!(offline[0]["lock_id"], "room-101");
    assert_eq!(app.alerts_of("battery_low").await.len(), 1, "not again");

    let locks = app.get("/v1/locks").await.body;
    let room_101 = lock_status(&locks, "room-101");
    assert_eq!(room_101["online"], false, "{room_101}");
    assert_eq!(room_101["offline_since"], now.unix());
    let room_102 = lock_status(&locks, "room-102");
    assert_eq!(room_102["battery_percent"], 20);
    assert_eq!(room_102["battery_level"], "low");

    // Back online, and a fresh battery: the spells end, and the next ones alert again.
    app.clock.advance_to(now.plus(2 * 3600));
    app.simulator.set_battery("room-102", 100);
    app.sync_locks().await;
    let locks = app.get("/v1/locks").await.body;
    assert_eq!(lock_status(&locks, "room-101")["online"], true);
    assert_eq!(
        lock_status(&locks, "room-102")["battery_since"],
        Value::Null
    );
    app.simulator.set_battery("room-102", 15);
    app.sync_locks().await;
    assert_eq!(app.alerts_of("battery_low").await.len(), 2, "a new spell");
}

#[tokio::test]
async fn a_door_opened_by_a_code_latchkey_never_issued_is_an_incident() {
    let app = TestApp::spawn("2026-11-22T10:00:00Z").await;
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.advance_to(at("2026-11-23T16:00:00Z")).await;
    let (pin, state) = app.code_on("R-1", "room-101").await.expect("a code");
    assert_eq!(state, "active");
    app.sync_locks().await;

    assert!(
        app.simulator.enter_pin("room-101", &pin),
        "the guest's PIN opens"
    );
    let now = app.clock.now();
    app.simulator.put_foreign_code(
        "room-101",
        "579135",
        Window {
            starts_at: now,
            ends_at: now.plus(3600),
        },
    );
    assert!(
        app.simulator.enter_pin("room-101", "579135"),
        "so does the foreign PIN"
    );
    assert!(
        !app.simulator.enter_pin("room-101", "999999"),
        "a wrong PIN does not"
    );
    let report = app.sync_locks().await;
    assert_eq!(report["new_activity"], 3, "{report}");

    let incidents = app.alerts_of("access_outside_grant").await;
    assert_eq!(incidents.len(), 1, "only the foreign PIN: {incidents:?}");
    assert_eq!(incidents[0]["lock_id"], "room-101");
    let message = incidents[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("did not issue"), "{message}");

    let log = app.get("/v1/locks/room-101/activity").await.body;
    let entries = log["activity"].as_array().expect("activity");
    assert_eq!(entries.len(), 3, "{log}");
    let guest = entries
        .iter()
        .find(|e| e["initiator"] == "guest")
        .expect("the guest's entry");
    assert_eq!(guest["reservation_id"], "R-1");
    assert_eq!(guest["covered"], true);
    assert_eq!(guest["action"], "unlock");
    let unknown: Vec<_> = entries
        .iter()
        .filter(|e| e["initiator"] == "unknown")
        .collect();
    assert_eq!(unknown.len(), 2, "{log}");
    assert!(
        unknown
            .iter()
            .any(|e| e["action"] == "denied" && e["covered"] == true)
    );

    // A later sync reads from its cursor and stores nothing twice.
    assert_eq!(app.sync_locks().await["new_activity"], 0);
    assert_eq!(
        app.get("/v1/locks/nowhere/activity").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_unassigned_lock_is_not_synced_and_raises_nothing() {
    let clock = latchkey_engine::clock::SimClock::new(at("2026-11-22T10:00:00Z"));
    let app = TestApp::spawn_with(
        clock,
        None,
        |file| {
            for lock in file
                .locks
                .iter_mut()
                .filter(|l| l.id.as_str() == "room-201")
            {
                lock.branch = None;
            }
        },
        Vec::new(),
    )
    .await;
    let now: Timestamp = app.clock.now();
    app.simulator.add_outage(
        "room-201",
        Window {
            starts_at: now,
            ends_at: now.plus(3600),
        },
    );
    app.simulator.set_battery("room-201", 3);
    app.sync_locks().await;
    app.clock.advance_to(now.plus(600));
    let report = app.sync_locks().await;
    assert_eq!(report["offline"], 0, "{report}");
    let alerts = app.get("/v1/alerts").await.body;
    assert!(
        !alerts.to_string().contains("room-201"),
        "nothing about the unassigned lock: {alerts}"
    );
    let locks = app.get("/v1/locks").await.body;
    assert_eq!(lock_status(&locks, "room-201"), Value::Null);
}

#[tokio::test]
async fn a_revocation_that_keeps_failing_raises_an_alert() {
    let app = TestApp::spawn("2026-11-22T10:00:00Z").await;
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    let (pin, _) = app.code_on("R-1", "room-101").await.expect("a code");
    let now = app.clock.now();
    app.simulator.add_outage(
        "room-101",
        Window {
            starts_at: now,
            ends_at: now.plus(6 * 3600),
        },
    );
    let mut cancelled = paid_stay();
    cancelled["type"] = "reservation.cancelled".into();
    cancelled["data"]["status"] = "cancelled".into();
    cancelled["data"]["version"] = 2.into();
    assert_eq!(app.send(&cancelled).await.status, StatusCode::ACCEPTED);
    app.advance_to(now.plus(3 * 3600)).await;
    let failing = app.alerts_of("revocation_failing").await;
    assert_eq!(failing.len(), 1, "{failing:?}");
    assert_eq!(failing[0]["lock_id"], "room-101");
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-23T16:00:00Z")),
        "still on the unreachable lock"
    );
    app.advance_to(now.plus(8 * 3600)).await;
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2026-11-23T16:00:00Z")),
        "revoked once the lock is back"
    );
}
