//! A job that cannot succeed ends as a dead letter a person can see and retry, with an
//! alert; nothing else is held up.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::harness::{TestApp, paid_stay};

#[tokio::test]
async fn a_refused_code_becomes_a_dead_letter_with_an_alert_and_can_be_retried() {
    let app = TestApp::spawn("2026-11-22T10:00:00Z").await;
    // Fill room 101's keypad with codes made outside Latchkey, so it refuses new ones.
    let window = latchkey_engine::Window {
        starts_at: crate::harness::at("2026-11-01T00:00:00Z"),
        ends_at: crate::harness::at("2026-11-02T00:00:00Z"),
    };
    for n in 0..latchkey_providers::simulator::SIM_MAX_CODES {
        app.simulator
            .put_foreign_code("room-101", &format!("{:06}", 300_000 + n), window);
    }
    app.send(&paid_stay()).await;
    app.run_jobs().await;

    assert_eq!(
        app.code_on("R-1", "room-101").await.map(|c| c.1).as_deref(),
        Some("failed")
    );
    assert_eq!(
        app.code_on("R-1", "main-entrance")
            .await
            .map(|c| c.1)
            .as_deref(),
        Some("active"),
        "other locks are served"
    );
    let dead = app.get("/v1/jobs/dead").await.body;
    let letters = dead["dead_letters"].as_array().expect("list");
    assert_eq!(letters.len(), 1, "{dead}");
    assert_eq!(letters[0]["kind"], "create_code");
    assert!(
        letters[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("maximum")),
        "{dead}"
    );
    let alerts = app.get("/v1/alerts").await.body;
    assert!(
        alerts["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .any(|a| a["kind"] == "dead_letter"),
        "{alerts}"
    );

    let id = letters[0]["id"].as_i64().expect("id");
    let retry = |id: i64| {
        Request::post(format!("/v1/jobs/{id}/retry"))
            .body(Body::empty())
            .expect("request")
    };
    assert_eq!(app.request(retry(id)).await.status, StatusCode::OK);
    assert!(
        app.get("/v1/jobs/dead").await.body["dead_letters"]
            .as_array()
            .expect("list")
            .is_empty(),
        "queued again"
    );
    assert_eq!(
        app.code_on("R-1", "room-101").await.map(|c| c.1).as_deref(),
        Some("pending"),
        "the code is tried again"
    );
    // The lock is still full: the retry runs, fails for the same reason, and is buried again.
    app.run_jobs().await;
    let again = app.get("/v1/jobs/dead").await.body;
    assert_eq!(again["dead_letters"][0]["id"], id, "{again}");
    assert_eq!(
        again["dead_letters"][0]["attempts"], 1,
        "a fresh budget: {again}"
    );
    let unknown = app.request(retry(999_999)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.content_type, "application/problem+json");
}
