//! The igloohome client against the igloohome contract fake over loopback: algoPINs as
//! the lock computes them (and the 24-hour activation rule), custom PINs as bridge jobs,
//! igloohome's own limits, every injected fault, tokens, status and the activity log.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use latchkey_engine::clock::{Clock, SimClock};
use latchkey_engine::{Connectivity, Pin, Timestamp, Window, WindowPrecision};
use latchkey_providers::http::HttpSettings;
use latchkey_providers::igloohome::{Igloohome, IgloohomeCredentials};
use latchkey_providers::segment::HeldCodes;
use latchkey_providers::{
    AccessMethod, BatteryLevel, CodeRequest, LockAction, Provider, ProviderError, ReceiptStatus,
};
use latchkey_sim::clouds::igloohome::{self as fake, FakeLock, IgloohomeFake};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::harness::at;

const CLIENT_ID: &str = "igloo-app";
const CLIENT_SECRET: &str = "igloo-secret";
/// `base64("igloo-app:igloo-secret")`.
const BASIC: &str = "Basic aWdsb28tYXBwOmlnbG9vLXNlY3JldA==";
const BRIDGED: &str = "IGK3000001";
const BRIDGE: &str = "IGB4000001";
const ALGO: &str = "IGK3000002";
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

struct Cloud {
    fake: IgloohomeFake,
    clock: SimClock,
    url: String,
}

async fn cloud() -> Cloud {
    let clock = SimClock::new(at("2026-11-22T10:00:00Z"));
    let locks = vec![
        FakeLock {
            id: BRIDGED.into(),
            name: "Room 101".into(),
            bridge: Some(BRIDGE.into()),
            battery_percent: 80,
        },
        FakeLock {
            id: ALGO.into(),
            name: "Room 102".into(),
            bridge: None,
            battery_percent: 60,
        },
    ];
    let fake = IgloohomeFake::new(CLIENT_ID, CLIENT_SECRET, locks, Arc::new(clock.clone()));
    let url = latchkey_sim::clouds::serve_loopback(fake.router())
        .await
        .expect("loopback");
    Cloud { fake, clock, url }
}

async fn connect(
    cloud: &Cloud,
    timeout: Duration,
    secret: &str,
) -> Result<Igloohome, ProviderError> {
    let settings = HttpSettings {
        base_url: cloud.url.clone(),
        timeout,
        requests_per_second: None,
    };
    Igloohome::connect(
        &settings,
        &cloud.url,
        IgloohomeCredentials {
            client_id: CLIENT_ID.into(),
            client_secret: secret.into(),
        },
    )
    .await
}

async fn client(cloud: &Cloud) -> Igloohome {
    connect(cloud, Duration::from_secs(5), CLIENT_SECRET)
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

/// Calls the fake's router directly (to send what the client never would).
async fn raw(
    fake: &IgloohomeFake,
    method: &str,
    uri: &str,
    auth: &str,
    body: Value,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, auth)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("a request");
    let response = fake.router().oneshot(request).await.expect("an answer");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn raw_token(fake: &IgloohomeFake) -> String {
    let request = Request::builder()
        .method("POST")
        .uri("/oauth2/token")
        .header(header::AUTHORIZATION, BASIC)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("grant_type=client_credentials"))
        .expect("a request");
    let response = fake.router().oneshot(request).await.expect("an answer");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let v: Value = serde_json::from_slice(&bytes).expect("json");
    format!("Bearer {}", v["access_token"].as_str().expect("a token"))
}

#[tokio::test]
async fn an_algopin_opens_at_once_and_lapses_unless_used_on_its_first_day() {
    let cloud = cloud().await;
    let igloo = client(&cloud).await;
    let caps = igloo.capabilities(ALGO).expect("a lock");
    assert_eq!(caps.connectivity, Connectivity::Offline);
    assert!(!caps.custom_pin && !caps.can_revoke && !caps.can_update && !caps.remote_unlock);
    assert_eq!(caps.precision, WindowPrecision::Hour);
    assert!(
        igloo.capabilities(BRIDGE).is_none(),
        "a bridge is not a lock"
    );

    let now = cloud.clock.now();
    // 10:30 → two days later 12:10: rounded outward to 10:00 → 13:00.
    let stay = request("lk-1", None, now.plus(1800), 2 * DAY + 6000);
    let receipt = igloo.create_code(ALGO, &stay).await.expect("created");
    assert_eq!(
        receipt.status,
        ReceiptStatus::Active,
        "computed by the lock"
    );
    assert!(receipt.reference.starts_with("algopin:"));
    assert_eq!(receipt.window.starts_at, now);
    assert_eq!(receipt.window.ends_at, now.plus(2 * DAY + 3 * HOUR));
    let pin = receipt.pin.as_str().to_owned();
    assert_eq!(pin.len(), 9);
    assert!(cloud.fake.opens(ALGO, &pin, now.plus(HOUR)));
    assert!(!cloud.fake.opens(ALGO, &pin, now.plus(-1)));
    assert!(!cloud.fake.opens(ALGO, &pin, receipt.window.ends_at));
    assert_eq!(
        igloo
            .find_code(ALGO, "lk-1")
            .await
            .expect("find")
            .map(|r| r.reference),
        Some(receipt.reference.clone())
    );
    assert_eq!(
        igloo
            .read_code(ALGO, &receipt.reference)
            .await
            .expect("read"),
        Some(receipt.clone())
    );

    // Used on its first day: it keeps working afterwards.
    cloud.clock.advance_to(now.plus(2 * HOUR));
    assert!(cloud.fake.enter_pin(ALGO, &pin));
    cloud.clock.advance_to(now.plus(30 * HOUR));
    assert!(cloud.fake.enter_pin(ALGO, &pin), "activated on day one");

    // Another one, never used in its first 24 hours, never activates.
    let start = cloud.clock.now().plus(HOUR);
    let late = igloo
        .create_code(ALGO, &request("lk-2", None, start, 3 * DAY))
        .await
        .expect("created");
    cloud.clock.advance_to(start.plus(25 * HOUR));
    assert!(
        !cloud.fake.enter_pin(ALGO, late.pin.as_str()),
        "first used after 24 h"
    );
    assert!(
        !cloud
            .fake
            .opens(ALGO, late.pin.as_str(), start.plus(26 * HOUR))
    );
    assert!(
        cloud.fake.opens(ALGO, late.pin.as_str(), start.plus(HOUR)),
        "it did work on its first day"
    );

    assert!(matches!(
        igloo.revoke_code(ALGO, &receipt.reference).await,
        Err(ProviderError::Unsupported(_))
    ));
    assert!(
        cloud.fake.opens(ALGO, &pin, now.plus(40 * HOUR)),
        "still on the lock"
    );
    assert!(matches!(
        igloo.update_code(ALGO, &receipt.reference, &stay).await,
        Err(ProviderError::Unsupported(_))
    ));
    assert!(matches!(
        igloo.unlock(ALGO).await,
        Err(ProviderError::Unsupported(_))
    ));
    assert!(matches!(
        igloo.activity(ALGO, now).await,
        Err(ProviderError::Unsupported(_))
    ));
}

#[tokio::test]
async fn algopins_follow_igloohomes_slot_duration_and_date_rules() {
    let cloud = cloud().await;
    let igloo = client(&cloud).await;
    let from = cloud.clock.now().plus(DAY);

    let mut pins = Vec::new();
    for marker in ["lk-10", "lk-11", "lk-12"] {
        let r = igloo
            .create_code(ALGO, &request(marker, None, from, 2 * HOUR))
            .await
            .expect("one of three in the slot");
        pins.push(r.pin);
    }
    pins.sort();
    pins.dedup();
    assert_eq!(pins.len(), 3, "three distinct PINs for one slot");
    let err = igloo
        .create_code(ALGO, &request("lk-13", None, from, 2 * HOUR))
        .await
        .expect_err("a fourth in the slot");
    assert!(
        matches!(err, ProviderError::Rejected(ref m) if m.contains("3 PINs")),
        "{err:?}"
    );

    // Beyond 672 hours the daily variant, its end on the start's time of day.
    let long = igloo
        .create_code(ALGO, &request("lk-14", None, from.plus(1800), 40 * DAY))
        .await
        .expect("daily");
    assert_eq!(long.window.starts_at, from);
    assert_eq!(long.window.ends_at, from.plus(41 * DAY));
    let err = igloo
        .create_code(ALGO, &request("lk-15", None, from, 368 * DAY))
        .await
        .expect_err("over 367 days");
    assert!(
        matches!(err, ProviderError::Rejected(ref m) if m.contains("367")),
        "{err:?}"
    );

    let bodies: Vec<(String, Value)> = cloud
        .fake
        .recorded()
        .into_iter()
        .filter(|r| r.route == "/igloohome/devices/{deviceId}/algopin/{type}")
        .map(|r| (r.path, r.body.expect("a JSON body")))
        .collect();
    assert_eq!(bodies.len(), 5, "the 368-day request never left the client");
    assert!(bodies[4].0.ends_with("/algopin/daily"));
    let variances: Vec<i64> = bodies[..4]
        .iter()
        .map(|(_, b)| b["variance"].as_i64().expect("variance"))
        .collect();
    assert_eq!(variances, vec![1, 2, 3, 1]);
    for (_, body) in &bodies {
        let mut keys: Vec<&str> = body
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["accessName", "endDate", "startDate", "variance"]);
        for date in ["startDate", "endDate"] {
            let text = body[date].as_str().expect("a date");
            assert!(
                text.ends_with(":00:00+00:00"),
                "hour-aligned with offset: {text}"
            );
        }
    }

    // What the client never sends, the cloud refuses in its own error format.
    let auth = raw_token(&cloud.fake).await;
    let uri = format!("/igloohome/devices/{ALGO}/algopin/hourly");
    let (status, body) = raw(
        &cloud.fake,
        "POST",
        &uri,
        &auth,
        json!({"variance": 1, "startDate": "2026-12-01T14:30:00+02:00",
               "endDate": "2026-12-01T18:00:00+02:00", "accessName": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (body["status"].as_str(), body["code"].as_str()),
        (Some("ERROR"), Some("422"))
    );
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("hour-aligned")
    );
    let (status, body) = raw(
        &cloud.fake,
        "POST",
        &format!("/igloohome/devices/{ALGO}/algopin/daily"),
        &auth,
        json!({"variance": 1, "startDate": "2026-12-01T14:00:00+02:00",
               "endDate": "2027-12-04T14:00:00+02:00", "accessName": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["message"], "Exceeded the limit of 367 days");
    let (status, _) = raw(
        &cloud.fake,
        "POST",
        &uri,
        &auth,
        json!({"variance": 1, "startDate": "2026-12-01T14:00:00+02:00",
               "endDate": "2027-01-01T14:00:00+02:00", "accessName": "x"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "hourly is at most 672 h"
    );
    let (status, _) = raw(
        &cloud.fake,
        "POST",
        &uri,
        "Bearer forged",
        json!({"variance": 1, "startDate": "2026-12-01T14:00:00+02:00",
               "endDate": "2026-12-01T16:00:00+02:00", "accessName": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_bridge_pin_is_a_job_that_reaches_the_lock_later_and_leaves_by_job() {
    let cloud = cloud().await;
    let igloo = client(&cloud).await;
    let caps = igloo.capabilities(BRIDGED).expect("a lock");
    assert_eq!(caps.connectivity, Connectivity::Online);
    assert!(caps.custom_pin && caps.can_revoke && caps.remote_unlock && !caps.can_update);
    assert_eq!(
        (caps.pin.min_len, caps.pin.max_len, caps.max_codes),
        (6, 8, 199)
    );

    let now = cloud.clock.now();
    let stay = request("lk-20", Some("2468013"), now.plus(1200), 26 * HOUR);
    let receipt = igloo.create_code(BRIDGED, &stay).await.expect("accepted");
    assert_eq!(receipt.status, ReceiptStatus::Pending, "a bridge job");
    assert!(receipt.reference.starts_with("job:"));
    assert_eq!(receipt.window.starts_at, now);
    assert_eq!(receipt.window.ends_at, now.plus(27 * HOUR));
    let inside = now.plus(2 * HOUR);
    assert!(
        !cloud.fake.opens(BRIDGED, "2468013", inside),
        "not yet on the lock"
    );
    assert_eq!(
        igloo
            .read_code(BRIDGED, &receipt.reference)
            .await
            .expect("read")
            .map(|r| r.status),
        Some(ReceiptStatus::Pending)
    );

    cloud.clock.advance_to(now.plus(10));
    let confirmed = igloo
        .read_code(BRIDGED, &receipt.reference)
        .await
        .expect("read")
        .expect("on the lock");
    assert_eq!(confirmed.status, ReceiptStatus::Active);
    assert_eq!(confirmed.pin.as_str(), "2468013");
    assert!(cloud.fake.opens(BRIDGED, "2468013", inside));
    assert!(
        !cloud.fake.opens(BRIDGED, "2468013", now.plus(3)),
        "not before the job ran"
    );
    assert!(!cloud.fake.opens(BRIDGED, "2468013", now.plus(27 * HOUR)));
    assert_eq!(
        igloo
            .find_code(BRIDGED, "lk-20")
            .await
            .expect("find")
            .map(|r| r.reference),
        Some(receipt.reference.clone())
    );

    assert_eq!(
        igloo
            .create_code(BRIDGED, &request("lk-21", Some("2468013"), now, 3 * HOUR))
            .await,
        Err(ProviderError::PinConflict)
    );
    assert!(matches!(
        igloo
            .create_code(BRIDGED, &request("lk-22", Some("12345"), now, 3 * HOUR))
            .await,
        Err(ProviderError::Rejected(_))
    ));
    assert!(matches!(
        igloo
            .create_code(BRIDGED, &request("lk-23", None, now, 3 * HOUR))
            .await,
        Err(ProviderError::Rejected(_))
    ));

    let err = igloo
        .revoke_code(BRIDGED, &receipt.reference)
        .await
        .expect_err("the deletion waits for the bridge");
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        cloud.fake.opens(BRIDGED, "2468013", now.plus(20)),
        "still there until the job runs"
    );
    cloud.clock.advance_to(now.plus(20));
    igloo
        .revoke_code(BRIDGED, &receipt.reference)
        .await
        .expect("the bridge confirmed the deletion");
    assert!(
        !cloud.fake.opens(BRIDGED, "2468013", inside),
        "gone from the lock"
    );
    assert!(
        cloud.fake.opens(BRIDGED, "2468013", now.plus(14)),
        "history keeps the past"
    );
    assert_eq!(
        igloo
            .read_code(BRIDGED, &receipt.reference)
            .await
            .expect("read"),
        None
    );
    igloo
        .revoke_code(BRIDGED, &receipt.reference)
        .await
        .expect("revoking a gone code succeeds");

    let jobs: Vec<Value> = cloud
        .fake
        .recorded()
        .into_iter()
        .filter(|r| r.route == "/igloohome/devices/{lockId}/jobs/bridges/{bridgeId}")
        .map(|r| {
            assert!(
                r.path
                    .ends_with(&format!("/{BRIDGED}/jobs/bridges/{BRIDGE}"))
            );
            r.body.expect("a JSON body")
        })
        .collect();
    assert_eq!(jobs[0]["jobType"], 4);
    assert_eq!(jobs[0]["jobData"]["pinType"], 4);
    assert_eq!(jobs[0]["jobData"]["accessName"], "lk-20");
    assert_eq!(jobs[0]["jobData"]["pin"], "2468013");
    let deletion = jobs.last().expect("a deletion");
    assert_eq!(
        deletion,
        &json!({"jobType": 5, "jobData": {"pin": "2468013"}})
    );
}

#[tokio::test]
async fn the_activity_log_and_unlock_go_through_the_bridge() {
    let cloud = cloud().await;
    let igloo = client(&cloud).await;
    let now = cloud.clock.now();
    let receipt = igloo
        .create_code(BRIDGED, &request("lk-30", Some("97531864"), now, 5 * HOUR))
        .await
        .expect("accepted");
    cloud.clock.advance_to(now.plus(10));
    assert!(cloud.fake.enter_pin(BRIDGED, "97531864"));
    cloud.clock.advance_to(now.plus(20));
    assert!(!cloud.fake.enter_pin(BRIDGED, "11112222"));
    igloo.unlock(BRIDGED).await.expect("unlock job sent");
    cloud.clock.advance_to(now.plus(30));

    let first = igloo
        .activity(BRIDGED, now)
        .await
        .expect("asked of the bridge");
    assert!(first.is_empty(), "the bridge has not fetched the log yet");
    cloud.clock.advance_to(now.plus(40));
    let log = igloo.activity(BRIDGED, now).await.expect("delivered");
    let summary: Vec<(LockAction, AccessMethod, Option<&str>)> = log
        .iter()
        .map(|e| (e.action, e.method, e.code_name.as_deref()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (LockAction::Unlock, AccessMethod::Keypad, Some("lk-30")),
            (LockAction::Denied, AccessMethod::Keypad, None),
            (LockAction::Unlock, AccessMethod::Remote, None),
        ]
    );
    assert_eq!(
        log[0].code_reference.as_deref(),
        Some(receipt.reference.as_str())
    );
    assert_eq!(log[0].at, now.plus(10));
    assert_eq!(
        log[2].at,
        now.plus(25),
        "the unlock ran when the bridge got to it"
    );
    let later = igloo.activity(BRIDGED, now.plus(15)).await.expect("read");
    assert_eq!(
        later.len(),
        2,
        "from `since` on, while the next fetch is pending"
    );
    cloud.clock.advance_to(now.plus(42));
    assert!(!cloud.fake.enter_pin(BRIDGED, "33334444"));
    cloud.clock.advance_to(now.plus(50));
    let later = igloo
        .activity(BRIDGED, now.plus(15))
        .await
        .expect("delivered");
    assert_eq!(later.len(), 3, "the next fetch brought the new attempt");
    assert_eq!(later[2].pin.as_ref().map(Pin::as_str), Some("33334444"));
    let activity_jobs = cloud
        .fake
        .recorded()
        .iter()
        .filter(|r| r.body.as_ref().is_some_and(|b| b["jobType"] == 15))
        .count();
    assert_eq!(
        activity_jobs, 3,
        "one fetch sent per read once the last one ran"
    );
}

#[tokio::test]
async fn injected_faults_become_the_right_errors() {
    let cloud = cloud().await;
    let igloo = client(&cloud).await;
    let now = cloud.clock.now();
    let faults = cloud.fake.faults();

    faults.fail_next(1, StatusCode::TOO_MANY_REQUESTS, Some(30));
    assert_eq!(
        igloo
            .create_code(ALGO, &request("lk-40", None, now, HOUR))
            .await,
        Err(ProviderError::RateLimited(30))
    );
    faults.fail_next(1, StatusCode::SERVICE_UNAVAILABLE, Some(7));
    assert_eq!(
        igloo.lock_status(ALGO).await,
        Err(ProviderError::RateLimited(7))
    );
    faults.fail_next(1, StatusCode::INTERNAL_SERVER_ERROR, None);
    let err = igloo
        .create_code(BRIDGED, &request("lk-40", Some("345678"), now, HOUR))
        .await
        .expect_err("500");
    assert!(matches!(err, ProviderError::Unavailable(_)), "{err:?}");
    assert!(
        !cloud.fake.history(ALGO).iter().any(|s| s.marker == "lk-40"),
        "nothing created"
    );

    // Answers held back: the client gives up, the cloud created the code all the same, and
    // the late answer is kept for `find_code`.
    let impatient = connect(&cloud, Duration::from_millis(300), CLIENT_SECRET)
        .await
        .expect("connects");
    faults.set_delay(Duration::from_millis(800));
    assert_eq!(
        impatient
            .create_code(ALGO, &request("lk-41", None, now, 3 * HOUR))
            .await,
        Err(ProviderError::Timeout)
    );
    assert_eq!(
        impatient
            .create_code(BRIDGED, &request("lk-42", Some("456789"), now, 3 * HOUR))
            .await,
        Err(ProviderError::Timeout)
    );
    faults.set_delay(Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let found = impatient
        .find_code(ALGO, "lk-41")
        .await
        .expect("find")
        .expect("the lost call took effect");
    assert_eq!(found.status, ReceiptStatus::Active);
    assert!(cloud.fake.opens(ALGO, found.pin.as_str(), now.plus(HOUR)));
    cloud.clock.advance_to(now.plus(10));
    let found = impatient
        .find_code(BRIDGED, "lk-42")
        .await
        .expect("find")
        .expect("the lost job took effect");
    assert_eq!(
        (found.status, found.pin.as_str()),
        (ReceiptStatus::Active, "456789")
    );
    assert_eq!(
        impatient.find_code(BRIDGED, "lk-43").await,
        Ok(None),
        "never created"
    );

    let stranger = connect(&cloud, Duration::from_secs(5), "wrong-secret").await;
    assert!(
        matches!(stranger, Err(ProviderError::Unavailable(ref m)) if m.contains("401")),
        "{stranger:?}"
    );
}

#[tokio::test]
async fn an_offline_bridge_holds_jobs_back_and_lets_them_expire() {
    let cloud = cloud().await;
    let igloo = client(&cloud).await;
    let now = cloud.clock.now();
    cloud.fake.set_online(BRIDGED, false);
    cloud.fake.set_online(ALGO, false);

    let offline_algo = igloo
        .create_code(ALGO, &request("lk-50", None, now, 5 * HOUR))
        .await
        .expect("an algoPIN needs no radio");
    assert!(
        cloud
            .fake
            .opens(ALGO, offline_algo.pin.as_str(), now.plus(HOUR))
    );

    let receipt = igloo
        .create_code(BRIDGED, &request("lk-51", Some("5551234"), now, 5 * HOUR))
        .await
        .expect("accepted by the cloud");
    cloud.clock.advance_to(now.plus(HOUR));
    let read = igloo
        .read_code(BRIDGED, &receipt.reference)
        .await
        .expect("read");
    assert_eq!(read.map(|r| r.status), Some(ReceiptStatus::Pending));
    assert!(!cloud.fake.opens(BRIDGED, "5551234", now.plus(HOUR)));
    cloud.fake.set_online(BRIDGED, true);
    cloud.clock.advance_to(now.plus(HOUR + 1));
    let read = igloo
        .read_code(BRIDGED, &receipt.reference)
        .await
        .expect("read");
    assert_eq!(read.map(|r| r.status), Some(ReceiptStatus::Active));
    assert!(
        cloud.fake.opens(BRIDGED, "5551234", now.plus(HOUR)),
        "arrived when back online"
    );
    assert!(!cloud.fake.opens(BRIDGED, "5551234", now.plus(HOUR - 1)));
    assert!(igloo.lock_status(BRIDGED).await.expect("status").online);

    // Offline past the job's expiry: the PIN never reaches the lock.
    cloud.fake.set_online(BRIDGED, false);
    let start = now.plus(2 * HOUR);
    let lost = igloo
        .create_code(
            BRIDGED,
            &request("lk-52", Some("6661234"), start, 48 * HOUR),
        )
        .await
        .expect("accepted");
    cloud.clock.advance_to(start.plus(25 * HOUR));
    assert_eq!(
        igloo
            .read_code(BRIDGED, &lost.reference)
            .await
            .expect("read"),
        None
    );
    assert!(
        !igloo.lock_status(BRIDGED).await.expect("status").online,
        "a job expired unrun"
    );
    cloud.fake.set_online(BRIDGED, true);
    assert!(
        !cloud.fake.opens(BRIDGED, "6661234", start.plus(26 * HOUR)),
        "never arrives"
    );
    let again = igloo
        .create_code(
            BRIDGED,
            &request("lk-53", Some("6661234"), start, 48 * HOUR),
        )
        .await
        .expect("the PIN is free again");
    cloud.clock.advance_to(start.plus(25 * HOUR + 10));
    assert_eq!(
        igloo
            .read_code(BRIDGED, &again.reference)
            .await
            .expect("read")
            .map(|r| r.status),
        Some(ReceiptStatus::Active)
    );
    assert!(
        igloo.lock_status(BRIDGED).await.expect("status").online,
        "back"
    );
}

#[tokio::test]
async fn a_bridge_refuses_a_twenty_first_pending_job() {
    let cloud = cloud().await;
    let igloo = client(&cloud).await;
    let now = cloud.clock.now();
    cloud.fake.set_online(BRIDGED, false);
    for i in 0..20 {
        igloo
            .create_code(
                BRIDGED,
                &request(
                    &format!("lk-6{i:02}"),
                    Some(&format!("7000{i:03}")),
                    now,
                    HOUR,
                ),
            )
            .await
            .expect("queued on the bridge");
    }
    let err = igloo
        .create_code(BRIDGED, &request("lk-699", Some("7999999"), now, HOUR))
        .await
        .expect_err("20 pending");
    assert!(
        matches!(err, ProviderError::Unavailable(ref m) if m.contains("pending jobs")),
        "{err:?}"
    );
    cloud.fake.set_online(BRIDGED, true);
    cloud.clock.advance_to(now.plus(10));
    igloo
        .create_code(BRIDGED, &request("lk-699", Some("7999999"), now, HOUR))
        .await
        .expect("the bridge caught up");
}

#[tokio::test]
async fn status_battery_and_listing_are_normalised() {
    let cloud = cloud().await;
    let igloo = client(&cloud).await;
    let status = igloo.lock_status(BRIDGED).await.expect("status");
    assert!(status.online, "linked to a bridge");
    assert_eq!(
        (status.battery_percent, status.battery),
        (Some(80), Some(BatteryLevel::Ok))
    );
    let status = igloo.lock_status(ALGO).await.expect("status");
    assert!(!status.online, "no bridge, never reachable");
    cloud.fake.set_battery(ALGO, 20);
    assert_eq!(
        igloo.lock_status(ALGO).await.expect("status").battery,
        Some(BatteryLevel::Low)
    );
    cloud.fake.set_battery(ALGO, 8);
    assert_eq!(
        igloo.lock_status(ALGO).await.expect("status").battery,
        Some(BatteryLevel::Critical)
    );
    assert!(matches!(
        igloo.lock_status("IGK-missing").await,
        Err(ProviderError::NotFound(_))
    ));
    let locks = igloo.list_locks().await.expect("listed");
    let names: Vec<(&str, &str)> = locks
        .iter()
        .map(|l| (l.device.as_str(), l.name.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![(BRIDGED, "Room 101"), (ALGO, "Room 102")],
        "bridges are not locks"
    );

    // The replay's account: 30 locks and 15 bridges, over two pages.
    let clock: Arc<dyn Clock> = Arc::new(cloud.clock.clone());
    let (replay, client) = fake::start(30, clock).await.expect("started");
    let devices = replay.devices();
    assert_eq!(devices.len(), 30);
    assert_eq!(client.list_locks().await.expect("listed").len(), 30);
    assert!(cloud_pages(&replay) >= 2);
    let online: Vec<bool> = devices
        .iter()
        .take(2)
        .map(|d| client.capabilities(d).expect("known").connectivity == Connectivity::Online)
        .collect();
    assert_eq!(online, vec![true, false], "even: bridge, odd: algoPIN only");
}

fn cloud_pages(fake: &IgloohomeFake) -> usize {
    fake.recorded()
        .iter()
        .filter(|r| r.path.starts_with("/igloohome/devices?cursor="))
        .count()
        + 1
}

#[tokio::test]
async fn tokens_are_renewed_before_expiry_and_after_a_401() {
    let cloud = cloud().await;
    let igloo = client(&cloud).await;
    let routes = |fake: &IgloohomeFake| -> Vec<&'static str> {
        fake.recorded().iter().map(|r| r.route).collect()
    };
    assert_eq!(
        routes(&cloud.fake),
        vec!["/oauth2/token", "/igloohome/devices"]
    );

    // The cloud's token expired (model time): refused once, renewed, retried.
    cloud.clock.advance_by(2 * HOUR);
    cloud.fake.set_token_secs(30);
    igloo.lock_status(ALGO).await.expect("after a renewal");
    // A 30-second token is shorter than twice the 60-s margin: it is renewed halfway
    // through its life, so the next calls (milliseconds later) share it.
    igloo.lock_status(ALGO).await.expect("status");
    igloo.lock_status(ALGO).await.expect("status");
    let device = "/igloohome/devices/{deviceId}";
    assert_eq!(
        routes(&cloud.fake)[2..],
        ["/oauth2/token", device, device, device]
    );
}

/// The whole service with room 101's door on a bridge and its second door algoPIN-only:
/// the reconciler reads only capabilities — it chooses the bridge lock's PIN and takes
/// the algoPIN the cloud generates — and a cancellation deletes the bridge PIN while the
/// algoPIN stays (it cannot be revoked remotely).
#[tokio::test]
async fn a_stay_gets_pins_on_both_kinds_of_igloohome_lock_through_the_service() {
    use crate::harness::{TestApp, cancelled_stay, paid_stay, room_101_door};
    let cloud = cloud().await;
    let igloo: Arc<dyn Provider> = Arc::new(client(&cloud).await);
    let entry = |id: &str, device: &str| room_101_door(id, "igloohome", device);
    let app = TestApp::spawn_with(
        cloud.clock.clone(),
        None,
        |file| {
            file.locks.push(entry("room-101-bridge", BRIDGED));
            file.locks.push(entry("room-101-algo", ALGO));
        },
        vec![("igloohome", igloo)],
    )
    .await;

    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.advance_to(cloud.clock.now().plus(600)).await;
    let check_in = at("2026-11-23T15:30:00Z");
    let (bridge_pin, state) = app
        .code_on("R-1", "room-101-bridge")
        .await
        .expect("a code on the bridge lock");
    assert_eq!(state, "active", "confirmed once the job ran");
    assert!(cloud.fake.opens(BRIDGED, &bridge_pin, check_in));
    let (algo_pin, state) = app
        .code_on("R-1", "room-101-algo")
        .await
        .expect("a code on the algoPIN lock");
    assert_eq!(state, "active");
    assert_eq!(algo_pin.len(), 9, "generated by igloohome");
    assert!(cloud.fake.opens(ALGO, &algo_pin, check_in));
    assert!(
        !cloud
            .fake
            .opens(ALGO, &algo_pin, at("2026-11-25T12:00:00Z"))
    );

    let cancelled = cancelled_stay();
    assert_eq!(app.send(&cancelled).await.status, StatusCode::ACCEPTED);
    app.advance_to(cloud.clock.now().plus(600)).await;
    assert!(
        !cloud.fake.opens(BRIDGED, &bridge_pin, check_in),
        "deleted from the bridge lock"
    );
    assert!(
        cloud.fake.opens(ALGO, &algo_pin, check_in),
        "an algoPIN cannot be revoked remotely"
    );
}
