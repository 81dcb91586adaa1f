//! Reading a feed: `VEVENT`s to stays, keyed on `UID`.

use chrono::TimeZone;
use icalendar::{Calendar, CalendarComponent, CalendarDateTime, Component, DatePerhapsTime};
use latchkey_engine::{Guest, Property, Reservation, ReservationId, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::IcalSettings;
use crate::stay_times::{self, Edge};

/// One stay the feed lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedStay {
    /// The event's `UID`, trimmed.
    pub uid: String,
    /// Its `SUMMARY` (for the audit trail; never an identity, platforms.md §4.3).
    pub summary: String,
    /// The stay as a reservation state; its version is assigned on acceptance.
    pub state: Reservation,
}

/// What a fetch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// At least one stay.
    Stays(Vec<FeedStay>),
    /// A calendar with no stays (no events, or only blocks): suspicious, not proof.
    Empty,
    /// No calendar: a transport error, an error status, or a body that is not iCalendar.
    Failed(String),
}

/// The reservation id of `uid` in source `source`: `{source}:{uid}`, or `{source}:` and a
/// digest of the `UID` when that is not a valid id (too long, or with spaces).
pub fn reservation_id(source: &str, uid: &str) -> Option<ReservationId> {
    ReservationId::parse(format!("{source}:{uid}"))
        .ok()
        .or_else(|| {
            let digest = hex::encode(Sha256::digest(uid.as_bytes()));
            ReservationId::parse(format!("{source}:{}", &digest[..32])).ok()
        })
}

/// Reads `text` as an iCalendar feed of `source`.
pub fn parse(text: &str, source: &str, settings: &IcalSettings, property: &Property) -> Fetched {
    let calendar: Calendar = match text.parse() {
        Ok(c) => c,
        Err(e) => {
            return Fetched::Failed(format!(
                "not an iCalendar feed: {}",
                e.lines().next().unwrap_or_default()
            ));
        }
    };
    if !text.trim_start().starts_with("BEGIN:VCALENDAR") {
        return Fetched::Failed("not an iCalendar feed: no BEGIN:VCALENDAR".into());
    }
    let stays: Vec<FeedStay> = calendar
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .filter_map(|event| stay(event, source, settings, property))
        .collect();
    if stays.is_empty() {
        Fetched::Empty
    } else {
        Fetched::Stays(stays)
    }
}

fn stay(
    event: &icalendar::Event,
    source: &str,
    settings: &IcalSettings,
    property: &Property,
) -> Option<FeedStay> {
    let uid = event.get_uid()?.trim().to_owned();
    let summary = event.get_summary().unwrap_or_default().trim().to_owned();
    let lower = summary.to_lowercase();
    if settings
        .ignore_summaries
        .iter()
        .any(|s| lower.contains(&s.to_lowercase()))
    {
        return None;
    }
    if event.property_value("RRULE").is_some() {
        // A stay does not repeat; Rental Control drops these too (platforms.md §4.2).
        tracing::warn!(source, uid, "repeating event left out of the feed's stays");
        return None;
    }
    let check_in = instant(event.get_start()?, Edge::Arrival, property);
    let check_out = instant(event.get_end()?, Edge::Departure, property);
    if check_out <= check_in {
        tracing::warn!(source, uid, "event ends before it starts; left out");
        return None;
    }
    let state = Reservation {
        id: reservation_id(source, &uid)?,
        status: settings.status,
        resources: vec![settings.resource.clone()],
        check_in,
        check_out,
        checked_out_at: None,
        guest: Guest {
            email: event.get_description().and_then(email),
            ..Guest::default()
        },
        version: 0,
    };
    Some(FeedStay {
        uid,
        summary,
        state,
    })
}

/// An all-day date takes the property's time (the `DTEND` date is the checkout day,
/// RFC 5545's exclusive end); a floating time is the property's wall clock; a `TZID` is
/// honoured when the zone database knows it.
fn instant(at: DatePerhapsTime, edge: Edge, property: &Property) -> Timestamp {
    match at {
        DatePerhapsTime::Date(day) => stay_times::on_day(day, edge, property),
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(dt)) => Timestamp(dt.timestamp()),
        DatePerhapsTime::DateTime(CalendarDateTime::Floating(local)) => {
            stay_times::on_wall_clock(local, property)
        }
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => match tzid
            .parse::<chrono_tz::Tz>()
            .ok()
            .and_then(|tz| tz.from_local_datetime(&date_time).earliest())
        {
            Some(dt) => Timestamp(dt.timestamp()),
            None => stay_times::on_wall_clock(date_time, property),
        },
    }
}

/// `Email: …` in a description (Guesty's feeds, platforms.md §4.1).
fn email(description: &str) -> Option<String> {
    description.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim().eq_ignore_ascii_case("email") && value.contains('@'))
            .then(|| value.trim().to_owned())
    })
}

#[cfg(test)]
mod tests;
