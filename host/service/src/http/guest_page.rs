//! The guest's own page: `GET /g/{token}`, linked from every message that tells doors
//! (`guest_link`: a signed token naming the reservation, no account). Plain HTML, phone
//! first, in the guest's language (English, Czech, Spanish or Portuguese):
//!
//! - each door of the stay, with its PIN only once the lock has confirmed its code (a door
//!   whose code is still going on says so, without a PIN), its window in the property's
//!   local time, and the door's instructions;
//! - per door on an online lock, a "my code doesn't work" button,
//!   `POST /g/{token}/doors/{lock}/report`: the code is read back from the lock; missing,
//!   changed, still pending, refused or unreadable, the guest is given a backup code from
//!   the lock's pool (`backup::pull`), else a missing or changed one is put back. Each
//!   report is recorded (`guest_reports`, the page's audit trail), raises a
//!   `guest_report` alert for the desk, and counts against a limit of
//!   [`MAX_REPORTS_PER_HOUR`] per reservation (429 with `Retry-After` beyond it).
//!
//! A link that is not valid answers 404, an expired one 410; both as a page the guest can
//! read, telling them to call the front desk.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono_tz::Tz;
use latchkey_engine::{CodeRecord, CodeState, Connectivity, LockId, ReservationId, Timestamp};
use latchkey_store::alerts::{self, AlertKind, NewAlert};
use latchkey_store::guest_page::{self, GuestReport};
use latchkey_store::{codes, reservations};
use minijinja::Environment;
use serde::{Deserialize, Serialize};

use super::extract::Path;
use crate::app::App;
use crate::arrival::{self, ReadBack};
use crate::error::{Error, Result};
use crate::guest_link::{self, LinkError};
use crate::notify::templates::{OFFLINE_FIRST_USE_SECS, local_time};
use crate::outbox::sheet;
use crate::{backup, reconcile};

/// Reports a reservation may make per hour; the next is answered 429.
pub const MAX_REPORTS_PER_HOUR: usize = 3;

/// The page's locales, as shipped (`templates/guest/strings.toml`).
const LOCALES: [&str; 4] = ["en", "cs", "es", "pt"];

type Strings = HashMap<String, HashMap<String, String>>;

static STRINGS: LazyLock<Strings> = LazyLock::new(|| {
    toml::from_str(include_str!("../../templates/guest/strings.toml")).unwrap_or_default()
});

static PAGE: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    // Checked by a unit test; a broken template would answer 500, not panic.
    let _ = env.add_template("page", include_str!("../../templates/guest/page.html.j2"));
    env
});

/// The page's policy: its own stylesheet and form posts only; no script, no frames, no
/// referrer (the link is the guest's key).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/g/page.css", get(stylesheet))
        .route("/g/{token}", get(page))
        .route("/g/{token}/doors/{lock}/report", post(report))
}

/// `GET /g/page.css`: the page's stylesheet.
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../templates/guest/page.css"),
    )
        .into_response()
}

/// The page's query after a report: what it found, on which door.
#[derive(Debug, Deserialize)]
struct ReportedQuery {
    report: Option<String>,
    door: Option<String>,
}

#[derive(Serialize)]
struct DoorView {
    lock: String,
    name: String,
    pin: Option<String>,
    starts: String,
    ends: String,
    offline: bool,
    use_by: String,
    instructions: Option<String>,
    can_report: bool,
}

#[derive(Serialize, Default)]
struct PageView<'a> {
    locale: &'a str,
    t: Option<&'a HashMap<String, String>>,
    property: &'a str,
    timezone: &'a str,
    token: &'a str,
    guest_name: String,
    doors: Vec<DoorView>,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    notice_kind: Option<&'a str>,
    notice_bad: bool,
    /// The door the notice is about, shown in its section.
    notice_door: Option<String>,
    notice_in_door: bool,
}

/// The locale to write in for a guest who prefers `preferred` (BCP 47): its language when
/// the page has it, else the property's notification locale, else English.
fn locale_for(app: &App, preferred: Option<&str>) -> &'static str {
    let language = preferred
        .and_then(|p| p.split(['-', '_']).next())
        .map(str::to_ascii_lowercase);
    let fallback = app.catalog.notifications.locale.as_deref().unwrap_or("en");
    [language.as_deref(), Some(fallback)]
        .into_iter()
        .flatten()
        .find_map(|l| LOCALES.iter().find(|x| **x == l).copied())
        .unwrap_or("en")
}

fn render(view: &PageView<'_>, status: StatusCode) -> Response {
    match PAGE
        .get_template("page")
        .and_then(|t| t.render(minijinja::value::Serde(view)))
    {
        Ok(html) => (
            status,
            [
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CONTENT_SECURITY_POLICY),
                ),
                (
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ),
            ],
            Html(html),
        )
            .into_response(),
        Err(e) => Error::internal_from("rendering the guest page", e).into_response(),
    }
}

/// The page for a token that is not valid (404) or has expired (410), in `locale`.
fn refused(app: &App, why: LinkError, locale: &str) -> Response {
    let t = STRINGS.get(locale);
    let (key, status) = match why {
        LinkError::Invalid => ("invalid", StatusCode::NOT_FOUND),
        LinkError::Expired => ("expired", StatusCode::GONE),
    };
    let error = t.and_then(|t| t.get(key)).map(String::as_str);
    let view = PageView {
        locale,
        t,
        property: &app.catalog.property.name,
        error,
        ..PageView::default()
    };
    render(&view, status)
}

/// The reservation a token names, or the page refusing it.
async fn holder(
    app: &App,
    token: &str,
    now: Timestamp,
) -> Result<std::result::Result<ReservationId, Response>> {
    let mut conn = app.pool.acquire().await?;
    Ok(
        guest_link::verify(&mut conn, &app.catalog.workspace, token, now)
            .await?
            .map_err(|why| refused(app, why, locale_for(app, None))),
    )
}

/// `GET /g/{token}`: the guest's doors.
async fn page(
    State(app): State<App>,
    Path(token): Path<String>,
    Query(query): Query<ReportedQuery>,
) -> Result<Response> {
    let now = app.clock.now();
    let reservation = match holder(&app, &token, now).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    let notice = query
        .report
        .as_deref()
        .and_then(|k| NOTICES.iter().copied().find(|n| *n == k))
        .map(|kind| (kind, query.door));
    show(&app, &token, &reservation, notice, StatusCode::OK).await
}

/// What a report found, as the page says it: the key of its text in `strings.toml`.
const NOTICES: [&str; 6] = [
    "on_lock",
    "backup_given",
    "put_back",
    "unreadable",
    "no_code",
    "too_many",
];

/// The page of `reservation`, with `notice` (its kind, and the door it is about) shown
/// in that door's section, answered with `status`.
async fn show(
    app: &App,
    token: &str,
    reservation: &ReservationId,
    notice: Option<(&'static str, Option<String>)>,
    status: StatusCode,
) -> Result<Response> {
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    let (row, records) = {
        let mut conn = app.pool.acquire().await?;
        let row = reservations::get(&mut conn, ws, reservation.as_str()).await?;
        let records = codes::for_reservation(&mut conn, ws, reservation.as_str()).await?;
        (row, records)
    };
    let Some(row) = row else {
        return Ok(refused(app, LinkError::Invalid, locale_for(app, None)));
    };
    let locale = locale_for(app, row.state.guest.locale.as_deref());
    let t = STRINGS.get(locale);
    let tz = app.catalog.property.timezone;
    let shown = doors(app, &records, tz, now);
    let (notice_kind, notice_door) = notice.map_or((None, None), |(k, d)| (Some(k), d));
    let view = PageView {
        locale,
        t,
        property: &app.catalog.property.name,
        timezone: tz.name(),
        token,
        guest_name: row.state.guest.name,
        notice: notice_kind
            .and_then(|k| t.and_then(|t| t.get(k)))
            .map(String::as_str),
        notice_kind,
        notice_bad: matches!(notice_kind, Some("unreadable" | "no_code" | "too_many")),
        notice_in_door: notice_door
            .as_ref()
            .is_some_and(|d| shown.iter().any(|v| &v.lock == d)),
        notice_door,
        doors: shown,
        error: None,
    };
    Ok(render(&view, status))
}

/// The stay's doors: each lock with a live code of the reservation (or one the lock
/// refused), with the PIN only where the code is confirmed on its lock.
fn doors(app: &App, records: &[CodeRecord], tz: Tz, now: Timestamp) -> Vec<DoorView> {
    let working = sheet::working_doors(records, &app.catalog, now);
    let mut locks: Vec<&LockId> = records
        .iter()
        .filter(|c| c.code.still_owed(now))
        .map(|c| &c.code.lock)
        .collect();
    locks.sort();
    locks.dedup();
    locks
        .into_iter()
        .filter_map(|lock_id| {
            let lock = app.catalog.lock(lock_id)?;
            let code = records.iter().rev().find(|c| &c.code.lock == lock_id)?;
            let told = working.iter().find(|d| &d.lock == lock_id);
            let window = told.map_or(code.code.window, |d| d.window);
            let offline = lock.capabilities.connectivity == Connectivity::Offline;
            Some(DoorView {
                lock: lock_id.to_string(),
                name: if lock.name.is_empty() {
                    lock_id.to_string()
                } else {
                    lock.name.clone()
                },
                pin: told.map(|d| d.pin.clone()),
                starts: local_time(window.starts_at, tz),
                ends: local_time(window.ends_at, tz),
                offline,
                use_by: local_time(window.starts_at.plus(OFFLINE_FIRST_USE_SECS), tz),
                instructions: app.catalog.door_instructions(lock_id).map(str::to_owned),
                can_report: !offline,
            })
        })
        .collect()
}

/// `POST /g/{token}/doors/{lock}/report`: the guest says the code of `lock` does not
/// work. Answers 303 back to the page with what was found, 429 beyond the limit.
async fn report(
    State(app): State<App>,
    Path((token, lock)): Path<(String, String)>,
) -> Result<Response> {
    let now = app.clock.now();
    let reservation = match holder(&app, &token, now).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    let ws = &app.catalog.workspace;
    let Some(lock_id) = LockId::parse(lock.as_str())
        .ok()
        .filter(|l| app.catalog.lock(l).is_some())
    else {
        return Ok(refused(&app, LinkError::Invalid, locale_for(&app, None)));
    };
    let back = |outcome: &str| -> Response {
        Redirect::to(&format!(
            "/g/{token}?report={outcome}&door={lock_id}#door-{lock_id}"
        ))
        .into_response()
    };
    let code = {
        let mut conn = app.pool.acquire().await?;
        let hour_ago = now.plus(-3600);
        let recent = guest_page::since(&mut conn, ws, reservation.as_str(), hour_ago).await?;
        if recent.len() >= MAX_REPORTS_PER_HOUR {
            let oldest = recent.first().map_or(now.unix(), |r| r.at);
            let wait = (oldest + 3600 - now.unix()).max(1);
            drop(conn);
            return too_many(&app, &token, &reservation, &lock_id, wait).await;
        }
        backup::guest_code_on(&app, &mut conn, &reservation, &lock_id).await?
    };
    // Read back outside the transaction: it waits on the lock's cloud.
    let found = match &code {
        None => None,
        Some(c) if c.code.state == CodeState::Active => Some(arrival::read_back(&app, c).await?),
        Some(c) if c.only_narrowing() => Some(arrival::read_back(&app, c).await?),
        Some(_) => Some(ReadBack::Unreadable(
            "its code is not on the lock yet".into(),
        )),
    };
    let mut tx = app.pool.begin().await?;
    reservations::serialize(&mut tx, ws, reservation.as_str()).await?;
    let (outcome, detail) = match (&code, found) {
        (None, _) => ("no_code", "no code of the stay on this door".to_owned()),
        (Some(_), Some(ReadBack::AsRecorded)) => {
            ("on_lock", "the code is on the lock as recorded".to_owned())
        }
        (Some(c), Some(problem)) => {
            let why = match &problem {
                ReadBack::Missing => "the guest's code was missing from the lock".to_owned(),
                ReadBack::Changed { .. } => {
                    "the guest's code had another PIN on the lock".to_owned()
                }
                ReadBack::Unreadable(e) => format!("the guest's code could not be confirmed ({e})"),
                ReadBack::AsRecorded => String::new(),
            };
            if backup::pull(
                &app,
                &mut tx,
                c,
                &format!("reported by the guest: {why}"),
                now,
            )
            .await?
            .is_some()
            {
                ("backup_given", format!("{why}; a backup code was given"))
            } else if let ReadBack::Missing | ReadBack::Changed { .. } = problem {
                let off = !matches!(problem, ReadBack::Changed { off: false });
                reconcile::put_back(&app, &mut tx, c.code.id, off, now).await?;
                ("put_back", format!("{why}; it is being put back"))
            } else {
                ("unreadable", why)
            }
        }
        (Some(_), None) => ("no_code", "no code of the stay on this door".to_owned()),
    };
    let report_id = guest_page::record(
        &mut tx,
        ws,
        reservation.as_str(),
        &GuestReport {
            lock_id: lock_id.to_string(),
            at: now.unix(),
            outcome: outcome.to_owned(),
            detail: detail.clone(),
        },
    )
    .await?;
    let door = app
        .catalog
        .lock(&lock_id)
        .map_or(lock_id.as_str(), |l| l.name.as_str());
    let alert = NewAlert {
        kind: AlertKind::GuestReport,
        dedupe_key: format!("guest_report:{report_id}"),
        lock: Some(lock_id.as_str()),
        reservation: Some(reservation.as_str()),
        code: code.as_ref().map(|c| c.code.id),
        message: format!(
            "the guest of `{reservation}` says the code of `{door}` does not work: {detail}"
        ),
    };
    alerts::raise(&mut tx, ws, &alert, now).await?;
    tx.commit().await?;
    app.jobs_waiting.notify();
    tracing::info!(%reservation, lock = %lock_id, outcome, "guest reported a code not working");
    Ok(back(outcome))
}

/// The page with the "too many reports" notice on `lock`, answered 429 with
/// `Retry-After` (`wait` seconds).
async fn too_many(
    app: &App,
    token: &str,
    reservation: &ReservationId,
    lock: &LockId,
    wait: i64,
) -> Result<Response> {
    let notice = Some(("too_many", Some(lock.to_string())));
    let mut answer = show(
        app,
        token,
        reservation,
        notice,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await?;
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        answer.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_has_every_string_and_the_page_renders_in_each() {
        let en = STRINGS.get("en").expect("English strings");
        for locale in LOCALES {
            let t = STRINGS
                .get(locale)
                .unwrap_or_else(|| panic!("{locale} strings"));
            for key in en.keys() {
                assert!(t.contains_key(key), "{locale} lacks `{key}`");
            }
            let view = PageView {
                locale,
                t: Some(t),
                property: "Resort <Hotel>",
                timezone: "Europe/Lisbon",
                token: "tok",
                guest_name: "Ana".into(),
                doors: vec![DoorView {
                    lock: "room-101".into(),
                    name: "Room 101".into(),
                    pin: Some("583941".into()),
                    starts: "2026-11-23 14:00".into(),
                    ends: "2026-11-25 11:15".into(),
                    offline: false,
                    use_by: String::new(),
                    instructions: None,
                    can_report: true,
                }],
                ..PageView::default()
            };
            let html = PAGE
                .get_template("page")
                .and_then(|p| p.render(minijinja::value::Serde(&view)))
                .expect("renders");
            assert!(html.contains("583941"), "{locale}");
            let button = t["not_working"].replace('\'', "&#x27;");
            assert!(html.contains(&button), "{locale}: {html}");
            assert!(html.contains("Resort &lt;Hotel&gt;"), "escaped: {locale}");
        }
    }
}
