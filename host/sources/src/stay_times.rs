//! Arrival and departure instants from what platforms write: a date alone takes the
//! property's default check-in or check-out time in its IANA zone (the way Rental Control
//! completes all-day calendar events, platforms.md §4.1), a zone-less date-time is read on
//! the property's wall clock, and a date-time with an offset is an instant.

use chrono::{NaiveDate, NaiveDateTime};
use latchkey_engine::time::{LocalTime, at_local};
use latchkey_engine::{Property, Timestamp};

/// Which end of a stay a value stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// The arrival: a date alone takes the property's `check_in_time`.
    Arrival,
    /// The departure: a date alone takes the property's `check_out_time`.
    Departure,
}

/// The instant of `edge` on the property-local `day`.
pub fn on_day(day: NaiveDate, edge: Edge, property: &Property) -> Timestamp {
    let time = match edge {
        Edge::Arrival => property.check_in_time,
        Edge::Departure => property.check_out_time,
    };
    at_local(day, time, property.timezone)
}

/// The instant a wall-clock date-time shows at the property (DST handled as in
/// [`latchkey_engine::time::at_local`]).
pub fn on_wall_clock(at: NaiveDateTime, property: &Property) -> Timestamp {
    let minute = LocalTime::new(chrono::Timelike::hour(&at), chrono::Timelike::minute(&at));
    // Hours and minutes of a parsed date-time are always in range.
    minute.map_or_else(
        || on_day(at.date(), Edge::Arrival, property),
        |t| at_local(at.date(), t, property.timezone),
    )
}

/// Reads `text` as an edge of a stay: `YYYY-MM-DD`, a zone-less `YYYY-MM-DDTHH:MM[:SS]`
/// (property-local) or RFC 3339 with an offset.
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse(text: &str, edge: Edge, property: &Property) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(day) = text.parse::<NaiveDate>() {
        return Ok(on_day(day, edge, property));
    }
    if let Ok(at) = Timestamp::parse_rfc3339(text) {
        return Ok(at);
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(on_wall_clock(at, property));
        }
    }
    Err(format!(
        "`{text}` is not a date (YYYY-MM-DD), a local date-time (YYYY-MM-DDTHH:MM:SS) or an RFC 3339 instant"
    ))
}

/// Reads the date at the start of `text` (`2022-05-21` of `2022-05-21T00:00:00`), for
/// platforms whose date-times stand for days.
///
/// # Errors
/// A message when `text` does not start with a date.
pub fn leading_date(text: &str) -> Result<NaiveDate, String> {
    text.trim()
        .get(..10)
        .and_then(|d| d.parse::<NaiveDate>().ok())
        .ok_or_else(|| format!("`{text}` does not start with a date as YYYY-MM-DD"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The example hotel's property: Lisbon, check-in 15:00, check-out 11:00.
    pub(crate) fn lisbon() -> Property {
        toml::from_str(
            r#"id = "resort"
               name = "Resort"
               timezone = "Europe/Lisbon"
               check_in_time = "15:00"
               check_out_time = "11:00""#,
        )
        .expect("property")
    }

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).expect("instant")
    }

    #[test]
    fn dates_take_the_property_times_in_its_zone() {
        let p = lisbon();
        // Summer: Lisbon is UTC+1.
        assert_eq!(
            parse("2026-07-10", Edge::Arrival, &p),
            Ok(at("2026-07-10T14:00:00Z"))
        );
        assert_eq!(
            parse("2026-07-12", Edge::Departure, &p),
            Ok(at("2026-07-12T10:00:00Z"))
        );
        // Winter: UTC+0.
        assert_eq!(
            parse("2026-11-23", Edge::Arrival, &p),
            Ok(at("2026-11-23T15:00:00Z"))
        );
    }

    #[test]
    fn wall_clock_and_instants() {
        let p = lisbon();
        assert_eq!(
            parse("2026-07-10T16:30:00", Edge::Arrival, &p),
            Ok(at("2026-07-10T15:30:00Z"))
        );
        assert_eq!(
            parse("2026-07-10T16:30:00+02:00", Edge::Arrival, &p),
            Ok(at("2026-07-10T14:30:00Z"))
        );
        assert!(parse("next tuesday", Edge::Arrival, &p).is_err());
        assert_eq!(
            leading_date("2022-05-21T00:00:00"),
            Ok(NaiveDate::from_ymd_opt(2022, 5, 21).expect("date"))
        );
        assert!(leading_date("21/05/2022").is_err());
    }
}
