//! The plugin API: upload (validated, smoke-tested, immutable versions), activation with
//! re-planning, deletion rules, restoring after a restart from the compiled-code cache,
//! and a problem+json answer for every bad upload.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Reply, TestApp, paid_stay};

/// A property rule that gives no access, so activating the hotel plugin visibly changes
/// the plan.
const NO_ACCESS: &str = "fn plan(input) { #{ grants: [] } }";
const NOW: &str = "2026-11-22T10:00:00Z";

async fn put_plugin(app: &TestApp, name: &str, bytes: Vec<u8>) -> Reply {
    app.request(
        Request::put(format!("/v1/plugins/{name}"))
            .header("content-type", "application/wasm")
            .body(Body::from(bytes))
            .expect("request"),
    )
    .await
}

async fn send_json(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> Reply {
    let builder = Request::builder().method(method).uri(path);
    let request = match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    };
    app.request(request.expect("request")).await
}

fn hotel_plugin() -> Vec<u8> {
    std::fs::read(latchkey_tests::example_plugin()).expect("plugin built")
}

#[tokio::test]
async fn an_upload_is_stored_once_and_activation_replans_open_reservations() {
    let app = TestApp::spawn_with_rule(NOW, Some(NO_ACCESS)).await;
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    assert_eq!(
        app.code_on("R-1", "room-101").await,
        None,
        "the file rule gives no access"
    );

    let first = put_plugin(&app, "hotel", hotel_plugin()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(first.body["version"], 1);
    assert_eq!(first.body["created"], true);
    assert_eq!(first.body["sha256"].as_str().map(str::len), Some(64));
    let again = put_plugin(&app, "hotel", hotel_plugin()).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "the same bytes are the same version"
    );
    assert_eq!(
        (again.body["version"].clone(), again.body["created"].clone()),
        (json!(1), json!(false))
    );

    let listed = app.get("/v1/plugins").await;
    assert_eq!(listed.body["plugins"][0]["name"], "hotel");
    assert_eq!(
        listed.body["plugins"][0]["versions"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let active = send_json(
        &app,
        "PUT",
        "/v1/workspaces/demo/rule",
        Some(json!({"plugin": "hotel", "version": 1})),
    )
    .await;
    assert_eq!(active.status, StatusCode::OK, "{:?}", active.body);
    assert_eq!(active.body["kind"], "plugin");
    assert_eq!(active.body["sha256"], first.body["sha256"]);
    let shown = app.get("/v1/plugins/hotel/versions/1").await;
    assert_eq!(shown.body["active_in"], json!(["demo"]));

    app.run_jobs().await;
    let (_, state) = app
        .code_on("R-1", "room-101")
        .await
        .expect("the plugin grants the room");
    assert_eq!(state, "active");

    let back = send_json(&app, "DELETE", "/v1/workspaces/demo/rule", None).await;
    assert_eq!(
        (back.status, back.body["kind"].clone()),
        (StatusCode::OK, json!("file"))
    );
    app.run_jobs().await;
    let (_, state) = app
        .code_on("R-1", "room-101")
        .await
        .expect("the code is on record");
    assert_eq!(state, "revoked", "the file rule again gives no access");
}

#[tokio::test]
async fn a_version_in_use_cannot_be_deleted() {
    let app = TestApp::spawn(NOW).await;
    assert_eq!(
        put_plugin(&app, "hotel", hotel_plugin()).await.status,
        StatusCode::CREATED
    );
    let activate = json!({"plugin": "hotel", "version": 1});
    let active = send_json(&app, "PUT", "/v1/workspaces/demo/rule", Some(activate)).await;
    assert_eq!(active.status, StatusCode::OK);

    for path in ["/v1/plugins/hotel/versions/1", "/v1/plugins/hotel"] {
        let refused = send_json(&app, "DELETE", path, None).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{path}");
        assert_eq!(refused.content_type, "application/problem+json");
        assert!(
            refused.body["detail"]
                .as_str()
                .unwrap_or("")
                .contains("workspace `demo`"),
            "{:?}",
            refused.body
        );
    }
    send_json(&app, "DELETE", "/v1/workspaces/demo/rule", None).await;
    let deleted = send_json(&app, "DELETE", "/v1/plugins/hotel/versions/1", None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/v1/plugins/hotel").await.status,
        StatusCode::NOT_FOUND
    );
    let gone = send_json(&app, "DELETE", "/v1/plugins/hotel/versions/1", None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_restart_restores_the_active_plugin_without_recompiling() {
    let app = TestApp::spawn_with_rule(NOW, Some(NO_ACCESS)).await;
    assert_eq!(
        put_plugin(&app, "hotel", hotel_plugin()).await.status,
        StatusCode::CREATED
    );
    let activate = json!({"plugin": "hotel", "version": 1});
    send_json(&app, "PUT", "/v1/workspaces/demo/rule", Some(activate)).await;

    let app = app.restart().await;
    let rule = app.get("/v1/workspaces/demo/rule").await;
    assert_eq!(
        (rule.body["kind"].clone(), rule.body["name"].clone()),
        (json!("plugin"), json!("hotel"))
    );
    let stats = app
        .app
        .planner
        .loader
        .wasm()
        .expect("runtime")
        .cache_stats()
        .expect("a cache is configured");
    assert_eq!(
        (stats.hits, stats.misses),
        (1, 0),
        "compiled code came from the disk cache"
    );

    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    assert!(
        app.code_on("R-1", "room-101").await.is_some(),
        "the restored plugin plans"
    );
}

#[tokio::test]
async fn each_bad_upload_gets_its_own_problem() {
    let app = TestApp::spawn(NOW).await;
    let escape = std::fs::read(latchkey_tests::escape_plugin()).expect("built");
    let hostile = std::fs::read(latchkey_tests::hostile_plugin()).expect("built");
    let wrong_world = wat::parse_str(
        r#"(component
        (core module $m (func (export "f") (param i32) (result i32) local.get 0))
        (core instance $i (instantiate $m))
        (func (export "plan") (param "x" u32) (result u32) (canon lift (core func $i "f"))))"#,
    )
    .expect("valid text");
    let core_module = wat::parse_str("(module)").expect("valid text");
    let cases: [(&str, Vec<u8>, StatusCode, &str, &str); 6] = [
        (
            "text",
            b"(component)".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not-a-component",
            "not a WebAssembly binary",
        ),
        (
            "garbage",
            b"\0asm, or not".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not-a-component",
            "not a valid WebAssembly component",
        ),
        (
            "core-module",
            core_module,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not-a-component",
            "not a valid WebAssembly component",
        ),
        (
            "escape",
            escape,
            StatusCode::UNPROCESSABLE_ENTITY,
            "forbidden-import",
            "wasi:filesystem/",
        ),
        (
            "wrong-world",
            wrong_world,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong-world",
            "latchkey:rules/rule",
        ),
        (
            "hostile",
            hostile,
            StatusCode::UNPROCESSABLE_ENTITY,
            "smoke-test-failed",
            "exceeded its limit on",
        ),
    ];
    for (name, bytes, status, code, says) in cases {
        let reply = put_plugin(&app, name, bytes).await;
        assert_eq!(reply.status, status, "{name}: {:?}", reply.body);
        assert_eq!(reply.content_type, "application/problem+json", "{name}");
        assert_eq!(reply.body["code"], code, "{name}: {:?}", reply.body);
        assert!(
            reply.body["detail"].as_str().unwrap_or("").contains(says),
            "{name}: {:?}",
            reply.body
        );
        assert_eq!(reply.body["instance"], format!("/v1/plugins/{name}"));
    }
    let escape = put_plugin(
        &app,
        "escape",
        std::fs::read(latchkey_tests::escape_plugin()).expect("built"),
    )
    .await;
    assert!(
        escape.body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("wasi:sockets/"),
        "{:?}",
        escape.body
    );

    let too_large = app
        .request(
            Request::put("/v1/plugins/big")
                .header("content-type", "application/wasm")
                .header("content-length", (10 * 1024 * 1024 + 1).to_string())
                .body(Body::from(vec![0u8; 10 * 1024 * 1024 + 1]))
                .expect("request"),
        )
        .await;
    assert_eq!(
        (too_large.status, too_large.body["code"].clone()),
        (StatusCode::PAYLOAD_TOO_LARGE, json!("payload-too-large"))
    );

    let as_json = send_json(&app, "PUT", "/v1/plugins/hotel", Some(json!({}))).await;
    assert_eq!(as_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let bad_name = put_plugin(&app, "Hotel_Plugin", hotel_plugin()).await;
    assert_eq!(
        (bad_name.status, bad_name.body["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid-name"))
    );

    // Nothing refused was stored.
    assert_eq!(app.get("/v1/plugins").await.body["plugins"], json!([]));

    let unknown = send_json(
        &app,
        "PUT",
        "/v1/workspaces/demo/rule",
        Some(json!({"plugin": "hotel", "version": 1})),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = send_json(
        &app,
        "PUT",
        "/v1/workspaces/demo/rule",
        Some(json!({"plugin": "hotel", "version": "one"})),
    )
    .await;
    assert_eq!(
        (malformed.status, malformed.body["pointer"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("/version"))
    );
    let elsewhere = app.get("/v1/workspaces/elsewhere/rule").await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
}
