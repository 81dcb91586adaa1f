//! The guest's own page, `GET /g/{token}`: linked from their messages, it shows each
//! door's PIN once the lock has it, in the guest's language, and "my code doesn't work"
//! reads the code back and gives a backup code when it is gone, a few times an hour at
//! most; the last test drives it in Chromium.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use latchkey_providers::simulator::Tamper;
use serde_json::{Value, json};

use crate::browser;
use crate::harness::{Reply, TestApp, at, paid_stay, stay_in_102};

/// The path of reservation `id`'s page, as the desk's view of it gives it.
async fn page_path(app: &TestApp, id: &str) -> String {
    let url = app.reservation(id).await["guest_page"]
        .as_str()
        .expect("a guest page link")
        .to_owned();
    let path = url.trim_start_matches("http://127.0.0.1:8080");
    assert!(path.starts_with("/g/"), "{url}");
    path.to_owned()
}

/// As a guest: no credentials but the link.
async fn visit(app: &TestApp, path: &str) -> Reply {
    let request = Request::get(path).body(Body::empty()).expect("request");
    app.request_raw(request).await
}

async fn report(app: &TestApp, path: &str, lock: &str) -> Reply {
    let request = Request::post(format!("{path}/doors/{lock}/report"))
        .body(Body::empty())
        .expect("request");
    app.request_raw(request).await
}

/// The door sections of a page: (lock, PIN shown).
fn shown(html: &str) -> Vec<(String, Option<String>)> {
    html.split("<section class=\"door\"")
        .skip(1)
        .map(|s| {
            let lock = s
                .split("data-lock=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or_default()
                .to_owned();
            let pin = s
                .split("data-pin>")
                .nth(1)
                .and_then(|r| r.split('<').next())
                .map(str::to_owned);
            (lock, pin)
        })
        .collect()
}

#[tokio::test]
async fn the_page_shows_only_confirmed_pins_in_the_guests_language() {
    let app = TestApp::spawn("2026-11-22T10:00:00Z").await;
    let mut stay = stay_in_102();
    stay["data"]["guest"]["locale"] = json!("pt-PT");
    assert_eq!(app.send(&stay).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    let path = page_path(&app, "R-2").await;
    let page = visit(&app, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    let doors = shown(&page.text);
    let room = doors
        .iter()
        .find(|(l, _)| l == "room-102")
        .expect("room 102 listed");
    assert_eq!(
        room.1, None,
        "no PIN before the lock confirms it: {doors:?}"
    );
    let entrance = doors
        .iter()
        .find(|(l, _)| l == "main-entrance")
        .expect("entrance");
    assert!(entrance.1.is_some(), "{doors:?}");
    assert!(
        page.text.contains("O meu código não funciona"),
        "in Portuguese"
    );
    assert!(page.text.contains("Lisbon"), "the times' zone");

    // Confirmed: the room's PIN is shown, and it is the one on the lock.
    app.advance_to(at("2026-11-22T10:05:00Z")).await;
    let doors = shown(&visit(&app, &path).await.text);
    let pin = doors
        .iter()
        .find(|(l, _)| l == "room-102")
        .and_then(|(_, p)| p.clone())
        .expect("room 102's PIN");
    assert!(
        app.simulator
            .opens("room-102", &pin, at("2026-11-23T15:00:00Z"))
    );

    // The e-mail links the page.
    let linked = app.capture.sent().iter().any(|m| {
        m.texts
            .email
            .contains(&format!("http://127.0.0.1:8080{path}"))
    });
    assert!(linked, "an e-mail carries the link");
}

#[tokio::test]
async fn a_link_that_is_forged_or_expired_is_refused_with_a_readable_page() {
    let app = TestApp::spawn("2026-11-22T10:00:00Z").await;
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    let path = page_path(&app, "R-1").await;
    // The same link with its expiry pushed a year on: the signature no longer holds.
    let token = path.trim_start_matches("/g/");
    let parts: Vec<&str> = token.split('.').collect();
    let later = parts[1].parse::<i64>().expect("expiry") + 365 * 86_400;
    let forged = format!("/g/{}.{later}.{}", parts[0], parts[2]);
    let refused = visit(&app, &forged).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(refused.text.contains("not valid"), "{}", refused.text);
    assert!(!refused.text.contains("data-pin"));
    assert_eq!(
        visit(&app, "/g/nonsense").await.status,
        StatusCode::NOT_FOUND
    );
    // A day after the stay's last door closes (11:15 UTC on 11-25), the link is over.
    app.clock.advance_to(at("2026-11-26T11:16:00Z"));
    let expired = visit(&app, &path).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(expired.text.contains("expired"), "{}", expired.text);
}

#[tokio::test]
async fn my_code_doesnt_work_gives_a_backup_when_the_code_is_gone_and_is_rate_limited() {
    let app = TestApp::spawn_with_backups("2026-11-20T10:00:00Z").await;
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.advance_to(at("2026-11-23T14:30:00Z")).await;
    let path = page_path(&app, "R-1").await;
    let (own, _) = app.code_on("R-1", "room-101").await.expect("a code");
    // Deleted in the vendor's app; no sync has noticed.
    let reference = app.reference_on("room-101", &own);
    assert!(app.simulator.tamper("room-101", &reference, Tamper::Delete));

    let reply = report(&app, &path, "room-101").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let location = back_to_door(&reply, &path, "room-101");
    assert!(location.contains("report=backup_given"), "{location}");
    let page = visit(&app, location.split('#').next().unwrap_or_default()).await;
    assert!(
        page.text.contains("data-notice=\"backup_given\""),
        "{}",
        page.text
    );
    let pin = shown(&page.text)
        .into_iter()
        .find(|(l, _)| l == "room-101")
        .and_then(|(_, p)| p)
        .expect("the new PIN on the page");
    assert_ne!(pin, own);
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-23T14:31:00Z"))
    );
    assert_eq!(app.alerts_of("backup_code_given").await.len(), 1);

    // The code is there now: the next reports say so, and the fourth in the hour is
    // refused.
    for _ in 0..2 {
        let reply = report(&app, &path, "room-101").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
    }
    let limited = report(&app, &path, "room-101").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.text.contains("data-notice=\"too_many\""));
    let retry_after: i64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let view = app.reservation("R-1").await;
    let reports: Vec<&Value> = view["guest_reports"]
        .as_array()
        .expect("reports")
        .iter()
        .collect();
    let outcomes: Vec<&str> = reports
        .iter()
        .filter_map(|r| r["outcome"].as_str())
        .collect();
    assert_eq!(outcomes, ["backup_given", "on_lock", "on_lock"]);
    assert_eq!(app.alerts_of("guest_report").await.len(), 3);
    // An hour on, the guest may report again.
    app.clock.advance_to(at("2026-11-23T15:31:00Z"));
    assert_eq!(
        report(&app, &path, "room-101").await.status,
        StatusCode::SEE_OTHER
    );
}

/// The `Location` of a 303 answer, asserted to return to the page at the door.
fn back_to_door(reply: &Reply, path: &str, lock: &str) -> String {
    let location = reply
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a Location")
        .to_owned();
    assert!(location.starts_with(path), "{location}");
    assert!(location.ends_with(&format!("#door-{lock}")), "{location}");
    location
}

/// The page as a guest's phone shows it, in Debian's Chromium (`tests/dashboard/guest.mjs`
/// through npm's `playwright-core`), against the real router on a TCP port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_uses_their_page_in_chromium() {
    let app = TestApp::spawn_with_backups("2026-11-20T10:00:00Z").await;
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.advance_to(at("2026-11-23T14:30:00Z")).await;
    let (own, _) = app.code_on("R-1", "room-101").await.expect("a code");
    let reference = app.reference_on("room-101", &own);
    assert!(app.simulator.tamper("room-101", &reference, Tamper::Delete));
    // A late booking in room 102.
    assert_eq!(app.send(&stay_in_102()).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    let pending = page_path(&app, "R-2").await;
    let reported = page_path(&app, "R-1").await;

    let shots = browser::screenshots_dir();
    let shots_arg = shots.display().to_string();
    let stdout = browser::run(&app.router, "guest.mjs", |base| {
        vec![
            format!("{base}{pending}"),
            format!("{base}{reported}"),
            shots_arg,
        ]
    })
    .await;
    for shot in ["guest-pending.png", "guest-backup.png", "guest-limited.png"] {
        assert!(shots.join(shot).is_file(), "screenshot {shot} saved");
    }
    // The PIN the page gave is the backup code on the lock, the guest's now.
    let pin = stdout
        .lines()
        .find_map(|l| l.strip_prefix("new-pin: "))
        .expect("the script names the new PIN");
    assert!(
        app.simulator
            .opens("room-101", pin, at("2026-11-23T15:00:00Z"))
    );
    let (code_pin, _) = app.code_on("R-1", "room-101").await.expect("a code");
    let view = app.reservation("R-1").await;
    assert!(
        view["codes"]
            .as_array()
            .expect("codes")
            .iter()
            .any(|c| c["pin"] == pin && c.get("pulled_at").is_some()),
        "the backup is the reservation's ({code_pin}): {}",
        view["codes"]
    );
    assert_eq!(view["guest_reports"].as_array().map(Vec::len), Some(3));
}
