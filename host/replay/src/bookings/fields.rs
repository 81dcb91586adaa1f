//! One CSV row's fields, parsed with errors that name the line and column.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{
    Booking, BookingsError, DepositType, FinalStatus, MAX_LEAD_TIME_DAYS, MAX_NIGHTS,
    MAX_ROOM_TYPE_LEN,
};

pub(super) fn csv_error(e: &csv::Error) -> BookingsError {
    BookingsError::Csv {
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    }
}

pub(super) struct Row<'a> {
    pub(super) record: &'a csv::StringRecord,
    pub(super) index: &'a HashMap<&'static str, usize>,
    pub(super) line: u64,
}

impl Row<'_> {
    pub(super) fn booking(&self, row: usize) -> Result<Booking, BookingsError> {
        let year = self.uint("arrival_date_year", 9999)?;
        let month = self.month()?;
        let day = self.uint("arrival_date_day_of_month", 31)?;
        let arrival = i32::try_from(year)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, month, day))
            .ok_or_else(|| {
                self.bad(
                    "arrival_date_day_of_month",
                    "is not a day of the arrival month",
                )
            })?;
        let weekend = self.uint("stays_in_weekend_nights", MAX_NIGHTS)?;
        let week = self.uint("stays_in_week_nights", MAX_NIGHTS)?;
        let nights = weekend + week;
        if nights > MAX_NIGHTS {
            return Err(self.bad(
                "stays_in_week_nights",
                &format!("makes more than {MAX_NIGHTS} nights"),
            ));
        }
        Ok(Booking {
            row,
            canceled: self.flag("is_canceled")?,
            lead_time_days: self.uint("lead_time", MAX_LEAD_TIME_DAYS)?,
            arrival,
            nights,
            reserved_room_type: self.room_type("reserved_room_type")?,
            assigned_room_type: self.room_type("assigned_room_type")?,
            booking_changes: self.uint("booking_changes", u32::MAX)?,
            deposit_type: match self.get("deposit_type") {
                "No Deposit" => DepositType::NoDeposit,
                "Non Refund" => DepositType::NonRefund,
                "Refundable" => DepositType::Refundable,
                other => DepositType::Other(other.to_string()),
            },
            status: match self.get("reservation_status") {
                "Check-Out" => FinalStatus::CheckOut,
                "Canceled" => FinalStatus::Canceled,
                "No-Show" => FinalStatus::NoShow,
                _ => {
                    return Err(self.bad(
                        "reservation_status",
                        "is not Check-Out, Canceled or No-Show",
                    ));
                }
            },
            status_date: self.date("reservation_status_date")?,
            adults: self.count("adults")?,
            children: self.count("children")?,
            babies: self.count("babies")?,
            country: self.get("country").to_string(),
            customer_type: self.get("customer_type").to_string(),
            adr: self.adr()?,
        })
    }

    /// The trimmed field, or "" when the (optional) column is absent.
    fn get(&self, column: &str) -> &str {
        self.index
            .get(column)
            .and_then(|&i| self.record.get(i))
            .map_or("", str::trim)
    }

    fn bad(&self, column: &'static str, reason: &str) -> BookingsError {
        BookingsError::Field {
            line: self.line,
            column,
            value: self.get(column).to_string(),
            reason: reason.to_string(),
        }
    }

    fn uint(&self, column: &'static str, max: u32) -> Result<u32, BookingsError> {
        match self.get(column).parse::<u32>() {
            Ok(v) if v <= max => Ok(v),
            _ => Err(self.bad(column, &format!("is not a whole number from 0 to {max}"))),
        }
    }

    /// Party sizes: the public data set writes missing values as `NA` or `NULL`.
    fn count(&self, column: &'static str) -> Result<u32, BookingsError> {
        match self.get(column) {
            "" | "NA" | "NULL" => Ok(0),
            _ => self.uint(column, 10_000),
        }
    }

    fn flag(&self, column: &'static str) -> Result<bool, BookingsError> {
        match self.get(column) {
            "0" => Ok(false),
            "1" => Ok(true),
            _ => Err(self.bad(column, "is not 0 or 1")),
        }
    }

    fn month(&self) -> Result<u32, BookingsError> {
        let text = self.get("arrival_date_month");
        if let Ok(n @ 1..=12) = text.parse::<u32>() {
            return Ok(n);
        }
        const NAMES: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        let lower = text.to_ascii_lowercase();
        let full = [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ];
        (1u32..)
            .zip(NAMES.iter().zip(full.iter()))
            .find(|(_, (short, long))| lower == **short || lower == **long)
            .map(|(n, _)| n)
            .ok_or_else(|| self.bad("arrival_date_month", "is not an English month name"))
    }

    fn date(&self, column: &'static str) -> Result<NaiveDate, BookingsError> {
        let text = self.get(column);
        NaiveDate::parse_from_str(text, "%m/%d/%Y")
            .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
            .map_err(|_| self.bad(column, "is not a date as M/D/YYYY or YYYY-MM-DD"))
    }

    /// Room types become part of resource and lock ids, so they must be short and printable.
    fn room_type(&self, column: &'static str) -> Result<String, BookingsError> {
        let text = self.get(column);
        let printable = text.chars().all(|c| !c.is_control() && !c.is_whitespace());
        if text.is_empty() || text.len() > MAX_ROOM_TYPE_LEN || !printable {
            return Err(self.bad(
                column,
                &format!("is not a room type (1 to {MAX_ROOM_TYPE_LEN} bytes, no spaces)"),
            ));
        }
        Ok(text.to_string())
    }

    fn adr(&self) -> Result<f64, BookingsError> {
        match self.get("adr") {
            "" | "NA" | "NULL" => Ok(0.0),
            text => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(self.bad("adr", "is not a number")),
            },
        }
    }
}
