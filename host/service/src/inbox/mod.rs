//! The inbox: accepting a verified event durably, before it is acknowledged.
//!
//! One transaction stores the event (deduplicated by `webhook-id`), makes its reservation
//! state current if it is newer than the one on record, and enqueues a reconcile. Out of
//! order delivery is safe: an older version is stored as `stale` and changes nothing, so a
//! cancellation stays final unless a newer version reinstates the reservation.
//!
//! Besides the events platforms push, two ways in store first and fetch later:
//! [`reenio`] stores a reenio delivery (ids only) with the job that fetches its
//! reservation, and [`ical`] polls a calendar feed and accepts the stays that changed.

pub mod ical;
pub mod reenio;

use latchkey_engine::rules::RuleEvent;
use latchkey_store::events::{self, NewEvent, Outcome};
use latchkey_store::{Conn, reservations, source_versions};
use serde::Serialize;

use crate::app::App;
use crate::error::Result;
use crate::queue::{self, JobSpec};
use crate::telemetry::metrics::{self, WebhookOutcome};
use latchkey_sources::canonical::CanonicalEvent;
use latchkey_sources::mapped::{self, MappedEvent, Versioned};

/// What happened to a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Accepted {
    /// Stored now.
    Stored {
        /// Latchkey's event id.
        event_id: i64,
        /// Whether its state became current.
        outcome: Outcome,
    },
    /// This `webhook-id` was stored before; nothing more was done.
    Duplicate,
    /// Authentic, but about nothing Latchkey acts on (a platform's rate or availability
    /// change, a transform that returned nothing); not stored.
    Ignored,
}

/// Stores `event`, received from `source` as `webhook_id` with raw body `raw`.
///
/// # Errors
/// Database errors; then nothing was stored and the sender should retry.
pub async fn accept(
    app: &App,
    source: &str,
    webhook_id: &str,
    event: &CanonicalEvent,
    raw: &str,
) -> Result<Accepted> {
    let mut tx = app.pool.begin().await?;
    let accepted = store(app, &mut tx, source, webhook_id, event, raw).await?;
    finish(app, tx, source, accepted).await
}

/// Stores a state mapped from a platform's own payload, with the version
/// [`mapped::decide`] gives it, in the same transaction. `webhook_id` is the delivery's
/// id; without one (a polled feed) the id is derived from the version and content, so an
/// unchanged state is a duplicate and stores nothing.
///
/// # Errors
/// Database errors; then nothing was stored and the sender should retry.
pub async fn accept_mapped(
    app: &App,
    source: &str,
    webhook_id: Option<&str>,
    event: &MappedEvent,
    raw: &str,
) -> Result<Accepted> {
    let ws = &app.catalog.workspace;
    let id = event.state.id.as_str();
    let mut tx = app.pool.begin().await?;
    // Before the versions are read: two deliveries of one reservation must not both
    // decide against the same record.
    reservations::serialize(&mut tx, ws, id).await?;
    let last = source_versions::get(&mut tx, ws, source, id).await?;
    let on_record = source_versions::reservation_version(&mut tx, ws, id).await?;
    let versioned = mapped::decide(event, last.as_ref(), on_record);
    if let Versioned::Newer(record) = &versioned {
        source_versions::put(&mut tx, ws, source, id, record, app.clock.now()).await?;
    }
    let mut state = event.state.clone();
    state.version = versioned.version();
    let derived;
    let webhook_id = match webhook_id {
        Some(given) => given,
        None => {
            derived = format!("{id}@{}:{}", state.version, &mapped::digest(&state)[..16]);
            &derived
        }
    };
    let canonical = CanonicalEvent {
        kind: event.kind,
        timestamp: None,
        data: state,
    };
    let accepted = store(app, &mut tx, source, webhook_id, &canonical, raw).await?;
    finish(app, tx, source, accepted).await
}

/// Commits a stored event (a duplicate's transaction is dropped, undoing everything), and
/// counts the delivery once its fate is settled.
async fn finish(
    app: &App,
    tx: sqlx::Transaction<'_, sqlx::Any>,
    source: &str,
    accepted: Accepted,
) -> Result<Accepted> {
    if let Accepted::Stored { .. } = accepted {
        tx.commit().await?;
        app.jobs_waiting.notify();
    }
    let outcome = match accepted {
        Accepted::Stored {
            outcome: Outcome::Stale,
            ..
        } => WebhookOutcome::Stale,
        Accepted::Stored { .. } => WebhookOutcome::Applied,
        Accepted::Duplicate => WebhookOutcome::Duplicate,
        Accepted::Ignored => WebhookOutcome::Ignored,
    };
    metrics::webhook_received(source, outcome);
    Ok(accepted)
}

/// Stores `event` in the caller's transaction: the state if newer, the event unless its
/// id is known, and a reconcile when the state was applied.
async fn store(
    app: &App,
    tx: &mut Conn,
    source: &str,
    webhook_id: &str,
    event: &CanonicalEvent,
    raw: &str,
) -> Result<Accepted> {
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    let r = &event.data;
    reservations::serialize(tx, ws, r.id.as_str()).await?;
    let received = RuleEvent {
        kind: event.kind,
        received_at: now,
    };
    let applied = reservations::upsert_if_newer(tx, ws, r, &received).await?;
    let outcome = if applied {
        Outcome::Applied
    } else {
        Outcome::Stale
    };
    let new = NewEvent {
        workspace: ws,
        source,
        webhook_id,
        event_type: event.kind,
        reservation: &r.id,
        version: r.version,
        payload: raw,
        received_at: now,
    };
    // A repeated webhook id returns here, and the caller drops the transaction, which
    // undoes the upsert.
    let Some(event_id) = events::insert(tx, &new, outcome).await? else {
        return Ok(Accepted::Duplicate);
    };
    if applied {
        queue::enqueue(
            tx,
            ws,
            &JobSpec::Reconcile {
                reservation: r.id.clone(),
            },
            now,
            now,
        )
        .await?;
    }
    Ok(Accepted::Stored { event_id, outcome })
}
