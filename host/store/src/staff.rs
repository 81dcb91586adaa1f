//! Staff codes on record (`staff_codes`).

use latchkey_engine::{Pin, Timestamp, WorkspaceId};
use serde::Serialize;

use super::Conn;
use crate::error::{Error, Result};

/// A staff code as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffCodeRow {
    /// Its name (`cleaning`, `master`), unique in the workspace.
    pub name: String,
    /// The locks it opens.
    pub locks: Vec<String>,
    /// cron expression with seconds, in the property's time zone.
    pub schedule: String,
    /// Length of each window, in seconds.
    pub duration_secs: i64,
    /// The PIN, once chosen or given (never serialized: shown once, by the API that set it).
    #[serde(skip)]
    pub pin: Option<Pin>,
    /// Last change, Unix seconds UTC.
    pub updated_at: i64,
}

type Raw = (String, String, String, i64, Option<String>, i64);

fn from_raw((name, locks, schedule, duration_secs, pin, updated_at): Raw) -> Result<StaffCodeRow> {
    Ok(StaffCodeRow {
        locks: serde_json::from_str(&locks)
            .map_err(|e| Error::Corrupt(format!("staff code `{name}` has bad locks: {e}")))?,
        name,
        schedule,
        duration_secs,
        pin: pin.map(Pin::new),
        updated_at,
    })
}

const COLUMNS: &str = "name, locks, schedule, duration_secs, pin, updated_at";

/// The staff code `name`.
pub async fn get(conn: &mut Conn, ws: &WorkspaceId, name: &str) -> Result<Option<StaffCodeRow>> {
    sqlx::query_as::<_, Raw>(&format!(
        "SELECT {COLUMNS} FROM staff_codes WHERE workspace_id = $1 AND name = $2"
    ))
    .bind(ws.as_str())
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?
    .map(from_raw)
    .transpose()
}

/// Every staff code, by name.
pub async fn list(conn: &mut Conn, ws: &WorkspaceId) -> Result<Vec<StaffCodeRow>> {
    sqlx::query_as::<_, Raw>(&format!(
        "SELECT {COLUMNS} FROM staff_codes WHERE workspace_id = $1 ORDER BY name"
    ))
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(from_raw)
    .collect()
}

/// Creates or replaces staff code `row.name`.
pub async fn put(
    conn: &mut Conn,
    ws: &WorkspaceId,
    row: &StaffCodeRow,
    now: Timestamp,
) -> Result<()> {
    let locks = serde_json::to_string(&row.locks)
        .map_err(|e| Error::Corrupt(format!("locks as JSON: {e}")))?;
    sqlx::query(
        "INSERT INTO staff_codes (workspace_id, name, locks, schedule, duration_secs, pin, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (workspace_id, name) DO UPDATE SET locks = excluded.locks,
             schedule = excluded.schedule, duration_secs = excluded.duration_secs,
             pin = excluded.pin, updated_at = excluded.updated_at",
    )
    .bind(ws.as_str())
    .bind(&row.name)
    .bind(locks)
    .bind(&row.schedule)
    .bind(row.duration_secs)
    .bind(row.pin.as_ref().map(Pin::as_str))
    .bind(now.unix())
    .bind(now.unix())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records the PIN chosen for staff code `name`.
pub async fn set_pin(conn: &mut Conn, ws: &WorkspaceId, name: &str, pin: &Pin) -> Result<()> {
    sqlx::query("UPDATE staff_codes SET pin = $1 WHERE workspace_id = $2 AND name = $3")
        .bind(pin.as_str())
        .bind(ws.as_str())
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes staff code `name`; true when it existed.
pub async fn delete(conn: &mut Conn, ws: &WorkspaceId, name: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM staff_codes WHERE workspace_id = $1 AND name = $2")
        .bind(ws.as_str())
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
