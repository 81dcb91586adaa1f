//! Branch assignments of locks made through the API: each row overrides the branch the
//! property file gives the lock (see [`crate::locks::assignment`]).

use latchkey_engine::{BranchId, LockId, Timestamp, WorkspaceId};

use super::Conn;
use crate::error::{Error, Result};

/// An assignment on record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRow {
    /// The lock.
    pub lock: LockId,
    /// Its branch; `None`: unassigned.
    pub branch: Option<BranchId>,
    /// When it was last changed (Unix seconds, UTC).
    pub updated_at: Timestamp,
}

/// Every assignment on record for `ws`, by lock id.
///
/// # Errors
/// [`Error::Corrupt`] when a stored id no longer parses; database errors.
pub async fn load(conn: &mut Conn, ws: &WorkspaceId) -> Result<Vec<AssignmentRow>> {
    let rows = sqlx::query_as::<_, (String, Option<String>, i64)>(
        "SELECT lock_id, branch_id, updated_at FROM lock_assignments WHERE workspace_id = $1 ORDER BY lock_id",
    )
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(lock, branch, updated_at)| {
            Ok(AssignmentRow {
                lock: LockId::parse(lock).map_err(Error::Corrupt)?,
                branch: branch
                    .map(BranchId::parse)
                    .transpose()
                    .map_err(Error::Corrupt)?,
                updated_at: Timestamp(updated_at),
            })
        })
        .collect()
}

/// Records `lock`'s branch (`None`: unassigned) at `now`, replacing any earlier record.
///
/// # Errors
/// Database errors.
pub async fn set(
    conn: &mut Conn,
    ws: &WorkspaceId,
    lock: &LockId,
    branch: Option<&BranchId>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO lock_assignments (workspace_id, lock_id, branch_id, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id, lock_id) DO UPDATE SET
            branch_id = excluded.branch_id, updated_at = excluded.updated_at",
    )
    .bind(ws.as_str())
    .bind(lock.as_str())
    .bind(branch.map(BranchId::as_str))
    .bind(now.unix())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
