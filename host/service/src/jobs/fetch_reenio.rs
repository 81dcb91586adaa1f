//! `fetch_reenio`: fetch one reenio reservation (and its customer) and hand the snapshot
//! to the inbox for every delivery still pending about it.
//!
//! One job per reservation: deliveries arriving while it is queued join it, since one
//! fetch answers them all with reenio's current state. Safe to repeat and to run after a
//! restart: each delivery becomes the inbox event `reenio-delivery-{id}`, which the inbox
//! stores once, and is marked done only after. A reservation reenio no longer knows is
//! taken as cancelled when one is on record, so its codes are revoked.

use latchkey_engine::Reservation;
use latchkey_engine::ReservationStatus;
use latchkey_engine::rules::EventType;
use latchkey_store::jobs::ClaimedJob;
use latchkey_store::reenio::{self as deliveries, DeliveryState, PendingDelivery};
use latchkey_store::reservations;

use super::{Job, JobError};
use crate::app::App;
use crate::inbox::{self, Accepted};
use latchkey_sources::mapped::MappedEvent;
use latchkey_sources::reenio::wire::ReenioState;
use latchkey_sources::reenio::{ReenioSettings, snapshot, triggers};

/// What the fetch found.
enum Fetched {
    /// The reservation as reenio holds it now, with its state.
    Current(Reservation, ReenioState),
    /// It awaits confirmation: nothing to plan.
    Unconfirmed,
    /// reenio knows no such reservation; the one on record, cancelled, if any.
    Gone(Option<Reservation>),
}

/// `fetch_reenio`, as the worker runs it.
pub(super) struct FetchReenio {
    pub(super) source: String,
    pub(super) reservation: i64,
}

#[async_trait::async_trait]
impl Job for FetchReenio {
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError> {
        run(app, job, &self.source, self.reservation).await
    }
}

async fn run(app: &App, job: &ClaimedJob, source: &str, reservation: i64) -> Result<(), JobError> {
    let ws = &app.catalog.workspace;
    let settings = app
        .catalog
        .source(source)
        .and_then(|s| s.reenio.as_ref())
        .ok_or_else(|| JobError::Permanent(format!("`{source}` is not a reenio source")))?;
    let pending = {
        let mut conn = app.pool.acquire().await?;
        deliveries::pending(&mut conn, ws, source, reservation).await?
    };
    if pending.is_empty() {
        return super::complete(app, job).await;
    }
    let id = snapshot::reservation_id(source, reservation).map_err(JobError::Permanent)?;
    let on_record = {
        let mut conn = app.pool.acquire().await?;
        reservations::get(&mut conn, ws, id.as_str())
            .await?
            .map(|r| r.state)
    };
    let fetched = fetch(settings, source, reservation, &pending, on_record.as_ref()).await?;
    let now = app.clock.now();
    for delivery in &pending {
        let (outcome, event_id) = match &fetched {
            Fetched::Unconfirmed => (DeliveryState::Unconfirmed, None),
            Fetched::Gone(None) => (DeliveryState::Gone, None),
            Fetched::Gone(Some(cancelled)) => {
                let event =
                    hand_over(app, source, delivery, EventType::Cancelled, cancelled).await?;
                (DeliveryState::Fetched, event)
            }
            Fetched::Current(state, reenio_state) => {
                let trigger = u32::try_from(delivery.trigger_type).unwrap_or(u32::MAX);
                match triggers::resolve(&settings.hooks, &delivery.hook, trigger)
                    .event(*reenio_state)
                {
                    // The hook's mapping changed since the delivery was stored.
                    None => (DeliveryState::Ignored, None),
                    Some(kind) => {
                        let event = hand_over(app, source, delivery, kind, state).await?;
                        (DeliveryState::Fetched, event)
                    }
                }
            }
        };
        let mut conn = app.pool.acquire().await?;
        deliveries::finish(&mut conn, delivery.id, outcome, event_id, now).await?;
    }
    super::complete(app, job).await
}

/// Fetches the reservation and, for contact data, its customer, and builds the snapshot;
/// `on_record` is the state to cancel should reenio no longer know the reservation.
async fn fetch(
    settings: &ReenioSettings,
    source: &str,
    reservation: i64,
    pending: &[PendingDelivery],
    on_record: Option<&Reservation>,
) -> Result<Fetched, JobError> {
    let client = settings
        .client()
        .map_err(|e| JobError::Permanent(e.to_string()))?;
    let Some(detail) = client.reservation(reservation).await? else {
        // Versioned like a fetch, so a second 404 changes nothing.
        return Ok(Fetched::Gone(on_record.map(|old| Reservation {
            status: ReservationStatus::Cancelled,
            ..old.clone()
        })));
    };
    let customer_id = detail
        .customer
        .as_ref()
        .map(|c| c.id)
        .or_else(|| pending.iter().rev().find_map(|d| d.customer_id));
    let customer = match customer_id {
        Some(customer_id) => client.customer(customer_id).await?,
        None => None,
    };
    let built = snapshot::build(settings, source, &detail, customer.as_ref())
        .map_err(|e| JobError::Permanent(e.to_string()))?;
    Ok(match (built, ReenioState::from_number(detail.state)) {
        (Some(content), Some(state)) => Fetched::Current(content, state),
        _ => Fetched::Unconfirmed,
    })
}

/// Hands `state` to the inbox as `kind`, for `delivery`; returns the inbox event's id
/// (`None` when an earlier run already handed it over).
async fn hand_over(
    app: &App,
    source: &str,
    delivery: &PendingDelivery,
    kind: EventType,
    state: &Reservation,
) -> Result<Option<i64>, JobError> {
    // reenio has no versions: the inbox gives the fetched state one that grows only when
    // its content changed, as for every form that maps a platform's own payload.
    let event = MappedEvent {
        kind,
        state: state.clone(),
        order: None,
    };
    let webhook_id = format!("reenio-delivery-{}", delivery.id);
    Ok(
        match inbox::accept_mapped(app, source, Some(&webhook_id), &event, &delivery.body).await? {
            Accepted::Stored { event_id, .. } => Some(event_id),
            Accepted::Duplicate | Accepted::Ignored => None,
        },
    )
}
