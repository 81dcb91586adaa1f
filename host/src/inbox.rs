//! The inbox: accepting a verified event durably, before it is acknowledged.
//!
//! One transaction stores the event (deduplicated by `webhook-id`), makes its reservation
//! state current if it is newer than the one on record, and enqueues a reconcile. Out of
//! order delivery is safe: an older version is stored as `stale` and changes nothing, so a
//! cancellation stays final unless a newer version reinstates the reservation.

use latchkey_engine::rules::RuleEvent;
use serde::Serialize;

use crate::app::App;
use crate::error::Result;
use crate::jobs::{self, JobSpec};
use crate::sources::canonical::CanonicalEvent;
use crate::store::events::{self, NewEvent, Outcome};
use crate::store::reservations;

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
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    let r = &event.data;
    let mut tx = app.pool.begin().await?;
    let received = RuleEvent {
        kind: event.kind,
        received_at: now,
    };
    let applied = reservations::upsert_if_newer(&mut tx, ws, r, &received).await?;
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
    // A repeated webhook id returns here, and dropping the transaction undoes the upsert.
    let Some(event_id) = events::insert(&mut tx, &new, outcome).await? else {
        return Ok(Accepted::Duplicate);
    };
    if applied {
        jobs::enqueue(
            &mut tx,
            ws,
            &JobSpec::Reconcile {
                reservation: r.id.clone(),
            },
            now,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    app.jobs_waiting.notify_one();
    Ok(Accepted::Stored { event_id, outcome })
}
