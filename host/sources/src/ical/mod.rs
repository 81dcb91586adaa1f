//! The `ical` form: a calendar feed polled on a schedule, such as the Airbnb and VRBO
//! exports that Home Assistant's Rental Control reads (platforms.md §4 and §5 "iCal";
//! anchors.md §E2).
//!
//! Every `poll_every_secs` (default 120 s) the durable job `poll_ical` fetches the feed,
//! [`parse`]s it into stays keyed on `UID` (all-day events take the property's check-in
//! and check-out times in its IANA zone; blocks are left out by summary) and hands each
//! stay's state to the inbox, which stores a new version only when the mapped content
//! changed (the poll itself is the inbox's `ical` module): a date change keeps the `UID` and
//! moves the window. [`hysteresis`] decides
//! what disappearance means: one empty or failed fetch changes nothing; a `UID` missing
//! from `misses` (default 2) consecutive successful, non-empty fetches, or `misses`
//! consecutive empty or failed fetches, cancels. A stay whose check-out has passed is
//! forgotten when it leaves the feed (Airbnb drops past stays a day after), not
//! cancelled.

pub mod hysteresis;
pub mod parse;

use latchkey_engine::{ReservationStatus, ResourceId};
use serde::Deserialize;

/// Settings of an `ical` source (`[sources.ical]` in `property.toml`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcalSettings {
    /// The feed's URL (Airbnb's carries a token: it is redacted in logs).
    pub url: String,
    /// The resource every stay of the feed books.
    pub resource: ResourceId,
    /// Seconds between fetches; default 120 (Rental Control's 2 minutes).
    #[serde(default = "default_poll_every")]
    pub poll_every_secs: u64,
    /// Consecutive misses that cancel: fetches without a `UID`, or empty or failed
    /// fetches; default 2. At least 1.
    #[serde(default = "default_misses")]
    pub misses: u32,
    /// Summaries that mark blocks, not stays, matched case-insensitively as substrings;
    /// default `Not available` (Airbnb, Booking.com) and `Blocked`.
    #[serde(default = "default_ignore")]
    pub ignore_summaries: Vec<String>,
    /// The status of a listed stay; default `paid`, since Airbnb and VRBO take the
    /// payment themselves. `confirmed` where the property collects it.
    #[serde(default = "default_status")]
    pub status: ReservationStatus,
    /// Seconds to wait for the feed; default 30.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_poll_every() -> u64 {
    120
}

fn default_misses() -> u32 {
    2
}

fn default_ignore() -> Vec<String> {
    vec!["Not available".into(), "Blocked".into()]
}

fn default_status() -> ReservationStatus {
    ReservationStatus::Paid
}

fn default_timeout() -> u64 {
    30
}

impl IcalSettings {
    /// The URL without its query, for logs and errors (feed URLs carry tokens).
    pub fn redacted_url(&self) -> &str {
        self.url.split(['?', '#']).next().unwrap_or_default()
    }

    /// Checks values serde cannot.
    ///
    /// # Errors
    /// A message naming the key at fault.
    pub fn check(&self) -> Result<(), String> {
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            return Err(format!(
                "`url` `{}` is not an http(s) URL",
                self.redacted_url()
            ));
        }
        if self.misses == 0 {
            return Err("`misses` must be 1 or more".into());
        }
        if self.poll_every_secs == 0 {
            return Err("`poll_every_secs` must be 1 or more".into());
        }
        Ok(())
    }
}

impl std::fmt::Debug for IcalSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IcalSettings")
            .field("url", &self.redacted_url())
            .field("resource", &self.resource)
            .field("poll_every_secs", &self.poll_every_secs)
            .field("misses", &self.misses)
            .field("ignore_summaries", &self.ignore_summaries)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}
