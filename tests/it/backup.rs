//! Backup codes: each online lock of the example hotel keeps a pool of 3, known to nobody;
//! a guest whose own code cannot reach the lock by 2 hours before their window opens is
//! given one (told its PIN, the desk alerted), it is narrowed to their window once the
//! lock answers, and the pool is refilled.

use axum::http::StatusCode;
use latchkey_engine::Window;
use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem, at, paid_stay};

async fn pool(app: &TestApp, lock: &str) -> Value {
    let reply = app.get(&format!("/v1/locks/{lock}/backups")).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body
}

fn active(pool: &Value) -> usize {
    pool["codes"]
        .as_array()
        .map_or(0, |c| c.iter().filter(|c| c["state"] == "active").count())
}

#[tokio::test]
async fn each_online_lock_keeps_a_pool_of_backup_codes_known_to_nobody() {
    let app = TestApp::spawn_with_backups("2026-11-20T10:00:00Z").await;
    app.run_jobs().await;
    let room = pool(&app, "room-101").await;
    assert_eq!(room["pool_size"], 3);
    assert_eq!(active(&room), 3, "{room}");
    assert!(
        room["codes"][0].get("pin").is_none(),
        "the pool shows no PIN: {room}"
    );
    assert_eq!(app.simulator.history("room-101").len(), 3);
    // An offline lock computes its PINs and keeps no pool; an unassigned lock gets none.
    let offline = pool(&app, "room-201").await;
    assert_eq!(offline["pool_size"], 0);
    assert_eq!(active(&offline), 0);
    assert_eq!(active(&pool(&app, "spa").await), 0);
    assert!(app.simulator.history("spa").is_empty());
}

#[tokio::test]
async fn a_guest_whose_code_cannot_reach_the_lock_gets_a_backup_code_in_time() {
    let app = TestApp::spawn_with_backups("2026-11-20T10:00:00Z").await;
    app.run_jobs().await;
    // The room lock's cloud is out of reach from before the stay's code would go on until
    // after its doors open (14:00 UTC on 11-23); the pool is on the lock already.
    app.simulator.add_outage(
        "room-101",
        Window {
            starts_at: at("2026-11-20T11:00:00Z"),
            ends_at: at("2026-11-23T16:00:00Z"),
        },
    );
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.advance_to(at("2026-11-23T12:30:00Z")).await;

    let given = app.alerts_of("backup_code_given").await;
    assert_eq!(given.len(), 1, "{given:?}");
    assert_eq!(given[0]["lock_id"], "room-101");
    let view = app.reservation("R-1").await;
    let codes = view["codes"].as_array().expect("codes");
    let backup = codes
        .iter()
        .find(|c| c["lock"] == "room-101" && c.get("pulled_at").is_some())
        .expect("a backup code on the room door");
    let pin = backup["pin"].as_str().expect("a PIN").to_owned();
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-23T15:00:00Z")),
        "the backup PIN opens the room when the guest arrives"
    );
    // The guest's own code there is withdrawn: one door, one PIN.
    assert!(
        codes
            .iter()
            .filter(|c| c["lock"] == "room-101" && c["id"] != backup["id"])
            .all(|c| c["state"] == "revoking" || c["state"] == "revoked"),
        "{codes:?}"
    );
    // The guest is told the backup PIN for the room, before the doors open.
    let told: Vec<&Value> = view["notifications"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["content"]["doors"].to_string().contains(&pin))
        .collect();
    assert!(!told.is_empty(), "{}", view["notifications"]);
    // The desk's pre-arrival alert says so.
    let at_risk = app.alerts_of("arrival_at_risk").await;
    assert!(
        at_risk
            .iter()
            .any(|a| a["message"].as_str().unwrap_or_default().contains("backup")),
        "{at_risk:?}"
    );

    // Once the lock answers again, the backup is narrowed to the guest's window and the
    // pool is full again.
    app.advance_to(at("2026-11-23T16:30:00Z")).await;
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2026-11-26T12:00:00Z")),
        "the backup no longer opens the door after the stay"
    );
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-24T12:00:00Z"))
    );
    assert_eq!(active(&pool(&app, "room-101").await), 3);
}

#[tokio::test]
async fn the_desk_gives_a_guest_at_the_door_a_backup_code() {
    let app = TestApp::spawn_with_backups("2026-11-20T10:00:00Z").await;
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.advance_to(at("2026-11-23T14:30:00Z")).await;
    let (own, state) = app.code_on("R-1", "room-101").await.expect("a code");
    assert_eq!(state, "active");

    let give = |lock: &str| {
        let body = json!({ "lock": lock });
        app.post_json("/v1/reservations/R-1/backup-code", body)
    };
    let reply = give("room-101").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let pin = reply.body["pin"]
        .as_str()
        .expect("the PIN to read out")
        .to_owned();
    assert_ne!(pin, own);
    app.run_jobs().await;
    let now = at("2026-11-23T14:31:00Z");
    assert!(app.simulator.opens("room-101", &pin, now));
    assert!(
        !app.simulator.opens("room-101", &own, now),
        "the guest's own code is withdrawn"
    );
    assert_eq!(app.alerts_of("backup_code_given").await.len(), 1);

    // The offline pool gate keeps no pool; a door the guest has no code on, or an
    // unknown one, is not found.
    assert_problem(&give("pool").await, StatusCode::CONFLICT, "backup");
    assert_problem(&give("room-201").await, StatusCode::NOT_FOUND, "room-201");
    assert_problem(&give("garage").await, StatusCode::NOT_FOUND, "garage");
}
