//! The admin API's roles, sessions, CSRF, audit log and rate limit, from the outside.
//!
//! The table below is written from the role list, apart from the code's
//! permission types: each route is tried with every role and without credentials.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use latchkey_engine::Role;
use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem, create_key};

/// Who may call a route (`A` admin, `D` desk, `P` partner, `F` platform).
struct Case {
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    allowed: &'static str,
}

fn case(method: &'static str, path: &'static str, allowed: &'static str) -> Case {
    Case {
        method,
        path,
        body: None,
        allowed,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case("GET", "/v1/workspace", "AD"),
        case("GET", "/v1/locks", "AD"),
        case("GET", "/v1/capacity", "AD"),
        case("POST", "/v1/locks/sync", "AD"),
        case("GET", "/v1/locks/room-101/activity", "AD"),
        case("GET", "/v1/locks/room-101/branch", "AD"),
        Case {
            body: Some(json!({ "branch": "main" })),
            ..case("PUT", "/v1/locks/room-101/branch", "A")
        },
        case("POST", "/v1/locks/no-such-lock/regenerate", "AD"),
        case("POST", "/v1/locks/no-such-lock/unlock", "AD"),
        case("GET", "/v1/codes?status=active", "AD"),
        case("GET", "/v1/reservations?q=R-", "ADF"),
        case("GET", "/v1/reservations/R-none", "ADF"),
        case("POST", "/v1/reservations/R-none/resend", "AD"),
        case("GET", "/v1/alerts", "AD"),
        case("POST", "/v1/alerts/999999/acknowledge", "AD"),
        case("GET", "/v1/jobs/dead", "AD"),
        case("POST", "/v1/jobs/999999/retry", "A"),
        case("GET", "/v1/keys", "A"),
        Case {
            body: Some(json!({ "name": "made-in-role-test", "role": "desk" })),
            ..case("POST", "/v1/keys", "A")
        },
        case("DELETE", "/v1/keys/999999", "A"),
        case("GET", "/v1/users", "A"),
        case("DELETE", "/v1/users/nobody", "A"),
        case("GET", "/v1/audit", "A"),
        case("GET", "/v1/accounts", "A"),
        case("GET", "/v1/staff-codes", "A"),
        case("DELETE", "/v1/staff-codes/nobody", "A"),
        case("GET", "/v1/plugins", "AP"),
        case("GET", "/v1/plugins/none", "AP"),
        case("DELETE", "/v1/plugins/none", "AP"),
        case("GET", "/v1/workspaces/demo/rule", "AP"),
        case("DELETE", "/v1/workspaces/demo/rule", "A"),
        case("GET", "/v1/rules", "A"),
        Case {
            body: Some(json!({ "source": "fn plan(input) { #{ grants: [] } }" })),
            ..case("POST", "/v1/rules/validate", "A")
        },
        case("POST", "/v1/rules/999999/activate", "A"),
        case("GET", "/v1/sources", "A"),
        case("POST", "/v1/sources/no-such-source/rotate", "A"),
    ]
}

fn request(case: &Case, bearer: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(case.method).uri(case.path);
    if let Some(key) = bearer {
        builder = builder.header("authorization", format!("Bearer {key}"));
    }
    match &case.body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    }
    .expect("request")
}

#[tokio::test]
async fn each_role_is_refused_what_it_may_not_do_and_allowed_the_rest() {
    let app = TestApp::spawn("2026-11-20T12:00:00Z").await;
    let mut keys = Vec::new();
    for (letter, role) in [
        ('A', Role::Admin),
        ('D', Role::Desk),
        ('P', Role::Partner),
        ('F', Role::Platform),
    ] {
        keys.push((
            letter,
            role,
            create_key(&app.app, role.as_str(), role).await,
        ));
    }
    for case in cases() {
        let anonymous = app.request_raw(request(&case, None)).await;
        assert_problem(&anonymous, StatusCode::UNAUTHORIZED, "");
        for (letter, role, key) in &keys {
            let reply = app.request_raw(request(&case, Some(key))).await;
            let what = format!("{} {} as {role}", case.method, case.path);
            if case.allowed.contains(*letter) {
                assert!(
                    reply.status != StatusCode::FORBIDDEN
                        && reply.status != StatusCode::UNAUTHORIZED,
                    "{what} was refused: {} {}",
                    reply.status,
                    reply.text
                );
            } else {
                assert_eq!(
                    reply.status,
                    StatusCode::FORBIDDEN,
                    "{what}: {}",
                    reply.text
                );
                assert_eq!(reply.body["code"], "forbidden", "{what}");
                assert_eq!(reply.content_type, "application/problem+json", "{what}");
            }
        }
    }
}

#[tokio::test]
async fn webhooks_health_and_the_api_document_need_no_key() {
    let app = TestApp::spawn("2026-11-20T12:00:00Z").await;
    let doc = app
        .request_raw(
            Request::get("/v1/openapi.json")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], "3.1.0");
    // Every authenticated operation says how it refuses; the webhooks are not among them.
    let locks = &doc.body["paths"]["/v1/locks"]["get"];
    for status in ["401", "403", "429"] {
        assert!(
            locks["responses"][status].is_object(),
            "GET /v1/locks documents {status}"
        );
    }
    assert!(locks["security"].is_array());
    assert!(doc.body["paths"]["/v1/codes"]["get"]["responses"]["400"].is_object());
    let hook = &doc.body["paths"]["/v1/hooks/{source}"]["post"];
    assert!(hook.is_null() || hook["security"].is_null());
    let health = app
        .request_raw(
            Request::get("/healthz")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(health.status, StatusCode::OK);
    // A signed webhook is authenticated by its signature alone.
    let sent = app.send(&crate::harness::paid_stay()).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.text);
}

#[tokio::test]
async fn unknown_malformed_and_revoked_keys_are_refused() {
    let app = TestApp::spawn("2026-11-20T12:00:00Z").await;
    let get = |auth: &str| {
        Request::get("/v1/locks")
            .header("authorization", auth)
            .body(Body::empty())
            .expect("request")
    };
    let unknown = app.request_raw(get("Bearer lk_not-a-key")).await;
    assert_problem(&unknown, StatusCode::UNAUTHORIZED, "unknown or revoked");
    let basic = app.request_raw(get("Basic YWRtaW46YWRtaW4=")).await;
    assert_problem(&basic, StatusCode::UNAUTHORIZED, "Bearer");

    let desk = create_key(&app.app, "desk-pc", Role::Desk).await;
    assert_eq!(
        app.request_raw(get(&format!("Bearer {desk}"))).await.status,
        StatusCode::OK
    );
    let listed = app.get("/v1/keys").await;
    let id = listed.body["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["name"] == "desk-pc")
        .expect("desk key listed")["id"]
        .as_i64()
        .expect("id");
    assert!(
        !listed.text.contains(&desk),
        "a key's secret must never be listed"
    );
    let revoked = app
        .request(
            Request::delete(format!("/v1/keys/{id}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    let after = app.request_raw(get(&format!("Bearer {desk}"))).await;
    assert_problem(&after, StatusCode::UNAUTHORIZED, "revoked");
}

/// Signs in with `body`; answers the cookie pair and the session.
async fn sign_in(app: &TestApp, body: Value) -> (StatusCode, Option<String>, Value) {
    let request = Request::post("/v1/session")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .expect("answer");
    let status = response.status();
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            assert!(
                v.contains("HttpOnly") && v.contains("SameSite=Strict"),
                "{v}"
            );
            v.split(';').next().unwrap_or_default().to_owned()
        });
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        cookie,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_password_session_needs_its_csrf_token_to_write_and_keeps_its_role() {
    let app = TestApp::spawn("2026-11-20T12:00:00Z").await;
    let made = app
        .request(
            Request::post("/v1/users")
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({ "username": "anna", "password": "front desk 2026!", "role": "desk" })
                        .to_string(),
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert!(!made.text.contains("front desk 2026!"));

    let (status, cookie, _) = sign_in(
        &app,
        json!({ "username": "anna", "password": "wrong password!!" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(cookie.is_none());
    let (status, _, _) = sign_in(
        &app,
        json!({ "username": "nobody", "password": "front desk 2026!" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, cookie, session) = sign_in(
        &app,
        json!({ "username": "anna", "password": "front desk 2026!" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let cookie = cookie.expect("a session cookie");
    assert_eq!(session["role"], "desk");
    assert_eq!(session["actor"], "user:anna");
    let csrf = session["csrf_token"]
        .as_str()
        .expect("csrf token")
        .to_owned();

    let with_cookie = |method: &str, path: &str, csrf: Option<&str>| {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("cookie", &cookie);
        if let Some(token) = csrf {
            builder = builder.header("x-csrf-token", token);
        }
        builder.body(Body::empty()).expect("request")
    };
    let read = app.request_raw(with_cookie("GET", "/v1/locks", None)).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    let again = app
        .request_raw(with_cookie("GET", "/v1/session", None))
        .await;
    assert_eq!(again.body["csrf_token"], csrf.as_str());

    let forged = app
        .request_raw(with_cookie("POST", "/v1/locks/sync", None))
        .await;
    assert_problem(&forged, StatusCode::FORBIDDEN, "CSRF");
    assert_eq!(forged.body["code"], "csrf");
    let wrong = app
        .request_raw(with_cookie("POST", "/v1/locks/sync", Some("not-the-token")))
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let synced = app
        .request_raw(with_cookie("POST", "/v1/locks/sync", Some(&csrf)))
        .await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.text);
    let refused = app.request_raw(with_cookie("GET", "/v1/keys", None)).await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "a desk session is still desk"
    );

    let out = app
        .request_raw(with_cookie("DELETE", "/v1/session", Some(&csrf)))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let gone = app.request_raw(with_cookie("GET", "/v1/locks", None)).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn every_write_is_audited_with_who_what_and_the_answer() {
    let app = TestApp::spawn("2026-11-20T12:00:00Z").await;
    let desk = create_key(&app.app, "lobby-tablet", Role::Desk).await;
    let sync = app
        .request(
            Request::post("/v1/locks/sync")
                .header("authorization", format!("Bearer {desk}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(sync.status, StatusCode::OK);
    let refused = app
        .request(
            Request::post("/v1/jobs/1/retry")
                .header("authorization", format!("Bearer {desk}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let _read = app.get("/v1/locks").await;

    let log = app.get("/v1/audit").await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    let entries = log.body["entries"].as_array().expect("entries");
    let summary: Vec<(String, String, String, i64)> = entries
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or_default().to_owned(),
                e["method"].as_str().unwrap_or_default().to_owned(),
                e["path"].as_str().unwrap_or_default().to_owned(),
                e["status"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "key:lobby-tablet".into(),
                "POST".into(),
                "/v1/jobs/1/retry".into(),
                403
            ),
            (
                "key:lobby-tablet".into(),
                "POST".into(),
                "/v1/locks/sync".into(),
                200
            ),
        ],
        "writes only (reads are not audited), newest first, refusals included"
    );
    assert!(entries.iter().all(|e| e["at"].as_i64().is_some()));
}

#[tokio::test]
async fn a_key_over_its_rate_is_told_when_to_come_back() {
    let app = TestApp::spawn("2026-11-20T12:00:00Z").await;
    let mut limited = None;
    // The default burst is 100 at 20/s: 300 requests in a row cannot all pass.
    for _ in 0..300 {
        let reply = app.get("/v1/workspace").await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(reply);
            break;
        }
        assert_eq!(reply.status, StatusCode::OK);
    }
    let reply = limited.expect("the rate limit answered 429");
    assert_eq!(reply.body["code"], "rate-limited");
    // Another key has its own budget.
    let other = create_key(&app.app, "other", Role::Desk).await;
    let fresh = app
        .request(
            Request::get("/v1/workspace")
                .header("authorization", format!("Bearer {other}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
}
