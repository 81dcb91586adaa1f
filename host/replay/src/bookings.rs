//! Reading bookings in the *Hotel booking demand* CSV format.
//!
//! Columns are found by header name, so files whose columns come in another order (or carry
//! extra columns) read the same. The guest facts (`adults` … `adr`) are optional columns; all
//! the columns that shape a stay are required.

use std::collections::HashMap;
use std::io::Read;

use chrono::NaiveDate;

mod fields;

use fields::{Row, csv_error};

/// Most nights a stay may have; longer values are taken as data errors.
pub const MAX_NIGHTS: u32 = 3650;
/// Most days between booking and arrival.
pub const MAX_LEAD_TIME_DAYS: u32 = 36_500;
/// Longest room type name, in bytes: room and lock ids derived from it must stay short.
pub const MAX_ROOM_TYPE_LEN: usize = 64;

/// The deposit the guest paid when booking (`deposit_type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepositType {
    /// `No Deposit`: payment is expected shortly before arrival.
    NoDeposit,
    /// `Non Refund`: paid in full when booking.
    NonRefund,
    /// `Refundable`: a deposit paid when booking.
    Refundable,
    /// Any other value, kept verbatim; treated like [`DepositType::NoDeposit`].
    Other(String),
}

/// How the booking ended (`reservation_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalStatus {
    /// `Check-Out`: the guest stayed and left.
    CheckOut,
    /// `Canceled`.
    Canceled,
    /// `No-Show`: the guest never arrived.
    NoShow,
}

/// One data row. Dates are the hotel's local calendar days.
#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    /// 1-based data row (the header is not counted); the reservation id is `H{row}`.
    pub row: usize,
    /// `is_canceled`: true for cancellations and no-shows.
    pub canceled: bool,
    /// Days between the booking being made and the arrival day.
    pub lead_time_days: u32,
    /// Local arrival day.
    pub arrival: NaiveDate,
    /// Weekend plus week nights; 0 is a day-use stay.
    pub nights: u32,
    /// Room type booked.
    pub reserved_room_type: String,
    /// Room type given; differs from `reserved_room_type` after a room move.
    pub assigned_room_type: String,
    /// How many times the booking was amended.
    pub booking_changes: u32,
    /// Deposit kind.
    pub deposit_type: DepositType,
    /// How the booking ended.
    pub status: FinalStatus,
    /// Local day the final status was set (the cancellation day for cancelled rows).
    pub status_date: NaiveDate,
    /// Adults in the party.
    pub adults: u32,
    /// Children in the party.
    pub children: u32,
    /// Babies in the party.
    pub babies: u32,
    /// ISO 3166-1 alpha-3 country code as given (may be empty or `NULL`).
    pub country: String,
    /// `Transient`, `Contract`, `Group`, …
    pub customer_type: String,
    /// Average daily rate, in the hotel's currency.
    pub adr: f64,
}

impl Booking {
    /// The reservation id used for this row everywhere in the replay: `H{row}`.
    pub fn reservation_id(&self) -> String {
        format!("H{}", self.row)
    }

    /// True when the guest changed room type (a room move).
    pub fn moves_room(&self) -> bool {
        self.reserved_room_type != self.assigned_room_type
    }
}

/// Why a bookings file could not be read. Lines are 1-based file lines (the header is line 1).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BookingsError {
    /// The CSV itself is malformed (unequal field counts, invalid UTF-8, I/O).
    #[error("line {line}: {message}")]
    Csv {
        /// File line, 0 when unknown.
        line: u64,
        /// What the CSV reader reported.
        message: String,
    },
    /// The header lacks a required column.
    #[error("the header has no `{column}` column")]
    MissingColumn {
        /// The column name.
        column: &'static str,
    },
    /// A field holds a value that cannot be used.
    #[error("line {line}, column `{column}`: `{value}` {reason}")]
    Field {
        /// File line.
        line: u64,
        /// Column name.
        column: &'static str,
        /// The offending value.
        value: String,
        /// What was expected.
        reason: String,
    },
}

const REQUIRED: [&str; 13] = [
    "is_canceled",
    "lead_time",
    "arrival_date_year",
    "arrival_date_month",
    "arrival_date_day_of_month",
    "stays_in_weekend_nights",
    "stays_in_week_nights",
    "reserved_room_type",
    "assigned_room_type",
    "booking_changes",
    "deposit_type",
    "reservation_status",
    "reservation_status_date",
];

const OPTIONAL: [&str; 6] = [
    "adults",
    "children",
    "babies",
    "country",
    "customer_type",
    "adr",
];

/// Reads every data row of a *Hotel booking demand* CSV.
///
/// # Errors
/// [`BookingsError`] naming the line and column of the first unusable value; a file with
/// only a header yields an empty list.
pub fn read_bookings(reader: impl Read) -> Result<Vec<Booking>, BookingsError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let headers = csv.headers().map_err(|e| csv_error(&e))?.clone();
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    for name in REQUIRED.iter().chain(OPTIONAL.iter()) {
        if let Some(i) = headers.iter().position(|h| h.trim() == *name) {
            index.insert(name, i);
        }
    }
    if let Some(missing) = REQUIRED.iter().find(|c| !index.contains_key(*c)) {
        return Err(BookingsError::MissingColumn { column: missing });
    }
    let mut out = Vec::new();
    for (i, record) in csv.records().enumerate() {
        let record = record.map_err(|e| csv_error(&e))?;
        let line = record.position().map_or(0, |p| p.line());
        let row = Row {
            record: &record,
            index: &index,
            line,
        };
        out.push(row.booking(i + 1)?);
    }
    Ok(out)
}
