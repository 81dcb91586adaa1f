//! A rule that fails, or runs past its limits, fails that one event with a clear message
//! stored on the event (and shown by the API), and affects nothing else.

use axum::http::StatusCode;

use crate::harness::{TestApp, event};

const NOW: &str = "2026-11-22T10:00:00Z";
const IN: &str = "2026-11-23T15:00:00Z";
const OUT: &str = "2026-11-25T11:00:00Z";

/// The default rule, except for guests named "Bad" (throws) and "Loop" (never ends).
fn fragile_rule() -> String {
    let default = include_str!("../../rules/default.rhai");
    default.replacen(
        "fn plan(input) {",
        "fn plan(input) {\n    if input.reservation.guest.name == \"Bad\" { throw \"no room map for \" + input.reservation.id; }\n    if input.reservation.guest.name == \"Loop\" { loop {} }",
        1,
    )
}

async fn send_guest(app: &TestApp, id: &str, name: &str, room: &str) {
    let mut body = event("paid", id, "paid", room, IN, OUT, 1);
    body["data"]["guest"]["name"] = name.into();
    assert_eq!(
        app.send(&body).await.status,
        StatusCode::ACCEPTED,
        "the event is accepted before the rule runs"
    );
}

async fn last_event(app: &TestApp, id: &str) -> serde_json::Value {
    app.reservation(id).await["events"]
        .as_array()
        .and_then(|e| e.last().cloned())
        .expect("an event")
}

#[tokio::test]
async fn a_failing_rule_fails_its_event_with_the_message_and_nothing_else() {
    let app = TestApp::spawn_with_rule(NOW, Some(&fragile_rule())).await;
    send_guest(&app, "R-bad", "Bad", "101").await;
    send_guest(&app, "R-good", "Good", "102").await;
    app.run_jobs().await;

    let failed = last_event(&app, "R-bad").await;
    assert_eq!(failed["outcome"], "failed");
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("no room map for R-bad")),
        "{failed}"
    );
    let view = app.reservation("R-bad").await;
    assert!(
        view["rule_error"]
            .as_str()
            .is_some_and(|e| e.contains("no room map")),
        "{view}"
    );
    assert!(view["codes"].as_array().expect("codes").is_empty());

    assert_eq!(last_event(&app, "R-good").await["outcome"], "applied");
    assert!(
        app.code_on("R-good", "room-102").await.is_some(),
        "the other reservation is served"
    );
}

#[tokio::test]
async fn a_rule_past_its_limits_fails_clearly_and_others_are_served() {
    let app = TestApp::spawn_with_rule(NOW, Some(&fragile_rule())).await;
    send_guest(&app, "R-loop", "Loop", "101").await;
    send_guest(&app, "R-ok", "Fine", "102").await;
    app.run_jobs().await;
    let failed = last_event(&app, "R-loop").await;
    assert_eq!(failed["outcome"], "failed");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.contains("limit on operations"), "{error}");
    assert!(app.code_on("R-ok", "room-102").await.is_some());
    // A later, valid version of the failed reservation is planned normally.
    let mut fixed = event("modified", "R-loop", "paid", "101", IN, OUT, 2);
    fixed["data"]["guest"]["name"] = "Fixed".into();
    app.send(&fixed).await;
    app.run_jobs().await;
    assert!(app.reservation("R-loop").await["rule_error"].is_null());
    assert!(app.code_on("R-loop", "room-101").await.is_some());
}
