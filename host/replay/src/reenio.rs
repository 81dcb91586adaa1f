//! `latchkey replay --source reenio`: the bookings arrive as reenio would send them.
//!
//! Each planned webhook first becomes reenio's state: the reservation (and its customer)
//! in the reenio contract fake, which the replay serves on loopback and the service
//! reaches through its real API client. Then reenio's trigger is posted to the property's
//! reenio source, with ids only. The service answers `REENIO`, fetches, and plans from
//! what it fetched.
//!
//! | replay event | reenio state (`State`, `IsPaid`) | `triggerType` |
//! |---|---|---|
//! | confirmed | 1, unpaid | 0 created |
//! | paid | 1, paid | 7 paid |
//! | starts soon | unchanged | 4 start of term |
//! | (added) 2 h before check-in | unchanged | 4 start of term, hook `starts-2h` |
//! | modified, room move | the new term or place | none: reenio has no such trigger |
//! | cancelled | 4 | 9 cancelled |
//! | no-show | 3 | 10 did not take place |
//! | checked out | 2 | 2 took place |
//!
//! The oracle judges what the service could know: each acknowledged trigger carries the
//! reservation as reenio held it then, as the reenio form reads it (ids `{source}-{n}`,
//! no departure time, no guest locale), with a version that grows when that content
//! changes, as the form's versions do. A modification reenio does not announce is seen
//! with the next trigger of its reservation; the report counts them. That is why the
//! replayed property sets up a second start-of-term message, two hours before check-in, as
//! platforms.md §5.6 recommends (one hook per offset): a room move made the day before
//! arrival reaches the locks before the door opens, not at departure. Violations name the
//! replay's reservation ids again.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use clap::ValueEnum;
use latchkey_engine::clock::Clock;
use latchkey_engine::rules::EventType;
use latchkey_engine::{Guest, Reservation, ReservationId, ReservationStatus, ResourceId};
use latchkey_service::catalog::{Catalog, CatalogFile};
use latchkey_sim::reenio::ReenioFake;
use latchkey_sources::SourceForm;
use latchkey_sources::reenio::client::ReenioClient;
use latchkey_sources::reenio::snapshot::reservation_id;
use latchkey_sources::reenio::wire::{CustomerDetail, CustomerRef, ReenioState, ReservationDetail};
use tower::ServiceExt;

use super::inventory::Room;
use super::timeline::PlannedWebhook;

/// How the replay's bookings reach the service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ReplaySource {
    /// Canonical webhooks, signed, carrying the full state.
    #[default]
    Canonical,
    /// reenio triggers, the state fetched from the reenio fake.
    Reenio,
}

/// The first place id handed to a room (ids below are left to the property's own map).
const FIRST_PLACE: i64 = 1001;

/// The API key of the replay's reenio account (a loopback fake).
const REPLAY_API_KEY: &str = "replay-reenio-key";

/// The hook of the start-of-term message sent [`REMINDER_LEAD_SECS`] before check-in.
pub const REMINDER_HOOK: &str = "starts-2h";

/// How long before check-in the second start-of-term message goes, in seconds.
pub const REMINDER_LEAD_SECS: i64 = 2 * 3600;

/// The suffix of the webhook ids [`with_start_reminders`] adds.
const REMINDER_SUFFIX: &str = "-starts-2h";

/// `planned` (sorted by send instant) with reenio's second start-of-term message for each
/// reservation still confirmed or paid two hours before its check-in; it carries the
/// state of the reservation's latest webhook before it, so it changes nothing in reenio.
/// Still sorted by send instant, a message after the timeline's webhooks of its instant.
pub fn with_start_reminders(mut planned: Vec<PlannedWebhook>) -> Vec<PlannedWebhook> {
    let mut by_reservation: HashMap<&ReservationId, Vec<&PlannedWebhook>> = HashMap::new();
    for w in &planned {
        by_reservation.entry(&w.reservation.id).or_default().push(w);
    }
    let mut reminders: Vec<PlannedWebhook> = by_reservation
        .into_values()
        .filter_map(|webhooks| {
            let last = webhooks.last()?;
            let at = last.reservation.check_in.plus(-REMINDER_LEAD_SECS);
            let before = webhooks.iter().rev().find(|w| w.send_at <= at)?;
            matches!(
                before.reservation.status,
                ReservationStatus::Confirmed | ReservationStatus::Paid
            )
            .then(|| PlannedWebhook {
                send_at: at,
                webhook_id: format!("{}{REMINDER_SUFFIX}", before.reservation.id),
                event: EventType::StartsSoon,
                reservation: before.reservation.clone(),
            })
        })
        .collect();
    reminders.sort_by(|a, b| (a.send_at, &a.webhook_id).cmp(&(b.send_at, &b.webhook_id)));
    planned.extend(reminders);
    // Stable: the timeline's webhooks keep their order and come first at equal instants.
    planned.sort_by_key(|w| w.send_at);
    planned
}

/// reenio's side of a replay, and what the service should have learnt from it.
pub struct ReenioDelivery {
    source: String,
    secret: String,
    fake: ReenioFake,
    places: HashMap<ResourceId, i64>,
    /// Replay reservation → reenio id, and the service's id → the replay's.
    reenio_ids: HashMap<ReservationId, i64>,
    replay_ids: HashMap<ReservationId, ReservationId>,
    /// The newest timeline version put into reenio, per replay reservation, and that state.
    in_reenio: HashMap<ReservationId, Reservation>,
    /// The last state acknowledged per replay reservation, as the service reads it.
    known: HashMap<ReservationId, Reservation>,
    /// Changes made in reenio that no trigger announced.
    pub unannounced: usize,
}

impl ReenioDelivery {
    /// Picks the property's first reenio source, maps each of `rooms` to a reenio place
    /// (replacing the source's resource map), and starts the fake on `clock`. Returns the
    /// client to [`ReenioDelivery::connect`] once the catalog is resolved.
    ///
    /// # Errors
    /// When the property has no reenio source or the fake cannot be served.
    pub async fn start(
        file: &mut CatalogFile,
        rooms: &[Room],
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<(ReenioDelivery, ReenioClient)> {
        let source = file
            .sources
            .iter_mut()
            .find(|s| s.form == SourceForm::Reenio)
            .context("--source reenio: the property declares no source of the reenio form")?;
        let settings = source
            .reenio
            .as_mut()
            .context("the reenio source has no [sources.reenio]")?;
        let secret = settings
            .secrets
            .first()
            .context("the reenio source has no secret")?
            .expose()
            .to_owned();
        // Declared, so the service accepts it; its triggers keep the default meanings.
        settings.hooks.entry(REMINDER_HOOK.to_owned()).or_default();
        let mut places = HashMap::new();
        settings.resources.clear();
        for (place, room) in (FIRST_PLACE..).zip(rooms) {
            places.insert(room.resource.clone(), place);
            settings
                .resources
                .insert(place.to_string(), room.resource.clone());
        }
        let fake = ReenioFake::new(REPLAY_API_KEY, clock);
        let client = fake.serve(false).await?;
        let delivery = ReenioDelivery {
            source: source.name.clone(),
            secret,
            fake,
            places,
            reenio_ids: HashMap::new(),
            replay_ids: HashMap::new(),
            in_reenio: HashMap::new(),
            known: HashMap::new(),
            unannounced: 0,
        };
        Ok((delivery, client))
    }

    /// Points the resolved catalog's reenio source at the fake through `client`.
    ///
    /// # Errors
    /// When the source is missing from the catalog.
    pub fn connect(&self, catalog: &Catalog, client: ReenioClient) -> anyhow::Result<()> {
        let settings = catalog
            .source(&self.source)
            .and_then(|s| s.reenio.as_ref())
            .context("the reenio source vanished from the catalog")?;
        settings.api.install(client);
        Ok(())
    }

    /// The replay's id of the service's reservation `id`.
    pub fn replay_id(&self, id: &ReservationId) -> Option<&ReservationId> {
        self.replay_ids.get(id)
    }

    /// Makes `w` reenio's state and posts its trigger. Returns the status and the state
    /// the service is to fetch, or `None` when reenio announces no such change.
    ///
    /// # Errors
    /// When the request cannot be built or routed.
    pub async fn deliver(
        &mut self,
        routes: &Router,
        w: &PlannedWebhook,
    ) -> anyhow::Result<Option<(StatusCode, Reservation)>> {
        let replay_id = w.reservation.id.clone();
        let reenio_id = self.reenio_id(&replay_id)?;
        // reenio holds the newest state, whatever order deliveries come in.
        let newer = self
            .in_reenio
            .get(&replay_id)
            .is_none_or(|held| w.reservation.version > held.version);
        if newer {
            self.put(reenio_id, &w.reservation)?;
            self.in_reenio
                .insert(replay_id.clone(), w.reservation.clone());
        }
        let Some(trigger) = trigger_for(w.event) else {
            self.unannounced += 1;
            return Ok(None);
        };
        let body = format!(
            r#"{{"triggerType":{trigger},"customerId":{reenio_id},"reservationId":{reenio_id}}}"#
        );
        let hook = if w.webhook_id.ends_with(REMINDER_SUFFIX) {
            REMINDER_HOOK
        } else {
            latchkey_sources::reenio::DEFAULT_HOOK
        };
        let request = Request::post(format!("/v1/hooks/{}", self.source))
            .header("content-type", "application/json")
            .header(latchkey_sources::reenio::DEFAULT_HEADER, &self.secret)
            .header(latchkey_sources::reenio::HOOK_HEADER, hook)
            .body(Body::from(body))?;
        let status = routes.clone().oneshot(request).await?.status();
        let expected = self.expected(&replay_id, reenio_id)?;
        if status.is_success() {
            self.known.insert(replay_id, expected.clone());
        }
        Ok(Some((status, expected)))
    }

    fn reenio_id(&mut self, replay_id: &ReservationId) -> anyhow::Result<i64> {
        if let Some(id) = self.reenio_ids.get(replay_id) {
            return Ok(*id);
        }
        let id = i64::try_from(self.reenio_ids.len())? + 1;
        let service_id = reservation_id(&self.source, id).map_err(anyhow::Error::msg)?;
        self.reenio_ids.insert(replay_id.clone(), id);
        self.replay_ids.insert(service_id, replay_id.clone());
        Ok(id)
    }

    /// Writes `r` into the fake as reservation (and customer) `id`.
    fn put(&self, id: i64, r: &Reservation) -> anyhow::Result<()> {
        let room = r.resources.first().context("a replay stay has a room")?;
        let place = *self.places.get(room).context("every room has a place")?;
        let (state, is_paid) = match r.status {
            ReservationStatus::Confirmed => (ReenioState::Confirmed, false),
            ReservationStatus::Paid => (ReenioState::Confirmed, true),
            ReservationStatus::Cancelled => (ReenioState::Cancelled, false),
            ReservationStatus::NoShow => (ReenioState::DidNotTakePlace, false),
            ReservationStatus::CheckedOut => (ReenioState::TookPlace, true),
        };
        self.fake.put_reservation(ReservationDetail {
            id,
            name: Some(format!("Room {room}")),
            service_id: None,
            place_id: Some(place),
            employee_id: None,
            start: r.check_in,
            end: r.check_out,
            code: Some(r.id.to_string()),
            state: state.number(),
            is_paid,
            capacity: Some(1),
            customer: Some(CustomerRef {
                id,
                name: Some(r.guest.name.clone()),
            }),
        });
        self.fake.put_customer(CustomerDetail {
            id,
            name: Some(r.guest.name.clone()),
            email: r.guest.email.clone(),
            phone: r.guest.phone.clone(),
        });
        Ok(())
    }

    /// What the service should hold once it fetched reservation `reenio_id`: reenio's
    /// state as the form reads it, versioned by content as the form versions it.
    fn expected(&self, replay_id: &ReservationId, reenio_id: i64) -> anyhow::Result<Reservation> {
        let held = self
            .in_reenio
            .get(replay_id)
            .context("the reservation is in reenio")?;
        let mut expected = Reservation {
            id: reservation_id(&self.source, reenio_id).map_err(anyhow::Error::msg)?,
            checked_out_at: None,
            guest: Guest {
                locale: None,
                ..held.guest.clone()
            },
            version: 0,
            ..held.clone()
        };
        expected.version = match self.known.get(replay_id) {
            Some(last)
                if Reservation {
                    version: 0,
                    ..last.clone()
                } == expected =>
            {
                last.version
            }
            Some(last) => last.version + 1,
            None => 1,
        };
        Ok(expected)
    }
}

/// reenio's trigger for a replay event; `None` for a change reenio does not announce.
fn trigger_for(event: EventType) -> Option<u32> {
    match event {
        EventType::Confirmed => Some(0),
        EventType::Paid => Some(7),
        EventType::StartsSoon => Some(4),
        EventType::Modified => None,
        EventType::Cancelled => Some(9),
        EventType::NoShow => Some(10),
        EventType::CheckedOut => Some(2),
    }
}

#[cfg(test)]
mod tests {
    use latchkey_engine::{ResourceId, Timestamp};

    use super::*;

    fn webhook(id: &str, at: i64, event: EventType, status: ReservationStatus) -> PlannedWebhook {
        PlannedWebhook {
            send_at: Timestamp(at),
            webhook_id: format!("{id}-{at}"),
            event,
            reservation: Reservation {
                id: ReservationId::parse(id).expect("id"),
                status,
                resources: vec![ResourceId::parse("A01").expect("id")],
                check_in: Timestamp(100_000),
                check_out: Timestamp(200_000),
                checked_out_at: None,
                guest: Guest::default(),
                version: 1,
            },
        }
    }

    #[test]
    fn a_reminder_goes_two_hours_before_check_in_to_stays_still_on() {
        use ReservationStatus::*;
        let at = 100_000 - REMINDER_LEAD_SECS;
        let planned = vec![
            webhook("H1", 1_000, EventType::Confirmed, Confirmed),
            webhook("H2", 1_000, EventType::Confirmed, Confirmed),
            webhook("H2", 50_000, EventType::Cancelled, Cancelled),
            webhook("H3", at, EventType::Paid, Paid),
            webhook("H4", at + 1, EventType::Confirmed, Confirmed),
        ];
        let out = with_start_reminders(planned);
        let reminders: Vec<(&str, i64)> = out
            .iter()
            .filter(|w| w.webhook_id.ends_with(REMINDER_SUFFIX))
            .map(|w| (w.reservation.id.as_str(), w.send_at.unix()))
            .collect();
        assert_eq!(
            reminders,
            [("H1", at), ("H3", at)],
            "not cancelled, not booked later"
        );
        assert!(
            out.windows(2).all(|p| p[0].send_at <= p[1].send_at),
            "sorted"
        );
        let h3 = out.iter().position(|w| w.webhook_id == format!("H3-{at}"));
        let h3_reminder = out.iter().position(|w| w.webhook_id == "H3-starts-2h");
        assert!(
            h3 < h3_reminder,
            "after the timeline's webhook of the same instant"
        );
    }
}
