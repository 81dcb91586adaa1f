//! Bad input gets RFC 9457 problem+json with the right status, and loses nothing already
//! accepted.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use latchkey_engine::clock::Clock;
use latchkey_sources::signature;

use crate::harness::{DEMO_SECRET, TestApp, assert_problem, event, paid_stay};

const NOW: &str = "2026-11-22T10:00:00Z";

fn valid() -> serde_json::Value {
    paid_stay()
}

fn signed(app: &TestApp, id: &str, ts: i64, body: Vec<u8>, content_type: &str) -> Request<Body> {
    let sig = signature::sign(DEMO_SECRET, id, latchkey_engine::Timestamp(ts), &body)
        .unwrap_or_else(|_| "v1,x".into());
    let _ = app;
    Request::post("/v1/hooks/demo")
        .header("content-type", content_type)
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .body(Body::from(body))
        .expect("request")
}

#[tokio::test]
async fn every_bad_input_gets_its_status_and_nothing_accepted_is_lost() {
    let app = TestApp::spawn(NOW).await;
    let now = app.clock.now().unix();
    assert_eq!(app.send(&valid()).await.status, StatusCode::ACCEPTED);
    let body = serde_json::to_vec(&valid()).expect("json");

    let unknown = app
        .request(
            Request::post("/v1/hooks/nope")
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .expect("req"),
        )
        .await;
    assert_problem(&unknown, StatusCode::NOT_FOUND, "nope");
    assert_eq!(unknown.body["instance"], "/v1/hooks/nope");

    // Every error answer names the request in `instance`, whichever part refused it: a
    // route that does not exist, an extractor (no credentials), a secret in the URL (never
    // echoed).
    let nowhere = app
        .request(
            Request::get("/v1/nowhere")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_problem(&nowhere, StatusCode::NOT_FOUND, "/v1/nowhere");
    assert_eq!(nowhere.body["instance"], "/v1/nowhere");
    let anonymous = app
        .request_raw(Request::get("/v1/alerts").body(Body::empty()).expect("req"))
        .await;
    assert_problem(&anonymous, StatusCode::UNAUTHORIZED, "sign in");
    assert_eq!(anonymous.body["instance"], "/v1/alerts");
    let with_secret = app
        .request(
            Request::post("/v1/hooks/nope/s3cr3t-in-the-url")
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .expect("req"),
        )
        .await;
    assert_problem(&with_secret, StatusCode::NOT_FOUND, "nope");
    assert_eq!(with_secret.body["instance"], "/v1/hooks/nope/…");
    assert!(!with_secret.text.contains("s3cr3t"), "{}", with_secret.text);

    let text = app
        .request(signed(&app, "m1", now, body.clone(), "text/plain"))
        .await;
    assert_problem(&text, StatusCode::UNSUPPORTED_MEDIA_TYPE, "text/plain");

    let huge = vec![b' '; 256 * 1024 + 1];
    assert_problem(
        &app.request(signed(&app, "m2", now, huge, "application/json"))
            .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "262144",
    );

    let mut tampered = signed(&app, "m3", now, body.clone(), "application/json");
    *tampered.body_mut() = Body::from(
        serde_json::to_vec(&event(
            "cancelled",
            "R-1",
            "cancelled",
            "101",
            "2026-11-23T15:00:00Z",
            "2026-11-25T11:00:00Z",
            9,
        ))
        .expect("json"),
    );
    assert_problem(
        &app.request(tampered).await,
        StatusCode::UNAUTHORIZED,
        "signature",
    );

    assert_problem(
        &app.request(signed(
            &app,
            "m4",
            now - 301,
            body.clone(),
            "application/json",
        ))
        .await,
        StatusCode::UNAUTHORIZED,
        "old",
    );
    assert_problem(
        &app.request(signed(
            &app,
            "m5",
            now + 301,
            body.clone(),
            "application/json",
        ))
        .await,
        StatusCode::UNAUTHORIZED,
        "future",
    );

    let unsigned = Request::post("/v1/hooks/demo")
        .header("content-type", "application/json")
        .body(Body::from(body.clone()))
        .expect("req");
    assert_problem(
        &app.request(unsigned).await,
        StatusCode::UNAUTHORIZED,
        "webhook-id",
    );

    let mut wrong = valid();
    wrong["data"]["check_in"] = "soon".into();
    let schema = app
        .request(signed(
            &app,
            "m6",
            now,
            serde_json::to_vec(&wrong).expect("json"),
            "application/json",
        ))
        .await;
    assert_problem(&schema, StatusCode::UNPROCESSABLE_ENTITY, "/data/check_in");
    assert_eq!(schema.body["pointer"], "/data/check_in");

    // Nothing already accepted was lost, and the service still accepts good input.
    app.run_jobs().await;
    let view = app.reservation("R-1").await;
    assert_eq!(view["events"].as_array().map(Vec::len), Some(1));
    assert_eq!(view["reservation"]["version"], 1);
    assert!(app.code_on("R-1", "room-101").await.is_some());
    let mut next = valid();
    next["data"]["version"] = 2.into();
    assert_eq!(app.send(&next).await.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn hostile_bodies_are_refused_without_a_panic() {
    let app = TestApp::spawn(NOW).await;
    let now = app.clock.now().unix();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"null".to_vec(),
        b"{\"type\":\"reservation.paid\",\"data\":{}}".to_vec(),
        deep.into_bytes(),
        "{\"type\":\"reservation.paid\",\"data\":{\"id\":\"\u{0}\"}}".as_bytes().to_vec(),
        br#"{"type":"reservation.paid","data":{"id":"R","status":"paid","resources":["101"],"check_in":99999999999999999,"check_out":1,"version":18446744073709551615}}"#.to_vec(),
    ];
    for (i, body) in bodies.into_iter().enumerate() {
        let reply = app
            .request(signed(
                &app,
                &format!("h{i}"),
                now,
                body,
                "application/json",
            ))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "body {i}: {:?}",
            reply.body
        );
        assert_eq!(reply.content_type, "application/problem+json");
    }
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
}
