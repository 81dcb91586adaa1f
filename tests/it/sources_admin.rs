//! The sources API: a source created at run time takes signed webhooks like a file
//! source, its secret rotates with an overlap during which the old and the new secret
//! both verify, and no listing shows a secret.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use latchkey_engine::Timestamp;
use latchkey_engine::clock::Clock as _;
use serde_json::{Value, json};

use crate::harness::{DEMO_SECRET, Reply, TestApp, assert_invalid_at, assert_problem, event};
use crate::rules_admin::{admin, admin_get, admin_post};

const NOW: &str = "2026-11-22T10:00:00Z";
const IN: &str = "2026-11-23T15:00:00Z";
const OUT: &str = "2026-11-25T11:00:00Z";

/// Posts `body` to source `source`, signed now with `secret` as `webhook_id`.
async fn deliver(
    app: &TestApp,
    source: &str,
    secret: &str,
    webhook_id: &str,
    body: &Value,
) -> Reply {
    app.send_signed(source, secret, webhook_id, body).await
}

async fn create(app: &TestApp, name: &str) -> String {
    let reply = admin_post(app, "/v1/sources", &json!({ "name": name })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["name"], name);
    assert_eq!(reply.body["form"], "canonical");
    assert_eq!(reply.body["url"], format!("/v1/hooks/{name}"));
    let secret = reply.body["secret"].as_str().expect("a secret").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    secret
}

fn stay(id: &str, room: &str) -> Value {
    event("paid", id, "paid", room, IN, OUT, 1)
}

/// The source named `name` in `GET /v1/sources`.
async fn listed(app: &TestApp, name: &str) -> Value {
    let reply = admin_get(app, "/v1/sources").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .find(|s| s["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_created_source_takes_correctly_signed_webhooks_and_refuses_others() {
    let app = TestApp::spawn(NOW).await;
    let secret = create(&app, "partner-x").await;

    let reply = deliver(&app, "partner-x", &secret, "msg_1", &stay("X-1", "101")).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "stored");
    let again = deliver(&app, "partner-x", &secret, "msg_1", &stay("X-1", "101")).await;
    assert_eq!(again.body["status"], "duplicate");
    let forged = deliver(&app, "partner-x", DEMO_SECRET, "msg_2", &stay("X-2", "102")).await;
    assert_problem(&forged, StatusCode::UNAUTHORIZED, "signature");
    let unknown = deliver(&app, "partner-y", &secret, "msg_3", &stay("X-3", "102")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // The list: the file's sources without secrets, the API one with its secret's id and
    // prefix; no secret anywhere.
    let all = admin_get(&app, "/v1/sources").await;
    assert!(
        !all.text.contains(&secret[6..]),
        "no secret in {}",
        all.text
    );
    assert!(
        !all.text.contains(&DEMO_SECRET[6..]),
        "no file secret in {}",
        all.text
    );
    let demo = listed(&app, "demo").await;
    assert_eq!(demo["origin"], "property");
    assert_eq!(demo["url"], "/v1/hooks/demo");
    assert_eq!(demo["secrets"], json!([]));
    let api = listed(&app, "partner-x").await;
    assert_eq!(api["origin"], "api");
    assert_eq!(api["form"], "canonical");
    let secrets = api["secrets"].as_array().expect("secrets");
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0]["prefix"], secret[..12]);
    assert_eq!(secrets[0]["created_at"], app.clock.now().unix());
    assert!(secrets[0]["expires_at"].is_null());

    // Names: taken in the file or here (409), malformed (422).
    assert_problem(
        &admin_post(&app, "/v1/sources", &json!({ "name": "demo" })).await,
        StatusCode::CONFLICT,
        "demo",
    );
    assert_problem(
        &admin_post(&app, "/v1/sources", &json!({ "name": "partner-x" })).await,
        StatusCode::CONFLICT,
        "partner-x",
    );
    for bad in ["Partner", "", "a/b", "-x", &"x".repeat(65)] {
        assert_invalid_at(
            &admin_post(&app, "/v1/sources", &json!({ "name": bad })).await,
            "/name",
        );
    }
    assert_invalid_at(
        &admin_post(
            &app,
            "/v1/sources",
            &json!({ "name": "ok", "secret": "mine" }),
        )
        .await,
        "/secret",
    );

    // The source outlives a restart.
    let app = app.restart().await;
    let reply = deliver(&app, "partner-x", &secret, "msg_4", &stay("X-4", "201")).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
}

#[tokio::test]
async fn after_a_rotation_both_secrets_verify_until_the_overlap_ends() {
    let app = TestApp::spawn(NOW).await;
    let old = create(&app, "partner-x").await;

    let reply = admin_post(
        &app,
        "/v1/sources/partner-x/rotate",
        &json!({ "overlap_secs": 3600 }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let new = reply.body["secret"].as_str().expect("a secret").to_owned();
    assert!(new.starts_with("whsec_") && new != old);
    let ends = app.clock.now().unix() + 3600;
    assert_eq!(reply.body["previous_expires_at"], ends);

    let listed_secrets = listed(&app, "partner-x").await["secrets"].clone();
    assert_eq!(listed_secrets.as_array().map(Vec::len), Some(2));
    assert!(
        listed_secrets[0]["expires_at"].is_null(),
        "the new one first"
    );
    assert_eq!(listed_secrets[1]["expires_at"], ends);

    let mut n = 0;
    let mut send = async |secret: &str| {
        n += 1;
        let id = format!("msg_{n}");
        deliver(
            &app,
            "partner-x",
            secret,
            &id,
            &stay(&format!("X-{n}"), "101"),
        )
        .await
    };
    assert_eq!(
        send(&old).await.status,
        StatusCode::ACCEPTED,
        "old, in the overlap"
    );
    assert_eq!(
        send(&new).await.status,
        StatusCode::ACCEPTED,
        "new, in the overlap"
    );

    app.clock.advance_to(Timestamp(ends - 1));
    assert_eq!(
        send(&old).await.status,
        StatusCode::ACCEPTED,
        "old, last second"
    );
    app.clock.advance_to(Timestamp(ends));
    assert_problem(&send(&old).await, StatusCode::UNAUTHORIZED, "signature");
    assert_eq!(send(&new).await.status, StatusCode::ACCEPTED, "new, after");
    let listed_secrets = listed(&app, "partner-x").await["secrets"].clone();
    assert_eq!(listed_secrets.as_array().map(Vec::len), Some(1));

    // The default overlap is a day; without a body too.
    let reply = admin_post(&app, "/v1/sources/partner-x/rotate", &json!({})).await;
    assert_eq!(
        reply.body["previous_expires_at"],
        app.clock.now().unix() + 86_400
    );
    let request = Request::post("/v1/sources/partner-x/rotate")
        .body(Body::empty())
        .expect("request");
    let reply = app.request(admin(&app, request)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);

    // Bounds, file sources and unknown sources.
    assert_invalid_at(
        &admin_post(
            &app,
            "/v1/sources/partner-x/rotate",
            &json!({ "overlap_secs": 30 * 86_400 + 1 }),
        )
        .await,
        "/overlap_secs",
    );
    assert_invalid_at(
        &admin_post(
            &app,
            "/v1/sources/partner-x/rotate",
            &json!({ "overlap_secs": -1 }),
        )
        .await,
        "/overlap_secs",
    );
    assert_problem(
        &admin_post(&app, "/v1/sources/demo/rotate", &json!({})).await,
        StatusCode::CONFLICT,
        "property.toml",
    );
    assert_eq!(
        admin_post(&app, "/v1/sources/nope/rotate", &json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
