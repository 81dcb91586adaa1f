//! The default hotel policy of `rules/default.rhai`, as a Latchkey partner plugin.
//!
//! The guest's room door and the property's shared doors open from the local check-in time
//! minus one hour to the local check-out time plus 15 minutes; a day-use stay (check-in and
//! check-out on the same local day) opens around the property's day-use hours instead.
//! Codes are put on the locks three days before their window starts. No code while the
//! reservation is not confirmed, or not paid where the property requires payment; check-out
//! ends access 15 minutes after the guest left; cancellation and no-show give no access;
//! unassigned locks get no codes. The guest is told their PIN by e-mail and text message,
//! and told when their access is withdrawn.
//!
//! All instants are Unix seconds, UTC; local times are computed in the property's zone.

wit_bindgen::generate!({ path: "../../rules/wit", world: "rule" });

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use latchkey::rules::types::{Channel, CredentialKind, DoorKind, Grant, Notify, ReservationStatus};

/// Seconds before local check-in that doors open (1 h).
const OPEN_BEFORE: i64 = 3600;
/// Seconds after local check-out that doors close (15 min).
const CLOSE_AFTER: i64 = 900;
/// Days before the window starts that codes are put on the locks (0 to 3).
const ISSUE_DAYS_BEFORE: i64 = 3;
/// Whether the property's shared doors open too.
const SHARED_DOORS: bool = true;
/// How the guest is told their PIN (and, with `NOTIFY_ON_REVOKE`, that access was withdrawn).
const NOTIFY_CHANNELS: [Channel; 2] = [Channel::Email, Channel::Sms];
const NOTIFY_ON_REVOKE: bool = true;

struct HotelPolicy;

impl Guest for HotelPolicy {
    fn plan(input: RuleInput) -> Result<Plan, RuleError> {
        let r = &input.reservation;
        let p = &input.property;
        let no_access = || Ok(Plan { grants: Vec::new(), notify: Some(notify()) });
        if !entitled(r.status, p.requires_payment) {
            return no_access();
        }
        let tz: Tz = p
            .timezone
            .parse()
            .map_err(|_| RuleError::InvalidInput(format!("`{}` is not an IANA time zone", p.timezone)))?;
        let first_day = local_day(r.check_in, tz)?;
        let last_day = local_day(r.check_out, tz)?;
        let (open, close, first, last) = if first_day == last_day {
            (&p.day_use_start, &p.day_use_end, first_day, first_day)
        } else {
            (&p.check_in_time, &p.check_out_time, first_day, last_day)
        };
        let starts_at = at_local(first, open, tz)? - OPEN_BEFORE;
        let mut ends_at = at_local(last, close, tz)? + CLOSE_AFTER;
        if r.status == ReservationStatus::CheckedOut
            && let Some(left) = r.checked_out_at
        {
            ends_at = ends_at.min(left + CLOSE_AFTER);
        }
        if ends_at <= starts_at {
            return no_access();
        }
        let issue_at = starts_at - ISSUE_DAYS_BEFORE.clamp(0, 3) * 86_400;
        let branches: Vec<&str> = input.resources.iter().map(|res| res.branch.as_str()).collect();
        let grants = input
            .locks
            .iter()
            .filter(|lock| {
                let Some(branch) = lock.branch.as_deref() else { return false };
                match lock.door {
                    DoorKind::Private => lock.resources.iter().any(|id| r.resources.contains(id)),
                    DoorKind::Shared => SHARED_DOORS && branches.contains(&branch),
                }
            })
            .map(|lock| Grant {
                lock: lock.id.clone(),
                starts_at,
                ends_at,
                issue_at: Some(issue_at),
                credential: CredentialKind::Pin,
            })
            .collect();
        Ok(Plan { grants, notify: Some(notify()) })
    }
}

fn notify() -> Notify {
    Notify { channels: NOTIFY_CHANNELS.to_vec(), on_revoke: NOTIFY_ON_REVOKE }
}

fn entitled(status: ReservationStatus, requires_payment: bool) -> bool {
    match status {
        ReservationStatus::Paid | ReservationStatus::CheckedOut => true,
        ReservationStatus::Confirmed => !requires_payment,
        ReservationStatus::Cancelled | ReservationStatus::NoShow => false,
    }
}

fn local_day(at: i64, tz: Tz) -> Result<NaiveDate, RuleError> {
    DateTime::from_timestamp(at, 0)
        .map(|utc| utc.with_timezone(&tz).date_naive())
        .ok_or_else(|| RuleError::InvalidInput(format!("instant {at} is out of range")))
}

/// The instant the local wall clock shows `hhmm` on `day`: a time in a spring-forward gap
/// maps to the first instant after the gap, an ambiguous one to its earlier occurrence (as
/// the host's `at_local` does).
fn at_local(day: NaiveDate, hhmm: &str, tz: Tz) -> Result<i64, RuleError> {
    let time = NaiveTime::parse_from_str(hhmm, "%H:%M")
        .map_err(|_| RuleError::InvalidInput(format!("`{hhmm}` is not a time of day as HH:MM")))?;
    let naive = day.and_time(time);
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(dt) => Ok(dt.timestamp()),
        LocalResult::Ambiguous(earlier, _) => Ok(earlier.timestamp()),
        LocalResult::None => (1..=240)
            .map(|m| naive + Duration::minutes(m))
            .find_map(|probe| tz.from_local_datetime(&probe).earliest())
            .map(|dt| dt.timestamp())
            .ok_or_else(|| RuleError::Failed(format!("no local time {hhmm} on {day} in {tz}"))),
    }
}

export!(HotelPolicy);
