//! The versions Latchkey assigns to mapped states (see [`latchkey_sources::mapped`]), per
//! source and reservation.

use latchkey_engine::{Timestamp, WorkspaceId};

use super::Conn;
use crate::error::Result;

/// What was last applied for one reservation of one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    /// The version assigned to it.
    pub version: u64,
    /// SHA-256 (hex) of its mapped content.
    pub digest: String,
    /// The payload's own ordering value, when it carried one.
    pub order_key: Option<i64>,
}

/// The record of `reservation` from `source`.
///
/// # Errors
/// Database errors.
pub async fn get(
    conn: &mut Conn,
    ws: &WorkspaceId,
    source: &str,
    reservation: &str,
) -> Result<Option<VersionRecord>> {
    let row = sqlx::query_as::<_, (i64, String, Option<i64>)>(
        "SELECT version, digest, order_key FROM source_versions
         WHERE workspace_id = $1 AND source = $2 AND reservation_id = $3",
    )
    .bind(ws.as_str())
    .bind(source)
    .bind(reservation)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(version, digest, order_key)| VersionRecord {
        version: u64::try_from(version).unwrap_or(0),
        digest,
        order_key,
    }))
}

/// Records `record` for `reservation` from `source`.
///
/// # Errors
/// Database errors.
pub async fn put(
    conn: &mut Conn,
    ws: &WorkspaceId,
    source: &str,
    reservation: &str,
    record: &VersionRecord,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO source_versions (workspace_id, source, reservation_id, version, digest, order_key, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (workspace_id, source, reservation_id) DO UPDATE SET
            version = excluded.version, digest = excluded.digest,
            order_key = excluded.order_key, updated_at = excluded.updated_at",
    )
    .bind(ws.as_str())
    .bind(source)
    .bind(reservation)
    .bind(i64::try_from(record.version).unwrap_or(i64::MAX))
    .bind(&record.digest)
    .bind(record.order_key)
    .bind(now.unix())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The version of the reservation's state on record, whichever source set it (0 when
/// there is none), so a mapped version also outgrows another source's.
///
/// # Errors
/// Database errors.
pub async fn reservation_version(conn: &mut Conn, ws: &WorkspaceId, id: &str) -> Result<u64> {
    let version: Option<i64> =
        sqlx::query_scalar("SELECT version FROM reservations WHERE workspace_id = $1 AND id = $2")
            .bind(ws.as_str())
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(version.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
}
