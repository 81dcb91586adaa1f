//! A lock's codes as a budget: codes go on in order of need when a shared door is nearly
//! full, a code needed now takes the slot of one needed later, and the forecast and its
//! alerts tell the desk days ahead of a day over capacity.

use latchkey_engine::clock::SimClock;
use latchkey_service::catalog::CatalogFile;
use serde_json::Value;

use crate::harness::{TestApp, at, event};

/// The example hotel with a main entrance that holds `max_codes` codes and no reserve,
/// the clock at `now`.
async fn hotel_with_entrance_of(max_codes: u32, now: &str) -> TestApp {
    let edit = move |file: &mut CatalogFile| {
        let entrance = file
            .locks
            .iter_mut()
            .find(|l| l.id.as_str() == "main-entrance")
            .expect("the example has a main entrance");
        entrance.max_codes = Some(max_codes);
        file.capacity.reserve_percent = 0;
    };
    TestApp::spawn_with(SimClock::new(at(now)), None, edit, Vec::new()).await
}

/// Sends a paid stay of reservation `id` in `room`.
async fn book(app: &TestApp, id: &str, room: &str, check_in: &str, check_out: &str) {
    let reply = app
        .send(&event("paid", id, "paid", room, check_in, check_out, 1))
        .await;
    assert!(reply.status.is_success(), "{id}: {:?}", reply.body);
    app.run_jobs().await;
}

/// The state of reservation `id`'s code on the main entrance, if it has one that is not
/// revoked.
async fn entrance_code(app: &TestApp, id: &str) -> Option<(String, String)> {
    app.code_on(id, "main-entrance")
        .await
        .filter(|(_, state)| !matches!(state.as_str(), "revoked" | "revoking"))
}

#[tokio::test]
async fn codes_go_on_a_nearly_full_door_in_order_of_need() {
    // Check-in 15:00 and check-out 11:00 in Lisbon (UTC in November); the default rule
    // opens from 14:00 to 11:15 and puts codes on 3 days ahead.
    let app = hotel_with_entrance_of(2, "2026-11-20T15:00:00Z").await;
    book(
        &app,
        "R-A",
        "101",
        "2026-11-22T15:00:00Z",
        "2026-11-23T11:00:00Z",
    )
    .await;
    book(
        &app,
        "R-B",
        "102",
        "2026-11-23T15:00:00Z",
        "2026-11-24T11:00:00Z",
    )
    .await;
    let (pin_b, state_b) = entrance_code(&app, "R-B").await.expect("R-B goes on early");
    assert_eq!(state_b, "active");
    assert!(entrance_code(&app, "R-A").await.is_some());

    // The entrance is full. R-C arrives sooner than both, booked last: its code waits for
    // its turn (14:00 less 2 h 30 min) rather than fail on a full lock.
    book(
        &app,
        "R-C",
        "201",
        "2026-11-21T15:00:00Z",
        "2026-11-22T11:00:00Z",
    )
    .await;
    assert_eq!(entrance_code(&app, "R-C").await, None);
    assert_eq!(
        app.locks_with_codes("R-C").await,
        ["pool", "room-201"],
        "its other doors are not held back"
    );

    // At its turn, R-B, needed last, gives up its slot; R-C's code goes on.
    app.advance_to(at("2026-11-21T11:45:00Z")).await;
    let (_, state_c) = entrance_code(&app, "R-C").await.expect("R-C's turn came");
    assert_eq!(state_c, "active");
    assert_eq!(
        entrance_code(&app, "R-B").await,
        None,
        "taken off until its turn"
    );
    assert!(
        entrance_code(&app, "R-A").await.is_some(),
        "needed sooner: kept"
    );

    // R-B's code goes on again at its own turn, with the PIN the guest was told.
    app.advance_to(at("2026-11-23T12:00:00Z")).await;
    let (again, state) = entrance_code(&app, "R-B").await.expect("back at its turn");
    assert_eq!((again.as_str(), state.as_str()), (pin_b.as_str(), "active"));
}

/// The forecast day `day` of lock `lock` in `GET /v1/capacity`.
fn forecast_day<'a>(view: &'a Value, lock: &str, day: &str) -> &'a Value {
    let lock = view["locks"]
        .as_array()
        .expect("locks")
        .iter()
        .find(|l| l["lock"] == lock)
        .unwrap_or_else(|| panic!("{lock} in {view}"));
    lock["days"]
        .as_array()
        .expect("days")
        .iter()
        .find(|d| d["day"] == day)
        .unwrap_or_else(|| panic!("{day} in {lock}"))
}

#[tokio::test]
async fn a_day_over_capacity_is_forecast_and_alerted_days_ahead() {
    let app = hotel_with_entrance_of(2, "2026-11-20T09:00:00Z").await;
    for (id, room) in [("R-1", "101"), ("R-2", "102"), ("R-3", "201")] {
        book(
            &app,
            id,
            room,
            "2026-11-27T15:00:00Z",
            "2026-11-28T11:00:00Z",
        )
        .await;
    }
    let view = app.get("/v1/capacity").await.body;
    assert_eq!(view["days"], 14);
    let busy = forecast_day(&view, "main-entrance", "2026-11-27");
    assert_eq!(
        (busy["needed"].as_u64(), busy["over"].as_u64()),
        (Some(3), Some(1))
    );
    // 14:00 less the 2 h 30 min by which the codes must be on the lock.
    assert_eq!(
        busy["busiest_at"].as_i64(),
        Some(at("2026-11-27T11:30:00Z").unix())
    );
    let quiet = forecast_day(&view, "main-entrance", "2026-11-25");
    assert_eq!(
        (quiet["needed"].as_u64(), quiet["over"].as_u64()),
        (Some(0), Some(0))
    );
    // The room doors hold 100 each and the pool computes its PINs: no budget to forecast.
    let room = forecast_day(&view, "room-101", "2026-11-27");
    assert_eq!(
        (room["needed"].as_u64(), room["over"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(
        view["locks"]
            .as_array()
            .expect("locks")
            .iter()
            .all(|l| l["lock"] != "pool")
    );

    // The forecast job runs every 6 hours: within 6 hours, 7 days ahead, the desk knows.
    app.advance_to(at("2026-11-20T15:00:00Z")).await;
    let alerts = app.get("/v1/alerts").await.body;
    let over: Vec<&Value> = alerts["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["kind"] == "capacity_exceeded")
        .collect();
    // The night's two local days: the arrival day from 11:30, and the next morning.
    assert_eq!(over.len(), 2, "{alerts}");
    assert!(over.iter().all(|a| a["lock_id"] == "main-entrance"));
    let message = over
        .iter()
        .filter_map(|a| a["message"].as_str())
        .find(|m| m.contains("2026-11-27"))
        .expect("an alert for 2026-11-27");
    for needle in ["needs 3 codes at 11:30", "1 more than the 2"] {
        assert!(message.contains(needle), "{needle:?} in {message}");
    }

    // Once a booking is cancelled, the day fits again.
    let cancel = event(
        "cancelled",
        "R-3",
        "cancelled",
        "201",
        "2026-11-27T15:00:00Z",
        "2026-11-28T11:00:00Z",
        2,
    );
    assert!(app.send(&cancel).await.status.is_success());
    app.run_jobs().await;
    let view = app.get("/v1/capacity").await.body;
    let busy = forecast_day(&view, "main-entrance", "2026-11-27");
    assert_eq!(
        (busy["needed"].as_u64(), busy["over"].as_u64()),
        (Some(2), Some(0))
    );
}

/// R-A: two nights in room 101 from 22 November, paid.
async fn book_r_a(app: &TestApp) {
    book(
        app,
        "R-A",
        "101",
        "2026-11-22T15:00:00Z",
        "2026-11-24T11:00:00Z",
    )
    .await;
}

#[tokio::test]
async fn a_guest_beyond_a_full_entrance_gets_its_overflow_door_and_keeps_it() {
    // The entrance holds one code; the example names the side entrance its overflow
    // door, and the default rule's grants say `when_full = "overflow"`.
    let app = hotel_with_entrance_of(1, "2026-11-20T15:00:00Z").await;
    book_r_a(&app).await;
    assert!(entrance_code(&app, "R-A").await.is_some(), "on early");
    assert_eq!(app.code_on("R-A", "side-entrance").await, None);

    // R-B arrives the same day: at its turn the entrance is full of a code needed as
    // soon, so R-B's code goes on the side entrance for its window.
    book(
        &app,
        "R-B",
        "102",
        "2026-11-22T15:00:00Z",
        "2026-11-23T11:00:00Z",
    )
    .await;
    app.advance_to(at("2026-11-22T11:45:00Z")).await;
    assert_eq!(entrance_code(&app, "R-B").await, None);
    let (pin, state) = app
        .code_on("R-B", "side-entrance")
        .await
        .expect("R-B's code on the overflow door");
    assert_eq!(state, "active");
    // The guest is told that door, with its PIN.
    let view = app.reservation("R-B").await;
    let told = view["notifications"].to_string();
    assert!(
        told.contains("side-entrance") && told.contains(&pin),
        "{told}"
    );

    // A later change of the stay keeps the guest on the side entrance: its code's window
    // follows, and no code goes on the entrance.
    let longer = event(
        "modified",
        "R-B",
        "paid",
        "102",
        "2026-11-22T15:00:00Z",
        "2026-11-24T11:00:00Z",
        2,
    );
    assert!(app.send(&longer).await.status.is_success());
    app.run_jobs().await;
    assert_eq!(entrance_code(&app, "R-B").await, None);
    let codes = app.reservation("R-B").await["codes"].clone();
    let side: Vec<&Value> = codes
        .as_array()
        .expect("codes")
        .iter()
        .filter(|c| c["lock"] == "side-entrance" && c["state"] != "revoked")
        .collect();
    assert_eq!(side.len(), 1, "{codes}");
    assert_eq!(
        side[0]["window"]["ends_at"],
        at("2026-11-24T11:15:00Z").unix()
    );

    // Cancelled: the side-entrance code goes, as any other.
    let cancelled = event(
        "cancelled",
        "R-B",
        "cancelled",
        "102",
        "2026-11-22T15:00:00Z",
        "2026-11-24T11:00:00Z",
        3,
    );
    assert!(app.send(&cancelled).await.status.is_success());
    app.run_jobs().await;
    let (_, state) = app
        .code_on("R-B", "side-entrance")
        .await
        .expect("still listed");
    assert_eq!(state, "revoked");
}

#[tokio::test]
async fn a_rule_never_sees_the_overflow_door() {
    let app = TestApp::spawn("2026-11-20T15:00:00Z").await;
    book_r_a(&app).await;
    assert_eq!(
        app.locks_with_codes("R-A").await,
        ["main-entrance", "pool", "room-101"],
        "no grant on the side entrance while the entrance has room"
    );
    // A rule that grants it anyway is refused as naming a lock it was not given.
    let rule = r#"fn plan(input) {
        #{ grants: [#{ lock: "side-entrance", starts_at: input.reservation.check_in,
                       ends_at: input.reservation.check_out }] }
    }"#;
    let app = TestApp::spawn_with_rule("2026-11-20T15:00:00Z", Some(rule)).await;
    book_r_a(&app).await;
    assert!(app.locks_with_codes("R-A").await.is_empty());
    let error = app.reservation("R-A").await["rule_error"].to_string();
    assert!(error.contains("side-entrance"), "{error}");
}
