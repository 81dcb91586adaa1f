//! Shared test data: the example property's times and a booking builder.

use chrono::NaiveDate;
use latchkey_engine::time::{LocalTime, parse_tz};
use latchkey_engine::{Property, PropertyId, Timestamp};

use crate::bookings::{Booking, DepositType, FinalStatus};

pub fn lisbon() -> Property {
    Property {
        id: PropertyId::parse("hotel").expect("id"),
        name: "Test hotel".into(),
        timezone: parse_tz("Europe/Lisbon").expect("zone"),
        check_in_time: LocalTime::new(15, 0).expect("time"),
        check_out_time: LocalTime::new(11, 0).expect("time"),
        day_use_start: LocalTime::new(9, 0).expect("time"),
        day_use_end: LocalTime::new(18, 0).expect("time"),
        requires_payment: false,
    }
}

pub fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).expect("rfc3339")
}

/// A checked-out, no-deposit booking of room type A; tweak fields as needed.
pub fn booking(row: usize, arrival: &str, nights: u32) -> Booking {
    Booking {
        row,
        canceled: false,
        lead_time_days: 30,
        arrival: day(arrival),
        nights,
        reserved_room_type: "A".into(),
        assigned_room_type: "A".into(),
        booking_changes: 0,
        deposit_type: DepositType::NoDeposit,
        status: FinalStatus::CheckOut,
        status_date: day(arrival),
        adults: 2,
        children: 0,
        babies: 0,
        country: "PRT".into(),
        customer_type: "Transient".into(),
        adr: 80.0,
    }
}
