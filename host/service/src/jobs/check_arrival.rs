//! `check_arrival`: a day and 2 hours before a reservation's first door opens
//! (`arrival::CHECK_BEFORE_SECS`), every code of it on a lock that stores codes is read
//! back from the lock, and what is not in order is escalated to the desk with the guest's
//! name and arrival time (an `arrival_at_risk` alert per door and check):
//!
//! - missing from the lock, or there with another PIN: put back at once
//!   (`reconcile::put_back`), as the drift check does;
//! - still pending: its creation is retried now;
//! - failed: the reservation is planned again;
//! - unreadable (the cloud does not answer): alerted only.
//!
//! From `backup::PULL_BEFORE_SECS` (2 hours) before the door's window opens, a code still
//! pending, failed or unreadable is replaced by a backup code from the lock's pool where
//! it keeps one (`backup::pull`): the guest is told its PIN at once.
//!
//! Offline locks compute their PINs without the lock: nothing to read back.

use chrono::TimeZone;
use latchkey_engine::{CodeRecord, CodeState, Connectivity, ReservationId};
use latchkey_store::alerts::{self, AlertKind, NewAlert};
use latchkey_store::jobs::{self as queue, ClaimedJob};
use latchkey_store::{codes, reservations};

use super::{Job, JobError, JobSpec};
use crate::app::App;
use crate::arrival::{self, ReadBack};
use crate::{backup, reconcile};

/// `check_arrival`, as the worker runs it.
pub(super) struct CheckArrival {
    pub reservation: ReservationId,
}

/// What the check found wrong with one door's code.
enum Problem {
    Missing,
    /// Another PIN on the lock; `off` once the cloud deleted it.
    Changed {
        off: bool,
    },
    Pending,
    Failed,
    Unreadable(String),
}

#[async_trait::async_trait]
impl Job for CheckArrival {
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError> {
        let ws = &app.catalog.workspace;
        let now = app.clock.now();
        let (row, records) = {
            let mut conn = app.pool.acquire().await?;
            let row = reservations::get(&mut conn, ws, self.reservation.as_str()).await?;
            let records = codes::for_reservation(&mut conn, ws, self.reservation.as_str()).await?;
            (row, records)
        };
        let Some(row) = row else {
            return super::complete(app, job).await;
        };
        let checked: Vec<&CodeRecord> = records
            .iter()
            .filter(|c| c.code.still_owed(now))
            .filter(|c| {
                app.catalog
                    .lock(&c.code.lock)
                    .is_some_and(|l| l.capabilities.connectivity == Connectivity::Online)
            })
            // A refused code that something else replaced (a backup code, a new plan) is
            // history.
            .filter(|c| {
                c.code.state != CodeState::Failed
                    || !records
                        .iter()
                        .any(|o| o.code.lock == c.code.lock && o.code.state.is_live())
            })
            .collect();
        // Read back, outside any transaction.
        let mut problems = Vec::new();
        for c in &checked {
            let problem = match c.code.state {
                // A given backup code opens the door while its window is narrowed.
                CodeState::Pending if !c.only_narrowing() => Some(Problem::Pending),
                CodeState::Failed => Some(Problem::Failed),
                _ => match arrival::read_back(app, c).await? {
                    ReadBack::AsRecorded => None,
                    ReadBack::Missing => Some(Problem::Missing),
                    ReadBack::Changed { off } => Some(Problem::Changed { off }),
                    ReadBack::Unreadable(e) => Some(Problem::Unreadable(e)),
                },
            };
            if let Some(p) = problem {
                problems.push((*c, p));
            }
        }

        let mut tx = app.pool.begin().await?;
        let tz = app.catalog.property.timezone;
        let opens = checked.iter().map(|c| c.code.window.starts_at).min();
        let arrives = opens.map_or_else(String::new, |t| {
            tz.timestamp_opt(t.unix(), 0)
                .single()
                .map(|local| local.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default()
        });
        let stage = opens.map_or(0, |t| (t.unix() - now.unix()).max(0) / 3600);
        for (c, problem) in &problems {
            let code = c.code.id;
            let late = now >= c.code.window.starts_at.plus(-backup::PULL_BEFORE_SECS);
            let unreachable = matches!(
                problem,
                Problem::Pending | Problem::Failed | Problem::Unreadable(_)
            );
            let given = if late && unreachable {
                let why = "its own code was not on the lock 2 hours before arrival";
                backup::pull(app, &mut tx, c, why, now).await?
            } else {
                None
            };
            let what = if let Some(g) = &given {
                format!(
                    "its code has not reached the lock; backup code {} was given instead",
                    g.code
                )
            } else {
                match problem {
                    Problem::Missing => {
                        reconcile::put_back(app, &mut tx, code, true, now).await?;
                        "its code is missing from the lock; a new one is being put on".to_owned()
                    }
                    Problem::Changed { off } => {
                        reconcile::put_back(app, &mut tx, code, *off, now).await?;
                        "its code has another PIN on the lock; a new one is being put on".to_owned()
                    }
                    Problem::Pending => {
                        if c.code.provider_ref.is_none() {
                            let retry = JobSpec::CreateCode { code };
                            crate::queue::enqueue(&mut tx, ws, &retry, now, now).await?;
                        }
                        "its code has not reached the lock yet; retrying now".to_owned()
                    }
                    Problem::Failed => {
                        let replan = JobSpec::plan_owner(&c.code.reservation);
                        crate::queue::enqueue(&mut tx, ws, &replan, now, now).await?;
                        "its code was refused by the lock; planning it again".to_owned()
                    }
                    Problem::Unreadable(e) => format!("its code cannot be read back ({e})"),
                }
            };
            let lock = app.catalog.lock(&c.code.lock);
            let alert = NewAlert {
                kind: AlertKind::ArrivalAtRisk,
                dedupe_key: format!("arrival:{}:{}:{stage}h", self.reservation, c.code.lock),
                lock: Some(c.code.lock.as_str()),
                reservation: Some(self.reservation.as_str()),
                code: Some(code),
                message: format!(
                    "{} ({}) arrives {arrives} (local time): door `{}`, {what}",
                    row.state.guest.name,
                    self.reservation,
                    lock.map_or(c.code.lock.as_str(), |l| l.name.as_str()),
                ),
            };
            alerts::raise(&mut tx, ws, &alert, now).await?;
        }
        if let Some(next) = opens.and_then(|t| arrival::next_check(t, now)) {
            let check = JobSpec::CheckArrival {
                reservation: self.reservation.clone(),
            };
            crate::queue::enqueue(&mut tx, ws, &check, next, now).await?;
        }
        queue::complete(&mut tx, job.lease()).await?;
        tx.commit().await?;
        if !problems.is_empty() {
            app.jobs_waiting.notify();
        }
        Ok(())
    }
}
