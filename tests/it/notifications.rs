//! When guests are told, through the real HTTP path: once every code is on its lock, again
//! when a PIN or window changes, a notice on cancellation, nothing twice for a duplicate
//! webhook or a restart, and never an older message after a newer one. The channels the
//! example hotel does not configure send into the harness's capture.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use latchkey_engine::clock::Clock;
use latchkey_service::notify::channels::Outgoing;
use serde_json::{Value, json};

use crate::harness::{TestApp, at};

const NOW: &str = "2026-11-22T10:00:00Z";

/// Reservation `id` in `room`, paid, from 2026-11-23 15:00 to `check_out`, version
/// `version`, the guest writing in `locale`.
fn stay(id: &str, room: &str, status: &str, check_out: &str, version: u64) -> Value {
    json!({
        "type": format!("reservation.{}", if status == "paid" { "paid" } else { status }),
        "data": {
            "id": id, "status": status, "resources": [room],
            "check_in": "2026-11-23T15:00:00Z", "check_out": check_out,
            "guest": { "name": "Ana Silva", "email": "ana@example.com", "locale": "pt-PT" },
            "version": version
        }
    })
}

fn emails(h: &TestApp) -> Vec<Outgoing> {
    h.capture
        .sent()
        .into_iter()
        .filter(|m| m.channel.as_str() == "email")
        .collect()
}

fn door_pin(m: &Outgoing, lock: &str) -> Option<String> {
    m.content
        .doors
        .iter()
        .find(|d| d.lock.as_str() == lock)
        .map(|d| d.pin.clone())
}

/// Runs jobs for `secs` seconds of simulated time.
async fn wait(h: &TestApp, secs: i64) {
    h.advance_to(h.clock.now().plus(secs)).await;
}

#[tokio::test]
async fn the_guest_is_told_once_every_code_is_on_its_lock_in_their_language() {
    let h = TestApp::spawn(NOW).await;
    // Room 102's lock is slow: it confirms a new code only after 90 s.
    let reply = h
        .send(&stay("R-1", "102", "paid", "2026-11-25T11:00:00Z", 1))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    h.run_jobs().await;
    assert_eq!(
        h.code_on("R-1", "room-102").await.map(|c| c.1).as_deref(),
        Some("pending")
    );
    assert!(
        emails(&h).is_empty(),
        "no message while a code is not on its lock"
    );

    wait(&h, 180).await;
    let sent = emails(&h);
    assert_eq!(sent.len(), 1, "one message: {sent:?}");
    let m = &sent[0];
    assert_eq!(m.kind.as_str(), "issued");
    assert_eq!(m.recipient, "ana@example.com");
    assert_eq!(m.locale, "pt");
    let (room_pin, state) = h.code_on("R-1", "room-102").await.expect("room code");
    assert_eq!(state, "active");
    let (pool_pin, _) = h.code_on("R-1", "pool").await.expect("pool code");
    assert_eq!(door_pin(m, "room-102"), Some(room_pin.clone()));
    assert_eq!(door_pin(m, "pool"), Some(pool_pin.clone()));
    assert!(
        m.texts.email.starts_with("Olá Ana Silva"),
        "{}",
        m.texts.email
    );
    assert!(m.texts.email.contains(&room_pin) && m.texts.email.contains(&pool_pin));
    assert!(
        m.texts.email.contains("24 horas"),
        "the pool gate's offline PIN carries its first-use rule: {}",
        m.texts.email
    );
    assert!(
        m.texts.email.contains("2026-11-23 14:00"),
        "validity in the property's local time (Lisbon, UTC+0 in November)"
    );

    let view = h.reservation("R-1").await;
    let notes = view["notifications"]
        .as_array()
        .expect("notifications listed");
    let by_channel = |c: &str| {
        notes
            .iter()
            .find(|n| n["channel"] == c)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(by_channel("email")["state"], "sent");
    assert_eq!(by_channel("sms")["state"], "skipped");
    assert_eq!(by_channel("sms")["detail"], "the guest has no phone number");
}

#[tokio::test]
async fn duplicate_webhooks_and_reconciling_again_tell_nothing_twice() {
    let h = TestApp::spawn(NOW).await;
    let paid = stay("R-1", "101", "paid", "2026-11-25T11:00:00Z", 1);
    h.send_as("msg_1", &paid).await;
    wait(&h, 60).await;
    assert_eq!(emails(&h).len(), 1);
    assert_eq!(
        h.send_as("msg_1", &paid).await.status,
        StatusCode::OK,
        "same webhook id"
    );
    h.send_as("msg_2", &paid).await;
    let starts_soon = json!({"type": "reservation.starts_soon", "data": paid["data"].clone()});
    let mut newer = starts_soon.clone();
    newer["data"]["version"] = json!(2);
    h.send(&newer).await;
    wait(&h, 3600).await;
    assert_eq!(emails(&h).len(), 1, "nothing new to tell");
}

#[tokio::test]
async fn a_date_change_is_told_once_on_the_locks_and_a_cancellation_gets_a_notice() {
    let h = TestApp::spawn(NOW).await;
    h.send(&stay("R-1", "101", "paid", "2026-11-25T11:00:00Z", 1))
        .await;
    wait(&h, 60).await;
    let first = emails(&h);
    assert_eq!(first.len(), 1);
    let pin = door_pin(&first[0], "room-101").expect("room door told");

    // One night longer: the windows move, the PIN stays.
    h.send(&stay("R-1", "101", "paid", "2026-11-26T11:00:00Z", 2))
        .await;
    wait(&h, 600).await;
    let sent = emails(&h);
    assert_eq!(sent.len(), 2, "{sent:?}");
    let changed = &sent[1];
    assert_eq!(changed.kind.as_str(), "changed");
    assert_eq!(door_pin(changed, "room-101"), Some(pin.clone()));
    let room = changed
        .content
        .doors
        .iter()
        .find(|d| d.lock.as_str() == "room-101")
        .expect("room");
    assert_eq!(room.window.ends_at, at("2026-11-26T11:15:00Z"));
    assert!(
        changed.texts.email.contains("2026-11-26 11:15"),
        "{}",
        changed.texts.email
    );

    let mut cancelled = stay("R-1", "101", "cancelled", "2026-11-26T11:00:00Z", 3);
    cancelled["type"] = json!("reservation.cancelled");
    h.send(&cancelled).await;
    wait(&h, 600).await;
    let sent = emails(&h);
    assert_eq!(sent.len(), 3);
    let notice = &sent[2];
    assert_eq!(notice.kind.as_str(), "revoked");
    assert!(
        notice.texts.email.contains("Room 101"),
        "{}",
        notice.texts.email
    );
    assert!(
        !notice.texts.email.contains(&pin),
        "a withdrawn PIN is not repeated"
    );
}

#[tokio::test]
async fn regenerated_pins_are_told_once_the_new_code_is_on_the_lock() {
    let h = TestApp::spawn(NOW).await;
    h.send(&stay("R-1", "101", "paid", "2026-11-25T11:00:00Z", 1))
        .await;
    wait(&h, 60).await;
    let old = door_pin(&emails(&h)[0], "room-101").expect("told");
    let reply = h
        .request(
            Request::post("/v1/locks/room-101/regenerate")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    wait(&h, 600).await;
    let sent = emails(&h);
    assert_eq!(sent.len(), 2, "{sent:?}");
    let new = door_pin(&sent[1], "room-101").expect("told again");
    assert_ne!(new, old);
    assert!(
        h.simulator
            .opens("room-101", &new, at("2026-11-24T12:00:00Z"))
    );
    assert!(
        !h.simulator
            .opens("room-101", &old, at("2026-11-24T12:00:00Z"))
    );
}

#[tokio::test]
async fn a_restart_sends_what_was_decided_once() {
    let h = TestApp::spawn(NOW).await;
    h.send(&stay("R-1", "101", "paid", "2026-11-25T11:00:00Z", 1))
        .await;
    // A crash before any job ran: only the reconcile job is on disk.
    let h = h.restart().await;
    wait(&h, 60).await;
    assert_eq!(emails(&h).len(), 1);
    let h = h.restart().await;
    wait(&h, 3600).await;
    assert_eq!(emails(&h).len(), 1, "a sent message is not sent again");
}

/// Room 101's lock is down from before the codes are made until half an hour before the
/// window opens (check-in 15:00 less 1 h: 14:00). Two hours before the window, the guest
/// is told the doors that work, never the room's PIN before it is on its lock; once the
/// room's code reaches the lock, a change tells it.
#[tokio::test]
async fn a_lock_that_is_down_does_not_keep_the_guest_from_the_doors_that_work() {
    let h = TestApp::spawn(NOW).await;
    h.simulator.add_outage(
        "room-101",
        latchkey_engine::Window {
            starts_at: at(NOW),
            ends_at: at("2026-11-23T13:30:00Z"),
        },
    );
    let reply = h
        .send(&stay("R-1", "101", "paid", "2026-11-25T11:00:00Z", 1))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    h.advance_to(at("2026-11-23T11:59:00Z")).await;
    assert_eq!(
        h.code_on("R-1", "room-101").await.map(|c| c.1).as_deref(),
        Some("pending")
    );
    assert!(
        emails(&h).is_empty(),
        "more than 2 hours ahead, the guest waits for every door"
    );

    h.advance_to(at("2026-11-23T12:00:00Z")).await;
    let sent = emails(&h);
    assert_eq!(sent.len(), 1, "the doors that work: {sent:?}");
    assert_eq!(sent[0].kind.as_str(), "issued");
    let (entrance_pin, _) = h.code_on("R-1", "main-entrance").await.expect("entrance");
    assert_eq!(door_pin(&sent[0], "main-entrance"), Some(entrance_pin));
    assert!(door_pin(&sent[0], "pool").is_some());
    assert_eq!(
        door_pin(&sent[0], "room-101"),
        None,
        "never a PIN that is not on its lock"
    );

    h.advance_to(at("2026-11-23T14:00:00Z")).await;
    let (room_pin, state) = h.code_on("R-1", "room-101").await.expect("room code");
    assert_eq!(
        state, "active",
        "the room's code reached the lock after the outage"
    );
    let sent = emails(&h);
    assert_eq!(sent.len(), 2, "then the room: {sent:?}");
    assert_eq!(sent[1].kind.as_str(), "changed");
    assert_eq!(door_pin(&sent[1], "room-101"), Some(room_pin));
}
