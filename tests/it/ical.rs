//! The iCal form through the service: a feed served on loopback, polled by the durable
//! job; a date change keeps the UID and moves the window; one empty or failed fetch
//! revokes nothing, two do; a UID missing from two good fetches is cancelled.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use latchkey_engine::Timestamp;
use latchkey_engine::clock::Clock;
use serde_json::json;

use crate::harness::{TestApp, at, source};

const NOW: &str = "2026-11-22T10:00:00Z";
const UID_A: &str = "1418fb94e984-7b2b1d1c4bd3a3a5e7c1e0b3a9d8f6c2@airbnb.com";
const UID_B: &str = "5c0d2e7a9b1f-44c1a0e3f2b7d9c8e6a5b4c3d2e1f0a9b8@airbnb.com";

/// What the fake Airbnb answers: a status and a calendar.
#[derive(Clone)]
struct Feed(Arc<Mutex<(StatusCode, String)>>);

impl Feed {
    fn set(&self, status: StatusCode, body: String) {
        *self.0.lock().expect("feed") = (status, body);
    }
}

async fn serve_feed(initial: String) -> (Feed, String) {
    let feed = Feed(Arc::new(Mutex::new((StatusCode::OK, initial))));
    let app = Router::new()
        .route(
            "/calendar/ical/51234567.ics",
            get(|State(f): State<Feed>| async move {
                let (status, body) = f.0.lock().expect("feed").clone();
                (
                    status,
                    [("content-type", "text/calendar; charset=utf-8")],
                    body,
                )
            }),
        )
        .with_state(feed.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (
        feed,
        format!("http://{addr}/calendar/ical/51234567.ics?s=8f2c1e0d9b7a"),
    )
}

fn event(uid: &str, start: &str, end: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nDTEND;VALUE=DATE:{end}\r\nDTSTART;VALUE=DATE:{start}\r\nUID:{uid}\r\n\
         DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/HMQ4Z2XK8B\\n\
         Phone Number (Last 4 Digits): 4821\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\n"
    )
}

fn calendar(events: &[String]) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nPRODID;X-RICAL-TZSOURCE=TZINFO:-//Airbnb Inc//Hosting Calendar 0.8.8//EN\r\n\
         CALSCALE:GREGORIAN\r\nVERSION:2.0\r\n{}END:VCALENDAR\r\n",
        events.concat()
    )
}

async fn spawn(url: &str) -> TestApp {
    let app = TestApp::spawn_with(
        latchkey_engine::clock::SimClock::new(at(NOW)),
        None,
        |file| {
            file.sources.push(source(json!({
                "name": "airbnb", "form": "ical",
                "ical": { "url": url, "resource": "101" }
            })));
        },
        Vec::new(),
    )
    .await;
    latchkey_service::inbox::ical::schedule_all(&app.app)
        .await
        .expect("scheduled");
    app
}

/// Lets the clock reach the next poll (every 120 s), running every job on the way.
async fn next_poll(app: &TestApp) {
    let next = Timestamp(app.clock.now().unix() + 120);
    app.advance_to(next).await;
}

fn id(uid: &str) -> String {
    format!("airbnb:{uid}")
}

#[tokio::test]
async fn dates_move_with_the_uid_and_only_two_empty_fetches_revoke() {
    let (feed, url) = serve_feed(calendar(&[event(UID_A, "20261123", "20261125")])).await;
    let app = spawn(&url).await;
    app.run_jobs().await;
    let (pin, state) = app
        .code_on(&id(UID_A), "room-101")
        .await
        .expect("room code");
    assert_eq!(state, "active");
    // The property's 15:00 and 11:00 in Lisbon (UTC+0 in November), with the rule's margins.
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-23T14:00:00Z"))
    );
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2026-11-25T11:15:00Z"))
    );

    // Unchanged polls store nothing.
    next_poll(&app).await;
    assert_eq!(
        app.reservation(&id(UID_A)).await["events"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // The guest extends by a night: same UID, new DTEND.
    feed.set(
        StatusCode::OK,
        calendar(&[event(UID_A, "20261123", "20261126")]),
    );
    next_poll(&app).await;
    let view = app.reservation(&id(UID_A)).await;
    assert_eq!(view["reservation"]["version"], 2);
    let (pin, _) = app
        .code_on(&id(UID_A), "room-101")
        .await
        .expect("room code");
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-26T11:00:00Z")),
        "moved window"
    );

    // Airbnb answers an empty calendar once: nothing is revoked.
    feed.set(StatusCode::OK, calendar(&[]));
    next_poll(&app).await;
    assert_eq!(
        app.reservation(&id(UID_A)).await["reservation"]["status"],
        "paid"
    );
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-24T12:00:00Z"))
    );
    // Back to normal: the count starts again.
    feed.set(
        StatusCode::OK,
        calendar(&[event(UID_A, "20261123", "20261126")]),
    );
    next_poll(&app).await;
    // A 500 then an empty calendar: two misses in a row cancel.
    feed.set(StatusCode::INTERNAL_SERVER_ERROR, "oops".into());
    next_poll(&app).await;
    assert_eq!(
        app.reservation(&id(UID_A)).await["reservation"]["status"],
        "paid"
    );
    feed.set(StatusCode::OK, calendar(&[]));
    next_poll(&app).await;
    assert_eq!(
        app.reservation(&id(UID_A)).await["reservation"]["status"],
        "cancelled"
    );
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2026-11-24T12:00:00Z")),
        "revoked"
    );
}

#[tokio::test]
async fn a_uid_missing_from_two_good_fetches_is_cancelled_and_may_come_back() {
    let both = calendar(&[
        event(UID_A, "20261123", "20261125"),
        event(UID_B, "20261201", "20261204"),
    ]);
    let (feed, url) = serve_feed(both.clone()).await;
    let app = spawn(&url).await;
    app.run_jobs().await;
    assert!(app.code_on(&id(UID_A), "room-101").await.is_some());

    feed.set(
        StatusCode::OK,
        calendar(&[event(UID_B, "20261201", "20261204")]),
    );
    next_poll(&app).await;
    assert_eq!(
        app.reservation(&id(UID_A)).await["reservation"]["status"],
        "paid",
        "one miss"
    );
    next_poll(&app).await;
    assert_eq!(
        app.reservation(&id(UID_A)).await["reservation"]["status"],
        "cancelled"
    );
    assert_eq!(
        app.reservation(&id(UID_B)).await["reservation"]["status"],
        "paid"
    );

    // The host reinstates the booking: the stay is listed again and gets a newer version.
    feed.set(StatusCode::OK, both);
    next_poll(&app).await;
    let view = app.reservation(&id(UID_A)).await;
    assert_eq!(view["reservation"]["status"], "paid");
    let (_, state) = app
        .code_on(&id(UID_A), "room-101")
        .await
        .expect("code again");
    assert!(state == "active" || state == "pending", "{state}");
}
