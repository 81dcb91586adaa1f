//! Planned grants: what each owner's last plan wants on the locks that hold a limited
//! number of codes (table `planned_grants`, one row per owner and lock). The codes on
//! record show what is on a lock; these show what will have to be, which is what a
//! lock's budget and its forecast are made of (`latchkey_engine::capacity`).

use latchkey_engine::{LockId, Timestamp, Window, WorkspaceId};

use super::Conn;
use crate::error::{Error, Result};

/// One planned grant: `lock` opens during `window`, its code going on no earlier than
/// `issue_at`. Instants are UTC Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedGrant {
    /// The lock.
    pub lock: LockId,
    /// The access window.
    pub window: Window,
    /// The earliest instant the rule lets the code go on.
    pub issue_at: Timestamp,
    /// Expected rather than planned: what the rule would grant a reservation that is
    /// confirmed but not yet paid, once paid. Counted by the forecast; no code waits
    /// for it.
    pub expected: bool,
}

type Row = (String, i64, i64, i64, i64);

const COLUMNS: &str = "lock_id, starts_at, ends_at, issue_at, expected";

fn from_row((lock, starts, ends, issue, expected): Row) -> Result<PlannedGrant> {
    Ok(PlannedGrant {
        lock: LockId::parse(lock).map_err(Error::Corrupt)?,
        window: Window {
            starts_at: Timestamp(starts),
            ends_at: Timestamp(ends),
        },
        issue_at: Timestamp(issue),
        expected: expected != 0,
    })
}

/// Makes `grants` the planned grants of `owner` (a reservation or a staff code's owner),
/// writing only when they differ from those on record: most plans repeat the last one.
///
/// # Errors
/// Database errors.
pub async fn replace(
    conn: &mut Conn,
    ws: &WorkspaceId,
    owner: &str,
    grants: &[PlannedGrant],
) -> Result<()> {
    let rows = sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM planned_grants
         WHERE workspace_id = $1 AND owner_id = $2 ORDER BY lock_id"
    ))
    .bind(ws.as_str())
    .bind(owner)
    .fetch_all(&mut *conn)
    .await?;
    let on_record = rows.into_iter().map(from_row).collect::<Result<Vec<_>>>()?;
    let mut wanted = grants.to_vec();
    wanted.sort_by(|a, b| a.lock.cmp(&b.lock));
    if on_record == wanted {
        return Ok(());
    }
    sqlx::query("DELETE FROM planned_grants WHERE workspace_id = $1 AND owner_id = $2")
        .bind(ws.as_str())
        .bind(owner)
        .execute(&mut *conn)
        .await?;
    for grant in &wanted {
        sqlx::query(
            "INSERT INTO planned_grants
               (workspace_id, owner_id, lock_id, starts_at, ends_at, issue_at, expected)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(ws.as_str())
        .bind(owner)
        .bind(grant.lock.as_str())
        .bind(grant.window.starts_at.unix())
        .bind(grant.window.ends_at.unix())
        .bind(grant.issue_at.unix())
        .bind(i64::from(grant.expected))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The windows of the grants on `lock` that still wait for a code at `now`: planned (not
/// expected), not ended, and with no live (`pending`, `active` or `revoking`) code of
/// their owner on the lock.
/// `except` leaves out one owner's (the one asking).
///
/// # Errors
/// Database errors.
pub async fn waiting_on_lock(
    conn: &mut Conn,
    ws: &WorkspaceId,
    lock: &LockId,
    except: &str,
    now: Timestamp,
) -> Result<Vec<Window>> {
    let rows = sqlx::query_as::<_, (i64, i64)>(
        "SELECT p.starts_at, p.ends_at FROM planned_grants p
         WHERE p.workspace_id = $1 AND p.lock_id = $2 AND p.ends_at > $3 AND p.owner_id <> $4
           AND p.expected = 0
           AND NOT EXISTS (
             SELECT 1 FROM access_codes c
              WHERE c.workspace_id = p.workspace_id AND c.reservation_id = p.owner_id
                AND c.lock_id = p.lock_id AND c.state IN ('pending', 'active', 'revoking'))",
    )
    .bind(ws.as_str())
    .bind(lock.as_str())
    .bind(now.unix())
    .bind(except)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(starts, ends)| Window {
            starts_at: Timestamp(starts),
            ends_at: Timestamp(ends),
        })
        .collect())
}

/// Every planned or expected grant of the workspace whose window has not ended at `from`
/// and starts before `until`: what the capacity forecast counts.
///
/// # Errors
/// Database errors.
pub async fn overlapping(
    conn: &mut Conn,
    ws: &WorkspaceId,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<PlannedGrant>> {
    let rows = sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM planned_grants
         WHERE workspace_id = $1 AND ends_at > $2 AND starts_at < $3"
    ))
    .bind(ws.as_str())
    .bind(from.unix())
    .bind(until.unix())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(from_row).collect()
}

/// Deletes the planned grants whose window ended before `before`; returns how many.
///
/// # Errors
/// Database errors.
pub async fn prune(conn: &mut Conn, ws: &WorkspaceId, before: Timestamp) -> Result<u64> {
    let done = sqlx::query("DELETE FROM planned_grants WHERE workspace_id = $1 AND ends_at < $2")
        .bind(ws.as_str())
        .bind(before.unix())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
