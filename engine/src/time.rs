//! Instants and the property's local time.
//!
//! Instants are stored as UTC Unix seconds ([`Timestamp`]); the property's IANA zone turns
//! them into local days and back. Daylight-saving days are handled explicitly: a local time
//! that does not exist (spring forward) maps to the first instant after the gap, and one that
//! exists twice (fall back) maps to its earlier occurrence.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Seconds in one hour.
pub const HOUR: i64 = 3600;
/// Seconds in one day of 24 hours (not a local calendar day).
pub const DAY: i64 = 86_400;

/// An instant: whole seconds since 1970-01-01T00:00:00Z.
///
/// Serialises as an integer. Deserialises from an integer or from an RFC 3339 string with an
/// offset (`"2016-03-27T15:00:00+01:00"`), so platforms can send readable times while rules
/// do plain integer arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        self.0
    }

    /// This instant plus `secs` seconds (negative moves back), saturating.
    pub fn plus(self, secs: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs))
    }

    /// Parses RFC 3339 (`2016-03-27T15:00:00Z`, `…+01:00`).
    ///
    /// # Errors
    /// A message naming the expected format when `s` is not RFC 3339.
    pub fn parse_rfc3339(s: &str) -> Result<Timestamp, String> {
        DateTime::parse_from_rfc3339(s)
            .map(|dt| Timestamp(dt.timestamp()))
            .map_err(|e| format!("`{s}` is not an RFC 3339 date-time with an offset ({e})"))
    }

    /// RFC 3339 in UTC, for logs and reports.
    pub fn to_rfc3339(self) -> String {
        DateTime::from_timestamp(self.0, 0)
            .map(|dt| dt.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| format!("@{}", self.0))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Seconds(i64),
            Text(String),
        }
        match Repr::deserialize(d).map_err(|_| {
            serde::de::Error::custom("expected Unix seconds or an RFC 3339 date-time")
        })? {
            Repr::Seconds(s) => Ok(Timestamp(s)),
            Repr::Text(t) => Timestamp::parse_rfc3339(&t).map_err(serde::de::Error::custom),
        }
    }
}

/// A wall-clock time of day at the property, minute precision (`"15:00"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalTime(NaiveTime);

impl LocalTime {
    /// `hour:minute`; `None` when out of range.
    pub fn new(hour: u32, minute: u32) -> Option<LocalTime> {
        NaiveTime::from_hms_opt(hour, minute, 0).map(LocalTime)
    }

    /// The underlying time of day.
    pub fn naive(self) -> NaiveTime {
        self.0
    }
}

impl FromStr for LocalTime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NaiveTime::parse_from_str(s, "%H:%M")
            .map(LocalTime)
            .map_err(|_| format!("`{s}` is not a local time of day as HH:MM (24-hour)"))
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl Serialize for LocalTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The local calendar day on which `at` falls in `tz`.
pub fn local_day(at: Timestamp, tz: Tz) -> NaiveDate {
    let utc = DateTime::from_timestamp(at.0, 0).unwrap_or_default();
    utc.with_timezone(&tz).date_naive()
}

/// The instant at which the wall clock in `tz` shows `time` on `day`.
///
/// On a spring-forward day a time inside the gap maps to the first instant after the gap
/// (in Lisbon, 01:30 on 2016-03-27 does not exist and becomes 02:00 WEST, 01:00 UTC); on a
/// fall-back day an ambiguous time maps to its earlier occurrence.
pub fn at_local(day: NaiveDate, time: LocalTime, tz: Tz) -> Timestamp {
    let naive = day.and_time(time.0);
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(dt) => Timestamp(dt.timestamp()),
        LocalResult::Ambiguous(earlier, _) => Timestamp(earlier.timestamp()),
        LocalResult::None => {
            // Gaps are at most a few hours; step forward a minute at a time to the first
            // wall time that exists: that is the instant the gap ends.
            let mut probe = naive;
            for _ in 0..(4 * 60) {
                probe += Duration::minutes(1);
                if let Some(dt) = tz.from_local_datetime(&probe).earliest() {
                    return Timestamp(dt.timestamp());
                }
            }
            Timestamp(tz.from_utc_datetime(&naive).timestamp())
        }
    }
}

/// Parses an IANA zone name (`Europe/Lisbon`).
///
/// # Errors
/// A message naming the zone when the time-zone database does not know it.
pub fn parse_tz(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("`{name}` is not an IANA time zone name (e.g. Europe/Lisbon)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lisbon() -> Tz {
        parse_tz("Europe/Lisbon").expect("known zone")
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn check_in_follows_lisbon_summer_time() {
        let t = LocalTime::new(15, 0).expect("time");
        // Winter: UTC+0. Summer: UTC+1.
        assert_eq!(
            at_local(day("2016-03-26"), t, lisbon()),
            Timestamp::parse_rfc3339("2016-03-26T15:00:00Z").expect("ts")
        );
        assert_eq!(
            at_local(day("2016-03-27"), t, lisbon()),
            Timestamp::parse_rfc3339("2016-03-27T14:00:00Z").expect("ts")
        );
        assert_eq!(
            at_local(day("2016-10-30"), t, lisbon()),
            Timestamp::parse_rfc3339("2016-10-30T15:00:00Z").expect("ts")
        );
    }

    #[test]
    fn spring_forward_gap_maps_to_end_of_gap() {
        // Lisbon 2016-03-27: 01:00 WET jumps to 02:00 WEST; 01:30 does not exist.
        let t = LocalTime::new(1, 30).expect("time");
        assert_eq!(
            at_local(day("2016-03-27"), t, lisbon()),
            Timestamp::parse_rfc3339("2016-03-27T01:00:00Z").expect("ts")
        );
    }

    #[test]
    fn fall_back_ambiguity_takes_earlier_instant() {
        // Lisbon 2016-10-30: 02:00 WEST falls back to 01:00 WET; 01:30 happens twice.
        let t = LocalTime::new(1, 30).expect("time");
        assert_eq!(
            at_local(day("2016-10-30"), t, lisbon()),
            Timestamp::parse_rfc3339("2016-10-30T00:30:00Z").expect("ts")
        );
    }

    #[test]
    fn local_day_uses_the_zone_not_utc() {
        // 23:30 UTC on 26 March 2016 is 23:30 local (winter); an hour later on the 27th.
        let late = Timestamp::parse_rfc3339("2016-06-30T23:30:00Z").expect("ts");
        assert_eq!(local_day(late, lisbon()), day("2016-07-01"));
    }

    #[test]
    fn timestamp_reads_seconds_and_rfc3339() {
        let a: Timestamp = serde_json::from_str("1459087200").expect("int");
        let b: Timestamp = serde_json::from_str("\"2016-03-27T15:00:00+01:00\"").expect("text");
        assert_eq!(a, b);
        assert!(serde_json::from_str::<Timestamp>("\"27/03/2016\"").is_err());
    }
}
