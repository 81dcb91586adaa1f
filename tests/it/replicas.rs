//! Replicas on one PostgreSQL database: what an admin changes through one replica (the
//! active rule, a lock's branch, a regeneration) is what every replica acts on once the
//! change is acknowledged, whichever replica's worker plans the next stay.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use latchkey_engine::rules::Channel;
use latchkey_store::notifications::NoticeKind;
use serde_json::{Value, json};

use crate::harness::{Reply, TestApp, event};

const NOW: &str = "2026-11-22T10:00:00Z";
const IN: &str = "2026-11-23T15:00:00Z";
const OUT: &str = "2026-11-25T11:00:00Z";
const ROOMS: [&str; 3] = ["101", "102", "201"];

fn json_request(method: &str, path: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).expect("json")))
        .expect("request")
}

fn accepted(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
}

#[tokio::test]
async fn a_rule_activated_through_one_replica_plans_every_stay_on_both() {
    let a = TestApp::spawn_on_postgres(NOW).await;
    let b = a.replica().await;
    // Each replica plans once with the property's rule first, so both hold it in memory:
    // the state in which a replica used to keep planning with it.
    accepted(
        &a.send_as("warm-a", &event("paid", "W-A", "paid", "101", IN, OUT, 1))
            .await,
    );
    a.run_jobs().await;
    accepted(
        &b.send_as("warm-b", &event("paid", "W-B", "paid", "102", IN, OUT, 1))
            .await,
    );
    b.run_jobs().await;
    assert_eq!(
        a.locks_with_codes("W-B").await,
        ["main-entrance", "pool", "room-102"],
        "the property's rule opens the shared doors"
    );

    let room_only = include_str!("../../rules/default.rhai").replacen(
        "const SHARED_DOORS = true;",
        "const SHARED_DOORS = false;",
        1,
    );
    let uploaded = a
        .request(json_request(
            "POST",
            "/v1/rules",
            &json!({ "source": room_only }),
        ))
        .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{:?}", uploaded.body);
    let version = uploaded.body["id"].as_i64().expect("a version id");
    let activated = a
        .request(json_request(
            "POST",
            &format!("/v1/rules/{version}/activate"),
            &json!({}),
        ))
        .await;
    assert_eq!(activated.status, StatusCode::OK, "{:?}", activated.body);

    // The other replica reports the new rule at once.
    let shown = b
        .request(
            Request::get("/v1/rules")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(shown.body["active"]["kind"], "rhai", "{:?}", shown.body);
    assert_eq!(shown.body["active"]["version"], version);

    // Six paid stays, three through each replica, each planned by the other one's worker.
    for i in 0..6 {
        let id = format!("R-{i}");
        let stay = event("paid", &id, "paid", ROOMS[i % 3], IN, OUT, 1);
        if i % 2 == 0 {
            accepted(&a.send_as(&format!("msg-{i}"), &stay).await);
            b.run_jobs().await;
        } else {
            accepted(&b.send_as(&format!("msg-{i}"), &stay).await);
            a.run_jobs().await;
        }
        assert_eq!(
            a.locks_with_codes(&id).await,
            [format!("room-{}", ROOMS[i % 3])],
            "{id} is planned with the activated rule: its room only"
        );
    }
}

#[tokio::test]
async fn a_lock_assigned_through_one_replica_gets_codes_planned_by_the_other() {
    let a = TestApp::spawn_on_postgres(NOW).await;
    let b = a.replica().await;
    accepted(
        &b.send_as("msg-1", &event("paid", "R-1", "paid", "101", IN, OUT, 1))
            .await,
    );
    b.run_jobs().await;
    assert!(
        !a.locks_with_codes("R-1").await.contains(&"spa".to_owned()),
        "the spa is not assigned to a branch yet"
    );

    let assigned = a
        .request(json_request(
            "PUT",
            "/v1/locks/spa/branch",
            &json!({ "branch": "main" }),
        ))
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{:?}", assigned.body);
    let shown = b
        .request(
            Request::get("/v1/locks/spa/branch")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(shown.body["branch"], "main", "{:?}", shown.body);
    assert_eq!(shown.body["origin"], "api");

    // Only the other replica's worker runs: it re-plans R-1 with the spa assigned, and
    // plans a new stay with it too.
    b.run_jobs().await;
    assert!(
        a.locks_with_codes("R-1").await.contains(&"spa".to_owned()),
        "{:?}",
        a.locks_with_codes("R-1").await
    );
    accepted(
        &a.send_as("msg-2", &event("paid", "R-2", "paid", "102", IN, OUT, 1))
            .await,
    );
    b.run_jobs().await;
    assert!(a.locks_with_codes("R-2").await.contains(&"spa".to_owned()));
}

#[tokio::test]
async fn a_regeneration_through_one_replica_tells_each_guest_once() {
    let a = TestApp::spawn_on_postgres(NOW).await;
    let b = a.replica().await;
    accepted(
        &a.send_as("msg-1", &event("paid", "R-1", "paid", "101", IN, OUT, 1))
            .await,
    );
    accepted(
        &b.send_as("msg-2", &event("paid", "R-2", "paid", "201", IN, OUT, 1))
            .await,
    );
    a.run_jobs().await;
    b.run_jobs().await;
    let changed_emails = |id: &str| {
        a.capture
            .sent()
            .iter()
            .filter(|m| {
                m.reservation.as_str() == id
                    && m.kind == NoticeKind::Changed
                    && m.channel == Channel::Email
            })
            .count()
    };
    assert_eq!((changed_emails("R-1"), changed_emails("R-2")), (0, 0));

    let reply = a
        .request(
            Request::post("/v1/locks/main-entrance/regenerate")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    // Both workers take what is due, in turns, until neither finds anything.
    for _ in 0..3 {
        b.run_jobs().await;
        a.run_jobs().await;
    }
    assert_eq!(
        (changed_emails("R-1"), changed_emails("R-2")),
        (1, 1),
        "each guest is told the new PIN once"
    );
}
