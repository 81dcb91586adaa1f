//! Polled calendar feeds: each feed's consecutive misses, and the stays it listed.

use latchkey_engine::{Timestamp, WorkspaceId};

use super::Conn;
use crate::error::Result;

/// A stay the feed listed before, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// Its `UID`.
    pub uid: String,
    /// Its check-out on record (UTC).
    pub check_out: Timestamp,
    /// Consecutive successful, non-empty fetches without it.
    pub missing: u32,
    /// Whether its cancellation was accepted.
    pub cancelled: bool,
}

/// A feed's consecutive empty or failed fetches (0 for a feed never polled).
///
/// # Errors
/// Database errors.
pub async fn misses(conn: &mut Conn, ws: &WorkspaceId, source: &str) -> Result<u32> {
    let misses: Option<i64> =
        sqlx::query_scalar("SELECT misses FROM ical_feeds WHERE workspace_id = $1 AND source = $2")
            .bind(ws.as_str())
            .bind(source)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(misses.and_then(|m| u32::try_from(m).ok()).unwrap_or(0))
}

/// Records a fetch at `now`: the feed's misses after it, and its error if it failed.
///
/// # Errors
/// Database errors.
pub async fn record_fetch(
    conn: &mut Conn,
    ws: &WorkspaceId,
    source: &str,
    misses: u32,
    error: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    let success = error.is_none().then_some(now.unix());
    sqlx::query(
        "INSERT INTO ical_feeds (workspace_id, source, misses, last_polled_at, last_success_at, last_error)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (workspace_id, source) DO UPDATE SET
            misses = excluded.misses, last_polled_at = excluded.last_polled_at,
            last_success_at = COALESCE(excluded.last_success_at, ical_feeds.last_success_at),
            last_error = excluded.last_error",
    )
    .bind(ws.as_str())
    .bind(source)
    .bind(i64::from(misses))
    .bind(now.unix())
    .bind(success)
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The stays `source` listed before.
///
/// # Errors
/// Database errors.
pub async fn known(conn: &mut Conn, ws: &WorkspaceId, source: &str) -> Result<Vec<Known>> {
    let rows = sqlx::query_as::<_, (String, i64, i64, i64)>(
        "SELECT uid, check_out, missing, cancelled FROM ical_stays
         WHERE workspace_id = $1 AND source = $2 ORDER BY uid",
    )
    .bind(ws.as_str())
    .bind(source)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(uid, check_out, missing, cancelled)| Known {
            uid,
            check_out: Timestamp(check_out),
            missing: u32::try_from(missing).unwrap_or(u32::MAX),
            cancelled: cancelled != 0,
        })
        .collect())
}

/// Records that `uid` was listed, as `reservation` ending at `check_out`.
///
/// # Errors
/// Database errors.
pub async fn listed(
    conn: &mut Conn,
    ws: &WorkspaceId,
    source: &str,
    uid: &str,
    reservation: &str,
    check_out: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ical_stays (workspace_id, source, uid, reservation_id, check_out, missing, cancelled)
         VALUES ($1, $2, $3, $4, $5, 0, 0)
         ON CONFLICT (workspace_id, source, uid) DO UPDATE SET
            reservation_id = excluded.reservation_id, check_out = excluded.check_out,
            missing = 0, cancelled = 0",
    )
    .bind(ws.as_str())
    .bind(source)
    .bind(uid)
    .bind(reservation)
    .bind(check_out.unix())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records how many consecutive good fetches have not listed `uid`.
///
/// # Errors
/// Database errors.
pub async fn set_missing(
    conn: &mut Conn,
    ws: &WorkspaceId,
    source: &str,
    uid: &str,
    missing: u32,
) -> Result<()> {
    sqlx::query(
        "UPDATE ical_stays SET missing = $1 WHERE workspace_id = $2 AND source = $3 AND uid = $4",
    )
    .bind(i64::from(missing))
    .bind(ws.as_str())
    .bind(source)
    .bind(uid)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks `uid` cancelled; returns its reservation id.
///
/// # Errors
/// Database errors.
pub async fn mark_cancelled(
    conn: &mut Conn,
    ws: &WorkspaceId,
    source: &str,
    uid: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "UPDATE ical_stays SET cancelled = 1 WHERE workspace_id = $1 AND source = $2 AND uid = $3
         RETURNING reservation_id",
    )
    .bind(ws.as_str())
    .bind(source)
    .bind(uid)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Stops tracking `uid`.
///
/// # Errors
/// Database errors.
pub async fn forget(conn: &mut Conn, ws: &WorkspaceId, source: &str, uid: &str) -> Result<()> {
    sqlx::query("DELETE FROM ical_stays WHERE workspace_id = $1 AND source = $2 AND uid = $3")
        .bind(ws.as_str())
        .bind(source)
        .bind(uid)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
