//! The daylight-saving days in the data: Europe/Lisbon springs forward on 2016-03-27 and
//! falls back on 2016-10-30. Windows follow the local wall clock across both.

use crate::harness::{TestApp, at, event};

async fn window_on_room(now: &str, check_in: &str, check_out: &str) -> (TestApp, String) {
    let app = TestApp::spawn(now).await;
    app.send(&event(
        "paid", "R-dst", "paid", "101", check_in, check_out, 1,
    ))
    .await;
    app.run_jobs().await;
    let (pin, state) = app.code_on("R-dst", "room-101").await.expect("code issued");
    assert_eq!(state, "active");
    (app, pin)
}

#[tokio::test]
async fn a_stay_across_spring_forward_ends_at_local_check_out() {
    // In 15:00 WET (UTC+0) on the 26th, out 11:00 WEST (UTC+1) on the 28th.
    let (app, pin) = window_on_room(
        "2016-03-25T10:00:00Z",
        "2016-03-26T15:00:00Z",
        "2016-03-28T10:00:00Z",
    )
    .await;
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2016-03-26T13:59:00Z"))
    );
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2016-03-26T14:00:00Z")),
        "15:00 − 1 h local, UTC+0"
    );
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2016-03-28T10:14:00Z")),
        "11:15 WEST is 10:15 UTC"
    );
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2016-03-28T10:15:00Z"))
    );
}

#[tokio::test]
async fn a_check_in_on_the_spring_forward_day_opens_at_local_time() {
    let (app, pin) = window_on_room(
        "2016-03-25T10:00:00Z",
        "2016-03-27T14:00:00Z",
        "2016-03-29T10:00:00Z",
    )
    .await;
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2016-03-27T12:59:00Z"))
    );
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2016-03-27T13:00:00Z")),
        "14:00 WEST is 13:00 UTC"
    );
}

#[tokio::test]
async fn a_stay_across_fall_back_ends_at_local_check_out() {
    // In 15:00 WEST (UTC+1) on the 29th, out 11:00 WET (UTC+0) on the 31st.
    let (app, pin) = window_on_room(
        "2016-10-28T10:00:00Z",
        "2016-10-29T14:00:00Z",
        "2016-10-31T11:00:00Z",
    )
    .await;
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2016-10-29T12:59:00Z"))
    );
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2016-10-29T13:00:00Z")),
        "14:00 WEST is 13:00 UTC"
    );
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2016-10-31T11:14:00Z")),
        "11:15 WET is 11:15 UTC"
    );
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2016-10-31T11:15:00Z"))
    );
}

#[tokio::test]
async fn a_check_out_on_the_fall_back_day_uses_winter_time() {
    let (app, pin) = window_on_room(
        "2016-10-27T10:00:00Z",
        "2016-10-28T14:00:00Z",
        "2016-10-30T11:00:00Z",
    )
    .await;
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2016-10-30T11:14:00Z"))
    );
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2016-10-30T11:15:00Z")),
        "11:15 WET on the 30th"
    );
}
