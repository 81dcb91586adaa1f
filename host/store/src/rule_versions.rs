//! Rhai rules uploaded through the API: every version (never changed nor deleted), and the
//! version each workspace plans with.

use latchkey_engine::{Timestamp, WorkspaceId};
use serde::Serialize;

use super::Conn;
use crate::error::Result;

/// A stored rule version, without its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RuleVersion {
    /// Its id, growing with each upload.
    pub id: i64,
    /// SHA-256 of the source, lower-case hex.
    pub sha256: String,
    /// When uploaded, Unix seconds UTC.
    pub created_at: i64,
    /// Who uploaded it, as the audit log names them (`key:<name>`, `user:<name>`).
    pub created_by: String,
    /// When last activated, Unix seconds UTC; `None` when never.
    pub activated_at: Option<i64>,
}

const COLUMNS: &str = "id, sha256, created_at, created_by, activated_at";

/// Stores `source` as a new version of `ws`'s rule.
///
/// # Errors
/// Database errors.
pub async fn insert(
    conn: &mut Conn,
    ws: &WorkspaceId,
    source: &str,
    sha256: &str,
    created_by: &str,
    now: Timestamp,
) -> Result<RuleVersion> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO rule_versions (workspace_id, source, sha256, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
    ))
    .bind(ws.as_str())
    .bind(source)
    .bind(sha256)
    .bind(now.unix())
    .bind(created_by)
    .fetch_one(&mut *conn)
    .await?)
}

/// Every version of `ws`'s rule with its source, newest first.
///
/// # Errors
/// Database errors.
pub async fn list(conn: &mut Conn, ws: &WorkspaceId) -> Result<Vec<(RuleVersion, String)>> {
    let rows: Vec<RowWithSource> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}, source FROM rule_versions WHERE workspace_id = $1 ORDER BY id DESC"
    ))
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(RowWithSource::split).collect())
}

/// Version `id` of `ws`'s rule with its source.
///
/// # Errors
/// Database errors.
pub async fn get(
    conn: &mut Conn,
    ws: &WorkspaceId,
    id: i64,
) -> Result<Option<(RuleVersion, String)>> {
    let row: Option<RowWithSource> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}, source FROM rule_versions WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(RowWithSource::split))
}

#[derive(sqlx::FromRow)]
struct RowWithSource {
    #[sqlx(flatten)]
    version: RuleVersion,
    source: String,
}

impl RowWithSource {
    fn split(self) -> (RuleVersion, String) {
        (self.version, self.source)
    }
}

/// The Rhai version a workspace plans with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RuleActivation {
    /// The version's id.
    pub version_id: i64,
    /// When activated, Unix seconds UTC.
    pub activated_at: i64,
    /// Who activated it.
    pub activated_by: String,
}

/// The Rhai version `ws` plans with, if any.
///
/// # Errors
/// Database errors.
pub async fn active(conn: &mut Conn, ws: &WorkspaceId) -> Result<Option<RuleActivation>> {
    Ok(sqlx::query_as(
        "SELECT version_id, activated_at, activated_by FROM workspace_rule_versions
         WHERE workspace_id = $1",
    )
    .bind(ws.as_str())
    .fetch_optional(&mut *conn)
    .await?)
}

/// Makes `ws` plan with version `id`, and stamps the version's `activated_at`. The caller
/// removes any plugin activation in the same transaction.
///
/// # Errors
/// Database errors.
pub async fn activate(
    conn: &mut Conn,
    ws: &WorkspaceId,
    id: i64,
    by: &str,
    now: Timestamp,
) -> Result<RuleActivation> {
    sqlx::query("UPDATE rule_versions SET activated_at = $1 WHERE workspace_id = $2 AND id = $3")
        .bind(now.unix())
        .bind(ws.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(sqlx::query_as(
        "INSERT INTO workspace_rule_versions (workspace_id, version_id, activated_at, activated_by)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id) DO UPDATE SET version_id = excluded.version_id,
             activated_at = excluded.activated_at, activated_by = excluded.activated_by
         RETURNING version_id, activated_at, activated_by",
    )
    .bind(ws.as_str())
    .bind(id)
    .bind(now.unix())
    .bind(by)
    .fetch_one(&mut *conn)
    .await?)
}

/// Makes `ws` stop planning with a Rhai version (a plugin was activated, or the rule file
/// restored). Returns whether one was active.
///
/// # Errors
/// Database errors.
pub async fn deactivate(conn: &mut Conn, ws: &WorkspaceId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM workspace_rule_versions WHERE workspace_id = $1")
        .bind(ws.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
