//! The guest's own page: the workspace's link-signing secret (`guest_link_secrets`) and
//! the "my code doesn't work" reports guests made there (`guest_reports`).

use latchkey_engine::{Timestamp, WorkspaceId};
use serde::Serialize;

use super::Conn;
use crate::error::Result;

/// The secret the workspace's guest links are signed with, if one was made.
///
/// # Errors
/// Database errors.
pub async fn signing_secret(conn: &mut Conn, ws: &WorkspaceId) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT secret FROM guest_link_secrets WHERE workspace_id = $1")
            .bind(ws.as_str())
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// Stores `candidate` (fresh random text from the caller) as the workspace's secret unless
/// one is there already, and answers the one on record: every replica ends up with the
/// same, whichever stored it first.
///
/// # Errors
/// Database errors.
pub async fn make_signing_secret(
    conn: &mut Conn,
    ws: &WorkspaceId,
    candidate: &str,
    now: Timestamp,
) -> Result<String> {
    sqlx::query(
        "INSERT INTO guest_link_secrets (workspace_id, secret, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (workspace_id) DO NOTHING",
    )
    .bind(ws.as_str())
    .bind(candidate)
    .bind(now.unix())
    .execute(&mut *conn)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT secret FROM guest_link_secrets WHERE workspace_id = $1")
            .bind(ws.as_str())
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// A report a guest made on their page.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct GuestReport {
    /// The door's lock.
    pub lock_id: String,
    /// When, Unix seconds UTC.
    pub at: i64,
    /// What the check found and did: `on_lock` (the code is there as recorded),
    /// `put_back` (missing or changed, a new one is going on), `backup_given`,
    /// `unreadable` (the lock's cloud did not answer) or `no_code`.
    pub outcome: String,
    /// In words, for the desk.
    pub detail: String,
}

/// Records a report on `lock` for `reservation`; answers its id.
///
/// # Errors
/// Database errors.
pub async fn record(
    conn: &mut Conn,
    ws: &WorkspaceId,
    reservation: &str,
    report: &GuestReport,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO guest_reports (workspace_id, reservation_id, lock_id, at, outcome, detail)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(ws.as_str())
    .bind(reservation)
    .bind(&report.lock_id)
    .bind(report.at)
    .bind(&report.outcome)
    .bind(&report.detail)
    .fetch_one(&mut *conn)
    .await?)
}

/// The reports of `reservation` made at or after `since`, oldest first.
///
/// # Errors
/// Database errors.
pub async fn since(
    conn: &mut Conn,
    ws: &WorkspaceId,
    reservation: &str,
    since: Timestamp,
) -> Result<Vec<GuestReport>> {
    Ok(sqlx::query_as::<_, GuestReport>(
        "SELECT lock_id, at, outcome, detail FROM guest_reports
          WHERE workspace_id = $1 AND reservation_id = $2 AND at >= $3 ORDER BY at, id",
    )
    .bind(ws.as_str())
    .bind(reservation)
    .bind(since.unix())
    .fetch_all(&mut *conn)
    .await?)
}
