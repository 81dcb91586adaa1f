//! Accepting an authenticated reenio delivery durably, before it is answered: one
//! transaction stores the raw body and enqueues the fetch of its reservation.
//!
//! Identical bodies from one hook within [`DUPLICATE_WINDOW_SECS`] are reenio retrying a
//! delivery whose answer it lost (it sends no delivery id, platforms.md §1.4): they are
//! answered alike and stored once. One that slips through is harmless, since the fetch
//! plans from reenio's current state.

use latchkey_store::reenio::{self as deliveries, DeliveryState, NewDelivery};
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::error::{Error, Result};
use crate::queue::{self, JobSpec};
use latchkey_sources::reenio::triggers::TriggerTarget;
use latchkey_sources::reenio::wire::WebhookBody;

/// Seconds within which an identical body from the same hook counts as a retry.
pub const DUPLICATE_WINDOW_SECS: i64 = 300;

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Stored, with the fetch of its reservation enqueued.
    Stored {
        /// The delivery's id.
        delivery: i64,
    },
    /// Stored for audit only: the hook's mapping ignores its trigger.
    Ignored {
        /// The delivery's id.
        delivery: i64,
    },
    /// An identical body came within the window; nothing was done.
    Duplicate,
}

/// Stores `body` (raw text `raw`), received from `hook` of `source`.
///
/// # Errors
/// [`Error::Invalid`] (`/reservationId`) when a trigger that needs a fetch names no
/// reservation; database errors, after which nothing was stored and reenio redelivers.
pub async fn accept(
    app: &App,
    source: &str,
    hook: &str,
    target: TriggerTarget,
    body: &WebhookBody,
    raw: &str,
) -> Result<Accepted> {
    let reservation = match (target, body.reservation_id) {
        (TriggerTarget::Ignore, id) => id,
        (_, Some(id)) => Some(id),
        (_, None) => {
            return Err(Error::Invalid {
                pointer: "/reservationId".into(),
                detail: format!(
                    "triggerType {} on hook `{hook}` needs a `reservationId` to fetch",
                    body.trigger_type
                ),
            });
        }
    };
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    let sha = hex::encode(Sha256::digest(raw.as_bytes()));
    let mut tx = app.pool.begin().await?;
    let since = now.plus(-DUPLICATE_WINDOW_SECS);
    if deliveries::seen_since(&mut tx, ws, source, hook, &sha, since).await? {
        return Ok(Accepted::Duplicate);
    }
    let ignored = target == TriggerTarget::Ignore;
    let new = NewDelivery {
        source,
        hook,
        trigger_type: body.trigger_type,
        reservation_id: reservation,
        customer_id: body.customer_id,
        body: raw,
        body_sha256: &sha,
        received_at: now,
        state: if ignored {
            DeliveryState::Ignored
        } else {
            DeliveryState::Pending
        },
    };
    let delivery = deliveries::insert(&mut tx, ws, &new).await?;
    if let (false, Some(reservation)) = (ignored, reservation) {
        let spec = JobSpec::FetchReenio {
            source: source.to_owned(),
            reservation,
        };
        queue::enqueue(&mut tx, ws, &spec, now, now).await?;
    }
    tx.commit().await?;
    if ignored {
        return Ok(Accepted::Ignored { delivery });
    }
    app.jobs_waiting.notify();
    Ok(Accepted::Stored { delivery })
}
