//! The Seam client against the Seam contract fake over loopback: the life of an access
//! code as the lock sees it (online codes, natively scheduled codes, offline algoPINs),
//! Seam's own rules and per-device rate limits, every injected fault, status and battery,
//! the activity log, remote unlock, and the requests' encoding.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use latchkey_engine::clock::{Clock, SimClock};
use latchkey_engine::{Connectivity, Pin, Timestamp, Window, WindowPrecision};
use latchkey_providers::http::HttpSettings;
use latchkey_providers::seam::Seam;
use latchkey_providers::segment::HeldCodes;
use latchkey_providers::simulator::Tamper;
use latchkey_providers::{
    AccessMethod, BatteryLevel, CodeRequest, LockAction, Provider, ProviderError, ReceiptStatus,
};
use latchkey_sim::clouds::seam::{FakeDevice, SeamFake, start};

use crate::harness::{TestApp, assert_listed, at, cancelled_stay, paid_stay, room_101_door};

const KEY: &str = "seam_test_key_123";
const ONLINE: &str = "11111111-0000-4000-8000-000000000001";
const OFFLINE: &str = "11111111-0000-4000-8000-000000000002";
const SMALL: &str = "11111111-0000-4000-8000-000000000003";
const HOUR: i64 = 3600;

struct Cloud {
    fake: SeamFake,
    clock: SimClock,
    base_url: String,
}

async fn cloud() -> Cloud {
    cloud_on(SimClock::new(at("2026-11-22T10:00:00Z"))).await
}

async fn cloud_on(clock: SimClock) -> Cloud {
    let small = FakeDevice {
        max_codes: 1,
        ..FakeDevice::online_codes(SMALL)
    };
    let fake = SeamFake::new(
        KEY,
        vec![
            FakeDevice::online_codes(ONLINE),
            FakeDevice::offline_codes(OFFLINE),
            small,
        ],
        Arc::new(clock.clone()),
    );
    let base_url = latchkey_sim::clouds::serve_loopback(fake.router())
        .await
        .expect("serve on loopback");
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
        requests_per_second: NonZeroU32::new(100),
    }
}

async fn client(cloud: &Cloud) -> Seam {
    Seam::connect(&settings(&cloud.base_url, Duration::from_secs(5)), KEY)
        .await
        .expect("the workspace answers")
}

fn request(marker: &str, pin: Option<&str>, from: Timestamp, hours: i64) -> CodeRequest {
    CodeRequest {
        marker: marker.into(),
        pin: pin.map(Pin::new),
        window: Window {
            starts_at: from,
            ends_at: from.plus(hours * HOUR),
        },
    }
}

#[tokio::test]
async fn an_online_code_reaches_the_lock_changes_and_goes() {
    let cloud = cloud().await;
    let seam = client(&cloud).await;
    let caps = seam.capabilities(ONLINE).expect("a lock that takes codes");
    assert_eq!(caps.connectivity, Connectivity::Online);
    assert!(caps.custom_pin && caps.can_update && caps.can_revoke && caps.remote_unlock);
    assert_eq!(caps.precision, WindowPrecision::Minute);
    assert_eq!(
        (
            caps.pin.min_len,
            caps.pin.max_len,
            caps.pin.alphabet.as_str(),
            caps.max_codes
        ),
        (4, 8, "123456789", 50)
    );
    assert_eq!(caps.pin.forbidden_prefixes, vec!["12".to_owned()]);

    let now = cloud.clock.now();
    // Seconds in the request are rounded outward to the minute the lock enforces.
    let mut stay = request("lk-1", Some("3456"), now.plus(HOUR + 30), 48);
    stay.window.ends_at = stay.window.ends_at.plus(-50);
    let receipt = seam.create_code(ONLINE, &stay).await.expect("created");
    assert_eq!(
        receipt.status,
        ReceiptStatus::Pending,
        "not yet on the lock"
    );
    assert_eq!(receipt.window.starts_at, now.plus(HOUR));
    assert_eq!(receipt.window.ends_at, now.plus(HOUR + 48 * HOUR));
    let inside = now.plus(2 * HOUR);
    assert!(
        !cloud.fake.opens(ONLINE, "3456", inside),
        "not on the lock yet"
    );

    cloud.clock.advance_to(now.plus(3));
    let code = seam
        .access_code(&receipt.reference)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(code.status, "setting");

    cloud.clock.advance_to(now.plus(10));
    let read = seam
        .read_code(ONLINE, &receipt.reference)
        .await
        .expect("read")
        .expect("on the lock");
    assert_eq!(
        read.status,
        ReceiptStatus::Active,
        "on the lock, preloaded with its schedule"
    );
    assert_eq!((read.pin.as_str(), read.window), ("3456", receipt.window));
    assert!(cloud.fake.opens(ONLINE, "3456", inside));
    assert!(
        !cloud.fake.opens(ONLINE, "3456", now.plus(HOUR - 1)),
        "not before the window"
    );
    assert!(
        !cloud.fake.opens(ONLINE, "3456", receipt.window.ends_at),
        "not after it"
    );
    assert_eq!(
        seam.find_code(ONLINE, "lk-1")
            .await
            .expect("find")
            .map(|r| r.reference),
        Some(receipt.reference.clone())
    );
    assert_eq!(seam.find_code(ONLINE, "lk-none").await.expect("find"), None);

    let longer = request("lk-1", Some("3456"), now.plus(HOUR), 72);
    let changed = seam
        .update_code(ONLINE, &receipt.reference, &longer)
        .await
        .expect("updated");
    assert_eq!(changed.status, ReceiptStatus::Pending);
    assert_eq!(changed.window, longer.window);
    assert!(
        !cloud.fake.opens(ONLINE, "3456", now.plus(60 * HOUR)),
        "the old window until the change arrives"
    );
    cloud.clock.advance_to(now.plus(20));
    assert!(
        cloud.fake.opens(ONLINE, "3456", now.plus(60 * HOUR)),
        "the longer window is on the lock"
    );

    seam.revoke_code(ONLINE, &receipt.reference)
        .await
        .expect("revoked");
    assert_eq!(
        seam.read_code(ONLINE, &receipt.reference)
            .await
            .expect("read"),
        None,
        "removing"
    );
    assert!(
        cloud.fake.opens(ONLINE, "3456", inside),
        "still on the lock while removing"
    );
    cloud.clock.advance_to(now.plus(30));
    assert!(
        !cloud.fake.opens(ONLINE, "3456", inside),
        "gone from the lock"
    );
    assert!(
        seam.access_code(&receipt.reference)
            .await
            .expect("get")
            .is_none(),
        "404 after removal"
    );
    seam.revoke_code(ONLINE, &receipt.reference)
        .await
        .expect("revoking a gone code succeeds");
    assert_eq!(seam.find_code(ONLINE, "lk-1").await.expect("find"), None);
}

#[tokio::test]
async fn access_codes_are_listed_as_the_lock_holds_them_after_changes_behind_our_back() {
    let cloud = cloud().await;
    let seam = client(&cloud).await;
    let now = cloud.clock.now();
    let ours = request("lk-1", Some("3456"), now.plus(HOUR), 48);
    let deleted = request("lk-2", Some("4567"), now.plus(HOUR), 48);
    let first = seam.create_code(ONLINE, &ours).await.expect("created");
    let second = seam.create_code(ONLINE, &deleted).await.expect("created");
    cloud.clock.advance_to(now.plus(10));

    let listed = seam.list_codes(ONLINE).await.expect("listed");
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_listed(&listed, &first.reference, "lk-1", "3456", ours.window);

    assert!(cloud.fake.tamper(&second.reference, Tamper::Delete));
    assert!(
        cloud
            .fake
            .tamper(&first.reference, Tamper::ChangePin(Pin::new("9876")))
    );
    let inside = now.plus(2 * HOUR);
    assert!(!cloud.fake.opens(ONLINE, "4567", inside));
    assert!(!cloud.fake.opens(ONLINE, "3456", inside));
    assert!(cloud.fake.opens(ONLINE, "9876", inside));
    let listed = seam.list_codes(ONLINE).await.expect("listed");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].pin.as_ref().map(Pin::as_str), Some("9876"));
}

#[tokio::test]
async fn a_far_future_code_is_preloaded_72_hours_before_its_start() {
    let cloud = cloud().await;
    let seam = client(&cloud).await;
    let now = cloud.clock.now();
    let start = now.plus(5 * 24 * HOUR);
    let receipt = seam
        .create_code(ONLINE, &request("lk-far", Some("4567"), start, 24))
        .await
        .expect("created");
    cloud.clock.advance_to(now.plus(HOUR));
    let read = seam
        .read_code(ONLINE, &receipt.reference)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        read.status,
        ReceiptStatus::Pending,
        "Seam waits until 72 h before"
    );
    assert!(!cloud.fake.opens(ONLINE, "4567", start.plus(HOUR)));

    cloud.clock.advance_to(start.plus(-72 * HOUR + 1));
    let code = seam
        .access_code(&receipt.reference)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (code.status.as_str(), code.is_scheduled_on_device),
        ("unset", true)
    );
    let read = seam
        .read_code(ONLINE, &receipt.reference)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        read.status,
        ReceiptStatus::Active,
        "scheduled on the device counts as on the lock"
    );
    assert!(cloud.fake.opens(ONLINE, "4567", start.plus(HOUR)));
    assert!(!cloud.fake.opens(ONLINE, "4567", start.plus(-1)));
    cloud.clock.advance_to(start);
    let code = seam
        .access_code(&receipt.reference)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(code.status, "set");
}

#[tokio::test]
async fn offline_algopins_are_generated_hourly_and_cannot_be_changed_or_deleted() {
    let cloud = cloud().await;
    let seam = client(&cloud).await;
    let caps = seam.capabilities(OFFLINE).expect("offline codes");
    assert_eq!(caps.connectivity, Connectivity::Offline);
    assert!(!caps.custom_pin && !caps.can_update && !caps.can_revoke && !caps.remote_unlock);
    assert_eq!(caps.precision, WindowPrecision::Hour);
    assert_eq!((caps.pin.min_len, caps.pin.max_len), (9, 9));

    let now = cloud.clock.now();
    let mut stay = request("lk-algo", Some("3456"), now.plus(HOUR + 1800), 48);
    stay.window.ends_at = stay.window.ends_at.plus(600);
    let receipt = seam.create_code(OFFLINE, &stay).await.expect("created");
    assert_eq!(
        receipt.status,
        ReceiptStatus::Active,
        "computed by the lock"
    );
    assert_eq!(receipt.window.starts_at, now.plus(HOUR), "rounded down");
    assert_eq!(
        receipt.window.ends_at,
        now.plus(HOUR + 49 * HOUR),
        "rounded up"
    );
    let pin = receipt.pin.as_str().to_owned();
    assert_ne!(pin, "3456", "the caller's PIN is not used");
    assert_eq!(pin.len(), 9);
    assert!(caps.pin.check(&pin).is_ok(), "{pin}");
    assert!(cloud.fake.opens(OFFLINE, &pin, now.plus(HOUR)));
    assert!(!cloud.fake.opens(OFFLINE, &pin, now.plus(HOUR - 1)));

    let code = seam
        .access_code(&receipt.reference)
        .await
        .expect("get")
        .expect("exists");
    assert!(code.is_offline_access_code);
    assert!(
        code.warnings
            .iter()
            .any(|w| w.code == "igloo_algopin_must_be_used_within_24_hours"),
        "{:?}",
        code.warnings
    );

    let err = seam
        .update_code(OFFLINE, &receipt.reference, &stay)
        .await
        .expect_err("no update");
    assert!(matches!(err, ProviderError::Unsupported(_)), "{err:?}");
    let err = seam
        .revoke_code(OFFLINE, &receipt.reference)
        .await
        .expect_err("no delete");
    assert!(matches!(err, ProviderError::Unsupported(_)), "{err:?}");
    assert!(
        cloud.fake.opens(OFFLINE, &pin, now.plus(2 * HOUR)),
        "still valid"
    );

    // Two codes get two PINs.
    let other = seam
        .create_code(OFFLINE, &request("lk-algo-2", None, now.plus(HOUR), 4))
        .await
        .expect("created");
    assert_ne!(other.pin, receipt.pin);
    assert_eq!(
        seam.find_code(OFFLINE, "lk-algo-2")
            .await
            .expect("find")
            .map(|r| r.reference),
        Some(other.reference)
    );
}

#[tokio::test]
async fn seams_rules_are_enforced_and_mapped() {
    let cloud = cloud().await;
    let seam = client(&cloud).await;
    let now = cloud.clock.now();

    for pin in ["3405", "1234", "345", "345678901", "34a6"] {
        let err = seam
            .create_code(ONLINE, &request("lk-bad", Some(pin), now, 24))
            .await
            .expect_err("a PIN the lock refuses");
        assert!(
            matches!(err, ProviderError::Rejected(ref m) if m.contains("invalid_input")),
            "{pin}: {err:?}"
        );
    }
    let err = seam
        .create_code(
            ONLINE,
            &request("lk-a-very-long-marker-name", Some("3456"), now, 24),
        )
        .await
        .expect_err("name over 20 characters");
    assert!(matches!(err, ProviderError::Rejected(_)), "{err:?}");
    let mut past = request("lk-past", Some("3456"), now.plus(-48 * HOUR), 24);
    past.window.ends_at = now.plus(-HOUR);
    let err = seam
        .create_code(ONLINE, &past)
        .await
        .expect_err("ends in the past");
    assert!(
        matches!(err, ProviderError::Rejected(ref m) if m.contains("future")),
        "{err:?}"
    );

    seam.create_code(ONLINE, &request("lk-a", Some("5678"), now, 24))
        .await
        .expect("created");
    let err = seam
        .create_code(ONLINE, &request("lk-b", Some("5678"), now, 24))
        .await
        .expect_err("duplicate on the device");
    assert_eq!(err, ProviderError::PinConflict);
    assert_eq!(
        seam.find_code(ONLINE, "lk-b").await.expect("find"),
        None,
        "the failed code is not found by its marker"
    );
    // Another PIN under the same marker, as the reconciler retries after a conflict.
    let retried = seam
        .create_code(ONLINE, &request("lk-b", Some("6789"), now, 24))
        .await
        .expect("created with another PIN");
    assert_eq!(
        seam.find_code(ONLINE, "lk-b")
            .await
            .expect("find")
            .map(|r| r.reference),
        Some(retried.reference.clone())
    );
    // An update onto a PIN in use is refused too.
    let err = seam
        .update_code(
            ONLINE,
            &retried.reference,
            &request("lk-b", Some("5678"), now, 24),
        )
        .await
        .expect_err("duplicate");
    assert_eq!(err, ProviderError::PinConflict);

    seam.create_code(SMALL, &request("lk-c", Some("3456"), now, 24))
        .await
        .expect("the only slot");
    let err = seam
        .create_code(SMALL, &request("lk-d", Some("4567"), now, 24))
        .await
        .expect_err("full");
    assert!(
        matches!(err, ProviderError::Rejected(ref m) if m.contains("no_space")),
        "{err:?}"
    );
    assert_eq!(seam.find_code(SMALL, "lk-d").await.expect("find"), None);

    let err = seam
        .read_code(ONLINE, "no-such-code")
        .await
        .expect("a missing code reads as none");
    assert_eq!(err, None);
    let err = seam
        .lock_status("no-such-device")
        .await
        .expect_err("unknown device");
    assert!(matches!(err, ProviderError::NotFound(_)), "{err:?}");
    assert!(seam.capabilities("no-such-device").is_none());
}

#[tokio::test]
async fn each_device_is_rate_limited_as_seam_documents() {
    let cloud = cloud().await;
    let seam = client(&cloud).await;
    let now = cloud.clock.now();
    let mut references = Vec::new();
    for i in 0..10 {
        let pin = format!("3{}{}6", 4 + i % 5, 5 + i / 5);
        let r = seam
            .create_code(ONLINE, &request(&format!("lk-r{i}"), Some(&pin), now, 24))
            .await
            .expect("within the limit");
        references.push(r.reference);
    }
    cloud.clock.advance_to(now.plus(15));
    let err = seam
        .create_code(ONLINE, &request("lk-r10", Some("4999"), now, 24))
        .await
        .expect_err("the 11th creation in a minute");
    assert_eq!(err, ProviderError::RateLimited(45));
    seam.create_code(OFFLINE, &request("lk-other", None, now.plus(HOUR), 2))
        .await
        .expect("another device has its own limit");
    cloud.clock.advance_to(now.plus(61));
    seam.create_code(ONLINE, &request("lk-r10", Some("4999"), now, 24))
        .await
        .expect("a minute later");

    // Deletions: 20 a minute.
    for r in &references {
        seam.revoke_code(ONLINE, r).await.expect("within 20");
    }
    let unlock_now = cloud.clock.now();
    for _ in 0..15 {
        seam.unlock(ONLINE).await.expect("within 15");
    }
    let err = seam.unlock(ONLINE).await.expect_err("16th unlock");
    assert_eq!(err, ProviderError::RateLimited(60));
    cloud.clock.advance_to(unlock_now.plus(60));
    seam.unlock(ONLINE).await.expect("a minute later");
}

#[tokio::test]
async fn injected_faults_become_the_right_errors() {
    let cloud = cloud().await;
    let seam = client(&cloud).await;
    let now = cloud.clock.now();
    let faults = cloud.fake.faults();

    faults.fail_next(1, StatusCode::TOO_MANY_REQUESTS, Some(30));
    let err = seam
        .create_code(ONLINE, &request("lk-f", Some("5678"), now, 24))
        .await
        .expect_err("429");
    assert_eq!(err, ProviderError::RateLimited(30));

    faults.fail_next(1, StatusCode::SERVICE_UNAVAILABLE, Some(12));
    let err = seam.lock_status(ONLINE).await.expect_err("503");
    assert_eq!(err, ProviderError::RateLimited(12));

    faults.fail_next(1, StatusCode::INTERNAL_SERVER_ERROR, None);
    let err = seam
        .create_code(ONLINE, &request("lk-f", Some("5678"), now, 24))
        .await
        .expect_err("500");
    assert!(
        matches!(err, ProviderError::Unavailable(_)) && err.is_retryable(),
        "{err:?}"
    );
    assert_eq!(
        seam.find_code(ONLINE, "lk-f").await.expect("find"),
        None,
        "failed calls changed nothing"
    );

    // A slow answer times the client out after the change took effect: the marker finds it.
    let impatient = Seam::connect(&settings(&cloud.base_url, Duration::from_millis(300)), KEY)
        .await
        .expect("connects");
    faults.set_delay(Duration::from_millis(800));
    let err = impatient
        .create_code(ONLINE, &request("lk-lost", Some("6789"), now, 24))
        .await
        .expect_err("timeout");
    assert_eq!(err, ProviderError::Timeout);
    faults.set_delay(Duration::ZERO);
    cloud.clock.advance_to(now.plus(10));
    let found = seam
        .find_code(ONLINE, "lk-lost")
        .await
        .expect("find")
        .expect("the lost call took effect");
    assert_eq!(found.status, ReceiptStatus::Active);
    assert_eq!(found.pin.as_str(), "6789");

    let stranger = Seam::connect(
        &settings(&cloud.base_url, Duration::from_secs(5)),
        "seam_wrong",
    )
    .await;
    assert!(
        matches!(stranger, Err(ProviderError::Unavailable(ref m)) if m.contains("401")),
        "{stranger:?}"
    );
    assert!(
        !format!("{seam:?}").contains(KEY),
        "the API key is never shown"
    );
}

#[tokio::test]
async fn slow_confirmation_and_an_offline_lock_keep_codes_pending() {
    let cloud = cloud().await;
    let seam = client(&cloud).await;
    let now = cloud.clock.now();

    cloud.fake.set_confirm_secs(900);
    let slow = seam
        .create_code(ONLINE, &request("lk-slow", Some("7891"), now, 24))
        .await
        .expect("created");
    cloud.clock.advance_to(now.plus(600));
    let code = seam
        .access_code(&slow.reference)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(code.status, "setting");
    assert!(
        code.warnings
            .iter()
            .any(|w| w.code == "delay_in_setting_on_device"),
        "{:?}",
        code.warnings
    );
    assert_eq!(
        seam.read_code(ONLINE, &slow.reference)
            .await
            .expect("read")
            .map(|r| r.status),
        Some(ReceiptStatus::Pending)
    );
    cloud.clock.advance_to(now.plus(900));
    assert_eq!(
        seam.read_code(ONLINE, &slow.reference)
            .await
            .expect("read")
            .map(|r| r.status),
        Some(ReceiptStatus::Active)
    );
    cloud.fake.set_confirm_secs(5);

    let t = cloud.clock.now();
    cloud.fake.set_online(ONLINE, false);
    let receipt = seam
        .create_code(ONLINE, &request("lk-off", Some("8912"), t, 24))
        .await
        .expect("accepted by Seam");
    assert_eq!(receipt.status, ReceiptStatus::Pending);
    cloud.clock.advance_to(t.plus(HOUR));
    let code = seam
        .access_code(&receipt.reference)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(code.status, "unset");
    assert!(
        code.errors.iter().any(|e| e.code == "device_offline"),
        "{:?}",
        code.errors
    );
    assert_eq!(
        seam.read_code(ONLINE, &receipt.reference)
            .await
            .expect("an offline lock only delays the code")
            .map(|r| r.status),
        Some(ReceiptStatus::Pending)
    );
    assert!(!cloud.fake.opens(ONLINE, "8912", t.plus(1800)));
    assert!(
        !seam.lock_status(ONLINE).await.expect("status").online,
        "reported offline"
    );

    cloud.fake.set_online(ONLINE, true);
    assert_eq!(
        seam.read_code(ONLINE, &receipt.reference)
            .await
            .expect("read")
            .map(|r| r.status),
        Some(ReceiptStatus::Active)
    );
    assert!(cloud.fake.opens(ONLINE, "8912", t.plus(HOUR)));
    assert!(
        !cloud.fake.opens(ONLINE, "8912", t.plus(HOUR - 1)),
        "arrived only when the lock was back"
    );
}

#[tokio::test]
async fn status_and_battery_are_normalised() {
    let cloud = cloud().await;
    let seam = client(&cloud).await;
    let mut locks = seam.list_locks().await.expect("listed");
    locks.sort_by(|a, b| a.device.cmp(&b.device));
    assert_eq!(
        locks.iter().map(|l| l.device.as_str()).collect::<Vec<_>>(),
        vec![ONLINE, OFFLINE, SMALL]
    );
    assert_eq!(locks[0].name, format!("Seam door {ONLINE}"));
    let mut devices = cloud.fake.devices();
    devices.sort();
    assert_eq!(devices, vec![ONLINE, OFFLINE, SMALL]);

    let s = seam.lock_status(ONLINE).await.expect("status");
    assert!(s.online);
    assert_eq!(
        (s.battery_percent, s.battery),
        (Some(80), Some(BatteryLevel::Ok))
    );
    cloud.fake.set_battery(ONLINE, 20);
    let s = seam.lock_status(ONLINE).await.expect("status");
    assert_eq!(
        (s.battery_percent, s.battery),
        (Some(20), Some(BatteryLevel::Low))
    );
    cloud.fake.set_battery(ONLINE, 4);
    cloud.fake.set_online(ONLINE, false);
    let s = seam.lock_status(ONLINE).await.expect("status");
    assert!(!s.online);
    assert_eq!(
        (s.battery_percent, s.battery),
        (Some(4), Some(BatteryLevel::Critical))
    );
}

#[tokio::test]
async fn the_activity_log_names_the_code_used() {
    let cloud = cloud().await;
    let seam = client(&cloud).await;
    let now = cloud.clock.now();
    let receipt = seam
        .create_code(ONLINE, &request("lk-guest", Some("9123"), now, 24))
        .await
        .expect("created");
    cloud.clock.advance_to(now.plus(60));
    assert!(cloud.fake.enter_pin(ONLINE, "9123"), "the guest gets in");
    cloud.clock.advance_to(now.plus(120));
    assert!(!cloud.fake.enter_pin(ONLINE, "9999"), "a wrong PIN");
    cloud.clock.advance_to(now.plus(180));
    seam.unlock(ONLINE).await.expect("remote unlock");

    let log = seam.activity(ONLINE, now).await.expect("activity");
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(
        (log[0].at, log[0].action, log[0].method),
        (now.plus(60), LockAction::Unlock, AccessMethod::Keypad)
    );
    assert_eq!(
        log[0].code_reference.as_deref(),
        Some(receipt.reference.as_str())
    );
    assert_eq!(log[0].code_name.as_deref(), Some("lk-guest"));
    assert_eq!(
        (log[1].at, log[1].action),
        (now.plus(120), LockAction::Denied)
    );
    assert_eq!(log[1].code_name, None);
    assert_eq!(
        (log[2].action, log[2].method),
        (LockAction::Unlock, AccessMethod::Remote)
    );
    let later = seam
        .activity(ONLINE, now.plus(100))
        .await
        .expect("activity");
    assert_eq!(later.len(), 2, "from `since` on");

    // A fresh client (no names remembered) looks the code's name up.
    let fresh = client(&cloud).await;
    let log = fresh.activity(ONLINE, now).await.expect("activity");
    assert_eq!(log[0].code_name.as_deref(), Some("lk-guest"));

    // An offline lock reports what happened once it is back.
    let algo = seam
        .create_code(OFFLINE, &request("lk-algo", None, now, 4))
        .await
        .expect("created");
    cloud.fake.set_online(OFFLINE, false);
    cloud.clock.advance_to(now.plus(240));
    assert!(cloud.fake.enter_pin(OFFLINE, algo.pin.as_str()));
    assert!(
        seam.activity(OFFLINE, now)
            .await
            .expect("activity")
            .is_empty()
    );
    cloud.fake.set_online(OFFLINE, true);
    let log = seam.activity(OFFLINE, now).await.expect("activity");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].at, now.plus(240));
    assert_eq!(log[0].code_name.as_deref(), Some("lk-algo"));
}

#[tokio::test]
async fn remote_unlock_follows_the_action_attempt() {
    let cloud = cloud().await;
    let seam = client(&cloud).await;
    seam.unlock(ONLINE).await.expect("unlocked");
    let err = seam.unlock(OFFLINE).await.expect_err("no remote unlock");
    assert!(matches!(err, ProviderError::Unsupported(_)), "{err:?}");
    cloud.fake.set_online(ONLINE, false);
    let err = seam.unlock(ONLINE).await.expect_err("offline");
    assert!(
        matches!(err, ProviderError::Unavailable(ref m) if m.contains("device_offline")),
        "{err:?}"
    );
    let polls = cloud
        .fake
        .recorded()
        .iter()
        .filter(|r| r.route == "/action_attempts/get")
        .count();
    assert!(polls >= 2, "each unlock polled its attempt ({polls})");
}

#[tokio::test]
async fn requests_are_authenticated_json_posts_with_iso_times() {
    let cloud = cloud().await;
    let seam = client(&cloud).await;
    let now = cloud.clock.now();
    let r = seam
        .create_code(ONLINE, &request("lk-json", Some("3456"), now, 24))
        .await
        .expect("created");
    seam.create_code(OFFLINE, &request("lk-json-2", None, now.plus(HOUR), 3))
        .await
        .expect("created");
    cloud.clock.advance_to(now.plus(10));
    seam.update_code(ONLINE, &r.reference, &request("lk-json", None, now, 30))
        .await
        .expect("updated");
    seam.revoke_code(ONLINE, &r.reference)
        .await
        .expect("revoked");
    seam.activity(ONLINE, now).await.expect("activity");
    seam.lock_status(ONLINE).await.expect("status");

    let recorded = cloud.fake.recorded();
    assert!(recorded.len() >= 8, "{}", recorded.len());
    for r in &recorded {
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/json"),
            "{}",
            r.route
        );
        assert!(r.body.is_object(), "{}: {}", r.route, r.body);
        assert_eq!(r.status, 200, "{}: {:?}", r.route, r.answer);
        assert_eq!(
            r.answer.as_ref().map(|a| &a["ok"]),
            Some(&serde_json::json!(true))
        );
    }
    let creates: Vec<_> = recorded
        .iter()
        .filter(|r| r.route == "/access_codes/create")
        .collect();
    assert_eq!(creates.len(), 2);
    let online = &creates[0].body;
    assert_eq!(online["device_id"], ONLINE);
    assert_eq!(online["name"], "lk-json");
    assert_eq!(online["code"], "3456");
    assert_eq!(online["starts_at"], "2026-11-22T10:00:00Z");
    assert_eq!(online["ends_at"], "2026-11-23T10:00:00Z");
    assert!(online.get("is_offline_access_code").is_none());
    let offline = &creates[1].body;
    assert_eq!(offline["is_offline_access_code"], true);
    assert_eq!(offline["max_time_rounding"], "1h");
    assert!(offline.get("code").is_none(), "offline PINs are generated");
    let update = recorded
        .iter()
        .find(|r| r.route == "/access_codes/update")
        .expect("an update");
    assert!(
        update.body.get("code").is_none(),
        "no PIN given, none sent: {}",
        update.body
    );
    let events = recorded
        .iter()
        .find(|r| r.route == "/events/list")
        .expect("events");
    assert_eq!(events.body["since"], "2026-11-22T10:00:00Z");
    assert_eq!(
        events.body["event_types"],
        serde_json::json!(["lock.unlocked", "lock.locked", "lock.access_denied"])
    );
}

#[tokio::test]
async fn the_replay_account_mixes_online_and_offline_locks() {
    let clock = SimClock::new(at("2026-11-22T10:00:00Z"));
    let (fake, seam) = start(4, Arc::new(clock.clone())).await.expect("started");
    let devices = fake.devices();
    assert_eq!(devices.len(), 4);
    let kinds: Vec<_> = devices
        .iter()
        .map(|d| seam.capabilities(d).expect("codes").connectivity)
        .collect();
    assert_eq!(
        kinds,
        vec![
            Connectivity::Online,
            Connectivity::Offline,
            Connectivity::Online,
            Connectivity::Offline
        ]
    );
    let now = clock.now();
    let r = seam
        .create_code(&devices[1], &request("lk-replay", None, now, 3))
        .await
        .expect("created");
    assert!(fake.opens(&devices[1], r.pin.as_str(), now.plus(60)));
}

/// The whole service with a Seam lock on room 101's door: a paid stay's PIN reaches the
/// lock through the reconciler and the durable jobs, is confirmed by reading back, and is
/// revoked on cancellation. The reconciler sees only the lock's capabilities.
#[tokio::test]
async fn a_stay_gets_and_loses_its_pin_on_a_seam_lock_through_the_service() {
    let clock = SimClock::new(at("2026-11-22T10:00:00Z"));
    let cloud = cloud_on(clock.clone()).await;
    let seam: Arc<dyn Provider> = Arc::new(client(&cloud).await);
    let keypad = room_101_door("room-101-keypad", "seam", ONLINE);
    let app = TestApp::spawn_with(
        clock.clone(),
        None,
        |file| file.locks.push(keypad),
        vec![("seam", seam)],
    )
    .await;

    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.advance_to(clock.now().plus(600)).await;
    let (pin, state) = app
        .code_on("R-1", "room-101-keypad")
        .await
        .expect("a code on the lock");
    assert_eq!(state, "active", "confirmed by reading it back");
    assert!(
        cloud.fake.opens(ONLINE, &pin, at("2026-11-23T14:30:00Z")),
        "open from an hour before check-in"
    );
    assert!(
        !cloud.fake.opens(ONLINE, &pin, at("2026-11-25T11:30:00Z")),
        "closed after check-out"
    );

    let cancelled = cancelled_stay();
    assert_eq!(app.send(&cancelled).await.status, StatusCode::ACCEPTED);
    app.advance_to(clock.now().plus(600)).await;
    assert!(
        !cloud.fake.opens(ONLINE, &pin, at("2026-11-23T16:00:00Z")),
        "revoked on the lock"
    );
}
