//! Codes a lock holds that Latchkey did not make (table `unmanaged_codes`), as the lock
//! sync last listed them: shown on the lock's panel and counted against its capacity,
//! never touched. Their PINs are not kept.

use std::collections::HashMap;

use latchkey_engine::drift::ListedCode;
use latchkey_engine::{LockId, Timestamp, WorkspaceId};
use serde::Serialize;

use super::Conn;
use crate::error::{Error, Result};

/// One code on a lock made outside Latchkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnmanagedCode {
    /// The lock.
    #[schema(value_type = String)]
    pub lock: LockId,
    /// The cloud's identifier for the code.
    pub reference: String,
    /// Its name in the vendor's app, if any.
    pub name: Option<String>,
    /// When it opens, UTC Unix seconds; `None` for a permanent code.
    pub starts_at: Option<i64>,
    /// When it stops opening, UTC Unix seconds; `None` for a permanent code.
    pub ends_at: Option<i64>,
    /// `false` when the cloud lists it disabled.
    pub enabled: bool,
    /// When the lock sync first saw it, UTC Unix seconds.
    pub first_seen_at: i64,
}

impl UnmanagedCode {
    /// The instant its slot on the lock is freed: the end of its window, or never.
    pub fn holds_until(&self) -> Timestamp {
        Timestamp(self.ends_at.unwrap_or(i64::MAX))
    }
}

// `enabled` is stored as 1 or 0, as every flag of the schema.
type Row = (
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
);

fn from_row(
    (lock, reference, name, starts_at, ends_at, enabled, first_seen_at): Row,
) -> Result<UnmanagedCode> {
    Ok(UnmanagedCode {
        lock: LockId::parse(lock).map_err(Error::Corrupt)?,
        reference,
        name,
        starts_at,
        ends_at,
        enabled: enabled != 0,
        first_seen_at,
    })
}

const COLUMNS: &str = "lock_id, reference, name, starts_at, ends_at, enabled, first_seen_at";

/// The unmanaged codes of `lock` (every lock's with `None`), by lock and first sighting.
///
/// # Errors
/// Database errors; a stored lock id that no longer parses is `Error::Corrupt`.
pub async fn list(
    conn: &mut Conn,
    ws: &WorkspaceId,
    lock: Option<&LockId>,
) -> Result<Vec<UnmanagedCode>> {
    let rows = sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM unmanaged_codes
          WHERE workspace_id = $1 AND (CAST($2 AS TEXT) IS NULL OR lock_id = $2)
          ORDER BY lock_id, first_seen_at, reference"
    ))
    .bind(ws.as_str())
    .bind(lock.map(LockId::as_str))
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(from_row).collect()
}

/// Makes `listed` the unmanaged codes of `lock`, keeping when each was first seen (`now`
/// for a new one), and writing only what changed. Returns the codes new since the last
/// listing.
///
/// # Errors
/// Database errors.
pub async fn replace(
    conn: &mut Conn,
    ws: &WorkspaceId,
    lock: &LockId,
    listed: &[ListedCode],
    now: Timestamp,
) -> Result<Vec<UnmanagedCode>> {
    let before: HashMap<String, UnmanagedCode> = list(conn, ws, Some(lock))
        .await?
        .into_iter()
        .map(|c| (c.reference.clone(), c))
        .collect();
    let after: Vec<UnmanagedCode> = listed
        .iter()
        .map(|l| UnmanagedCode {
            lock: lock.clone(),
            reference: l.reference.clone(),
            name: l.name.clone(),
            starts_at: l.window.map(|w| w.starts_at.unix()),
            ends_at: l.window.map(|w| w.ends_at.unix()),
            enabled: l.enabled,
            first_seen_at: before
                .get(&l.reference)
                .map_or(now.unix(), |c| c.first_seen_at),
        })
        .collect();
    let unchanged =
        after.len() == before.len() && after.iter().all(|c| before.get(&c.reference) == Some(c));
    if unchanged {
        return Ok(Vec::new());
    }
    sqlx::query("DELETE FROM unmanaged_codes WHERE workspace_id = $1 AND lock_id = $2")
        .bind(ws.as_str())
        .bind(lock.as_str())
        .execute(&mut *conn)
        .await?;
    for c in &after {
        sqlx::query(&format!(
            "INSERT INTO unmanaged_codes (workspace_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(ws.as_str())
        .bind(c.lock.as_str())
        .bind(&c.reference)
        .bind(&c.name)
        .bind(c.starts_at)
        .bind(c.ends_at)
        .bind(i64::from(c.enabled))
        .bind(c.first_seen_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(after
        .into_iter()
        .filter(|c| !before.contains_key(&c.reference))
        .collect())
}
