//! Partner plugins: stored versions (immutable) and the version each workspace plans with.

use latchkey_engine::{Timestamp, WorkspaceId};
use serde::Serialize;

use super::Conn;
use crate::error::Result;

/// A stored plugin version, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PluginVersion {
    /// The plugin's name.
    pub name: String,
    /// 1, 2, …: one more than the last version uploaded under this name.
    pub version: i64,
    /// SHA-256 of the component, lower-case hex.
    pub sha256: String,
    /// Size of the component, in bytes.
    pub size_bytes: i64,
    /// When uploaded, Unix seconds UTC.
    pub uploaded_at: i64,
}

const COLUMNS: &str = "name, version, sha256, size_bytes, uploaded_at";

/// The version of `name` with these bytes, if they were uploaded before.
pub async fn find_by_hash(
    conn: &mut Conn,
    name: &str,
    sha256: &str,
) -> Result<Option<PluginVersion>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM plugin_versions WHERE name = $1 AND sha256 = $2"
    ))
    .bind(name)
    .bind(sha256)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Stores `component` as the next version of `name` and returns it.
pub async fn insert(
    conn: &mut Conn,
    name: &str,
    sha256: &str,
    component: &[u8],
    now: Timestamp,
) -> Result<PluginVersion> {
    let size = i64::try_from(component.len()).unwrap_or(i64::MAX);
    Ok(sqlx::query_as(&format!(
        "INSERT INTO plugin_versions (name, version, sha256, size_bytes, component, uploaded_at)
         VALUES ($1, (SELECT COALESCE(MAX(version), 0) + 1 FROM plugin_versions WHERE name = $2), $3, $4, $5, $6)
         RETURNING {COLUMNS}"
    ))
    .bind(name)
    .bind(name)
    .bind(sha256)
    .bind(size)
    .bind(component)
    .bind(now.unix())
    .fetch_one(&mut *conn)
    .await?)
}

/// Every version of every plugin, by name then version.
pub async fn list(conn: &mut Conn) -> Result<Vec<PluginVersion>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM plugin_versions ORDER BY name, version"
    ))
    .fetch_all(&mut *conn)
    .await?)
}

/// The versions of `name`, oldest first; empty when there is no such plugin.
pub async fn versions(conn: &mut Conn, name: &str) -> Result<Vec<PluginVersion>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM plugin_versions WHERE name = $1 ORDER BY version"
    ))
    .bind(name)
    .fetch_all(&mut *conn)
    .await?)
}

/// One version's record and bytes.
pub async fn get(
    conn: &mut Conn,
    name: &str,
    version: i64,
) -> Result<Option<(PluginVersion, Vec<u8>)>> {
    let row = sqlx::query_as::<_, (String, i64, String, i64, i64, Vec<u8>)>(
        "SELECT name, version, sha256, size_bytes, uploaded_at, component
         FROM plugin_versions WHERE name = $1 AND version = $2",
    )
    .bind(name)
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(
        row.map(|(name, version, sha256, size_bytes, uploaded_at, bytes)| {
            (
                PluginVersion {
                    name,
                    version,
                    sha256,
                    size_bytes,
                    uploaded_at,
                },
                bytes,
            )
        }),
    )
}

/// Deletes versions of `name`: one, or all of them with `version: None`. Returns how many
/// were deleted. The caller checks first that none is in use.
pub async fn delete(conn: &mut Conn, name: &str, version: Option<i64>) -> Result<u64> {
    let done =
        sqlx::query("DELETE FROM plugin_versions WHERE name = $1 AND ($2 IS NULL OR version = $3)")
            .bind(name)
            .bind(version)
            .bind(version)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected())
}

/// A workspace's active plugin version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Activation {
    /// The workspace.
    pub workspace_id: String,
    /// The plugin's name.
    pub plugin: String,
    /// Its version.
    pub version: i64,
    /// When activated, Unix seconds UTC.
    pub activated_at: i64,
}

/// The plugin version `ws` plans with, if any.
pub async fn active(conn: &mut Conn, ws: &WorkspaceId) -> Result<Option<Activation>> {
    Ok(sqlx::query_as(
        "SELECT workspace_id, plugin, version, activated_at FROM workspace_rules WHERE workspace_id = $1",
    )
    .bind(ws.as_str())
    .fetch_optional(&mut *conn)
    .await?)
}

/// The workspaces planning with `name` (any version, or `version`).
pub async fn users(conn: &mut Conn, name: &str, version: Option<i64>) -> Result<Vec<Activation>> {
    Ok(sqlx::query_as(
        "SELECT workspace_id, plugin, version, activated_at FROM workspace_rules
         WHERE plugin = $1 AND ($2 IS NULL OR version = $3) ORDER BY workspace_id",
    )
    .bind(name)
    .bind(version)
    .bind(version)
    .fetch_all(&mut *conn)
    .await?)
}

/// Makes `ws` plan with `name` at `version`.
pub async fn activate(
    conn: &mut Conn,
    ws: &WorkspaceId,
    name: &str,
    version: i64,
    now: Timestamp,
) -> Result<Activation> {
    Ok(sqlx::query_as(
        "INSERT INTO workspace_rules (workspace_id, plugin, version, activated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id) DO UPDATE SET plugin = excluded.plugin, version = excluded.version,
             activated_at = excluded.activated_at
         RETURNING workspace_id, plugin, version, activated_at",
    )
    .bind(ws.as_str())
    .bind(name)
    .bind(version)
    .bind(now.unix())
    .fetch_one(&mut *conn)
    .await?)
}

/// Makes `ws` plan with its property's rule file again. Returns whether a plugin was
/// active.
pub async fn deactivate(conn: &mut Conn, ws: &WorkspaceId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM workspace_rules WHERE workspace_id = $1")
        .bind(ws.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
