//! The dashboard: served by the router with a strict policy, and driven in real Chromium
//! (Debian's `/usr/bin/chromium` through npm's `playwright-core`, see
//! `tests/dashboard/`) against the real router on a TCP port, with state worth seeing:
//! batteries in every band, an offline lock, an unassigned lock, reservations with codes,
//! activity, alerts and a dead letter.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use latchkey_engine::clock::SimClock;
use latchkey_engine::{Branch, BranchId, Window};
use latchkey_providers::simulator::{SIM_MAX_CODES, SimProfile};
use tower::ServiceExt;

use crate::browser;
use crate::harness::{TestApp, at, event, paid_stay};

/// The branch the fixture adds beside the example hotel's `main`, so the branch filter
/// has something to filter.
const ANNEX: &str = "annex";

/// A GET through the router: status, headers and body text.
async fn fetch(app: &TestApp, path: &str) -> (StatusCode, header::HeaderMap, String) {
    let response = app
        .router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test]
async fn the_dashboard_is_served_with_a_strict_policy() {
    let app = TestApp::spawn("2026-11-22T10:00:00Z").await;

    let (status, headers, _) = fetch(&app, "/").await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(headers[header::LOCATION], "/dashboard/");

    let (status, headers, html) = fetch(&app, "/dashboard/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    let policy = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(html.contains(r#"<script type="module" src="app.js">"#));

    for (file, media_type) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("locks.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
    ] {
        let (status, headers, body) = fetch(&app, &format!("/dashboard/{file}")).await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert_eq!(headers[header::CONTENT_TYPE], media_type, "{file}");
        assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
        assert!(!body.is_empty());
    }
    let (status, headers, _) = fetch(&app, "/dashboard/nope.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
}

/// The example hotel, with an `annex` branch holding room 201, room 102 made an online
/// lock (so it can be regenerated and unlocked without waiting), and state in every
/// colour the dashboard shows.
async fn staged_hotel() -> TestApp {
    let annex = BranchId::parse(ANNEX).expect("valid id");
    let app = TestApp::spawn_with(
        SimClock::new(at("2026-11-22T10:00:00Z")),
        None,
        |file| {
            file.branches.push(Branch {
                id: annex.clone(),
                name: "Annex".into(),
            });
            for resource in &mut file.resources {
                if resource.id.as_str() == "201" {
                    resource.branch = annex.clone();
                }
            }
            for lock in &mut file.locks {
                match lock.id.as_str() {
                    "room-201" => lock.branch = Some(annex.clone()),
                    "room-102" => lock.simulator = Some(SimProfile::Online),
                    _ => {}
                }
            }
        },
        Vec::new(),
    )
    .await;

    // A dead letter, as in `dead_letters.rs`: room 101's keypad is full of codes made
    // outside Latchkey, so R-1's code there is refused for good.
    let old = Window {
        starts_at: at("2026-11-01T00:00:00Z"),
        ends_at: at("2026-11-02T00:00:00Z"),
    };
    for n in 0..SIM_MAX_CODES {
        app.simulator
            .put_foreign_code("room-101", &format!("{:06}", 300_000 + n), old);
    }
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    // R-2 in room 102, whose PINs the browser regenerates.
    let r2 = event(
        "paid",
        "R-2",
        "paid",
        "102",
        "2026-11-22T15:00:00Z",
        "2026-11-24T11:00:00Z",
        1,
    );
    assert_eq!(app.send(&r2).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    assert_eq!(
        app.code_on("R-2", "room-102").await.map(|c| c.1).as_deref(),
        Some("active")
    );

    // Batteries in every band, an offline lock, and some activity to list.
    app.simulator.set_battery("main-entrance", 80);
    app.simulator.set_battery("room-101", 20);
    app.simulator.set_battery("room-102", 5);
    app.simulator.add_outage(
        "pool",
        Window {
            starts_at: at("2026-11-22T09:00:00Z"),
            ends_at: at("2026-11-30T00:00:00Z"),
        },
    );
    app.clock.advance_to(at("2026-11-22T10:05:00Z"));
    app.simulator.enter_pin("room-102", "987654");
    app.clock.advance_to(at("2026-11-22T10:10:00Z"));
    latchkey_service::monitor::sync(&app.app)
        .await
        .expect("first sync");
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_front_desk_works_the_dashboard_in_chromium() {
    let app = staged_hotel().await;
    let key = crate::harness::admin_key(&app);
    let shots = browser::screenshots_dir();
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let shots_arg = shots.display().to_string();
    browser::run(&app.router, "dashboard.mjs", |base| {
        vec![base.to_owned(), key.clone(), shots_arg]
    })
    .await;
    for shot in [
        "signin.png",
        "locks.png",
        "locks-phone.png",
        "lock-panel.png",
    ] {
        assert!(shots.join(shot).is_file(), "screenshot {shot} saved");
    }

    // What the browser did reached the service.
    let spa = app
        .request(
            Request::get("/v1/locks/spa/branch")
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(spa.body["branch"], ANNEX, "{:?}", spa.body);
}
