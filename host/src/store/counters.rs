//! Running totals (codes created, updated, revoked) for reports and the replay.

use std::collections::BTreeMap;

use latchkey_engine::WorkspaceId;

use super::Conn;
use crate::error::Result;

/// Adds `by` to the counter `name`.
pub async fn bump(conn: &mut Conn, ws: &WorkspaceId, name: &str, by: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO counters (workspace_id, name, value) VALUES (?, ?, ?)
         ON CONFLICT (workspace_id, name) DO UPDATE SET value = counters.value + excluded.value",
    )
    .bind(ws.as_str())
    .bind(name)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every counter of the workspace.
pub async fn all(conn: &mut Conn, ws: &WorkspaceId) -> Result<BTreeMap<String, i64>> {
    let rows = sqlx::query_as::<_, (String, i64)>(
        "SELECT name, value FROM counters WHERE workspace_id = ?",
    )
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().collect())
}
