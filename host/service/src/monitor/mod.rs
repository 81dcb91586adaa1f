//! Lock monitoring: the lock sync reads every assigned lock's status, battery and
//! activity log from its provider, stores them, and raises the alerts a front desk must
//! see (lock offline, battery low or critical, a door opened outside any grant).
//!
//! The sync runs per workspace every 30 s by default (`serve --sync-every`), and on demand
//! (`POST /v1/locks/sync`, `latchkey sync`). Each lock is one provider call for status and
//! one (or a few pages) for activity, through the provider's own rate limit; activity is
//! read from a cursor, so a sync after downtime catches up, and entries are de-duplicated
//! by the provider's id. A provider failure on one lock is recorded on that lock and the
//! sync goes on with the others. Where the cloud lists a lock's codes, the sync also
//! compares them with the codes on record and puts back what drifted (`drift.rs`).

mod drift;

use std::time::Duration;

use latchkey_engine::monitor::{self as judge, Initiator, KnownCode};
use latchkey_engine::{Connectivity, Lock, Timestamp, Window};
use latchkey_providers::{ActivityEntry, BatteryLevel, LockStatus, ProviderError};
use latchkey_store::alerts::{self, AlertKind, NewAlert};
use latchkey_store::monitoring::{self, ActivityRow, LockStatusRow};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::app::{App, AppState};
use crate::error::{Error, Result};

/// How far back the first sync of a lock reads its activity log, in seconds.
pub const FIRST_LOOKBACK_SECS: i64 = 24 * 3600;

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Locks synced (assigned locks only).
    pub locks: usize,
    /// Of those, online.
    pub online: usize,
    /// Of those, offline.
    pub offline: usize,
    /// Locks whose provider failed to answer; their error is stored on the lock.
    pub failed: usize,
    /// New activity-log entries stored.
    pub new_activity: usize,
    /// Alerts raised.
    pub alerts_raised: usize,
    /// Latchkey's codes found deleted, disabled or changed on their lock, and put back
    /// (`monitor/drift.rs`).
    pub codes_restored: usize,
    /// Codes on the synced locks that Latchkey did not make.
    pub unmanaged_codes: usize,
}

/// Syncs every assigned lock of the workspace once.
///
/// # Errors
/// Database errors only; provider failures are recorded per lock.
pub async fn sync(app: &AppState) -> Result<SyncReport> {
    app.refresh_now().await?;
    let mut report = SyncReport::default();
    for lock in &app.catalog.locks {
        sync_assigned(app, lock, &mut report).await?;
    }
    Ok(report)
}

/// Syncs the one lock `id` now, as [`sync`] does each lock: for a provider webhook saying
/// something changed on it, so the change is known before the next periodic sync. An
/// unknown or unassigned lock is not synced (the report counts 0 locks).
///
/// # Errors
/// Database errors only; a provider failure is recorded on the lock.
pub async fn sync_lock_now(app: &AppState, id: &latchkey_engine::LockId) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    if let Some(lock) = app.catalog.lock(id) {
        app.refresh_now().await?;
        sync_assigned(app, lock, &mut report).await?;
    }
    Ok(report)
}

/// Syncs `lock` into `report` if it is assigned; a provider failure is recorded on the
/// lock and counted, not returned.
async fn sync_assigned(app: &AppState, lock: &Lock, report: &mut SyncReport) -> Result<()> {
    // An unassigned lock serves nobody: no codes, no alerts, no calls.
    if !app.planner.assignments.is_assigned(&lock.id) {
        return Ok(());
    }
    report.locks += 1;
    match sync_lock(app, lock, report).await {
        Ok(()) => Ok(()),
        Err(LockSyncError::Provider(e)) => {
            report.failed += 1;
            record_failure(app, lock, &e.to_string()).await
        }
        Err(LockSyncError::Store(e)) => Err(e),
    }
}

/// Runs [`sync`] every `every` until `cancel` fires; failures are logged and retried at
/// the next tick.
pub async fn run_every(app: App, every: Duration, cancel: CancellationToken) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match sync(&app).await {
            Ok(r) if r.failed > 0 || r.alerts_raised > 0 => {
                tracing::info!(?r, "lock sync");
            }
            Ok(r) => tracing::debug!(?r, "lock sync"),
            Err(e) => tracing::error!(error = ?e, "lock sync failed; retrying at the next tick"),
        }
    }
}

/// Why one lock's sync stopped: its provider (recorded on the lock) or the database.
enum LockSyncError {
    Provider(ProviderError),
    Store(Error),
}

impl<E: Into<Error>> From<E> for LockSyncError {
    fn from(e: E) -> Self {
        LockSyncError::Store(e.into())
    }
}

async fn sync_lock(
    app: &AppState,
    lock: &Lock,
    report: &mut SyncReport,
) -> std::result::Result<(), LockSyncError> {
    let ws = &app.catalog.workspace;
    let device = lock.device_id().to_owned();
    // No connection is held across a call to the cloud.
    let (provider, before) = {
        let mut conn = app.pool.acquire().await?;
        let provider = app.provider(&mut conn, &lock.provider).await?;
        let before = monitoring::status(&mut conn, ws, &lock.id).await?;
        (provider, before)
    };
    let provider = provider.ok_or_else(|| {
        LockSyncError::Provider(ProviderError::NotFound(format!(
            "provider `{}`",
            lock.provider
        )))
    })?;
    let status = provider
        .lock_status(&device)
        .await
        .map_err(LockSyncError::Provider)?;
    let now = app.clock.now();
    let cursor = before
        .as_ref()
        .and_then(|b| b.activity_cursor)
        .map_or(now.plus(-FIRST_LOOKBACK_SECS), Timestamp);
    // Activity needs the lock reachable through its cloud; an offline lock's log waits.
    let entries = if status.online {
        provider
            .activity(&device, cursor)
            .await
            .map_err(LockSyncError::Provider)?
    } else {
        Vec::new()
    };
    // Drift needs the codes the lock stores, so a lock that stores some and is reachable.
    let listing = if status.online && lock.capabilities.connectivity == Connectivity::Online {
        drift::read(app, &provider, lock, &device).await?
    } else {
        None
    };

    let mut tx = app.pool.begin().await?;
    let row = next_status(lock, before.as_ref(), &status, &entries, cursor, now);
    monitoring::put_status(&mut tx, ws, &row).await?;
    if status.online {
        report.online += 1;
    } else {
        report.offline += 1;
    }
    let mut raised = 0;
    // Offline-code locks (algoPIN, TTLock without a gateway) are never reachable by
    // design: their cloud's "offline" is no news.
    let reachable_by_design = lock.capabilities.connectivity == Connectivity::Online;
    if reachable_by_design && judge::offline_alert_due(row.offline_since, now) {
        let alert = NewAlert {
            kind: AlertKind::LockOffline,
            dedupe_key: format!("offline:{}:{}", lock.id, row.offline_since.unwrap_or(0)),
            lock: Some(lock.id.as_str()),
            reservation: None,
            code: None,
            message: format!(
                "lock `{}` ({}) is offline: codes cannot reach it until it is back",
                lock.id, lock.name
            ),
        };
        raised += usize::from(alerts::raise(&mut tx, ws, &alert, now).await?);
    }
    if let Some(level) = status.battery.filter(|l| *l != BatteryLevel::Ok) {
        let kind = if level == BatteryLevel::Critical {
            AlertKind::BatteryCritical
        } else {
            AlertKind::BatteryLow
        };
        let alert = NewAlert {
            kind,
            dedupe_key: format!(
                "{}:{}:{}",
                kind.as_str(),
                lock.id,
                row.battery_since.unwrap_or(0)
            ),
            lock: Some(lock.id.as_str()),
            reservation: None,
            code: None,
            message: format!(
                "lock `{}` ({}): battery {}{}",
                lock.id,
                lock.name,
                level.as_str(),
                status
                    .battery_percent
                    .map(|p| format!(" ({p} %)"))
                    .unwrap_or_default()
            ),
        };
        raised += usize::from(alerts::raise(&mut tx, ws, &alert, now).await?);
    }
    for e in &entries {
        let code = monitoring::find_code(
            &mut tx,
            ws,
            &lock.id,
            judge::code_id_of(e.code_name.as_deref()),
            e.code_reference.as_deref(),
            e.pin.as_ref().map(|p| p.as_str()),
            e.at,
        )
        .await?;
        let known = code.as_ref().map(|c| KnownCode {
            staff: c.reservation_id.starts_with(crate::staff::OWNER_PREFIX),
            granted: Window {
                starts_at: Timestamp(c.starts_at),
                ends_at: Timestamp(c.ends_at),
            },
        });
        let (initiator, covered) = judge::classify(e, known.as_ref());
        let activity = ActivityRow {
            lock_id: lock.id.to_string(),
            entry_id: e.id.clone(),
            at: e.at.unix(),
            action: enum_name(&e.action),
            method: enum_name(&e.method),
            initiator: initiator.as_str().to_owned(),
            reservation_id: code.as_ref().map(|c| c.reservation_id.clone()),
            code_id: code.as_ref().map(|c| c.id),
            actor: e.actor.clone(),
            covered,
        };
        if !monitoring::insert_activity(&mut tx, ws, &activity).await? {
            continue;
        }
        report.new_activity += 1;
        if !covered {
            let alert = outside_grant(lock, e, initiator, code.as_ref());
            raised += usize::from(alerts::raise(&mut tx, ws, &alert, now).await?);
        }
    }
    let mut restored = 0;
    if let Some(listing) = &listing {
        let found = drift::record(app, &mut tx, lock, listing, now).await?;
        restored = found.restored;
        report.unmanaged_codes += found.unmanaged;
        raised += found.alerts;
    }
    tx.commit().await?;
    if restored > 0 {
        report.codes_restored += restored;
        app.jobs_waiting.notify(); // the plans that put the codes back
    }
    report.alerts_raised += raised;
    Ok(())
}

/// The status row after a read: spells started or ended, the activity cursor moved to
/// the newest entry read (entries at that instant are read again, and de-duplicated).
fn next_status(
    lock: &Lock,
    before: Option<&LockStatusRow>,
    status: &LockStatus,
    entries: &[ActivityEntry],
    cursor: Timestamp,
    now: Timestamp,
) -> LockStatusRow {
    let newest = entries.iter().map(|e| e.at.unix()).max();
    LockStatusRow {
        lock_id: lock.id.to_string(),
        online: status.online,
        battery_percent: status.battery_percent.map(i64::from),
        battery_level: status.battery.map(|l| l.as_str().to_owned()),
        offline_since: judge::offline_since(
            status.online,
            before.and_then(|b| b.offline_since),
            now,
        ),
        battery_since: judge::battery_since(
            status.battery,
            before.and_then(|b| b.battery_since),
            now,
        ),
        activity_cursor: Some(newest.unwrap_or(cursor.unix()).max(cursor.unix())),
        last_activity_at: newest.max(before.and_then(|b| b.last_activity_at)),
        error: None,
        checked_at: now.unix(),
    }
}

fn outside_grant<'a>(
    lock: &'a Lock,
    e: &ActivityEntry,
    initiator: Initiator,
    code: Option<&'a latchkey_store::monitoring::CodeOnLock>,
) -> NewAlert<'a> {
    let who = match (code, initiator) {
        (Some(c), _) => format!(
            "code {} of reservation {} (granted {} – {})",
            c.id,
            c.reservation_id,
            Timestamp(c.starts_at).to_rfc3339(),
            Timestamp(c.ends_at).to_rfc3339()
        ),
        (None, _) => match (&e.code_name, &e.pin) {
            (Some(name), _) => format!("code `{name}`, which Latchkey did not issue"),
            (None, Some(_)) => "a PIN Latchkey did not issue".to_owned(),
            (None, None) => "an unknown code".to_owned(),
        },
    };
    NewAlert {
        kind: AlertKind::AccessOutsideGrant,
        dedupe_key: format!("outside_grant:{}:{}", lock.id, e.id),
        lock: Some(lock.id.as_str()),
        reservation: code.map(|c| c.reservation_id.as_str()),
        code: code.map(|c| c.id),
        message: format!(
            "lock `{}` ({}) was opened at {} by {who}, outside any active grant",
            lock.id,
            lock.name,
            e.at.to_rfc3339()
        ),
    }
}

async fn record_failure(app: &AppState, lock: &Lock, message: &str) -> Result<()> {
    let ws = &app.catalog.workspace;
    let mut conn = app.pool.acquire().await?;
    let now = app.clock.now();
    let mut row = monitoring::status(&mut conn, ws, &lock.id)
        .await?
        .unwrap_or(LockStatusRow {
            lock_id: lock.id.to_string(),
            online: false,
            battery_percent: None,
            battery_level: None,
            offline_since: None,
            battery_since: None,
            activity_cursor: None,
            last_activity_at: None,
            error: None,
            checked_at: now.unix(),
        });
    row.error = Some(message.to_owned());
    row.checked_at = now.unix();
    Ok(monitoring::put_status(&mut conn, ws, &row).await?)
}

/// The serde name of a unit enum variant (`unlock`, `keypad`, …).
fn enum_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
