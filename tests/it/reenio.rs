//! The `reenio` webhook form through the service: reenio's wake-ups (ids only) answered
//! `200 REENIO`, stored, and turned into codes from the reservation fetched from the
//! reenio contract fake over loopback. The client's contract and the replay through
//! reenio are in `reenio_api.rs`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use latchkey_engine::clock::{Clock, SimClock};
use latchkey_providers::credentials::Secret;
use latchkey_service::catalog::CatalogFile;
use latchkey_sim::reenio::ReenioFake;
use latchkey_sources::reenio::wire::{CustomerDetail, CustomerRef, ReservationDetail};
use latchkey_store::reenio::{self as deliveries, DeliveryState};
use serde_json::Value;

use crate::harness::{TestApp, at, reply_of};

/// The example hotel's published test secret for the `reenio` source.
const SECRET: &str = "reenio-test-secret-7Qm2vX9pL4";
pub(crate) const API_KEY: &str = "reenio-api-key-for-tests";

/// reenio's reservation 4410: place 1 (room 101), 2026-11-23 15:00 to 11-25 11:00 UTC.
pub(crate) const RESERVATION: i64 = 4410;
const ID: &str = "reenio-4410";

struct Reenio {
    t: TestApp,
    fake: ReenioFake,
}

/// What the service answered, with the body as text (reenio reads `REENIO`).
struct Answer {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    fn assert_acknowledged(&self) {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text);
        assert!(
            self.content_type.starts_with("text/plain"),
            "{}",
            self.content_type
        );
        assert_eq!(self.text, "REENIO");
    }

    fn assert_problem(&self, status: StatusCode, pointer: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.content_type, "application/problem+json");
        if let Some(pointer) = pointer {
            assert_eq!(self.json()["pointer"], pointer, "{}", self.text);
        }
    }
}

impl Reenio {
    async fn spawn() -> Reenio {
        Reenio::spawn_with(|_| {}).await
    }

    /// The example hotel on 2026-11-22 10:00 UTC, with its property edited by `edit` and
    /// its reenio source connected to a fresh fake.
    async fn spawn_with(edit: impl FnOnce(&mut CatalogFile)) -> Reenio {
        let clock = SimClock::new(at("2026-11-22T10:00:00Z"));
        let t = TestApp::spawn_with(clock, None, edit, Vec::new()).await;
        let fake = ReenioFake::new(API_KEY, Arc::new(t.clock.clone()));
        let client = fake.serve(true).await.expect("fake served");
        let installed = t
            .app
            .catalog
            .source("reenio")
            .and_then(|s| s.reenio.as_ref())
            .expect("the example declares a reenio source")
            .api
            .install(client);
        assert!(installed);
        Reenio { t, fake }
    }

    async fn post(&self, body: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request =
            Request::post("/v1/hooks/reenio").header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let reply = reply_of(
            &self.t.router,
            request.body(Body::from(body.to_owned())).expect("request"),
        )
        .await;
        Answer {
            status: reply.status,
            content_type: reply.content_type,
            text: reply.text,
        }
    }

    /// Posts `triggerType` for the test reservation with the secret, as reenio would.
    async fn trigger(&self, trigger: u32) -> Answer {
        let body =
            format!(r#"{{"triggerType":{trigger},"customerId":31,"reservationId":{RESERVATION}}}"#);
        self.post(&body, &[("x-latchkey-token", SECRET)]).await
    }

    /// Puts the test reservation in the fake in `state`, paid or not, with its customer.
    fn reenio_has(&self, state: i32, is_paid: bool) {
        put_stay(&self.fake, state, is_paid);
    }

    async fn count(&self, state: DeliveryState) -> i64 {
        let mut conn = self.t.app.pool.acquire().await.expect("connection");
        deliveries::count(&mut conn, &self.t.app.catalog.workspace, "reenio", state)
            .await
            .expect("count")
    }

    async fn stored(&self) -> i64 {
        let mut total = 0;
        for state in [
            DeliveryState::Pending,
            DeliveryState::Fetched,
            DeliveryState::Ignored,
            DeliveryState::Unconfirmed,
            DeliveryState::Gone,
        ] {
            total += self.count(state).await;
        }
        total
    }

    /// The reservation as the API shows it, or `None` before the first fetch.
    async fn reservation(&self) -> Option<Value> {
        let reply = self.t.get(&format!("/v1/reservations/{ID}")).await;
        (reply.status == StatusCode::OK).then_some(reply.body)
    }
}

/// Puts the test reservation in `fake` in `state`, paid or not, with its customer.
pub(crate) fn put_stay(fake: &ReenioFake, state: i32, is_paid: bool) {
    fake.put_reservation(ReservationDetail {
        id: RESERVATION,
        name: Some("Double room".into()),
        service_id: Some(9),
        place_id: Some(1),
        employee_id: None,
        start: at("2026-11-23T15:00:00Z"),
        end: at("2026-11-25T11:00:00Z"),
        code: Some("R4410".into()),
        state,
        is_paid,
        capacity: Some(2),
        customer: Some(CustomerRef {
            id: 31,
            name: Some("Ana Silva".into()),
        }),
    });
    fake.put_customer(CustomerDetail {
        id: 31,
        name: Some("Ana Silva".into()),
        email: Some("ana@example.com".into()),
        phone: Some("+351912345678".into()),
    });
}

#[tokio::test]
async fn the_setup_probe_is_answered_without_the_secret_and_leaves_no_trace() {
    let r = Reenio::spawn().await;
    r.post("{}", &[]).await.assert_acknowledged();
    r.post("{}", &[("x-latchkey-token", "wrong")])
        .await
        .assert_acknowledged();
    assert_eq!(r.stored().await, 0);
    assert_eq!(r.t.queued_jobs().await, ["forecast_capacity"]);
}

#[tokio::test]
async fn a_missing_or_wrong_secret_is_refused_and_both_rotation_secrets_work() {
    let new_secret = "reenio-rotated-secret-Zr81kQ";
    let r = Reenio::spawn_with(|file| {
        let source = file
            .sources
            .iter_mut()
            .find(|s| s.name == "reenio")
            .expect("source");
        let settings = source.reenio.as_mut().expect("settings");
        settings.secrets.push(Secret::new(new_secret));
    })
    .await;
    r.reenio_has(1, true);
    let body = format!(r#"{{"triggerType":7,"customerId":31,"reservationId":{RESERVATION}}}"#);
    r.post(&body, &[])
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, None);
    r.post(
        &body,
        &[("x-latchkey-token", "reenio-test-secret-7Qm2vX9pL5")],
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, None);
    r.post(&body, &[("x-latchkey-token", SECRET)])
        .await
        .assert_acknowledged();
    let other = format!(r#"{{"triggerType":3,"customerId":31,"reservationId":{RESERVATION}}}"#);
    r.post(&other, &[("x-latchkey-token", new_secret)])
        .await
        .assert_acknowledged();
    assert_eq!(
        r.stored().await,
        2,
        "only the authenticated deliveries are stored"
    );
}

#[tokio::test]
async fn a_paid_trigger_puts_codes_on_the_locks_from_the_fetched_state() {
    let r = Reenio::spawn().await;
    r.reenio_has(1, true);
    r.trigger(7).await.assert_acknowledged();
    assert_eq!(r.fake.requests(), 0, "no API call before the answer");
    assert!(
        r.reservation().await.is_none(),
        "nothing planned before the fetch"
    );

    r.t.run_jobs().await;
    assert_eq!(r.fake.requests(), 2, "the reservation and its customer");
    let view = r.reservation().await.expect("fetched");
    assert_eq!(view["reservation"]["status"], "paid");
    assert_eq!(view["reservation"]["resources"][0], "101");
    assert_eq!(view["reservation"]["guest"]["email"], "ana@example.com");
    assert_eq!(view["events"][0]["event_type"], "reservation.paid");
    assert_eq!(r.count(DeliveryState::Fetched).await, 1);

    r.t.advance_to(at("2026-11-23T14:30:00Z")).await;
    let (pin, state) =
        r.t.code_on(ID, "room-101")
            .await
            .expect("a code on room 101");
    assert_eq!(state, "active");
    assert!(
        r.t.simulator
            .opens("room-101", &pin, at("2026-11-23T14:30:00Z"))
    );
}

#[tokio::test]
async fn a_cancellation_trigger_revokes_the_codes() {
    let r = Reenio::spawn().await;
    r.reenio_has(1, true);
    r.trigger(7).await.assert_acknowledged();
    r.t.advance_to(at("2026-11-23T14:30:00Z")).await;
    let (pin, _) = r.t.code_on(ID, "room-101").await.expect("a code");

    r.reenio_has(4, true);
    r.trigger(9).await.assert_acknowledged();
    r.t.advance_to(at("2026-11-23T15:00:00Z")).await;
    let view = r.reservation().await.expect("on record");
    assert_eq!(view["reservation"]["status"], "cancelled");
    assert_eq!(
        r.t.code_on(ID, "room-101").await.expect("code").1,
        "revoked"
    );
    assert!(
        !r.t.simulator
            .opens("room-101", &pin, at("2026-11-23T15:00:00Z"))
    );
}

#[tokio::test]
async fn triggers_out_of_order_plan_from_the_state_fetched_not_the_trigger() {
    let r = Reenio::spawn().await;
    // Paid, then cancelled in reenio; the cancellation's trigger comes first and the
    // payment's late. Both fetch the cancelled reservation.
    r.reenio_has(4, true);
    r.trigger(9).await.assert_acknowledged();
    r.t.run_jobs().await;
    r.trigger(7).await.assert_acknowledged();
    r.t.advance_to(at("2026-11-23T16:00:00Z")).await;
    let view = r.reservation().await.expect("on record");
    assert_eq!(view["reservation"]["status"], "cancelled");
    assert_eq!(
        view["reservation"]["version"], 1,
        "the late trigger changed nothing"
    );
    let outcomes: Vec<&str> = view["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert_eq!(outcomes, ["applied", "stale"]);
    assert!(view["codes"].as_array().expect("codes").is_empty());
}

#[tokio::test]
async fn a_retried_delivery_is_stored_once_within_the_window() {
    let r = Reenio::spawn().await;
    r.reenio_has(1, true);
    r.trigger(7).await.assert_acknowledged();
    r.trigger(7).await.assert_acknowledged();
    assert_eq!(r.stored().await, 1);
    r.t.run_jobs().await;
    assert_eq!(r.fake.requests(), 2, "one fetch");

    r.t.advance_to(r.t.clock.now().plus(301)).await;
    r.trigger(7).await.assert_acknowledged();
    assert_eq!(r.stored().await, 2, "after the window it is a new delivery");
}

#[tokio::test]
async fn a_rate_limited_fetch_waits_for_retry_after_and_then_lands() {
    let r = Reenio::spawn().await;
    r.reenio_has(1, true);
    r.fake
        .faults()
        .fail_next(1, StatusCode::TOO_MANY_REQUESTS, Some(45));
    r.trigger(7).await.assert_acknowledged();
    r.t.run_jobs().await;
    assert!(
        r.reservation().await.is_none(),
        "refused by reenio, not yet fetched"
    );
    let next =
        r.t.app
            .next_job_at()
            .await
            .expect("jobs")
            .expect("the fetch is queued");
    assert!(
        next.unix() >= r.t.clock.now().unix() + 45,
        "Retry-After honoured"
    );
    r.t.advance_to(next).await;
    assert_eq!(
        r.reservation().await.expect("fetched")["reservation"]["status"],
        "paid"
    );
    assert_eq!(r.count(DeliveryState::Pending).await, 0);
}

#[tokio::test]
async fn a_delivery_stored_before_a_restart_is_fetched_after_it() {
    let r = Reenio::spawn().await;
    r.reenio_has(1, true);
    r.trigger(7).await.assert_acknowledged();
    let Reenio { t, fake } = r;
    let r = Reenio {
        t: t.restart().await,
        fake,
    };
    r.t.run_jobs().await;
    assert_eq!(
        r.reservation().await.expect("fetched")["reservation"]["status"],
        "paid"
    );
}

#[tokio::test]
async fn hooks_map_triggers_and_ignored_triggers_are_kept_without_a_fetch() {
    let r = Reenio::spawn().await;
    r.reenio_has(2, true);
    // The example's `starts-2h` hook ignores triggerType 1 (end of term).
    let body = format!(r#"{{"triggerType":1,"customerId":31,"reservationId":{RESERVATION}}}"#);
    r.post(
        &body,
        &[
            ("x-latchkey-token", SECRET),
            ("x-latchkey-hook", "starts-2h"),
        ],
    )
    .await
    .assert_acknowledged();
    // Customer registration carries no reservation and is only kept.
    r.post(
        r#"{"triggerType":5,"customerId":31}"#,
        &[("x-latchkey-token", SECRET)],
    )
    .await
    .assert_acknowledged();
    assert_eq!(r.count(DeliveryState::Ignored).await, 2);
    assert_eq!(
        r.t.queued_jobs().await,
        ["forecast_capacity"],
        "nothing to fetch"
    );
    r.post(
        &body,
        &[
            ("x-latchkey-token", SECRET),
            ("x-latchkey-hook", "starts-3h"),
        ],
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, None);
    // On the default hook, 1 (end of term) is a check-out, planned from the fetch.
    r.post(&body, &[("x-latchkey-token", SECRET)])
        .await
        .assert_acknowledged();
    r.t.run_jobs().await;
    let view = r.reservation().await.expect("fetched");
    assert_eq!(view["reservation"]["status"], "checked_out");
    assert_eq!(view["events"][0]["event_type"], "reservation.checked_out");
}

#[tokio::test]
async fn a_reservation_reenio_no_longer_knows_is_taken_as_cancelled() {
    let r = Reenio::spawn().await;
    r.reenio_has(1, true);
    r.trigger(7).await.assert_acknowledged();
    r.t.advance_to(at("2026-11-23T14:30:00Z")).await;
    assert_eq!(r.t.code_on(ID, "room-101").await.expect("code").1, "active");
    r.fake.remove_reservation(RESERVATION);
    r.trigger(3).await.assert_acknowledged();
    r.t.advance_to(at("2026-11-23T15:00:00Z")).await;
    assert_eq!(
        r.reservation().await.expect("on record")["reservation"]["status"],
        "cancelled"
    );
    assert_eq!(
        r.t.code_on(ID, "room-101").await.expect("code").1,
        "revoked"
    );
}

#[tokio::test]
async fn bad_deliveries_are_refused_with_problem_json_and_lose_nothing() {
    let r = Reenio::spawn().await;
    r.reenio_has(1, true);
    r.trigger(7).await.assert_acknowledged();
    let auth = [("x-latchkey-token", SECRET)];
    r.post(
        r#"{"triggerType":"seven","customerId":31,"reservationId":4410}"#,
        &auth,
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("/triggerType"));
    r.post(
        r#"{"triggerType":7,"customerId":31,"reservationId":"4410"}"#,
        &auth,
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("/reservationId"));
    r.post(r#"{"triggerType":7,"customerId":31}"#, &auth)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("/reservationId"));
    r.post(r#"{"customerId":31,"reservationId":4410}"#, &auth)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some(""));
    r.post("triggerType=7", &auth)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some(""));
    let oversized = format!(
        r#"{{"triggerType":7,"reservationId":4410,"pad":"{}"}}"#,
        "x".repeat(300 * 1024)
    );
    r.post(&oversized, &auth)
        .await
        .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, None);
    let form = Request::post("/v1/hooks/reenio")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-latchkey-token", SECRET)
        .body(Body::from("triggerType=7&reservationId=4410"))
        .expect("request");
    let reply = r.t.request(form).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(reply.content_type, "application/problem+json");

    assert_eq!(r.stored().await, 1, "only the good delivery");
    r.t.run_jobs().await;
    assert_eq!(
        r.reservation().await.expect("kept")["reservation"]["status"],
        "paid"
    );
}
