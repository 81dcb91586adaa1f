//! From bookings to the webhooks a booking platform would send.
//!
//! Every webhook carries the reservation's full state and a version that grows by one per
//! webhook of that reservation, so the receiver can always tell the newest state.
//!
//! The rules, all local times in the property's zone:
//!
//! - **stay**: check-in is the arrival day at `check_in_time`, check-out the departure day
//!   (arrival + nights) at `check_out_time`; a day-use stay (0 nights) runs on the arrival
//!   day from `day_use_start` to `day_use_end`.
//! - **confirmed** (v1): at (arrival − lead time) at 10:00, status `confirmed`, the initial
//!   room, a synthetic guest (`Guest H{row}`, `h{row}@guests.example`).
//! - **paid**: 5 minutes after booking for `Non Refund` and `Refundable` deposits; otherwise at
//!   max(booking + 1 h, check-in − 48 h). Not sent if that falls at or after a cancellation.
//! - **starts_soon**: check-in − 48 h, when that is after booking and before any cancellation.
//! - **modified** × `booking_changes` (at most [`MAX_MODIFICATIONS`]): spread evenly between
//!   booking and min(check-in − 2 h, cancellation), or 2 minutes apart after booking when
//!   that span is too short. v1 then holds one night more than the row (a day-use stay is
//!   one day later); the modifications alternate between that stay and the real one so that
//!   the last sets the row's real dates.
//! - **room move** (`reserved_room_type` ≠ `assigned_room_type`): one `modified` at
//!   check-in − 1 day (booking + 10 minutes if that is not after booking) switching from the
//!   initial room to the final one; skipped if it would come at or after a cancellation.
//! - **cancelled**: on `reservation_status_date` at 12:00, or booking + 30 minutes when that
//!   is not after booking.
//! - **no_show**: arrival day + 1 at 02:00.
//! - **checked_out**: departure day at 10:30 (day use: `day_use_end` − 30 min), with
//!   `checked_out_at` that instant.
//!
//! Statuses carry over: once paid, a state stays `paid` until cancelled, no-show or checked
//! out. Webhooks of one reservation have strictly increasing send instants.

use chrono::{Days, NaiveDate};
use latchkey_engine::rules::EventType;
use latchkey_engine::time::{LocalTime, at_local};
use latchkey_engine::{Guest, Property, Reservation, ReservationId, ReservationStatus, Timestamp};

use super::bookings::{Booking, DepositType, FinalStatus};
use super::inventory::Inventory;

mod stay;

use stay::add_days;
pub use stay::{Stay, final_stay, stays};

/// Most `modified` webhooks made from one row's `booking_changes`; more are capped.
pub const MAX_MODIFICATIONS: u32 = 50;

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;

/// A webhook the platform sends at `send_at` (UTC Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedWebhook {
    /// When the platform sends it.
    pub send_at: Timestamp,
    /// Unique id, `H{row}-v{version}`; the receiver dedupes on it.
    pub webhook_id: String,
    /// Event type.
    pub event: EventType,
    /// The reservation's full state after the event.
    pub reservation: Reservation,
}

/// Why a timeline could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimelineError {
    /// The inventory has no room for this row.
    #[error("booking row {0} has no room in the inventory")]
    Unassigned(usize),
    /// The reservation id is not a valid id.
    #[error("booking row {row}: {message}")]
    Id {
        /// Data row.
        row: usize,
        /// Why the id was refused.
        message: String,
    },
}

/// Every webhook for `bookings`, sorted by (send instant, webhook id).
///
/// # Errors
/// [`TimelineError`] when a booking has no room in `inventory`.
pub fn timeline(
    bookings: &[Booking],
    inventory: &Inventory,
    property: &Property,
) -> Result<Vec<PlannedWebhook>, TimelineError> {
    let mut out = Vec::new();
    for b in bookings {
        out.extend(booking_webhooks(b, inventory, property)?);
    }
    out.sort_by(|a, b| (a.send_at, &a.webhook_id).cmp(&(b.send_at, &b.webhook_id)));
    Ok(out)
}

/// What one webhook changes. Variant order breaks ties between equal instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    Confirm,
    Pay,
    Dates(bool),
    Move,
    StartsSoon,
    Cancel,
    NoShow,
    CheckOut,
}

/// The webhooks of one booking, in send order.
pub fn booking_webhooks(
    b: &Booking,
    inventory: &Inventory,
    property: &Property,
) -> Result<Vec<PlannedWebhook>, TimelineError> {
    let rooms = inventory
        .assignment
        .get(&b.row)
        .ok_or(TimelineError::Unassigned(b.row))?;
    let id = ReservationId::parse(b.reservation_id()).map_err(|message| TimelineError::Id {
        row: b.row,
        message,
    })?;
    let tz = property.timezone;
    let versions = stays(b);
    let last = final_stay(b);
    let (check_in, _) = last.instants(property);
    let local = |day: NaiveDate, h: u32, m: u32| {
        LocalTime::new(h, m)
            .map_or(Timestamp(0), |t| at_local(day, t, tz))
            .unix()
    };
    let booked = local(
        b.arrival
            .checked_sub_days(Days::new(b.lead_time_days.into()))
            .unwrap_or(b.arrival),
        10,
        0,
    );
    let check_in = check_in.unix();

    let mut plan: Vec<(i64, Change)> = vec![(booked, Change::Confirm)];
    let cancel_at = (b.status == FinalStatus::Canceled).then(|| {
        let at = local(b.status_date, 12, 0);
        if at > booked {
            at
        } else {
            booked + 30 * MINUTE
        }
    });
    let before_cancel = |t: i64| cancel_at.is_none_or(|c| t < c);
    let paid_at = match b.deposit_type {
        DepositType::NonRefund | DepositType::Refundable => booked + 5 * MINUTE,
        DepositType::NoDeposit | DepositType::Other(_) => (booked + HOUR).max(check_in - 48 * HOUR),
    };
    if before_cancel(paid_at) {
        plan.push((paid_at, Change::Pay));
    }
    let soon = check_in - 48 * HOUR;
    if soon > booked && before_cancel(soon) {
        plan.push((soon, Change::StartsSoon));
    }
    let k = i64::from(b.booking_changes.min(MAX_MODIFICATIONS));
    if k > 0 {
        let span_end = (check_in - 2 * HOUR).min(cancel_at.unwrap_or(i64::MAX));
        let span = span_end - booked;
        let step = if span >= (k + 1) * MINUTE {
            span / (k + 1)
        } else {
            let room = cancel_at.map_or(i64::MAX, |c| (c - booked) / (k + 1));
            (2 * MINUTE).min(room).max(1)
        };
        for i in 1..=k {
            plan.push((booked + i * step, Change::Dates((k - i) % 2 == 0)));
        }
    }
    if b.moves_room() {
        let day_before = check_in - 24 * HOUR;
        let at = if day_before > booked {
            day_before
        } else {
            booked + 10 * MINUTE
        };
        if before_cancel(at) {
            plan.push((at, Change::Move));
        }
    }
    match b.status {
        FinalStatus::Canceled => plan.push((cancel_at.unwrap_or(booked), Change::Cancel)),
        FinalStatus::NoShow => plan.push((local(add_days(b.arrival, 1), 2, 0), Change::NoShow)),
        FinalStatus::CheckOut => {
            let at = if last.is_day_use() {
                at_local(last.first_day, property.day_use_end, tz).unix() - 30 * MINUTE
            } else {
                local(last.last_day, 10, 30)
            };
            plan.push((at, Change::CheckOut));
        }
    }
    plan.sort();

    let initial_stay = versions[0];
    let (ci, co) = initial_stay.instants(property);
    let mut state = Reservation {
        id,
        status: ReservationStatus::Confirmed,
        resources: vec![rooms.initial.clone()],
        check_in: ci,
        check_out: co,
        checked_out_at: None,
        guest: Guest {
            name: format!("Guest H{}", b.row),
            email: Some(format!("h{}@guests.example", b.row)),
            phone: None,
            locale: locale(&b.country).map(str::to_string),
        },
        version: 0,
    };
    let mut out = Vec::with_capacity(plan.len());
    let mut prev = i64::MIN;
    for (at, change) in plan {
        // Equal instants would leave the receiver's order to chance; one second apart keeps
        // versions and send order aligned.
        let at = at.max(prev.saturating_add(1));
        prev = at;
        let event = match change {
            Change::Confirm => EventType::Confirmed,
            Change::Pay => {
                state.status = ReservationStatus::Paid;
                EventType::Paid
            }
            Change::StartsSoon => EventType::StartsSoon,
            Change::Dates(real) => {
                let stay = if real { last } else { initial_stay };
                (state.check_in, state.check_out) = stay.instants(property);
                EventType::Modified
            }
            Change::Move => {
                state.resources = vec![rooms.final_room.clone()];
                EventType::Modified
            }
            Change::Cancel => {
                state.status = ReservationStatus::Cancelled;
                EventType::Cancelled
            }
            Change::NoShow => {
                state.status = ReservationStatus::NoShow;
                EventType::NoShow
            }
            Change::CheckOut => {
                state.status = ReservationStatus::CheckedOut;
                state.checked_out_at = Some(Timestamp(at));
                EventType::CheckedOut
            }
        };
        state.version += 1;
        out.push(PlannedWebhook {
            send_at: Timestamp(at),
            webhook_id: format!("H{}-v{}", b.row, state.version),
            event,
            reservation: state.clone(),
        });
    }
    Ok(out)
}

/// A plausible guest language for the commonest countries in the data.
fn locale(country: &str) -> Option<&'static str> {
    Some(match country {
        "PRT" => "pt-PT",
        "GBR" | "IRL" => "en-GB",
        "USA" => "en-US",
        "ESP" => "es-ES",
        "FRA" => "fr-FR",
        "DEU" | "AUT" => "de-DE",
        "ITA" => "it-IT",
        "NLD" => "nl-NL",
        "BRA" => "pt-BR",
        _ => return None,
    })
}
