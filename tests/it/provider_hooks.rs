//! Lock-provider webhooks through the router (`POST /v1/provider-hooks/{account}`): Nuki's
//! HMAC-signed JSON, Seam's Svix-signed JSON and TTLock's unsigned form on a secret path.
//! A verified status/battery/log event syncs that lock now (the simulator stands in for
//! the vendor's cloud, since the sync goes through the `Provider` trait), a "code is on the
//! lock" event brings the code's queued confirmation forward; bad signatures, stale Svix
//! timestamps, wrong tokens and malformed bodies are refused.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use latchkey_engine::clock::{Clock, SimClock};
use latchkey_engine::{Timestamp, Window};
use latchkey_providers::Provider;
use latchkey_providers::simulator::{SimProfile, Simulator};
use latchkey_service::catalog::{CatalogFile, ProviderHookEntry, ProviderHookKind};
use latchkey_sources::signature;
use serde_json::{Value, json};

use crate::harness::{TestApp, at, reply_of, stay_in_102};

const NUKI_SECRET: &str = "a41f0e9c2b7d4e18c06f3b95d2e7a1c4f8b09e3d";
const SEAM_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TTLOCK_TOKEN: &str = "tt-7c1e94b0d25f4a8e9b3c60d1f8a2e57b";

/// Vendor device ids, one lock each: room-101 on Nuki, room-102 on Seam (slow, so its
/// codes wait for confirmation), room-201 on TTLock.
const NUKI_LOCK: &str = "17001";
const SEAM_LOCK: &str = "8d2f0c1e-0000-4000-8000-00000000a001";
const TTLOCK_LOCK: &str = "3310452";

struct Hooks {
    app: TestApp,
    vendor: Simulator,
}

async fn spawn() -> Hooks {
    let clock = SimClock::new(at("2026-11-22T10:00:00Z"));
    let vendor = Simulator::new(Arc::new(clock.clone()), 9);
    vendor.add_lock(NUKI_LOCK, SimProfile::Online);
    vendor.add_lock(SEAM_LOCK, SimProfile::Slow);
    vendor.add_lock(TTLOCK_LOCK, SimProfile::Online);
    let edit = |file: &mut CatalogFile| {
        for (lock, account, device) in [
            ("room-101", "nuki", NUKI_LOCK),
            ("room-102", "seam", SEAM_LOCK),
            ("room-201", "ttlock", TTLOCK_LOCK),
        ] {
            let entry = file
                .locks
                .iter_mut()
                .find(|l| l.id.as_str() == lock)
                .expect("example lock");
            entry.provider = Some(account.into());
            entry.device = Some(device.into());
            entry.simulator = None;
            entry.max_codes = None;
        }
        for (account, kind, secret) in [
            ("nuki", ProviderHookKind::Nuki, NUKI_SECRET),
            ("seam", ProviderHookKind::Seam, SEAM_SECRET),
            ("ttlock", ProviderHookKind::Ttlock, TTLOCK_TOKEN),
        ] {
            file.provider_hooks.push(ProviderHookEntry {
                account: account.into(),
                kind,
                secret: secret.into(),
            });
        }
    };
    let as_provider = |s: &Simulator| -> Arc<dyn Provider> { Arc::new(s.clone()) };
    let more = vec![
        ("nuki", as_provider(&vendor)),
        ("seam", as_provider(&vendor)),
        ("ttlock", as_provider(&vendor)),
    ];
    let app = TestApp::spawn_with(clock, None, edit, more).await;
    Hooks { app, vendor }
}

/// A raw answer: status, content type, body text.
#[derive(Debug)]
struct Raw {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    fn assert_problem(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.content_type, "application/problem+json",
            "{}",
            self.text
        );
        assert_eq!(self.json()["status"], status.as_u16(), "{}", self.text);
    }
}

async fn post(
    app: &TestApp,
    path: &str,
    content_type: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Raw {
    let mut request = Request::post(path).header("content-type", content_type);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let reply = reply_of(
        &app.router,
        request.body(Body::from(body.to_vec())).expect("request"),
    )
    .await;
    Raw {
        status: reply.status,
        content_type: reply.content_type,
        text: reply.text,
    }
}

async fn nuki(app: &TestApp, secret: &str, body: &[u8]) -> Raw {
    let sig = signature::hmac_sha256_hex(secret, body).expect("hmac");
    post(
        app,
        "/v1/provider-hooks/nuki",
        "application/json",
        &[("X-Nuki-Signature-SHA256", sig)],
        body,
    )
    .await
}

async fn seam_at(app: &TestApp, id: &str, signed_at: Timestamp, body: &[u8]) -> Raw {
    let sig = signature::sign(SEAM_SECRET, id, signed_at, body).expect("sign");
    post(
        app,
        "/v1/provider-hooks/seam",
        "application/json",
        &[
            ("svix-id", id.to_owned()),
            ("svix-timestamp", signed_at.unix().to_string()),
            ("svix-signature", sig),
        ],
        body,
    )
    .await
}

async fn ttlock(app: &TestApp, token: &str, form: &str) -> Raw {
    post(
        app,
        &format!("/v1/provider-hooks/ttlock/{token}"),
        "application/x-www-form-urlencoded",
        &[],
        form.as_bytes(),
    )
    .await
}

/// The lock's stored status in `GET /v1/locks` (`null` before its first sync).
async fn status_of(app: &TestApp, lock: &str) -> Value {
    let reply = app.get("/v1/locks").await;
    reply.body["locks"]
        .as_array()
        .expect("locks")
        .iter()
        .find(|l| l["id"] == lock)
        .map(|l| l["status"].clone())
        .unwrap_or(Value::Null)
}

/// Waits (real time, up to 5 s) for the background sync to store a status matching `done`.
async fn wait_for_status(app: &TestApp, lock: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..250 {
        let status = status_of(app, lock).await;
        if done(&status) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "lock {lock} never reached the expected status: {}",
        status_of(app, lock).await
    );
}

/// Gives a wrongly started background sync time to show up.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_signed_nuki_device_status_syncs_that_lock_now() {
    let h = spawn().await;
    h.vendor.set_battery(NUKI_LOCK, 20);
    let body = json!({
        "feature": "DEVICE_STATUS",
        "smartlockId": 17001,
        "state": {"mode": 2, "state": 1, "batteryCritical": false, "batteryCharge": 20},
        "serverState": 0
    })
    .to_string();
    let reply = nuki(&h.app, NUKI_SECRET, body.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["action"], "sync", "{}", reply.text);
    assert_eq!(reply.json()["locks"], json!(["room-101"]), "{}", reply.text);

    let status = wait_for_status(&h.app, "room-101", |s| !s.is_null()).await;
    assert_eq!(status["battery_percent"], 20, "{status}");
    assert_eq!(status["battery_level"], "low", "{status}");
    assert_eq!(status["online"], true, "{status}");
    assert!(
        status_of(&h.app, "room-102").await.is_null(),
        "only the lock the event is about is synced"
    );
}

#[tokio::test]
async fn a_wrong_or_missing_nuki_signature_is_refused_and_nothing_syncs() {
    let h = spawn().await;
    let body = br#"{"feature":"DEVICE_STATUS","smartlockId":17001}"#;

    let wrong = nuki(&h.app, "not-the-webhook-secret", body).await;
    wrong.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json()["code"], "unauthorized");

    let tampered_sig = signature::hmac_sha256_hex(NUKI_SECRET, body).expect("hmac");
    let tampered = post(
        &h.app,
        "/v1/provider-hooks/nuki",
        "application/json",
        &[("X-Nuki-Signature-SHA256", tampered_sig)],
        br#"{"feature":"DEVICE_STATUS","smartlockId":17002}"#,
    )
    .await;
    tampered.assert_problem(StatusCode::UNAUTHORIZED);

    let missing = post(
        &h.app,
        "/v1/provider-hooks/nuki",
        "application/json",
        &[],
        body,
    )
    .await;
    missing.assert_problem(StatusCode::UNAUTHORIZED);
    assert!(
        missing.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("x-nuki-signature-sha256"),
        "{}",
        missing.text
    );

    settle().await;
    assert!(status_of(&h.app, "room-101").await.is_null());
}

fn svix_sign_by_hand(id: &str, ts: i64, body: &str) -> String {
    // The Svix scheme is Standard Webhooks' with `svix-*` header names: one crate signs
    // both, and the host's unit tests check it against Svix's published example.
    signature::sign(SEAM_SECRET, id, Timestamp(ts), body.as_bytes()).expect("sign")
}

#[tokio::test]
async fn a_svix_signed_seam_low_battery_syncs_and_stale_or_future_timestamps_are_refused() {
    let h = spawn().await;
    let now = h.app.clock.now();
    h.vendor.set_battery(SEAM_LOCK, 8);
    let body = json!({
        "event_id": "ev_1",
        "event_type": "device.low_battery",
        "device_id": SEAM_LOCK,
        "workspace_id": "ws_1",
        "battery_level": 0.08,
        "created_at": now.to_rfc3339(),
        "occurred_at": now.to_rfc3339()
    })
    .to_string();

    let stale = seam_at(&h.app, "msg_1", now.plus(-301), body.as_bytes()).await;
    stale.assert_problem(StatusCode::UNAUTHORIZED);
    assert!(stale.text.contains("svix-timestamp"), "{}", stale.text);
    let future = seam_at(&h.app, "msg_1", now.plus(301), body.as_bytes()).await;
    future.assert_problem(StatusCode::UNAUTHORIZED);
    let swapped_id = post(
        &h.app,
        "/v1/provider-hooks/seam",
        "application/json",
        &[
            ("svix-id", "msg_other".to_owned()),
            ("svix-timestamp", now.unix().to_string()),
            (
                "svix-signature",
                svix_sign_by_hand("msg_1", now.unix(), &body),
            ),
        ],
        body.as_bytes(),
    )
    .await;
    swapped_id.assert_problem(StatusCode::UNAUTHORIZED);
    settle().await;
    assert!(
        status_of(&h.app, "room-102").await.is_null(),
        "refused events sync nothing"
    );

    let ok = seam_at(&h.app, "msg_1", now.plus(-299), body.as_bytes()).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json()["locks"], json!(["room-102"]));
    let status = wait_for_status(&h.app, "room-102", |s| !s.is_null()).await;
    assert_eq!(status["battery_percent"], 8, "{status}");
    assert_eq!(status["battery_level"], "critical", "{status}");
}

#[tokio::test]
async fn seam_set_on_device_brings_the_pending_confirmation_forward() {
    let h = spawn().await;
    let now = h.app.clock.now();
    let stay = stay_in_102();
    assert_eq!(h.app.send(&stay).await.status, StatusCode::ACCEPTED);
    h.app.run_jobs().await;
    let (_, state) = h
        .app
        .code_on("R-2", "room-102")
        .await
        .expect("a code on room-102");
    assert_eq!(state, "pending", "the slow lock has not confirmed yet");
    let next = h
        .app
        .app
        .next_job_at()
        .await
        .expect("next job")
        .expect("a job");
    assert!(next > now, "the confirmation waits: {next:?}");

    let body = json!({
        "event_id": "ev_2",
        "event_type": "access_code.set_on_device",
        "device_id": SEAM_LOCK,
        "access_code_id": "ac_1"
    })
    .to_string();
    let reply = seam_at(&h.app, "msg_2", now, body.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["action"], "confirm", "{}", reply.text);
    assert_eq!(
        h.app.app.next_job_at().await.expect("next job"),
        Some(now),
        "the confirmation is due now"
    );

    // An event about another lock moves nothing.
    let h2 = spawn().await;
    h2.app.send(&stay).await;
    h2.app.run_jobs().await;
    let other =
        json!({"event_type": "access_code.set_on_device", "device_id": "elsewhere"}).to_string();
    let reply = seam_at(&h2.app, "msg_3", now, other.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    assert_eq!(reply.json()["action"], "ignored");
    let next = h2
        .app
        .app
        .next_job_at()
        .await
        .expect("next job")
        .expect("a job");
    assert!(next > now, "nothing brought forward: {next:?}");
}

#[tokio::test]
async fn a_ttlock_callback_on_the_secret_path_answers_success_and_syncs() {
    let h = spawn().await;
    let now = h.app.clock.now();
    h.vendor.add_outage(
        TTLOCK_LOCK,
        Window {
            starts_at: now,
            ends_at: now.plus(3600),
        },
    );
    let form = format!("notifyType=3&lockId={TTLOCK_LOCK}&isOnline=0");
    let reply = ttlock(&h.app, TTLOCK_TOKEN, &form).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text, "success", "TTLock needs the raw body `success`");
    let status = wait_for_status(&h.app, "room-201", |s| !s.is_null()).await;
    assert_eq!(status["online"], false, "{status}");
    assert_eq!(status["offline_since"], now.unix(), "{status}");

    // A gateway event names no lock: every lock of the account is synced.
    h.vendor.set_battery(TTLOCK_LOCK, 15);
    let reply = ttlock(&h.app, TTLOCK_TOKEN, "notifyType=2&gatewayId=77&isOnline=1").await;
    assert_eq!(reply.text, "success");
    wait_for_status(&h.app, "room-201", |s| s["battery_percent"] == 15).await;

    // An unknown lock or an unused notifyType is still acknowledged, so TTLock stops.
    let reply = ttlock(
        &h.app,
        TTLOCK_TOKEN,
        "notifyType=1&lockId=999&records=%5B%5D",
    )
    .await;
    assert_eq!(
        (reply.status, reply.text.as_str()),
        (StatusCode::OK, "success")
    );
    let reply = ttlock(&h.app, TTLOCK_TOKEN, "notifyType=7&lockId=3310452").await;
    assert_eq!(
        (reply.status, reply.text.as_str()),
        (StatusCode::OK, "success")
    );
}

#[tokio::test]
async fn a_wrong_or_missing_ttlock_token_is_an_unknown_route() {
    let h = spawn().await;
    let form = format!("notifyType=3&lockId={TTLOCK_LOCK}&isOnline=0");
    let almost = format!("{}x", &TTLOCK_TOKEN[..TTLOCK_TOKEN.len() - 1]);
    for path in [
        format!("/v1/provider-hooks/ttlock/{almost}"),
        "/v1/provider-hooks/ttlock/x".to_owned(),
        "/v1/provider-hooks/ttlock".to_owned(),
        format!("/v1/provider-hooks/nuki/{TTLOCK_TOKEN}"),
    ] {
        let reply = post(
            &h.app,
            &path,
            "application/x-www-form-urlencoded",
            &[],
            form.as_bytes(),
        )
        .await;
        reply.assert_problem(StatusCode::NOT_FOUND);
        assert_ne!(reply.text, "success");
    }
    settle().await;
    assert!(status_of(&h.app, "room-201").await.is_null());
}

#[tokio::test]
async fn malformed_bodies_are_422_with_a_pointer() {
    let h = spawn().await;
    let now = h.app.clock.now();

    let reply = nuki(&h.app, NUKI_SECRET, b"{not json").await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let reply = nuki(&h.app, NUKI_SECRET, br#"{"feature":"DEVICE_STATUS"}"#).await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["pointer"], "/smartlockId");

    let reply = seam_at(&h.app, "m1", now, br#"{"device_id":"x"}"#).await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["pointer"], "/event_type");
    let reply = seam_at(&h.app, "m2", now, b"[]").await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);

    let reply = ttlock(&h.app, TTLOCK_TOKEN, "lockId=3310452").await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["pointer"], "/notifyType");
    let reply = ttlock(&h.app, TTLOCK_TOKEN, "notifyType=1").await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["pointer"], "/lockId");

    // The media type is checked before anything is read.
    let reply = post(
        &h.app,
        &format!("/v1/provider-hooks/ttlock/{TTLOCK_TOKEN}"),
        "application/json",
        &[],
        b"{}",
    )
    .await;
    reply.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn unknown_accounts_are_404_and_unknown_devices_or_features_are_202_ignored() {
    let h = spawn().await;
    let reply = post(
        &h.app,
        "/v1/provider-hooks/august",
        "application/json",
        &[],
        b"{}",
    )
    .await;
    reply.assert_problem(StatusCode::NOT_FOUND);
    // A lock provider without a hook entry is not an endpoint either.
    let reply = post(
        &h.app,
        "/v1/provider-hooks/simulator",
        "application/json",
        &[],
        b"{}",
    )
    .await;
    reply.assert_problem(StatusCode::NOT_FOUND);

    let reply = nuki(
        &h.app,
        NUKI_SECRET,
        br#"{"feature":"DEVICE_STATUS","smartlockId":99999}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    assert_eq!(reply.json()["action"], "ignored");
    assert_eq!(reply.json()["locks"], json!([]));
    let reply = nuki(&h.app, NUKI_SECRET, br#"{"feature":"ACCOUNT_USER"}"#).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    settle().await;
    assert!(status_of(&h.app, "room-101").await.is_null());
}
