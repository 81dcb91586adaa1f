//! Lock status and activity as the lock sync stores them (`lock_status`,
//! `lock_activity`).

use latchkey_engine::{LockId, Timestamp, WorkspaceId};
use serde::Serialize;

use super::Conn;
use crate::error::Result;

/// What the last sync learnt about a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct LockStatusRow {
    /// The lock.
    pub lock_id: String,
    /// Reachable at the last sync.
    #[sqlx(try_from = "super::IntBool")]
    pub online: bool,
    /// Battery charge, 0–100 %.
    pub battery_percent: Option<i64>,
    /// `ok`, `low` or `critical`.
    pub battery_level: Option<String>,
    /// Start of the current offline spell, Unix seconds UTC.
    pub offline_since: Option<i64>,
    /// Start of the current low-battery spell, Unix seconds UTC.
    pub battery_since: Option<i64>,
    /// The activity log has been read up to here, Unix seconds UTC.
    pub activity_cursor: Option<i64>,
    /// The latest activity seen, Unix seconds UTC.
    pub last_activity_at: Option<i64>,
    /// Why the last sync of this lock failed, if it did.
    pub error: Option<String>,
    /// When the lock was last synced, Unix seconds UTC.
    pub checked_at: i64,
}

const STATUS_COLUMNS: &str = "lock_id, online, battery_percent, battery_level, offline_since, battery_since, activity_cursor, last_activity_at, error, checked_at";

/// The status on record for `lock`.
pub async fn status(
    conn: &mut Conn,
    ws: &WorkspaceId,
    lock: &LockId,
) -> Result<Option<LockStatusRow>> {
    Ok(sqlx::query_as::<_, LockStatusRow>(&format!(
        "SELECT {STATUS_COLUMNS} FROM lock_status WHERE workspace_id = $1 AND lock_id = $2"
    ))
    .bind(ws.as_str())
    .bind(lock.as_str())
    .fetch_optional(&mut *conn)
    .await?)
}

/// Every lock's status on record, by lock id.
pub async fn statuses(conn: &mut Conn, ws: &WorkspaceId) -> Result<Vec<LockStatusRow>> {
    Ok(sqlx::query_as::<_, LockStatusRow>(&format!(
        "SELECT {STATUS_COLUMNS} FROM lock_status WHERE workspace_id = $1 ORDER BY lock_id"
    ))
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?)
}

/// Stores `row` as `lock`'s status, replacing what was there.
pub async fn put_status(conn: &mut Conn, ws: &WorkspaceId, row: &LockStatusRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO lock_status (workspace_id, lock_id, online, battery_percent, battery_level,
             offline_since, battery_since, activity_cursor, last_activity_at, error, checked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (workspace_id, lock_id) DO UPDATE SET
             online = excluded.online, battery_percent = excluded.battery_percent,
             battery_level = excluded.battery_level, offline_since = excluded.offline_since,
             battery_since = excluded.battery_since, activity_cursor = excluded.activity_cursor,
             last_activity_at = excluded.last_activity_at, error = excluded.error,
             checked_at = excluded.checked_at",
    )
    .bind(ws.as_str())
    .bind(&row.lock_id)
    .bind(i64::from(row.online))
    .bind(row.battery_percent)
    .bind(&row.battery_level)
    .bind(row.offline_since)
    .bind(row.battery_since)
    .bind(row.activity_cursor)
    .bind(row.last_activity_at)
    .bind(&row.error)
    .bind(row.checked_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One stored activity-log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ActivityRow {
    /// The lock.
    pub lock_id: String,
    /// The provider's id of the entry.
    pub entry_id: String,
    /// When, Unix seconds UTC.
    pub at: i64,
    /// `unlock`, `lock`, `denied` or `other`.
    pub action: String,
    /// `keypad`, `app`, `remote`, `manual` or `unknown`.
    pub method: String,
    /// `guest`, `staff`, `system` or `unknown`.
    pub initiator: String,
    /// The reservation whose code was used.
    pub reservation_id: Option<String>,
    /// The Latchkey code used.
    pub code_id: Option<i64>,
    /// The person or account the cloud names.
    pub actor: Option<String>,
    /// An active grant (or staff, or Latchkey itself) covers it.
    #[sqlx(try_from = "super::IntBool")]
    pub covered: bool,
}

/// Stores `row` unless the entry is already on record; true when it is new.
pub async fn insert_activity(conn: &mut Conn, ws: &WorkspaceId, row: &ActivityRow) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO lock_activity (workspace_id, lock_id, entry_id, at, action, method,
             initiator, reservation_id, code_id, actor, covered)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (workspace_id, lock_id, entry_id) DO NOTHING",
    )
    .bind(ws.as_str())
    .bind(&row.lock_id)
    .bind(&row.entry_id)
    .bind(row.at)
    .bind(&row.action)
    .bind(&row.method)
    .bind(&row.initiator)
    .bind(&row.reservation_id)
    .bind(row.code_id)
    .bind(&row.actor)
    .bind(i64::from(row.covered))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// `lock`'s activity, newest first, at most `limit` entries.
pub async fn activity(
    conn: &mut Conn,
    ws: &WorkspaceId,
    lock: &LockId,
    limit: i64,
) -> Result<Vec<ActivityRow>> {
    Ok(sqlx::query_as::<_, ActivityRow>(
        "SELECT lock_id, entry_id, at, action, method, initiator, reservation_id, code_id,
                actor, covered
         FROM lock_activity WHERE workspace_id = $1 AND lock_id = $2
         ORDER BY at DESC, id DESC LIMIT $3",
    )
    .bind(ws.as_str())
    .bind(lock.as_str())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

/// A code of ours that an activity entry may name.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CodeOnLock {
    /// The code's id.
    pub id: i64,
    /// Its reservation.
    pub reservation_id: String,
    /// The window granted, Unix seconds UTC.
    pub starts_at: i64,
    /// End of the window granted, Unix seconds UTC.
    pub ends_at: i64,
}

/// The code on `lock` that the cloud names by our `code_id` (from the marker), its own
/// `reference`, or the `pin` typed, tried in that order.
pub async fn find_code(
    conn: &mut Conn,
    ws: &WorkspaceId,
    lock: &LockId,
    code_id: Option<i64>,
    reference: Option<&str>,
    pin: Option<&str>,
    at: Timestamp,
) -> Result<Option<CodeOnLock>> {
    const SELECT: &str = "SELECT id, reservation_id, starts_at, ends_at FROM access_codes WHERE workspace_id = $1 AND lock_id = $2";
    if let Some(id) = code_id {
        let found = sqlx::query_as::<_, CodeOnLock>(&format!("{SELECT} AND id = $3"))
            .bind(ws.as_str())
            .bind(lock.as_str())
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    if let Some(reference) = reference {
        let found = sqlx::query_as::<_, CodeOnLock>(&format!(
            "{SELECT} AND provider_ref = $3 ORDER BY id DESC LIMIT 1"
        ))
        .bind(ws.as_str())
        .bind(lock.as_str())
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    let Some(pin) = pin else {
        return Ok(None);
    };
    // A PIN may have served several guests over time: the one whose window is nearest.
    Ok(sqlx::query_as::<_, CodeOnLock>(&format!(
        "{SELECT} AND pin = $3 ORDER BY (starts_at <= $4 AND $4 < ends_at) DESC, ABS(starts_at - $4) LIMIT 1"
    ))
    .bind(ws.as_str())
    .bind(lock.as_str())
    .bind(pin)
    .bind(at.unix())
    .fetch_optional(&mut *conn)
    .await?)
}
