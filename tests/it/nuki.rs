//! The Nuki client against the Nuki contract fake over loopback: the life of a keypad code
//! as the lock sees it, Nuki's own rules, every injected fault, and every request and
//! answer checked against Nuki's Swagger specification.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use latchkey_engine::clock::{Clock, SimClock};
use latchkey_engine::{Pin, Timestamp, Window};
use latchkey_providers::http::HttpSettings;
use latchkey_providers::nuki::Nuki;
use latchkey_providers::simulator::Tamper;
use latchkey_providers::{
    AccessMethod, BatteryLevel, CodeRequest, LockAction, Provider, ProviderError, ReceiptStatus,
};
use latchkey_sim::clouds::nuki::{FakeSmartlock, NukiFake};
use serde_json::Value;

use crate::harness::{TestApp, assert_listed, at, cancelled_stay, paid_stay, room_101_door};

const TOKEN: &str = "nuki-api-token";
const KEYPAD_LOCK: i64 = 17_001;
const BARE_LOCK: i64 = 17_002;

struct Cloud {
    fake: NukiFake,
    clock: SimClock,
    base_url: String,
}

async fn cloud() -> Cloud {
    cloud_on(SimClock::new(at("2026-11-22T10:00:00Z"))).await
}

async fn cloud_on(clock: SimClock) -> Cloud {
    let lock = |id, keypad| FakeSmartlock {
        id,
        name: format!("Door {id}"),
        kind: 4,
        keypad,
        online: true,
        battery_charge: 80,
    };
    let fake = NukiFake::new(
        TOKEN,
        vec![lock(KEYPAD_LOCK, true), lock(BARE_LOCK, false)],
        Arc::new(clock.clone()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base_url = format!("http://{}", listener.local_addr().expect("address"));
    let router = fake.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Cloud {
        fake,
        clock,
        base_url,
    }
}

fn settings(base_url: &str, timeout: Duration) -> HttpSettings {
    HttpSettings {
        base_url: base_url.to_owned(),
        timeout,
        requests_per_second: NonZeroU32::new(50),
    }
}

async fn client(cloud: &Cloud) -> Nuki {
    Nuki::connect(&settings(&cloud.base_url, Duration::from_secs(5)), TOKEN)
        .await
        .expect("the account answers")
}

fn request(marker: &str, pin: &str, from: Timestamp, hours: i64) -> CodeRequest {
    CodeRequest {
        marker: marker.into(),
        pin: Some(Pin::new(pin)),
        window: Window {
            starts_at: from,
            ends_at: from.plus(hours * 3600),
        },
    }
}

#[tokio::test]
async fn a_keypad_code_reaches_the_lock_changes_and_goes() {
    let cloud = cloud().await;
    let nuki = client(&cloud).await;
    let device = KEYPAD_LOCK.to_string();
    let caps = nuki
        .capabilities(&device)
        .expect("a lock with a keypad takes codes");
    assert!(caps.custom_pin && caps.can_revoke && caps.can_update);
    assert_eq!(
        (caps.pin.alphabet.as_str(), caps.max_codes),
        ("123456789", 200)
    );
    assert!(
        nuki.capabilities(&BARE_LOCK.to_string()).is_none(),
        "no keypad, no codes"
    );

    let now = cloud.clock.now();
    let stay = request("lk-1", "345678", now.plus(3600), 48);
    let receipt = nuki.create_code(&device, &stay).await.expect("created");
    assert_eq!(
        receipt.status,
        ReceiptStatus::Pending,
        "Nuki applies changes asynchronously"
    );
    let inside = now.plus(2 * 3600);
    assert!(
        !cloud.fake.opens(KEYPAD_LOCK, "345678", inside),
        "not on the lock yet"
    );

    cloud.clock.advance_to(now.plus(10));
    let confirmed = nuki
        .read_code(&device, &receipt.reference)
        .await
        .expect("read")
        .expect("listed");
    assert_eq!(confirmed.status, ReceiptStatus::Active);
    assert_eq!(confirmed.window, stay.window);
    assert_eq!(confirmed.pin.as_str(), "345678");
    assert!(cloud.fake.opens(KEYPAD_LOCK, "345678", inside));
    assert!(
        !cloud.fake.opens(KEYPAD_LOCK, "345678", now.plus(1800)),
        "not before the window"
    );
    assert!(
        !cloud.fake.opens(KEYPAD_LOCK, "345678", stay.window.ends_at),
        "not after it"
    );
    assert_eq!(
        nuki.find_code(&device, "lk-1")
            .await
            .expect("find")
            .map(|r| r.reference),
        Some(receipt.reference.clone())
    );

    let longer = request("lk-1", "345678", now.plus(3600), 72);
    let changed = nuki
        .update_code(&device, &receipt.reference, &longer)
        .await
        .expect("updated");
    assert_eq!(changed.status, ReceiptStatus::Pending);
    cloud.clock.advance_to(now.plus(20));
    assert!(
        cloud.fake.opens(KEYPAD_LOCK, "345678", now.plus(60 * 3600)),
        "the longer window is on the lock"
    );
    let shorter_same_pin = CodeRequest {
        pin: None,
        ..request("lk-1", "345678", now.plus(3600), 24)
    };
    let kept = nuki
        .update_code(&device, &receipt.reference, &shorter_same_pin)
        .await
        .expect("a window change alone keeps the code");
    assert_eq!(kept.pin.as_str(), "345678");
    cloud.clock.advance_to(now.plus(25));
    assert!(cloud.fake.opens(KEYPAD_LOCK, "345678", inside));
    assert!(
        !cloud.fake.opens(KEYPAD_LOCK, "345678", now.plus(60 * 3600)),
        "the shorter window is on the lock"
    );

    nuki.revoke_code(&device, &receipt.reference)
        .await
        .expect("revoked");
    cloud.clock.advance_to(now.plus(30));
    assert!(
        !cloud.fake.opens(KEYPAD_LOCK, "345678", inside),
        "gone from the lock"
    );
    assert_eq!(
        nuki.read_code(&device, &receipt.reference)
            .await
            .expect("read"),
        None
    );
    nuki.revoke_code(&device, &receipt.reference)
        .await
        .expect("revoking a gone code succeeds");
}

#[tokio::test]
async fn the_keypad_codes_are_listed_as_the_lock_holds_them_after_changes_in_the_app() {
    let cloud = cloud().await;
    let nuki = client(&cloud).await;
    let device = KEYPAD_LOCK.to_string();
    let now = cloud.clock.now();
    let ours = request("lk-1", "345678", now.plus(3600), 48);
    let deleted = request("lk-2", "456789", now.plus(3600), 48);
    let first = nuki.create_code(&device, &ours).await.expect("created");
    let second = nuki.create_code(&device, &deleted).await.expect("created");
    cloud.clock.advance_to(now.plus(10));

    let listed = nuki.list_codes(&device).await.expect("listed");
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_listed(&listed, &first.reference, "lk-1", "345678", ours.window);

    // In the Nuki app: one code deleted, the other given another PIN.
    assert!(cloud.fake.tamper(&second.reference, Tamper::Delete));
    assert!(
        cloud
            .fake
            .tamper(&first.reference, Tamper::ChangePin(Pin::new("987654")))
    );
    let inside = now.plus(2 * 3600);
    assert!(!cloud.fake.opens(KEYPAD_LOCK, "456789", inside));
    assert!(!cloud.fake.opens(KEYPAD_LOCK, "345678", inside));
    assert!(cloud.fake.opens(KEYPAD_LOCK, "987654", inside));
    let listed = nuki.list_codes(&device).await.expect("listed");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].reference, first.reference);
    assert_eq!(listed[0].pin.as_ref().map(Pin::as_str), Some("987654"));
    assert!(
        !cloud.fake.tamper(&second.reference, Tamper::Delete),
        "gone already"
    );
}

#[tokio::test]
async fn nukis_own_rules_are_enforced_and_mapped() {
    let cloud = cloud().await;
    let nuki = client(&cloud).await;
    let device = KEYPAD_LOCK.to_string();
    let now = cloud.clock.now();

    let err = nuki
        .create_code(&device, &request("lk-2", "123456", now, 24))
        .await
        .expect_err("starts with 12");
    assert!(
        matches!(err, ProviderError::Rejected(ref m) if m.contains("400")),
        "{err:?}"
    );
    let err = nuki
        .create_code(
            &device,
            &request("lk-a-very-long-marker-name", "345678", now, 24),
        )
        .await
        .expect_err("over 20 characters");
    assert!(matches!(err, ProviderError::Rejected(_)), "{err:?}");

    let first = nuki
        .create_code(&device, &request("lk-3", "456789", now, 24))
        .await
        .expect("created");
    let err = nuki
        .create_code(&device, &request("lk-4", "456789", now, 24))
        .await
        .expect_err("duplicate");
    assert_eq!(
        err,
        ProviderError::PinConflict,
        "one PIN once in the account"
    );

    // An operation is still pending on the first code: Nuki answers 423, to be retried.
    let err = nuki
        .revoke_code(&device, &first.reference)
        .await
        .expect_err("locked");
    assert!(
        matches!(err, ProviderError::Unavailable(_)) && err.is_retryable(),
        "{err:?}"
    );
}

#[tokio::test]
async fn injected_faults_become_retryable_errors() {
    let cloud = cloud().await;
    let nuki = client(&cloud).await;
    let device = KEYPAD_LOCK.to_string();
    let now = cloud.clock.now();

    cloud
        .fake
        .fail_next(1, StatusCode::TOO_MANY_REQUESTS, Some(30));
    let err = nuki
        .create_code(&device, &request("lk-5", "567891", now, 24))
        .await
        .expect_err("429");
    assert_eq!(err, ProviderError::RateLimited(30));

    cloud
        .fake
        .fail_next(1, StatusCode::INTERNAL_SERVER_ERROR, None);
    let err = nuki
        .create_code(&device, &request("lk-5", "567891", now, 24))
        .await
        .expect_err("500");
    assert!(matches!(err, ProviderError::Unavailable(_)), "{err:?}");

    // A slow answer times the client out after the change took effect: the marker finds it.
    let impatient = Nuki::connect(
        &settings(&cloud.base_url, Duration::from_millis(300)),
        TOKEN,
    )
    .await
    .expect("connects");
    cloud.fake.set_delay(Duration::from_millis(800));
    let err = impatient
        .create_code(&device, &request("lk-6", "678912", now, 24))
        .await
        .expect_err("timeout");
    assert_eq!(err, ProviderError::Timeout);
    cloud.fake.set_delay(Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        nuki.find_code(&device, "lk-6")
            .await
            .expect("find")
            .is_some(),
        "the lost call took effect"
    );

    let stranger = Nuki::connect(
        &settings(&cloud.base_url, Duration::from_secs(5)),
        "wrong-token",
    )
    .await;
    assert!(
        matches!(stranger, Err(ProviderError::Unavailable(ref m)) if m.contains("401")),
        "{stranger:?}"
    );
}

#[tokio::test]
async fn an_offline_lock_keeps_changes_pending_until_it_returns() {
    let cloud = cloud().await;
    let nuki = client(&cloud).await;
    let device = KEYPAD_LOCK.to_string();
    let now = cloud.clock.now();
    cloud.fake.set_online(KEYPAD_LOCK, false);
    let receipt = nuki
        .create_code(&device, &request("lk-7", "789123", now, 24))
        .await
        .expect("accepted by the cloud");
    cloud.clock.advance_to(now.plus(3600));
    let read = nuki
        .read_code(&device, &receipt.reference)
        .await
        .expect("read")
        .expect("listed");
    assert_eq!(read.status, ReceiptStatus::Pending);
    assert!(!cloud.fake.opens(KEYPAD_LOCK, "789123", now.plus(1800)));
    cloud.fake.set_online(KEYPAD_LOCK, true);
    cloud.clock.advance_to(now.plus(3700));
    let read = nuki
        .read_code(&device, &receipt.reference)
        .await
        .expect("read")
        .expect("listed");
    assert_eq!(read.status, ReceiptStatus::Active);
    assert!(cloud.fake.opens(KEYPAD_LOCK, "789123", now.plus(3800)));
}

/// Every body the client sent and every answer the fake gave, checked against the
/// definitions of Nuki's Swagger specification, with unknown fields refused.
#[tokio::test]
async fn requests_and_answers_follow_nukis_specification() {
    let cloud = cloud().await;
    let nuki = client(&cloud).await;
    let device = KEYPAD_LOCK.to_string();
    let now = cloud.clock.now();
    let created = nuki
        .create_code(&device, &request("lk-8", "891234", now, 24))
        .await
        .expect("created");
    cloud.clock.advance_to(now.plus(10));
    nuki.update_code(
        &device,
        &created.reference,
        &request("lk-8", "891234", now, 30),
    )
    .await
    .expect("updated");
    cloud.clock.advance_to(now.plus(20));
    nuki.revoke_code(&device, &created.reference)
        .await
        .expect("revoked");

    let spec = nuki_spec();
    let mut checked = 0;
    for r in cloud.fake.recorded() {
        let expectations: &[(&Option<Value>, &str, bool)] = match (r.method, r.route) {
            ("PUT", "/smartlock/{smartlockId}/auth") => &[(&r.body, "SmartlockAuthCreate", false)],
            ("POST", "/smartlock/{smartlockId}/auth/{id}") => {
                &[(&r.body, "SmartlockAuthUpdate", false)]
            }
            ("GET", "/smartlock") => &[(&r.answer, "Smartlock", true)],
            ("GET", "/smartlock/{smartlockId}/auth") => &[(&r.answer, "SmartlockAuth", true)],
            _ => &[],
        };
        for (value, definition, is_array) in expectations {
            let value = value.as_ref().expect("recorded JSON");
            let items: Vec<&Value> = if *is_array {
                value.as_array().expect("an array").iter().collect()
            } else {
                vec![value]
            };
            for item in items {
                let errors = spec.check(definition, item);
                assert!(
                    errors.is_empty(),
                    "{} {}: {definition}: {errors:?}\n{item:#}",
                    r.method,
                    r.route
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 6,
        "the scenario exercised the API ({checked} documents)"
    );
}

/// Nuki's Swagger 2.0 specification, with every object closed to unknown fields.
struct Spec {
    definitions: Value,
}

fn nuki_spec() -> Spec {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/reference/specs/nuki-web-api-4.18.0.swagger.json"
    );
    let text =
        std::fs::read_to_string(path).expect("Nuki's specification (../shared/reference/specs)");
    let mut spec: Value = serde_json::from_str(&text).expect("the specification parses");
    let mut definitions = spec["definitions"].take();
    // The spec bounds an authorization's `type` to 0–2, while its own description lists
    // 13 for keypad codes, which is what the API returns (forum, lock-providers.md §1.4).
    if let Some(kind) = definitions
        .pointer_mut("/SmartlockAuth/properties/type")
        .and_then(Value::as_object_mut)
    {
        kind.remove("maximum");
    }
    close_objects(&mut definitions);
    Spec { definitions }
}

fn close_objects(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(close_objects);
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

impl Spec {
    fn check(&self, definition: &str, instance: &Value) -> Vec<String> {
        let schema = serde_json::json!({
            "definitions": self.definitions,
            "$ref": format!("#/definitions/{definition}"),
        });
        let validator =
            jsonschema::draft4::new(&schema).expect("the specification's schema compiles");
        validator
            .iter_errors(instance)
            .map(|e| e.to_string())
            .collect()
    }
}

/// The whole service with a Nuki keypad on room 101's door: a paid stay's PIN reaches the
/// Nuki lock through the reconciler and the durable jobs, is confirmed by reading back,
/// and is revoked on cancellation. The reconciler sees only the lock's capabilities.
#[tokio::test]
async fn a_stay_gets_and_loses_its_pin_on_a_nuki_lock_through_the_service() {
    let clock = SimClock::new(at("2026-11-22T10:00:00Z"));
    let cloud = cloud_on(clock.clone()).await;
    let nuki: Arc<dyn Provider> = Arc::new(client(&cloud).await);
    let keypad = room_101_door("room-101-keypad", "nuki", &KEYPAD_LOCK.to_string());
    let app = TestApp::spawn_with(
        clock.clone(),
        None,
        |file| file.locks.push(keypad),
        vec![("nuki", nuki)],
    )
    .await;

    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.advance_to(clock.now().plus(600)).await;
    let (pin, state) = app
        .code_on("R-1", "room-101-keypad")
        .await
        .expect("a code on the keypad");
    assert_eq!(state, "active", "confirmed by reading it back");
    assert!(
        cloud
            .fake
            .opens(KEYPAD_LOCK, &pin, at("2026-11-23T14:30:00Z")),
        "open from an hour before check-in"
    );
    assert!(
        !cloud
            .fake
            .opens(KEYPAD_LOCK, &pin, at("2026-11-25T11:30:00Z")),
        "closed after check-out"
    );

    let cancelled = cancelled_stay();
    assert_eq!(app.send(&cancelled).await.status, StatusCode::ACCEPTED);
    app.advance_to(clock.now().plus(600)).await;
    assert!(
        !cloud
            .fake
            .opens(KEYPAD_LOCK, &pin, at("2026-11-23T16:00:00Z")),
        "revoked on the lock"
    );
}

#[tokio::test]
async fn status_battery_and_the_keypad_log_come_back_in_the_common_shape() {
    let cloud = cloud().await;
    let nuki = client(&cloud).await;
    let device = KEYPAD_LOCK.to_string();
    let now = cloud.clock.now();

    let listed = nuki.list_locks().await.expect("listed");
    assert_eq!(listed.len(), 2);
    let status = nuki.lock_status(&device).await.expect("status");
    assert!(status.online);
    assert_eq!(status.battery_percent, Some(80));
    assert_eq!(status.battery, Some(BatteryLevel::Ok));
    cloud.fake.set_battery(KEYPAD_LOCK, 8);
    cloud.fake.set_online(KEYPAD_LOCK, false);
    let status = nuki.lock_status(&device).await.expect("status");
    assert!(!status.online, "serverState 4");
    assert_eq!(status.battery, Some(BatteryLevel::Critical));
    cloud.fake.set_online(KEYPAD_LOCK, true);

    nuki.create_code(&device, &request("lk-9", "345678", now, 24))
        .await
        .expect("created");
    cloud.clock.advance_to(now.plus(60));
    assert!(cloud.fake.enter_pin(KEYPAD_LOCK, "345678"));
    cloud.clock.advance_to(now.plus(120));
    assert!(!cloud.fake.enter_pin(KEYPAD_LOCK, "987654"));
    let log = nuki.activity(&device, now).await.expect("log");
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0].action, LockAction::Unlock, "oldest first");
    assert_eq!(log[0].method, AccessMethod::Keypad);
    assert_eq!(log[0].code_name.as_deref(), Some("lk-9"));
    assert_eq!(log[1].action, LockAction::Denied);
    assert!(
        nuki.activity(&device, now.plus(100))
            .await
            .expect("log")
            .iter()
            .all(|e| e.action == LockAction::Denied),
        "from the cursor on"
    );
    nuki.unlock(&device).await.expect("remote unlock accepted");
}

#[tokio::test]
async fn a_code_stuck_pending_on_an_offline_lock_raises_an_alert_and_lands_when_it_returns() {
    let clock = SimClock::new(at("2026-11-22T10:00:00Z"));
    let cloud = cloud_on(clock.clone()).await;
    let nuki: Arc<dyn Provider> = Arc::new(client(&cloud).await);
    let keypad = room_101_door("room-101-keypad", "nuki", &KEYPAD_LOCK.to_string());
    let app = TestApp::spawn_with(
        clock.clone(),
        None,
        |file| file.locks.push(keypad),
        vec![("nuki", nuki)],
    )
    .await;
    cloud.fake.set_online(KEYPAD_LOCK, false);

    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.advance_to(clock.now().plus(3600)).await;
    let (pin, state) = app
        .code_on("R-1", "room-101-keypad")
        .await
        .expect("a code on the keypad");
    assert_eq!(state, "pending", "accepted by the cloud, not on the lock");
    let alerts = app.get("/v1/alerts").await.body;
    let overdue: Vec<_> = alerts["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["kind"] == "confirmation_overdue")
        .collect();
    assert_eq!(overdue.len(), 1, "{alerts}");
    assert_eq!(overdue[0]["lock_id"], "room-101-keypad");

    cloud.fake.set_online(KEYPAD_LOCK, true);
    app.advance_to(clock.now().plus(600)).await;
    assert_eq!(
        app.code_on("R-1", "room-101-keypad").await,
        Some((pin.clone(), "active".into())),
        "confirmed once the lock is back"
    );
    assert!(
        cloud
            .fake
            .opens(KEYPAD_LOCK, &pin, at("2026-11-23T16:00:00Z"))
    );
}
