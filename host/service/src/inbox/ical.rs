//! Calendar feeds (the `ical` form, [`latchkey_sources::ical`]): one poll of a feed (fetch,
//! parse, decide, accept what changed), and the schedule `serve` starts.

use std::time::Duration;

use latchkey_engine::ReservationStatus;
use latchkey_engine::rules::EventType;
use latchkey_providers::http::{HttpSettings, ProviderHttp};
use latchkey_store::{feeds, reservations};
use serde_json::json;

use crate::app::App;
use crate::error::Result;
use crate::queue::{self, JobSpec};
use latchkey_sources::SourceForm;
use latchkey_sources::ical::IcalSettings;
use latchkey_sources::ical::hysteresis::{self, Decision};
use latchkey_sources::ical::parse::{self, Fetched};
use latchkey_sources::mapped::MappedEvent;

/// What one poll did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Stays listed by the feed.
    pub listed: usize,
    /// Stays cancelled by this poll.
    pub cancelled: usize,
    /// The feed's consecutive empty or failed fetches after this poll.
    pub feed_misses: u32,
    /// Why the fetch failed, if it did.
    pub error: Option<String>,
}

/// Enqueues a first poll, due now, of every `ical` source (one per source: a poll already
/// queued keeps its turn if earlier). `serve` calls this at start.
///
/// # Errors
/// Database errors.
pub async fn schedule_all(app: &App) -> Result<()> {
    let now = app.clock.now();
    let mut conn = app.pool.acquire().await?;
    for source in app
        .catalog
        .sources
        .iter()
        .filter(|s| s.form == SourceForm::Ical)
    {
        let spec = JobSpec::PollIcal {
            source: source.name.clone(),
        };
        queue::enqueue(&mut conn, &app.catalog.workspace, &spec, now, now).await?;
    }
    drop(conn);
    app.jobs_waiting.notify();
    Ok(())
}

/// Fetches the feed of `source` and applies what it says.
///
/// # Errors
/// Database errors (a failed fetch is not an error: it counts as a miss).
pub async fn poll(app: &App, source: &str, settings: &IcalSettings) -> Result<PollReport> {
    let fetched = match fetch(settings).await {
        Ok(text) => parse::parse(&text, source, settings, &app.catalog.property),
        Err(e) => Fetched::Failed(e),
    };
    let error = match &fetched {
        Fetched::Failed(e) => Some(e.clone()),
        _ => None,
    };
    if let Some(e) = &error {
        tracing::warn!(source, url = settings.redacted_url(), error = %e, "calendar fetch failed");
    }
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    let (known, misses) = {
        let mut conn = app.pool.acquire().await?;
        (
            feeds::known(&mut conn, ws, source).await?,
            feeds::misses(&mut conn, ws, source).await?,
        )
    };
    let decision = hysteresis::decide(fetched, &known, misses, settings.misses, now);
    let report = PollReport {
        listed: decision.listed.len(),
        cancelled: decision.cancel.len(),
        feed_misses: decision.feed_misses,
        error: error.clone(),
    };
    apply(app, source, &known, decision).await?;
    let mut conn = app.pool.acquire().await?;
    feeds::record_fetch(
        &mut conn,
        ws,
        source,
        report.feed_misses,
        error.as_deref(),
        now,
    )
    .await?;
    Ok(report)
}

async fn fetch(settings: &IcalSettings) -> Result<String, String> {
    let http = ProviderHttp::new(&HttpSettings {
        base_url: settings.url.clone(),
        timeout: Duration::from_secs(settings.timeout_secs),
        requests_per_second: None,
    })
    .map_err(|e| e.to_string())?;
    match http.send(http.client().get(&settings.url)).await {
        Ok(Ok(body)) => String::from_utf8(body).map_err(|_| "the feed is not UTF-8".to_owned()),
        Ok(Err(refusal)) => Err(format!("HTTP {}", refusal.status)),
        Err(e) => Err(e.to_string()),
    }
}

/// Hands listed stays and cancellations to the inbox, then records the feed's state. Each
/// step is idempotent, so a poll cut short is completed by the next one.
async fn apply(
    app: &App,
    source: &str,
    known: &[latchkey_store::feeds::Known],
    d: Decision,
) -> Result<()> {
    let ws = &app.catalog.workspace;
    for stay in &d.listed {
        let kind = if known.iter().any(|k| k.uid == stay.uid && !k.cancelled) {
            EventType::Modified
        } else {
            latchkey_sources::mapped::event_for_status(stay.state.status)
        };
        let raw = json!({ "uid": stay.uid, "summary": stay.summary,
                          "check_in": stay.state.check_in, "check_out": stay.state.check_out });
        let event = MappedEvent {
            kind,
            state: stay.state.clone(),
            order: None,
        };
        super::accept_mapped(app, source, None, &event, &raw.to_string()).await?;
        let mut conn = app.pool.acquire().await?;
        feeds::listed(
            &mut conn,
            ws,
            source,
            &stay.uid,
            stay.state.id.as_str(),
            stay.state.check_out,
        )
        .await?;
    }
    let mut conn = app.pool.acquire().await?;
    for (uid, missing) in &d.missing {
        feeds::set_missing(&mut conn, ws, source, uid, *missing).await?;
    }
    for uid in &d.forget {
        feeds::forget(&mut conn, ws, source, uid).await?;
    }
    drop(conn);
    for uid in &d.cancel {
        cancel(app, source, uid).await?;
    }
    Ok(())
}

/// Cancels the stay `uid` from the state on record, then marks it cancelled.
async fn cancel(app: &App, source: &str, uid: &str) -> Result<()> {
    let ws = &app.catalog.workspace;
    let Some(id) = parse::reservation_id(source, uid) else {
        return Ok(());
    };
    let row = {
        let mut conn = app.pool.acquire().await?;
        reservations::get(&mut conn, ws, id.as_str()).await?
    };
    if let Some(row) = row {
        let mut state = row.state;
        state.status = ReservationStatus::Cancelled;
        let raw = json!({ "uid": uid, "cancelled": "no longer listed by the feed" });
        let event = MappedEvent {
            kind: EventType::Cancelled,
            state,
            order: None,
        };
        super::accept_mapped(app, source, None, &event, &raw.to_string()).await?;
        tracing::info!(source, uid, reservation = %id, "stay left the feed: cancelled");
    }
    let mut conn = app.pool.acquire().await?;
    feeds::mark_cancelled(&mut conn, ws, source, uid).await?;
    Ok(())
}
