//! The health of the booking platforms' callback endpoints: since when one has been
//! failing, and whether it was disabled (after days of failure, or at once on 410 Gone).

use latchkey_engine::{Timestamp, WorkspaceId};

use super::Conn;
use crate::error::Result;

/// An endpoint's recorded health.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointHealth {
    /// When it started failing (Unix seconds UTC), cleared by a success.
    pub failing_since: Option<Timestamp>,
    /// When it was disabled, and why.
    pub disabled: Option<(Timestamp, String)>,
}

/// The health of `url` (healthy when never recorded).
///
/// # Errors
/// Database errors.
pub async fn health(conn: &mut Conn, ws: &WorkspaceId, url: &str) -> Result<EndpointHealth> {
    let row = sqlx::query_as::<_, (Option<i64>, Option<i64>, Option<String>)>(
        "SELECT failing_since, disabled_at, disabled_reason FROM callback_endpoints
         WHERE workspace_id = $1 AND url = $2",
    )
    .bind(ws.as_str())
    .bind(url)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        None => EndpointHealth::default(),
        Some((since, disabled_at, reason)) => EndpointHealth {
            failing_since: since.map(Timestamp),
            disabled: disabled_at.map(|at| (Timestamp(at), reason.unwrap_or_default())),
        },
    })
}

/// Records a failed delivery to `url`: the first failure of a spell starts it. Returns
/// when the spell started.
///
/// # Errors
/// Database errors.
pub async fn record_failure(
    conn: &mut Conn,
    ws: &WorkspaceId,
    url: &str,
    now: Timestamp,
) -> Result<Timestamp> {
    let since = sqlx::query_scalar::<_, i64>(
        "INSERT INTO callback_endpoints (workspace_id, url, failing_since) VALUES ($1, $2, $3)
         ON CONFLICT (workspace_id, url) DO UPDATE
           SET failing_since = COALESCE(callback_endpoints.failing_since, excluded.failing_since)
         RETURNING failing_since",
    )
    .bind(ws.as_str())
    .bind(url)
    .bind(now.unix())
    .fetch_one(&mut *conn)
    .await?;
    Ok(Timestamp(since))
}

/// Records a successful delivery to `url`, ending a spell of failures.
///
/// # Errors
/// Database errors.
pub async fn record_success(conn: &mut Conn, ws: &WorkspaceId, url: &str) -> Result<()> {
    sqlx::query(
        "UPDATE callback_endpoints SET failing_since = NULL WHERE workspace_id = $1 AND url = $2",
    )
    .bind(ws.as_str())
    .bind(url)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Disables `url`: no message is sent to it until a person enables it again
/// ([`enable`]). Returns whether it was enabled before.
///
/// # Errors
/// Database errors.
pub async fn disable(
    conn: &mut Conn,
    ws: &WorkspaceId,
    url: &str,
    reason: &str,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO callback_endpoints (workspace_id, url, failing_since, disabled_at, disabled_reason)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (workspace_id, url) DO UPDATE
           SET disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason
           WHERE callback_endpoints.disabled_at IS NULL",
    )
    .bind(ws.as_str())
    .bind(url)
    .bind(now.unix())
    .bind(now.unix())
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Enables `url` again, with a clean record.
///
/// # Errors
/// Database errors.
pub async fn enable(conn: &mut Conn, ws: &WorkspaceId, url: &str) -> Result<()> {
    sqlx::query("DELETE FROM callback_endpoints WHERE workspace_id = $1 AND url = $2")
        .bind(ws.as_str())
        .bind(url)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
