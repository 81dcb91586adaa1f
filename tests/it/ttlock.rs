//! The TTLock client against the TTLock contract fake over loopback: the life of a
//! passcode as the lock sees it (custom codes through a gateway, random hourly codes on a
//! lock without one), TTLock's own rules, tokens, every injected fault, status, battery,
//! the activity log and remote unlock.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use latchkey_engine::clock::{Clock, SimClock};
use latchkey_engine::{Connectivity, Pin, Timestamp, Window, WindowPrecision};
use latchkey_providers::http::HttpSettings;
use latchkey_providers::segment::HeldCodes;
use latchkey_providers::simulator::Tamper;
use latchkey_providers::ttlock::{TtLock, password_md5};
use latchkey_providers::{
    AccessMethod, BatteryLevel, CodeRequest, LockAction, Provider, ProviderError, ReceiptStatus,
};
use latchkey_sim::clouds::serve_loopback;
use latchkey_sim::clouds::ttlock::{self, FakeAccount, FakeLock, TtLockFake};
use serde_json::Value;
use tower::ServiceExt;

use crate::harness::{assert_listed, at};

const GATEWAY_LOCK: i64 = 4_200_001;
const BARE_LOCK: i64 = 4_200_002;

struct Cloud {
    fake: TtLockFake,
    clock: SimClock,
    base_url: String,
    account: FakeAccount,
}

fn account() -> FakeAccount {
    FakeAccount {
        client_id: "latchkey-test-client".into(),
        client_secret: "client-secret".into(),
        username: "hotel-owner".into(),
        password: "app-password".into(),
    }
}

async fn cloud() -> Cloud {
    cloud_with(|_| {}).await
}

/// An account with a gateway lock and a bare one; `prepare` runs before the first client
/// signs in (to shorten token lifetimes).
async fn cloud_with(prepare: impl FnOnce(&TtLockFake)) -> Cloud {
    let clock = SimClock::new(at("2026-11-22T10:00:00Z"));
    let lock = |lock_id, has_gateway| FakeLock {
        lock_id,
        alias: format!("Door {lock_id}"),
        has_gateway,
        battery_percent: 80,
        remote_unlock: true,
    };
    let fake = TtLockFake::new(
        account(),
        vec![lock(GATEWAY_LOCK, true), lock(BARE_LOCK, false)],
        Arc::new(clock.clone()),
    );
    prepare(&fake);
    let base_url = serve_loopback(fake.router()).await.expect("bind loopback");
    Cloud {
        fake,
        clock,
        base_url,
        account: account(),
    }
}

fn settings(base_url: &str, timeout: Duration) -> HttpSettings {
    HttpSettings {
        base_url: base_url.to_owned(),
        timeout,
        requests_per_second: NonZeroU32::new(500),
    }
}

async fn client(cloud: &Cloud) -> TtLock {
    client_with(cloud, Duration::from_secs(5)).await
}

async fn client_with(cloud: &Cloud, timeout: Duration) -> TtLock {
    TtLock::connect_with_clock(
        &settings(&cloud.base_url, timeout),
        cloud.account.credentials(),
        Arc::new(cloud.clock.clone()),
    )
    .await
    .expect("the account answers")
}

fn request(marker: &str, pin: Option<&str>, from: Timestamp, secs: i64) -> CodeRequest {
    CodeRequest {
        marker: marker.into(),
        pin: pin.map(Pin::new),
        window: Window {
            starts_at: from,
            ends_at: from.plus(secs),
        },
    }
}

fn gateway() -> String {
    GATEWAY_LOCK.to_string()
}

fn bare() -> String {
    BARE_LOCK.to_string()
}

#[tokio::test]
async fn a_custom_passcode_reaches_the_lock_through_the_gateway_changes_and_goes() {
    let cloud = cloud().await;
    let ttlock = client(&cloud).await;
    let caps = ttlock.capabilities(&gateway()).expect("a listed lock");
    assert!(caps.custom_pin && caps.can_update && caps.can_revoke && caps.remote_unlock);
    assert_eq!(
        (caps.connectivity, caps.precision, caps.max_codes),
        (Connectivity::Online, WindowPrecision::Minute, 250)
    );
    assert!(ttlock.capabilities("999").is_none(), "not in the account");

    let now = cloud.clock.now();
    // A window off the minute is widened to whole minutes, as the lock keeps them.
    let stay = request("lk-1", Some("480613"), now.plus(3630), 48 * 3600);
    let receipt = ttlock
        .create_code(&gateway(), &stay)
        .await
        .expect("created");
    assert_eq!(
        receipt.status,
        ReceiptStatus::Active,
        "the gateway writes synchronously"
    );
    assert_eq!(receipt.window.starts_at, now.plus(3600));
    assert_eq!(receipt.window.ends_at, now.plus(3660 + 48 * 3600));
    let device = gateway();
    assert!(cloud.fake.opens(&device, "480613", now.plus(3600)));
    assert!(cloud.fake.opens(&device, "480613", now.plus(24 * 3600)));
    assert!(
        !cloud.fake.opens(&device, "480613", now.plus(3599)),
        "not before"
    );
    assert!(
        !cloud.fake.opens(&device, "480613", receipt.window.ends_at),
        "not after"
    );
    assert_eq!(
        ttlock.find_code(&device, "lk-1").await.expect("find"),
        Some(receipt.clone())
    );
    assert_eq!(
        ttlock
            .read_code(&device, &receipt.reference)
            .await
            .expect("read"),
        Some(receipt.clone())
    );

    let changed = ttlock
        .update_code(
            &device,
            &receipt.reference,
            &request("lk-1", Some("592604"), now.plus(3600), 72 * 3600),
        )
        .await
        .expect("changed through the gateway");
    assert_eq!(changed.reference, receipt.reference);
    assert_eq!(changed.status, ReceiptStatus::Active);
    let day_three = now.plus(60 * 3600);
    assert!(cloud.fake.opens(&device, "592604", day_three));
    assert!(
        !cloud.fake.opens(&device, "480613", now.plus(2 * 3600)),
        "the old PIN left the lock"
    );
    let read = ttlock
        .read_code(&device, &receipt.reference)
        .await
        .expect("read")
        .expect("listed");
    assert_eq!((read.pin.as_str(), read.window), ("592604", changed.window));

    ttlock
        .revoke_code(&device, &receipt.reference)
        .await
        .expect("revoked");
    assert!(
        !cloud.fake.opens(&device, "592604", day_three),
        "gone from the lock"
    );
    assert_eq!(
        ttlock
            .read_code(&device, &receipt.reference)
            .await
            .expect("read"),
        None
    );
    ttlock
        .revoke_code(&device, &receipt.reference)
        .await
        .expect("revoking a gone code succeeds");

    // The wire as TTLock documents it: forms, the common fields, gateway types.
    let recorded = cloud.fake.recorded();
    let v3: Vec<_> = recorded
        .iter()
        .filter(|r| r.path.starts_with("/v3/"))
        .collect();
    assert!(v3.len() >= 8, "{} v3 calls", v3.len());
    for r in &v3 {
        for field in ["clientId", "accessToken", "date"] {
            assert!(
                r.params.contains_key(field),
                "{} {} lacks {field}",
                r.method,
                r.path
            );
        }
        assert_eq!(r.params["accessToken"], "<redacted>");
        if r.method == "POST" {
            assert_eq!(
                r.content_type.as_deref(),
                Some("application/x-www-form-urlencoded"),
                "{}",
                r.path
            );
        }
    }
    let field = |path: &str, key: &str| -> Vec<String> {
        recorded
            .iter()
            .filter(|r| r.path == path)
            .filter_map(|r| r.params.get(key).cloned())
            .collect()
    };
    assert_eq!(field("/v3/keyboardPwd/add", "addType"), ["2"]);
    assert_eq!(field("/v3/keyboardPwd/add", "keyboardPwdType"), ["3"]);
    assert_eq!(field("/v3/keyboardPwd/change", "changeType"), ["2"]);
    assert_eq!(field("/v3/keyboardPwd/delete", "deleteType"), ["2", "2"]);
    assert_eq!(
        recorded
            .iter()
            .filter(|r| r.path == "/v3/keyboardPwd/delete")
            .map(|r| r.errcode)
            .collect::<Vec<_>>(),
        [0, -2009],
        "the second delete found nothing"
    );
}

#[tokio::test]
async fn passcodes_are_listed_as_the_lock_holds_them_after_changes_in_the_app() {
    let cloud = cloud().await;
    let ttlock = client(&cloud).await;
    let device = gateway();
    let now = cloud.clock.now();
    let ours = request("lk-1", Some("480613"), now.plus(3600), 48 * 3600);
    let deleted = request("lk-2", Some("581724"), now.plus(3600), 48 * 3600);
    let first = ttlock.create_code(&device, &ours).await.expect("created");
    let second = ttlock
        .create_code(&device, &deleted)
        .await
        .expect("created");

    let listed = ttlock.list_codes(&device).await.expect("listed");
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_listed(&listed, &first.reference, "lk-1", "480613", first.window);

    let id = |reference: &str| reference.parse::<i64>().expect("a keyboardPwdId");
    assert!(cloud.fake.tamper(id(&second.reference), Tamper::Delete));
    assert!(
        cloud
            .fake
            .tamper(id(&first.reference), Tamper::ChangePin(Pin::new("692835")))
    );
    let inside = now.plus(2 * 3600);
    assert!(!cloud.fake.opens(&device, "581724", inside));
    assert!(!cloud.fake.opens(&device, "480613", inside));
    assert!(cloud.fake.opens(&device, "692835", inside));
    let listed = ttlock.list_codes(&device).await.expect("listed");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].pin.as_ref().map(Pin::as_str), Some("692835"));
}

#[tokio::test]
async fn a_gateway_less_lock_computes_a_random_hourly_passcode() {
    let cloud = cloud().await;
    let ttlock = client(&cloud).await;
    let device = bare();
    let caps = ttlock.capabilities(&device).expect("listed");
    assert_eq!(caps.connectivity, Connectivity::Offline);
    assert_eq!(caps.precision, WindowPrecision::Hour);
    assert!(!caps.custom_pin && !caps.can_update && !caps.can_revoke && !caps.remote_unlock);

    let from = at("2026-11-23T14:30:00Z");
    let receipt = ttlock
        .create_code(&device, &request("lk-r1", None, from, 44 * 3600 + 60))
        .await
        .expect("generated");
    assert_eq!(receipt.status, ReceiptStatus::Active);
    assert_eq!(
        receipt.window,
        Window {
            starts_at: at("2026-11-23T14:00:00Z"),
            ends_at: at("2026-11-25T11:00:00Z"),
        },
        "rounded outward to whole hours"
    );
    let pin = receipt.pin.as_str().to_owned();
    assert!(
        (6..=9).contains(&pin.len()) && caps.pin.check(&pin).is_ok(),
        "{pin}"
    );
    assert!(
        cloud.fake.opens(&device, &pin, at("2026-11-23T14:00:00Z")),
        "the lock enforces the hour"
    );
    assert!(!cloud.fake.opens(&device, &pin, at("2026-11-25T11:00:00Z")));
    let sent = cloud
        .fake
        .recorded()
        .into_iter()
        .find(|r| r.path == "/v3/keyboardPwd/get")
        .expect("asked for a random code");
    assert_eq!(
        sent.params["startDate"], "1795442400000",
        "whole hours in ms"
    );
    assert_eq!(sent.params["keyboardPwdType"], "3");
    assert_eq!(
        ttlock
            .find_code(&device, "lk-r1")
            .await
            .expect("find")
            .map(|r| r.pin),
        Some(receipt.pin.clone())
    );

    for err in [
        ttlock
            .update_code(
                &device,
                &receipt.reference,
                &request("lk-r1", None, from, 3600),
            )
            .await
            .expect_err("cannot change"),
        ttlock
            .revoke_code(&device, &receipt.reference)
            .await
            .expect_err("cannot revoke"),
        ttlock
            .unlock(&device)
            .await
            .expect_err("cannot open remotely"),
    ] {
        assert!(matches!(err, ProviderError::Unsupported(_)), "{err:?}");
    }
    assert!(cloud.fake.opens(&device, &pin, at("2026-11-24T12:00:00Z")));

    // Typed within a day of its start, the code stays valid to the end.
    cloud.clock.advance_to(at("2026-11-23T15:10:00Z"));
    assert!(cloud.fake.enter_pin(&device, &pin));
    cloud.clock.advance_to(at("2026-11-25T10:00:00Z"));
    assert!(cloud.fake.enter_pin(&device, &pin));
}

#[tokio::test]
async fn a_random_passcode_first_typed_after_24_hours_is_suspended() {
    let cloud = cloud().await;
    let ttlock = client(&cloud).await;
    let device = bare();
    let from = at("2026-11-22T12:00:00Z");
    let receipt = ttlock
        .create_code(&device, &request("lk-r2", None, from, 72 * 3600))
        .await
        .expect("generated");
    let pin = receipt.pin.as_str().to_owned();
    let late = at("2026-11-23T13:00:00Z");
    assert!(cloud.fake.opens(&device, &pin, late), "held until typed");
    cloud.clock.advance_to(late);
    assert!(
        !cloud.fake.enter_pin(&device, &pin),
        "first typed 25 hours after its start"
    );
    assert!(
        !cloud.fake.opens(&device, &pin, at("2026-11-24T12:00:00Z")),
        "the lock suspended it"
    );
}

#[tokio::test]
async fn ttlocks_passcode_rules_are_enforced_and_mapped() {
    let cloud = cloud().await;
    let ttlock = client(&cloud).await;
    let device = gateway();
    let now = cloud.clock.now();

    let err = ttlock
        .create_code(&device, &request("lk-s", Some("123456"), now, 3600))
        .await
        .expect_err("sequential");
    assert!(
        matches!(err, ProviderError::Rejected(ref m) if m.contains("-2032")),
        "{err:?}"
    );
    let err = ttlock
        .create_code(&device, &request("lk-s", Some("777777"), now, 3600))
        .await
        .expect_err("repeated");
    assert!(
        matches!(err, ProviderError::Rejected(ref m) if m.contains("-2032")),
        "{err:?}"
    );
    let err = ttlock
        .create_code(&device, &request("lk-s", Some("48"), now, 3600))
        .await
        .expect_err("too short");
    assert!(
        matches!(err, ProviderError::Rejected(ref m) if m.contains("-3006")),
        "{err:?}"
    );
    ttlock
        .create_code(&device, &request("lk-a", Some("480613"), now, 3600))
        .await
        .expect("created");
    assert_eq!(
        ttlock
            .create_code(&device, &request("lk-b", Some("480613"), now, 3600))
            .await
            .expect_err("duplicate"),
        ProviderError::PinConflict
    );
    assert!(
        matches!(
            ttlock
                .revoke_code(&device, "not-an-id")
                .await
                .expect_err("no such reference"),
            ProviderError::NotFound(_)
        ),
        "a reference that is not a keyboardPwdId"
    );
    assert_eq!(
        ttlock.read_code(&device, "424242").await.expect("read"),
        None
    );

    // 250 custom codes fill the lock; the listing is paged (200 a page).
    for i in 1..250 {
        let pin = format!("{}", 300_000 + i * 37);
        ttlock
            .create_code(
                &device,
                &request(&format!("lk-f{i}"), Some(&pin), now, 3600),
            )
            .await
            .unwrap_or_else(|e| panic!("code {i}: {e:?}"));
    }
    let err = ttlock
        .create_code(&device, &request("lk-full", Some("948213"), now, 3600))
        .await
        .expect_err("full");
    assert!(
        matches!(err, ProviderError::Rejected(ref m) if m.contains("-3009")),
        "{err:?}"
    );
    assert!(
        ttlock
            .find_code(&device, "lk-a")
            .await
            .expect("find")
            .is_some(),
        "the oldest code is on the second page"
    );
    assert!(
        cloud
            .fake
            .recorded()
            .iter()
            .any(|r| r.path == "/v3/lock/listKeyboardPwd"
                && r.params.get("pageNo").map(String::as_str) == Some("2")),
        "paged"
    );
}

/// What the client never does, the fake still models: `addType` 1 (TTLock's default)
/// only records a code in the cloud, and a JSON body is refused.
#[tokio::test]
async fn a_passcode_only_recorded_in_the_cloud_never_opens_the_door() {
    let cloud = cloud().await;
    let router = cloud.fake.router();
    let now = cloud.clock.now();
    let account = account();
    let token_form = format!(
        "clientId={}&clientSecret={}&username={}&password={}",
        account.client_id,
        account.client_secret,
        account.username,
        password_md5(&account.password)
    );
    let token = post_form(&router, "/oauth2/token", token_form).await;
    let access = token["access_token"].as_str().expect("a token").to_owned();
    let form = format!(
        "clientId={}&accessToken={access}&date={}&lockId={GATEWAY_LOCK}&keyboardPwd=592604\
         &keyboardPwdName=lk-ble&keyboardPwdType=3&startDate={}&endDate={}",
        account.client_id,
        now.unix() * 1000,
        now.unix() * 1000,
        (now.unix() + 86_400) * 1000
    );
    let added = post_form(&router, "/v3/keyboardPwd/add", form).await;
    assert!(added["keyboardPwdId"].as_i64().is_some(), "{added}");
    assert!(
        !cloud.fake.opens(&gateway(), "592604", now.plus(60)),
        "addType 1 does not reach the lock"
    );
    let ttlock = client(&cloud).await;
    assert!(
        ttlock
            .find_code(&gateway(), "lk-ble")
            .await
            .expect("find")
            .is_some(),
        "but the cloud lists it"
    );

    let json = Request::post("/v3/keyboardPwd/add")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!(
            r#"{{"clientId":"{}","accessToken":"{access}"}}"#,
            account.client_id
        )))
        .expect("a request");
    let answer = body_json(router.clone().oneshot(json).await.expect("answered")).await;
    assert_eq!(answer["errcode"], -3, "{answer}");
}

async fn post_form(router: &axum::Router, path: &str, form: String) -> Value {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .expect("a request");
    body_json(router.clone().oneshot(request).await.expect("answered")).await
}

async fn body_json(response: axum::response::Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK, "TTLock answers 200");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("JSON")
}

#[tokio::test]
async fn injected_faults_become_retryable_errors() {
    let cloud = cloud().await;
    let ttlock = client(&cloud).await;
    let device = gateway();
    let now = cloud.clock.now();
    let stay = |marker: &str, pin: &str| request(marker, Some(pin), now, 24 * 3600);

    let faults = cloud.fake.faults();
    faults.fail_next(1, StatusCode::TOO_MANY_REQUESTS, Some(30));
    assert_eq!(
        ttlock.create_code(&device, &stay("lk-f1", "480613")).await,
        Err(ProviderError::RateLimited(30))
    );
    faults.fail_next(1, StatusCode::SERVICE_UNAVAILABLE, Some(7));
    assert_eq!(
        ttlock.lock_status(&device).await,
        Err(ProviderError::RateLimited(7))
    );
    faults.fail_next(1, StatusCode::INTERNAL_SERVER_ERROR, None);
    let err = ttlock.activity(&device, now).await.expect_err("500");
    assert!(matches!(err, ProviderError::Unavailable(_)), "{err:?}");

    // TTLock's own refusals, in a 200 body, before anything changed.
    cloud.fake.fail_next_errcode(1, 30006);
    assert_eq!(
        ttlock.create_code(&device, &stay("lk-f1", "480613")).await,
        Err(ProviderError::RateLimited(60)),
        "30006 has no Retry-After"
    );
    for (errcode, meaning) in [
        (-3003, "gateway busy"),
        (-3037, "lock busy"),
        (30007, "monthly quota"),
    ] {
        cloud.fake.fail_next_errcode(1, errcode);
        let err = ttlock
            .create_code(&device, &stay("lk-f1", "480613"))
            .await
            .expect_err(meaning);
        assert!(
            matches!(err, ProviderError::Unavailable(ref m) if m.contains(&errcode.to_string())),
            "{meaning}: {err:?}"
        );
    }
    assert_eq!(
        ttlock.find_code(&device, "lk-f1").await.expect("find"),
        None,
        "no refused call took effect"
    );
    assert!(!cloud.fake.opens(&device, "480613", now.plus(60)));

    // A slow answer within the timeout: the receipt still says the code is on the lock.
    faults.set_delay(Duration::from_millis(300));
    let slow = ttlock
        .create_code(&device, &stay("lk-f2", "592604"))
        .await
        .expect("slow but in time");
    assert_eq!(slow.status, ReceiptStatus::Active);
    faults.set_delay(Duration::ZERO);

    // An answer lost to the timeout after the change took effect: the marker finds it.
    let impatient = client_with(&cloud, Duration::from_millis(300)).await;
    faults.set_delay(Duration::from_millis(900));
    assert_eq!(
        impatient
            .create_code(&device, &stay("lk-f3", "613715"))
            .await,
        Err(ProviderError::Timeout)
    );
    faults.set_delay(Duration::ZERO);
    let found = ttlock
        .find_code(&device, "lk-f3")
        .await
        .expect("find")
        .expect("the lost call took effect");
    assert_eq!(found.pin.as_str(), "613715");
    assert!(cloud.fake.opens(&device, "613715", now.plus(60)));
}

#[tokio::test]
async fn refused_credentials_and_a_skewed_clock_are_account_problems() {
    let cloud = cloud().await;
    let mut wrong = cloud.account.credentials();
    wrong.password = "not-the-password".into();
    let refused = TtLock::connect_with_clock(
        &settings(&cloud.base_url, Duration::from_secs(5)),
        wrong,
        Arc::new(cloud.clock.clone()),
    )
    .await;
    assert!(
        matches!(refused, Err(ProviderError::Unavailable(ref m)) if m.contains("10007")),
        "{refused:?}"
    );

    let skewed = SimClock::new(cloud.clock.now().plus(600));
    let refused = TtLock::connect_with_clock(
        &settings(&cloud.base_url, Duration::from_secs(5)),
        cloud.account.credentials(),
        Arc::new(skewed),
    )
    .await;
    assert!(
        matches!(refused, Err(ProviderError::Unavailable(ref m)) if m.contains("80000")),
        "{refused:?}"
    );
    let within = SimClock::new(cloud.clock.now().plus(240));
    TtLock::connect_with_clock(
        &settings(&cloud.base_url, Duration::from_secs(5)),
        cloud.account.credentials(),
        Arc::new(within),
    )
    .await
    .expect("four minutes off is tolerated");
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire_and_after_a_10004() {
    let cloud = cloud_with(|fake| fake.set_token_lifetime(4 * 3600)).await;
    let ttlock = client(&cloud).await;
    let device = gateway();
    let grants = |cloud: &Cloud| -> Vec<(String, i64)> {
        cloud
            .fake
            .recorded()
            .into_iter()
            .filter(|r| r.path == "/oauth2/token")
            .map(|r| {
                (
                    r.params
                        .get("grant_type")
                        .cloned()
                        .unwrap_or_else(|| "password".into()),
                    r.errcode,
                )
            })
            .collect()
    };
    assert_eq!(grants(&cloud), [("password".to_owned(), 0)]);

    // Within an hour of expiry, the next call refreshes first: no call is refused.
    cloud.clock.advance_by(3 * 3600 + 60);
    ttlock.lock_status(&device).await.expect("status");
    assert_eq!(grants(&cloud)[1..], [("refresh_token".to_owned(), 0)]);
    let refusals = |cloud: &Cloud| {
        cloud
            .fake
            .recorded()
            .iter()
            .filter(|r| r.errcode == 10004)
            .count()
    };
    assert_eq!(refusals(&cloud), 0);

    // A token the cloud no longer honours: 10004, one refresh, the call made again.
    cloud.fake.expire_tokens();
    let receipt = ttlock
        .create_code(
            &device,
            &request("lk-t", Some("480613"), cloud.clock.now(), 3600),
        )
        .await
        .expect("created after refreshing");
    assert_eq!(refusals(&cloud), 1);
    assert_eq!(grants(&cloud).len(), 3);
    assert_eq!(
        ttlock
            .read_code(&device, &receipt.reference)
            .await
            .expect("read")
            .map(|r| r.reference),
        Some(receipt.reference)
    );
}

#[tokio::test]
async fn an_offline_gateway_changes_nothing_and_says_so() {
    let cloud = cloud().await;
    let ttlock = client(&cloud).await;
    let device = gateway();
    let now = cloud.clock.now();
    let kept = ttlock
        .create_code(&device, &request("lk-o1", Some("480613"), now, 24 * 3600))
        .await
        .expect("created while online");

    cloud.fake.set_online(&device, false);
    let status = ttlock.lock_status(&device).await.expect("status");
    assert!(!status.online);
    let err = ttlock
        .create_code(&device, &request("lk-o2", Some("592604"), now, 24 * 3600))
        .await
        .expect_err("gateway offline");
    assert!(
        matches!(err, ProviderError::Unavailable(ref m) if m.contains("-3002")),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(
        ttlock.find_code(&device, "lk-o2").await.expect("find"),
        None
    );
    let err = ttlock
        .revoke_code(&device, &kept.reference)
        .await
        .expect_err("gateway offline");
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        cloud.fake.opens(&device, "480613", now.plus(3600)),
        "still on the lock"
    );
    assert!(
        ttlock
            .unlock(&device)
            .await
            .expect_err("offline")
            .is_retryable()
    );

    cloud.clock.advance_by(600);
    cloud.fake.set_online(&device, true);
    assert!(ttlock.lock_status(&device).await.expect("status").online);
    ttlock
        .revoke_code(&device, &kept.reference)
        .await
        .expect("revoked once back");
    assert!(!cloud.fake.opens(&device, "480613", now.plus(3600)));
}

#[tokio::test]
async fn status_battery_activity_and_unlock_are_normalised() {
    let cloud = cloud().await;
    let ttlock = client(&cloud).await;
    let device = gateway();

    let locks = ttlock.list_locks().await.expect("listed");
    assert_eq!(
        locks
            .iter()
            .map(|l| (l.device.as_str(), l.name.as_str()))
            .collect::<Vec<_>>(),
        [("4200001", "Door 4200001"), ("4200002", "Door 4200002")]
    );
    for (percent, level) in [
        (80, BatteryLevel::Ok),
        (25, BatteryLevel::Low),
        (9, BatteryLevel::Critical),
    ] {
        cloud.fake.set_battery(&device, percent);
        let status = ttlock.lock_status(&device).await.expect("status");
        assert!(status.online);
        assert_eq!(
            (status.battery_percent, status.battery),
            (Some(percent), Some(level))
        );
    }
    let bare_status = ttlock.lock_status(&bare()).await.expect("status");
    assert!(!bare_status.online, "no gateway, never reachable");
    assert_eq!(bare_status.battery, Some(BatteryLevel::Ok));

    let start = cloud.clock.now();
    let receipt = ttlock
        .create_code(
            &device,
            &request("lk-act", Some("480613"), start, 24 * 3600),
        )
        .await
        .expect("created");
    cloud.clock.advance_by(600);
    assert!(cloud.fake.enter_pin(&device, "480613"));
    cloud.clock.advance_by(60);
    assert!(!cloud.fake.enter_pin(&device, "111000"));
    cloud.clock.advance_by(60);
    ttlock.unlock(&device).await.expect("opened remotely");

    let log = ttlock.activity(&device, start).await.expect("activity");
    assert_eq!(log.len(), 3, "{log:#?}");
    let typed = &log[0];
    assert_eq!(
        (typed.action, typed.method, typed.at),
        (LockAction::Unlock, AccessMethod::Keypad, start.plus(600))
    );
    assert_eq!(typed.code_name.as_deref(), Some("lk-act"));
    assert_eq!(typed.pin.as_ref().map(Pin::as_str), Some("480613"));
    assert_eq!(
        (log[1].action, log[1].method),
        (LockAction::Denied, AccessMethod::Keypad)
    );
    assert_eq!(log[1].code_name, None);
    assert_eq!(
        (log[2].action, log[2].method, log[2].actor.as_deref()),
        (
            LockAction::Unlock,
            AccessMethod::Remote,
            Some("hotel-owner")
        )
    );
    let later = ttlock
        .activity(&device, start.plus(601))
        .await
        .expect("activity");
    assert_eq!(later.len(), 2, "from `since` on");
    assert!(
        ttlock
            .activity(&bare(), start)
            .await
            .expect("activity")
            .is_empty()
    );
    assert_eq!(receipt.status, ReceiptStatus::Active);

    cloud.fake.set_remote_unlock(&device, false);
    assert!(matches!(
        ttlock.unlock(&device).await,
        Err(ProviderError::Unsupported(_))
    ));
}

#[tokio::test]
async fn the_replay_account_alternates_gateway_and_bare_locks() {
    let clock = SimClock::new(at("2026-11-22T10:00:00Z"));
    let (fake, ttlock) = ttlock::start(4, Arc::new(clock.clone()))
        .await
        .expect("started");
    let devices = fake.devices();
    assert_eq!(devices.len(), 4);
    let kinds: Vec<Connectivity> = devices
        .iter()
        .map(|d| ttlock.capabilities(d).expect("listed").connectivity)
        .collect();
    assert_eq!(
        kinds,
        [
            Connectivity::Online,
            Connectivity::Offline,
            Connectivity::Online,
            Connectivity::Offline
        ]
    );
    let now = clock.now();
    for (i, device) in devices.iter().enumerate() {
        let receipt = ttlock
            .create_code(
                device,
                &request(&format!("lk-{i}"), Some("480613"), now, 3 * 3600),
            )
            .await
            .expect("created");
        assert!(fake.opens(device, receipt.pin.as_str(), now.plus(3600)));
        assert_eq!(fake.history(device).len(), 1);
    }
}
