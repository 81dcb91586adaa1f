//! Branch assignment of locks and PIN regeneration through the service (issue 5, item 6):
//! an unassigned lock gets no codes, assigning it creates them at once, unassigning
//! revokes them, and regenerating a lock replaces every live code on it with a new PIN
//! before the old one goes.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Reply, TestApp, at, event, paid_stay};

const NOW: &str = "2026-11-22T10:00:00Z";
const IN: &str = "2026-11-23T15:00:00Z";
const OUT: &str = "2026-11-25T11:00:00Z";
/// Inside every stay's window below.
const DURING: &str = "2026-11-24T12:00:00Z";

async fn put_branch(app: &TestApp, lock: &str, body: &Value) -> Reply {
    put_raw(
        app,
        lock,
        "application/json",
        serde_json::to_vec(body).expect("json"),
    )
    .await
}

async fn put_raw(app: &TestApp, lock: &str, content_type: &str, body: Vec<u8>) -> Reply {
    app.request(
        Request::put(format!("/v1/locks/{lock}/branch"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .expect("request"),
    )
    .await
}

async fn regenerate(app: &TestApp, lock: &str) -> Reply {
    app.request(
        Request::post(format!("/v1/locks/{lock}/regenerate"))
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

async fn paid(app: &TestApp, id: &str, room: &str) {
    let reply = app.send(&event("paid", id, "paid", room, IN, OUT, 1)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    app.run_jobs().await;
}

/// Every code of reservation `id` on `lock`, oldest first: (id, PIN, state, replaces).
async fn codes_on(app: &TestApp, id: &str, lock: &str) -> Vec<(i64, String, String, Value)> {
    let view = app.reservation(id).await;
    view["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter(|c| c["lock"] == lock)
        .map(|c| {
            (
                c["id"].as_i64().expect("code id"),
                c["pin"].as_str().unwrap_or_default().to_owned(),
                c["state"].as_str().unwrap_or_default().to_owned(),
                c["replaces"].clone(),
            )
        })
        .collect()
}

fn assert_problem(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["code"], code, "{:?}", reply.body);
    assert_eq!(reply.body["status"], status.as_u16());
}

#[tokio::test]
async fn a_lock_unassigned_in_the_property_file_gets_no_codes_while_the_others_do() {
    let app = TestApp::spawn_with(
        harness_clock(),
        None,
        |file| {
            if let Some(l) = file.locks.iter_mut().find(|l| l.id.as_str() == "room-101") {
                l.branch = None;
            }
        },
        Vec::new(),
    )
    .await;
    paid(&app, "R-1", "101").await;
    assert!(codes_on(&app, "R-1", "room-101").await.is_empty());
    let (pin, state) = app.code_on("R-1", "main-entrance").await.expect("entrance");
    assert_eq!(state, "active");
    assert!(!app.simulator.opens("room-101", &pin, at(DURING)));
    assert!(app.simulator.opens("main-entrance", &pin, at(DURING)));
    let shown = app.get("/v1/locks/room-101/branch").await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(
        shown.body,
        json!({ "lock": "room-101", "branch": null, "origin": "property", "updated_at": null })
    );
}

fn harness_clock() -> latchkey_engine::clock::SimClock {
    latchkey_engine::clock::SimClock::new(at(NOW))
}

#[tokio::test]
async fn assigning_a_lock_creates_its_code_at_once_and_unassigning_revokes_it() {
    let app = TestApp::spawn(NOW).await;
    let off = put_branch(&app, "room-101", &json!({ "branch": null })).await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);
    assert_eq!(off.body["branch"], Value::Null);
    assert_eq!(off.body["previous"], "main");
    assert_eq!(off.body["origin"], "api");
    assert_eq!(off.body["reconciling"], 0, "no reservation yet");

    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    assert!(
        codes_on(&app, "R-1", "room-101").await.is_empty(),
        "unassigned lock gets no code"
    );
    let (pin, _) = app.code_on("R-1", "main-entrance").await.expect("entrance");

    // The assignment survives a restart.
    let app = app.restart().await;
    let shown = app.get("/v1/locks/room-101/branch").await;
    assert_eq!(shown.body["branch"], Value::Null);
    assert_eq!(shown.body["origin"], "api");
    assert_eq!(shown.body["updated_at"], at(NOW).unix());

    let on = put_branch(&app, "room-101", &json!({ "branch": "main" })).await;
    assert_eq!(on.status, StatusCode::OK, "{:?}", on.body);
    assert_eq!(on.body["branch"], "main");
    assert_eq!(on.body["previous"], Value::Null);
    assert_eq!(on.body["reconciling"], 1, "R-1 stays in room 101");
    app.run_jobs().await;
    let (room_pin, state) = app.code_on("R-1", "room-101").await.expect("room code");
    assert_eq!(state, "active");
    assert_eq!(room_pin, pin, "the guest keeps their PIN");
    assert!(app.simulator.opens("room-101", &pin, at(DURING)));

    // Assigning the same branch again re-plans nothing.
    let again = put_branch(&app, "room-101", &json!({ "branch": "main" })).await;
    assert_eq!(again.body["reconciling"], 0);

    let off = put_branch(&app, "room-101", &json!({ "branch": null })).await;
    assert_eq!(off.body["reconciling"], 1);
    app.run_jobs().await;
    assert_eq!(
        app.code_on("R-1", "room-101").await.map(|c| c.1).as_deref(),
        Some("revoked")
    );
    assert!(!app.simulator.opens("room-101", &pin, at(DURING)));
    assert!(
        app.simulator.opens("main-entrance", &pin, at(DURING)),
        "the other locks keep their codes"
    );
}

#[tokio::test]
async fn assigning_a_shared_door_gives_every_open_reservation_of_the_branch_a_code() {
    let app = TestApp::spawn(NOW).await;
    paid(&app, "R-1", "101").await;
    paid(&app, "R-2", "102").await;
    assert!(app.code_on("R-1", "spa").await.is_none());
    let on = put_branch(&app, "spa", &json!({ "branch": "main" })).await;
    assert_eq!(on.status, StatusCode::OK, "{:?}", on.body);
    assert_eq!(on.body["reconciling"], 2);
    app.run_jobs().await;
    for id in ["R-1", "R-2"] {
        let (pin, state) = app.code_on(id, "spa").await.expect("spa code");
        assert_eq!(state, "active", "{id}");
        assert!(app.simulator.opens("spa", &pin, at(DURING)), "{id}");
    }
}

#[tokio::test]
async fn regenerate_replaces_every_code_on_the_lock_and_the_old_pins_stop_opening_it() {
    let app = TestApp::spawn(NOW).await;
    paid(&app, "R-1", "101").await;
    paid(&app, "R-2", "201").await;
    let mut old = Vec::new();
    for id in ["R-1", "R-2"] {
        let codes = codes_on(&app, id, "main-entrance").await;
        assert_eq!(codes.len(), 1);
        assert_eq!(codes[0].2, "active");
        old.push(codes[0].clone());
    }
    let (room_pin, _) = app.code_on("R-1", "room-101").await.expect("room code");

    let reply = regenerate(&app, "main-entrance").await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    assert_eq!(reply.body["lock"], "main-entrance");
    let replaced = reply.body["replaced"].as_array().expect("replaced");
    assert_eq!(replaced.len(), 2, "{:?}", reply.body);
    for (r, id) in replaced.iter().zip(["R-1", "R-2"]) {
        assert_eq!(r["reservation"], id);
        assert_eq!(r["old_code_revocable"], true);
    }
    app.run_jobs().await;

    for (id, (old_id, old_pin, _, _)) in ["R-1", "R-2"].into_iter().zip(&old) {
        let codes = codes_on(&app, id, "main-entrance").await;
        assert_eq!(codes.len(), 2, "{id}: {codes:?}");
        let (new_id, new_pin, new_state, replaces) = &codes[1];
        assert_eq!(codes[0].2, "revoked", "{id}: the old code is revoked");
        assert_eq!(new_state, "active");
        assert_eq!(replaces, old_id);
        assert_ne!(new_pin, old_pin, "{id}: a new PIN");
        assert!(
            replaced.iter().any(|r| r["reservation"] == id
                && r["new_code"] == *new_id
                && r["old_code"] == *old_id),
            "{id}: the guest to notify is listed"
        );
        assert!(!app.simulator.opens("main-entrance", old_pin, at(DURING)));
        assert!(app.simulator.opens("main-entrance", new_pin, at(DURING)));
    }
    assert!(
        app.simulator.opens("room-101", &room_pin, at(DURING)),
        "other locks keep their codes"
    );
    assert_eq!(
        codes_on(&app, "R-1", "room-101").await.len(),
        1,
        "nothing changed on the room door"
    );

    // Nothing else to do: the worker is idle and the next reconcile changes nothing.
    app.advance_to(at("2026-11-22T10:10:00Z")).await;
    assert_eq!(codes_on(&app, "R-1", "main-entrance").await.len(), 2);
}

#[tokio::test]
async fn on_a_slow_lock_the_old_pin_keeps_opening_until_the_new_one_is_confirmed() {
    let app = TestApp::spawn(NOW).await;
    paid(&app, "R-3", "102").await;
    app.advance_to(at("2026-11-22T10:05:00Z")).await;
    let (old_pin, state) = app.code_on("R-3", "room-102").await.expect("code");
    assert_eq!(state, "active");

    let reply = regenerate(&app, "room-102").await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    app.run_jobs().await;
    let codes = codes_on(&app, "R-3", "room-102").await;
    assert_eq!(codes.len(), 2);
    assert_eq!(
        codes[0].2, "active",
        "old code kept until the new one is on the lock"
    );
    assert_eq!(codes[1].2, "pending");
    let new_pin = codes[1].1.clone();
    assert_ne!(new_pin, old_pin);
    assert!(app.simulator.opens("room-102", &old_pin, at(DURING)));

    app.advance_to(at("2026-11-22T10:15:00Z")).await;
    let codes = codes_on(&app, "R-3", "room-102").await;
    assert_eq!(codes[1].2, "active");
    assert_eq!(codes[0].2, "revoked");
    assert!(app.simulator.opens("room-102", &new_pin, at(DURING)));
    assert!(!app.simulator.opens("room-102", &old_pin, at(DURING)));
}

#[tokio::test]
async fn regenerating_an_offline_lock_issues_a_new_code_and_flags_the_old_as_unrevocable() {
    let app = TestApp::spawn(NOW).await;
    paid(&app, "R-1", "101").await;
    let (old_pin, _) = app.code_on("R-1", "pool").await.expect("pool code");
    let reply = regenerate(&app, "pool").await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    assert_eq!(reply.body["replaced"][0]["old_code_revocable"], false);
    app.run_jobs().await;
    let codes = codes_on(&app, "R-1", "pool").await;
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert_eq!(codes[1].2, "active");
    assert!(app.simulator.opens("pool", &codes[1].1, at(DURING)));
    assert_eq!(
        codes[0].2, "active",
        "a revocation that cannot happen is not recorded"
    );
    assert!(app.simulator.opens("pool", &old_pin, at(DURING)));
    let alerts = app.get("/v1/alerts").await.body;
    assert!(
        alerts["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .any(|a| a["kind"] == "unrevocable" && a["code_id"] == codes[0].0),
        "{alerts}"
    );
}

#[tokio::test]
async fn bad_requests_are_answered_as_problem_json() {
    let app = TestApp::spawn(NOW).await;
    assert_problem(
        &app.get("/v1/locks/no-such-lock/branch").await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    assert_problem(
        &put_branch(&app, "no-such-lock", &json!({ "branch": "main" })).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    assert_problem(
        &regenerate(&app, "no-such-lock").await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    let unknown = put_branch(&app, "room-101", &json!({ "branch": "annex" })).await;
    assert_problem(&unknown, StatusCode::UNPROCESSABLE_ENTITY, "invalid-body");
    assert_eq!(unknown.body["pointer"], "/branch");
    let wrong_type = put_branch(&app, "room-101", &json!({ "branch": 5 })).await;
    assert_problem(
        &wrong_type,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-body",
    );
    assert_eq!(wrong_type.body["pointer"], "/branch");
    assert_problem(
        &put_branch(&app, "room-101", &json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-body",
    );
    assert_problem(
        &put_branch(&app, "room-101", &json!({ "branch": "main", "lock": "x" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-body",
    );
    assert_problem(
        &put_raw(
            &app,
            "room-101",
            "application/json",
            b"{\"branch\":".to_vec(),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-body",
    );
    assert_problem(
        &put_raw(&app, "room-101", "text/plain", b"main".to_vec()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    );
    assert_problem(
        &regenerate(&app, "spa").await,
        StatusCode::CONFLICT,
        "conflict",
    );
    // None of it changed the assignment.
    let shown = app.get("/v1/locks/room-101/branch").await;
    assert_eq!(shown.body["branch"], "main");
    assert_eq!(shown.body["origin"], "property");
}
