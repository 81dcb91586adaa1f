//! The audit log: every write made through the admin API, who made it and what came of
//! it (table `audit_log`).

use latchkey_engine::Role;
use latchkey_engine::{Timestamp, WorkspaceId};
use serde::Serialize;
use utoipa::ToSchema;

use super::Conn;
use crate::error::Result;

/// A write about to be made.
#[derive(Debug)]
pub struct NewEntry<'a> {
    /// `key:<name>` or `user:<username>`.
    pub actor: &'a str,
    /// Their role.
    pub role: Role,
    /// HTTP method.
    pub method: &'a str,
    /// Request path (no query: queries may carry nothing a write needs).
    pub path: &'a str,
    /// The request's `x-request-id`, to find its log lines.
    pub request_id: Option<&'a str>,
}

/// A recorded write.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditEntry {
    /// Id; entries are listed newest first, and `cursor` pages by it.
    pub id: i64,
    /// When, Unix seconds UTC.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// Their role then.
    pub role: String,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// The request's id.
    pub request_id: Option<String>,
    /// The answer's HTTP status; `null` if the process stopped before answering.
    pub status: Option<i64>,
}

/// Records `entry` before it is carried out; answers its id for [`finish`].
///
/// # Errors
/// Database errors.
pub async fn begin(
    conn: &mut Conn,
    ws: &WorkspaceId,
    entry: &NewEntry<'_>,
    now: Timestamp,
) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO audit_log (workspace_id, at, actor, role, method, path, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(ws.as_str())
    .bind(now.0)
    .bind(entry.actor)
    .bind(entry.role.as_str())
    .bind(entry.method)
    .bind(entry.path)
    .bind(entry.request_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Records the answer's `status` of entry `id`.
///
/// # Errors
/// Database errors.
pub async fn finish(conn: &mut Conn, id: i64, status: u16) -> Result<()> {
    sqlx::query("UPDATE audit_log SET status = $1 WHERE id = $2")
        .bind(i64::from(status))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Up to `limit` entries older than `before` (all when `None`), newest first.
///
/// # Errors
/// Database errors.
pub async fn list(
    conn: &mut Conn,
    ws: &WorkspaceId,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>> {
    Ok(sqlx::query_as::<_, AuditEntry>(
        "SELECT id, at, actor, role, method, path, request_id, status FROM audit_log \
         WHERE workspace_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(ws.as_str())
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}
