//! The stays a booking holds over its versions, as local days.

use chrono::{Days, NaiveDate};
use latchkey_engine::time::at_local;
use latchkey_engine::{Property, Timestamp};

use crate::bookings::Booking;

/// A stay's local calendar days; equal days mean a day-use stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stay {
    /// Local arrival day.
    pub first_day: NaiveDate,
    /// Local departure day.
    pub last_day: NaiveDate,
}

impl Stay {
    /// True for a day-use stay (no night).
    pub fn is_day_use(&self) -> bool {
        self.first_day == self.last_day
    }

    /// Check-in and check-out instants (UTC) per the property's local times.
    pub fn instants(&self, property: &Property) -> (Timestamp, Timestamp) {
        let tz = property.timezone;
        if self.is_day_use() {
            let d = self.first_day;
            (
                at_local(d, property.day_use_start, tz),
                at_local(d, property.day_use_end, tz),
            )
        } else {
            (
                at_local(self.first_day, property.check_in_time, tz),
                at_local(self.last_day, property.check_out_time, tz),
            )
        }
    }
}

/// The stay the row ends with.
pub fn final_stay(b: &Booking) -> Stay {
    Stay {
        first_day: b.arrival,
        last_day: add_days(b.arrival, b.nights),
    }
}

/// Every stay any version of the booking holds: the final stay and, when the booking was
/// amended, the one it started with.
pub fn stays(b: &Booking) -> Vec<Stay> {
    let last = final_stay(b);
    if b.booking_changes == 0 {
        return vec![last];
    }
    let first = if last.is_day_use() {
        let d = add_days(b.arrival, 1);
        Stay {
            first_day: d,
            last_day: d,
        }
    } else {
        Stay {
            first_day: last.first_day,
            last_day: add_days(last.last_day, 1),
        }
    };
    vec![first, last]
}

/// `day + n` days; the parser bounds both, so the fallback is never used on real input.
pub(super) fn add_days(day: NaiveDate, n: u32) -> NaiveDate {
    day.checked_add_days(Days::new(n.into())).unwrap_or(day)
}
