//! The rules API: validate with the error's line, upload (refused when it does not
//! compile), history, activation that changes what new webhooks plan and survives a
//! restart, and dry-runs that answer a plan and write nothing.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use latchkey_engine::clock::Clock as _;
use latchkey_store as store;
use serde_json::{Value, json};

use crate::harness::{Reply, TestApp, assert_invalid_at, assert_problem, event, paid_stay};

const NOW: &str = "2026-11-22T10:00:00Z";
const IN: &str = "2026-11-23T15:00:00Z";
const OUT: &str = "2026-11-25T11:00:00Z";

/// `request` as the test app's admin sends it.
pub fn admin(app: &TestApp, mut request: Request<Body>) -> Request<Body> {
    let bearer = format!("Bearer {}", crate::harness::admin_key(app));
    request
        .headers_mut()
        .insert("authorization", bearer.parse().expect("header value"));
    request
}

/// `GET path` as an admin.
pub async fn admin_get(app: &TestApp, path: &str) -> Reply {
    let request = Request::get(path).body(Body::empty()).expect("request");
    app.request(admin(app, request)).await
}

/// `POST path` with `body` as JSON, as an admin.
pub async fn admin_post(app: &TestApp, path: &str, body: &Value) -> Reply {
    let request = Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).expect("json")))
        .expect("request");
    app.request(admin(app, request)).await
}

/// The default rule.
fn default_rule() -> &'static str {
    include_str!("../../rules/default.rhai")
}

/// The default rule without the shared doors: the guest's room only.
fn room_only_rule() -> String {
    let rule = default_rule().replacen(
        "const SHARED_DOORS = true;",
        "const SHARED_DOORS = false;",
        1,
    );
    assert_ne!(rule, default_rule(), "the default rule has SHARED_DOORS");
    rule
}

async fn upload(app: &TestApp, source: &str) -> i64 {
    let reply = admin_post(app, "/v1/rules", &json!({ "source": source })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["created_by"], "key:test-admin");
    assert_eq!(reply.body["source"], source);
    reply.body["id"].as_i64().expect("an id")
}

#[tokio::test]
async fn validate_reports_a_syntax_error_with_its_line() {
    let app = TestApp::spawn(NOW).await;
    let broken =
        "fn plan(input) {\n    let grants = [];\n    let x = ;\n    #{ grants: grants }\n}";
    let reply = admin_post(&app, "/v1/rules/validate", &json!({ "source": broken })).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["valid"], false);
    let error = &reply.body["errors"][0];
    assert_eq!(error["line"], 3, "{error}");
    assert!(error["column"].as_u64().is_some_and(|c| c > 0), "{error}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));

    let reply = admin_post(
        &app,
        "/v1/rules/validate",
        &json!({ "source": default_rule() }),
    )
    .await;
    assert_eq!(reply.body, json!({ "valid": true, "errors": [] }));

    let no_plan = admin_post(
        &app,
        "/v1/rules/validate",
        &json!({ "source": "fn other(x) { x }" }),
    )
    .await;
    assert_eq!(no_plan.body["valid"], false);
    assert!(no_plan.body["errors"][0]["line"].is_null());

    // Not JSON: 415; not the schema: 422 at the field.
    let text = Request::post("/v1/rules/validate")
        .header("content-type", "text/plain")
        .body(Body::from(default_rule()))
        .expect("request");
    let reply = app.request(admin(&app, text)).await;
    assert_problem(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "application/json",
    );
    let reply = admin_post(&app, "/v1/rules/validate", &json!({ "source": 3 })).await;
    assert_invalid_at(&reply, "/source");

    // Without credentials: 401, before the body is looked at.
    let anonymous = Request::post("/v1/rules/validate")
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .expect("request");
    assert_eq!(
        app.request_raw(anonymous).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_upload_that_does_not_compile_is_refused_at_source_with_its_line() {
    let app = TestApp::spawn(NOW).await;
    let reply = admin_post(
        &app,
        "/v1/rules",
        &json!({ "source": "fn plan(input) {\n  #{ grants: [ }\n}" }),
    )
    .await;
    assert_invalid_at(&reply, "/source");
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "line 2, column");
    let listed = admin_get(&app, "/v1/rules").await;
    assert_eq!(listed.body["versions"], json!([]), "nothing stored");
}

#[tokio::test]
async fn an_activated_version_plans_new_webhooks_keeps_its_history_and_survives_a_restart() {
    let app = TestApp::spawn(NOW).await;
    let v1 = upload(&app, default_rule()).await;
    let v2 = upload(&app, &room_only_rule()).await;

    let rules = admin_get(&app, "/v1/rules").await;
    assert_eq!(rules.status, StatusCode::OK, "{:?}", rules.body);
    assert_eq!(rules.body["active"]["kind"], "file");
    assert!(rules.body["active"]["version"].is_null());
    let ids: Vec<i64> = rules.body["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["id"].as_i64())
        .collect();
    assert_eq!(ids, [v2, v1], "newest first");
    assert!(
        rules.body["versions"]
            .as_array()
            .expect("versions")
            .iter()
            .all(|v| v["valid"] == true && v["activated_at"].is_null())
    );
    let shown = admin_get(&app, &format!("/v1/rules/{v2}")).await;
    assert_eq!(shown.body["source"], room_only_rule());
    assert_problem(
        &admin_get(&app, "/v1/rules/999").await,
        StatusCode::NOT_FOUND,
        "999",
    );

    // The file's rule opens the shared doors too.
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    assert_eq!(
        app.locks_with_codes("R-1").await,
        ["main-entrance", "pool", "room-101"]
    );

    let activated = admin_post(&app, &format!("/v1/rules/{v2}/activate"), &json!({})).await;
    assert_eq!(activated.status, StatusCode::OK, "{:?}", activated.body);
    assert_eq!(activated.body["active"]["kind"], "rhai");
    assert_eq!(activated.body["active"]["version"], v2);
    assert_eq!(
        activated.body["active"]["activated_at"],
        app.clock.now().unix()
    );

    // An open reservation is re-planned; a new webhook plans with the version.
    app.run_jobs().await;
    assert_eq!(
        app.locks_with_codes("R-1").await,
        ["pool", "room-101"],
        "the pool gate is offline: its code cannot be revoked"
    );
    let second = event("paid", "R-2", "paid", "102", IN, OUT, 1);
    assert_eq!(app.send(&second).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    assert_eq!(app.locks_with_codes("R-2").await, ["room-102"]);

    let rules = admin_get(&app, "/v1/rules").await;
    let versions = rules.body["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2, "history keeps both");
    assert_eq!(versions[0]["active"], true);
    assert_eq!(versions[1]["active"], false);

    let app = app.restart().await;
    let rules = admin_get(&app, "/v1/rules").await;
    assert_eq!(rules.body["active"]["kind"], "rhai", "{:?}", rules.body);
    assert_eq!(rules.body["active"]["version"], v2);
    let third = event("paid", "R-3", "paid", "201", IN, OUT, 1);
    assert_eq!(app.send(&third).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    assert_eq!(app.locks_with_codes("R-3").await, ["room-201"]);

    // Back to the first version: shared doors again, for new and open reservations.
    let back = admin_post(&app, &format!("/v1/rules/{v1}/activate"), &json!({})).await;
    assert_eq!(back.body["active"]["version"], v1);
    app.run_jobs().await;
    assert_eq!(
        app.locks_with_codes("R-3").await,
        ["main-entrance", "pool", "room-201"]
    );
    assert_problem(
        &admin_post(&app, "/v1/rules/77/activate", &json!({})).await,
        StatusCode::NOT_FOUND,
        "77",
    );
}

/// Everything a dry-run could have written: the reservation's view (events, codes,
/// messages), the code totals, the next job, and the stored versions.
async fn snapshot(app: &TestApp) -> String {
    let view = admin_get(app, "/v1/reservations/R-1").await.body;
    let mut conn = app.app.pool.acquire().await.expect("connection");
    let ws = &app.app.catalog.workspace;
    let totals = store::codes::totals(&mut conn, ws).await.expect("totals");
    let versions = store::rule_versions::list(&mut conn, ws)
        .await
        .expect("versions");
    drop(conn);
    let next_job = app.app.next_job_at().await.expect("next job");
    format!("{view}|{totals:?}|{}|{next_job:?}", versions.len())
}

#[tokio::test]
async fn a_dry_run_answers_the_plan_for_a_stored_reservation_or_a_sample_and_writes_nothing() {
    let app = TestApp::spawn(NOW).await;
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    let version = upload(&app, &room_only_rule()).await;
    let before = snapshot(&app).await;

    // The active rule (the file's) on the stored reservation: what the reconciler plans.
    let reply = admin_post(&app, "/v1/rules/dry-run", &json!({ "reservation": "R-1" })).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let locks = |plan: &Value| -> Vec<String> {
        let mut locks: Vec<String> = plan["grants"]
            .as_array()
            .expect("grants")
            .iter()
            .filter_map(|g| g["lock"].as_str().map(str::to_owned))
            .collect();
        locks.sort();
        locks
    };
    assert_eq!(
        locks(&reply.body["plan"]),
        ["main-entrance", "pool", "room-101"]
    );
    let grant = &reply.body["plan"]["grants"][0];
    assert!(
        grant["starts_at"].is_i64() && grant["ends_at"].is_i64(),
        "{grant}"
    );
    assert!(reply.body["plan"]["notify"]["channels"].is_array());
    assert_eq!(reply.body["input"]["reservation"]["id"], "R-1");
    assert_eq!(reply.body["input"]["now"], app.clock.now().unix());
    let input = reply.body["input"].clone();

    // A source on the same reservation, and a stored version on the sample input.
    let reply = admin_post(
        &app,
        "/v1/rules/dry-run",
        &json!({ "source": room_only_rule(), "reservation": "R-1" }),
    )
    .await;
    assert_eq!(locks(&reply.body["plan"]), ["room-101"], "{:?}", reply.body);
    let mut sample = input.clone();
    sample["reservation"]["id"] = "SAMPLE-1".into();
    let reply = admin_post(
        &app,
        "/v1/rules/dry-run",
        &json!({ "version": version, "input": sample }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(locks(&reply.body["plan"]), ["room-101"]);
    assert_eq!(reply.body["input"]["reservation"]["id"], "SAMPLE-1");

    // The rule's own errors, and requests that name no input or an unknown one.
    let throws = "fn plan(input) { throw \"no map for \" + input.reservation.id; }";
    let reply = admin_post(
        &app,
        "/v1/rules/dry-run",
        &json!({ "source": throws, "reservation": "R-1" }),
    )
    .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "no map for R-1");
    let reply = admin_post(
        &app,
        "/v1/rules/dry-run",
        &json!({ "source": "fn plan(input) { loop {} }", "input": input }),
    )
    .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "limit");
    assert_invalid_at(
        &admin_post(
            &app,
            "/v1/rules/dry-run",
            &json!({ "source": default_rule() }),
        )
        .await,
        "",
    );
    assert_invalid_at(
        &admin_post(
            &app,
            "/v1/rules/dry-run",
            &json!({ "reservation": "R-1", "input": { "now": "soon" } }),
        )
        .await,
        "/input/now",
    );
    assert_problem(
        &admin_post(
            &app,
            "/v1/rules/dry-run",
            &json!({ "reservation": "R-404" }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "R-404",
    );

    assert_eq!(snapshot(&app).await, before, "a dry-run writes nothing");
}
