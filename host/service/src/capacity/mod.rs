//! A lock's codes as a budget, with the database around the arithmetic of
//! `latchkey_engine::capacity`: what each plan wants on the locks that store codes
//! ([`record_plan`]), when a code may go on such a lock ([`turn`]), and each
//! lock's forecast for the next [`FORECAST_DAYS`] days with the alerts it raises
//! ([`forecast`], [`raise_alerts`]).
//!
//! Only online locks have a budget: an offline lock computes its PINs and stores none.
//! The property's `[capacity]` table sets the just-in-time margin and the reserve
//! (`catalog::CapacitySettings`).

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use latchkey_engine::capacity::{self, Slot, Turn};
use latchkey_engine::time::{LocalTime, at_local, local_day};
use latchkey_engine::{CodeRecord, CodeState, Grant, Lock, LockId, Timestamp, Window};
use latchkey_store::alerts::{self, AlertKind, NewAlert};
use latchkey_store::planned::{self, PlannedGrant};
use latchkey_store::{Conn, codes, unmanaged};
use serde::Serialize;

use crate::catalog::Catalog;
use crate::error::Result;

pub use latchkey_engine::capacity::SLOT_FREED_WAIT_SECS;

/// Days the forecast covers, today (the property's local day) included.
pub const FORECAST_DAYS: u32 = 14;

/// How often the forecast job looks ahead, in seconds (6 hours). A day over capacity is
/// alerted within this long of the booking that puts it over, so at least 72 hours
/// ahead when that booking was made 78 hours ahead.
pub const FORECAST_EVERY_SECS: i64 = 6 * 3600;

/// `grants` with each one whose code went to its lock's overflow door (the lock was full
/// when the code was needed, and the grant said `when_full = "overflow"`) moved to that
/// door, where the owner's code is (`codes`, pending or active). The guest stays there
/// for the rest of the grant: a window change updates that code, a withdrawal revokes it.
pub fn routed(catalog: &Catalog, grants: &[Grant], codes: &[CodeRecord]) -> Vec<Grant> {
    let has_code_on = |lock: &LockId| {
        codes.iter().any(|c| {
            &c.code.lock == lock && matches!(c.code.state, CodeState::Pending | CodeState::Active)
        })
    };
    grants
        .iter()
        .map(|g| {
            let overflow = catalog.lock(&g.lock).and_then(|l| l.overflow.as_ref());
            match overflow {
                Some(to) if !has_code_on(&g.lock) && has_code_on(to) => Grant {
                    lock: to.clone(),
                    ..g.clone()
                },
                _ => g.clone(),
            }
        })
        .collect()
}

/// Records `grants`, the current plan of `owner` (a reservation, or a staff code's owner
/// id), and `expected`, what its rule would grant once paid (a reservation confirmed but
/// not yet paid, which has no grant yet), on the locks that have a budget. The budget of
/// each such lock counts the planned grants until their window ends; the forecast counts
/// the expected ones too, so a night over capacity is alerted days before the payments
/// that would fill it.
///
/// # Errors
/// Database errors.
pub async fn record_plan(
    catalog: &Catalog,
    conn: &mut Conn,
    owner: &str,
    grants: &[Grant],
    expected: &[Grant],
) -> Result<()> {
    let planned = grants.iter().map(|g| (g, false));
    let budgeted: Vec<PlannedGrant> = planned
        .chain(expected.iter().map(|g| (g, true)))
        .filter(|(g, _)| {
            catalog
                .lock(&g.lock)
                .and_then(|l| catalog.budget(l))
                .is_some()
        })
        .map(|(g, expected)| PlannedGrant {
            lock: g.lock.clone(),
            window: g.window(),
            issue_at: g.issue_at(),
            expected,
        })
        .collect();
    Ok(planned::replace(conn, &catalog.workspace, owner, &budgeted).await?)
}

/// When `owner`'s code for `window` may go on `lock`, at `now` (see
/// `latchkey_engine::capacity::turn`): now, later, or once a code needed later has made
/// room. Always now on a lock without a budget.
///
/// # Errors
/// Database errors.
pub async fn turn(
    catalog: &Catalog,
    conn: &mut Conn,
    owner: &str,
    lock: &Lock,
    window: Window,
    now: Timestamp,
) -> Result<Turn> {
    let Some(budget) = catalog.budget(lock) else {
        return Ok(Turn::Now);
    };
    let ws = &catalog.workspace;
    let held = codes::held_on_lock(conn, ws, &lock.id).await?;
    let needed = now >= budget.needed_from(window);
    if needed && held.len() < budget.capacity as usize {
        return Ok(Turn::Now); // the common case, without reading the waiting grants
    }
    let waiting = if needed {
        Vec::new()
    } else {
        planned::waiting_on_lock(conn, ws, &lock.id, owner, now).await?
    };
    Ok(capacity::turn(budget, window, &held, &waiting, now))
}

/// One lock's forecast.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LockForecast {
    /// The lock.
    #[schema(value_type = String)]
    pub lock: LockId,
    /// Its name.
    pub name: String,
    /// Most codes it holds at once (its cloud's figure).
    pub capacity: u32,
    /// Slots kept free by codes put on early (`[capacity] reserve_percent`).
    pub reserve: u32,
    /// One entry per local day, today first.
    pub days: Vec<DayForecast>,
}

/// A lock's demand on one local day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayForecast {
    /// The property's local date, `YYYY-MM-DD`.
    #[schema(value_type = String)]
    pub day: NaiveDate,
    /// Codes needed at the busiest instant of the day: each planned grant (and each
    /// grant expected once a confirmed booking is paid) from its just-in-time instant to
    /// its window's end, each code on the lock no plan wants, and
    /// each code on it that Latchkey did not make.
    pub needed: u32,
    /// That instant, UTC Unix seconds (the day's start, or now for today, when nothing is
    /// needed).
    pub busiest_at: i64,
    /// How many codes more than the capacity that is; 0 when it fits.
    pub over: u32,
}

/// The forecast of every lock with a budget, for [`FORECAST_DAYS`] local days from
/// today's, counted from `now` (what has passed is history, not demand).
///
/// # Errors
/// Database errors.
pub async fn forecast(
    catalog: &Catalog,
    conn: &mut Conn,
    now: Timestamp,
) -> Result<Vec<LockForecast>> {
    let tz = catalog.property.timezone;
    let today = local_day(now, tz);
    let midnight = LocalTime::new(0, 0).expect("00:00 is a time of day");
    let days: Vec<(NaiveDate, Timestamp, Timestamp)> = (0..FORECAST_DAYS)
        .filter_map(|n| {
            let day = today.checked_add_days(Days::new(u64::from(n)))?;
            let next = day.succ_opt()?;
            Some((
                day,
                at_local(day, midnight, tz).max(now),
                at_local(next, midnight, tz),
            ))
        })
        .collect();
    let until = days.last().map_or(now, |d| d.2);
    let ws = &catalog.workspace;
    let widest_margin = i64::try_from(catalog.capacity.just_in_time.as_secs()).unwrap_or(0);
    let grants = planned::overlapping(conn, ws, now, until.plus(widest_margin)).await?;
    let unplanned = codes::unplanned_slots(conn, ws).await?;
    let unmanaged = unmanaged::list(conn, ws, None).await?;
    // Each lock's windows, gathered in one pass: a property has hundreds of locks.
    let mut planned_on: HashMap<&LockId, Vec<Window>> = HashMap::new();
    for grant in &grants {
        planned_on
            .entry(&grant.lock)
            .or_default()
            .push(grant.window);
    }
    let mut unplanned_on: HashMap<&LockId, Vec<Timestamp>> = HashMap::new();
    for (lock, until) in &unplanned {
        unplanned_on.entry(lock).or_default().push(*until);
    }
    // A code Latchkey did not make holds its slot until its window ends, or for good.
    for code in &unmanaged {
        unplanned_on
            .entry(&code.lock)
            .or_default()
            .push(code.holds_until());
    }
    let mut forecasts = Vec::new();
    for lock in &catalog.locks {
        let Some(budget) = catalog.budget(lock) else {
            continue;
        };
        let mut slots: Vec<Slot> = planned_on
            .get(&lock.id)
            .into_iter()
            .flatten()
            .map(|w| budget.need(*w))
            .collect();
        slots.extend(
            unplanned_on
                .get(&lock.id)
                .into_iter()
                .flatten()
                .map(|until| Slot {
                    from: now,
                    until: *until,
                }),
        );
        let days = days
            .iter()
            .map(|(day, from, until)| {
                let peak = capacity::busiest_instant(&slots, *from, *until);
                DayForecast {
                    day: *day,
                    needed: peak.slots,
                    busiest_at: peak.at.unix(),
                    over: peak.slots.saturating_sub(budget.capacity),
                }
            })
            .collect();
        forecasts.push(LockForecast {
            lock: lock.id.clone(),
            name: lock.name.clone(),
            capacity: budget.capacity,
            reserve: budget.reserve,
            days,
        });
    }
    Ok(forecasts)
}

/// Raises a `capacity_exceeded` alert for each lock and day of `forecasts` whose demand
/// exceeds the lock's capacity, once per lock and day, naming the lock, the day, the
/// busiest local time and by how much. Returns how many were new.
///
/// # Errors
/// Database errors.
pub async fn raise_alerts(
    catalog: &Catalog,
    conn: &mut Conn,
    forecasts: &[LockForecast],
    now: Timestamp,
) -> Result<usize> {
    let tz = catalog.property.timezone;
    let mut raised = 0;
    for lock in forecasts {
        for day in lock.days.iter().filter(|d| d.over > 0) {
            let busiest = chrono::DateTime::from_timestamp(day.busiest_at, 0)
                .unwrap_or_default()
                .with_timezone(&tz)
                .format("%H:%M");
            let alert = NewAlert {
                kind: AlertKind::CapacityExceeded,
                dedupe_key: format!("capacity:{}:{}", lock.lock, day.day),
                lock: Some(lock.lock.as_str()),
                reservation: None,
                code: None,
                message: format!(
                    "lock `{}` ({}) needs {} codes at {busiest} on {} (local time), {} more \
                     than the {} it holds: guests beyond its capacity would find no code \
                     on it. Free slots (staff codes), use a lock that holds more, or send \
                     some guests through another door.",
                    lock.lock, lock.name, day.needed, day.day, day.over, lock.capacity
                ),
            };
            if alerts::raise(conn, &catalog.workspace, &alert, now).await? {
                raised += 1;
            }
        }
    }
    Ok(raised)
}

/// Forgets the planned grants that ended more than a day before `now`; returns how many.
///
/// # Errors
/// Database errors.
pub async fn prune(catalog: &Catalog, conn: &mut Conn, now: Timestamp) -> Result<u64> {
    Ok(planned::prune(conn, &catalog.workspace, now.plus(-86_400)).await?)
}
