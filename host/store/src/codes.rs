//! Access codes on record.

use latchkey_engine::capacity::Held;
use latchkey_engine::drift::RecordedCode;
use latchkey_engine::{
    AccessCode, CodeRecord, CodeState, LockId, Pin, ReservationId, Timestamp, Window, WorkspaceId,
};

use super::Conn;
use crate::error::{Error, Result};

type RawRow = (
    i64,
    String,
    String,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
    Option<i64>,
    i64,
    Option<i64>,
);

const COLUMNS: &str = "id, reservation_id, lock_id, pin, starts_at, ends_at, lock_starts_at, lock_ends_at, state, provider_ref, replaces, unrevocable, pulled_at";

fn from_raw(r: RawRow) -> Result<CodeRecord> {
    let (
        id,
        reservation,
        lock,
        pin,
        starts,
        ends,
        lock_starts,
        lock_ends,
        state,
        provider_ref,
        replaces,
        unrevocable,
        pulled_at,
    ) = r;
    Ok(CodeRecord {
        code: AccessCode {
            id,
            reservation: ReservationId::parse(reservation).map_err(Error::Corrupt)?,
            lock: LockId::parse(lock).map_err(Error::Corrupt)?,
            pin: pin.map(Pin::new),
            window: Window {
                starts_at: Timestamp(starts),
                ends_at: Timestamp(ends),
            },
            lock_window: lock_starts.zip(lock_ends).map(|(s, e)| Window {
                starts_at: Timestamp(s),
                ends_at: Timestamp(e),
            }),
            state: CodeState::parse(&state)
                .ok_or_else(|| Error::Corrupt(format!("code {id} has state `{state}`")))?,
            provider_ref,
        },
        replaces,
        unrevocable: unrevocable != 0,
        pulled_at: pulled_at.map(Timestamp),
    })
}

/// Every code of a reservation, oldest first.
pub async fn for_reservation(
    conn: &mut Conn,
    ws: &WorkspaceId,
    reservation: &str,
) -> Result<Vec<CodeRecord>> {
    let rows = sqlx::query_as::<_, RawRow>(&format!(
        "SELECT {COLUMNS} FROM access_codes WHERE workspace_id = $1 AND reservation_id = $2 ORDER BY id"
    ))
    .bind(ws.as_str())
    .bind(reservation)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(from_raw).collect()
}

/// One code.
pub async fn get(conn: &mut Conn, ws: &WorkspaceId, id: i64) -> Result<Option<CodeRecord>> {
    let row = sqlx::query_as::<_, RawRow>(&format!(
        "SELECT {COLUMNS} FROM access_codes WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(from_raw).transpose()
}

/// A code to put on a lock.
#[derive(Debug)]
pub struct NewCode<'a> {
    /// The reservation.
    pub reservation: &'a ReservationId,
    /// The lock.
    pub lock: &'a LockId,
    /// The PIN, when Latchkey chooses it.
    pub pin: Option<&'a Pin>,
    /// The desired window.
    pub window: Window,
    /// The code it replaces.
    pub replaces: Option<i64>,
}

/// Records a new `pending` code and returns its id.
pub async fn insert(
    conn: &mut Conn,
    ws: &WorkspaceId,
    c: &NewCode<'_>,
    now: Timestamp,
) -> Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(
        "INSERT INTO access_codes (workspace_id, reservation_id, lock_id, pin, starts_at, ends_at, state, replaces, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9) RETURNING id",
    )
    .bind(ws.as_str())
    .bind(c.reservation.as_str())
    .bind(c.lock.as_str())
    .bind(c.pin.map(Pin::as_str))
    .bind(c.window.starts_at.unix())
    .bind(c.window.ends_at.unix())
    .bind(c.replaces)
    .bind(now.unix())
    .bind(now.unix())
    .fetch_one(&mut *conn)
    .await?)
}

/// Gives backup code `code`, `active` in the pool of `pool_owner`, to `owner` for `window`:
/// the code moves to the owner with the time it was given, and is `pending` until its lock
/// enforces the new window (it opens the door meanwhile with the pool's window, which
/// covers it). Returns false when the code was no longer an active code of the pool
/// (given to someone else, or gone, meanwhile).
///
/// # Errors
/// Database errors.
pub async fn give(
    conn: &mut Conn,
    code: i64,
    pool_owner: &ReservationId,
    owner: &ReservationId,
    window: Window,
    now: Timestamp,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE access_codes
            SET reservation_id = $1, pulled_at = $2, starts_at = $3, ends_at = $4,
                lock_starts_at = COALESCE(lock_starts_at, starts_at),
                lock_ends_at = COALESCE(lock_ends_at, ends_at),
                state = 'pending', updated_at = $2
          WHERE id = $5 AND reservation_id = $6 AND state = 'active'",
    )
    .bind(owner.as_str())
    .bind(now.unix())
    .bind(window.starts_at.unix())
    .bind(window.ends_at.unix())
    .bind(code)
    .bind(pool_owner.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// Sets a new desired window and marks the code `pending` until the lock has it.
pub async fn set_window(conn: &mut Conn, id: i64, window: Window, now: Timestamp) -> Result<()> {
    sqlx::query("UPDATE access_codes SET starts_at = $1, ends_at = $2, state = 'pending', updated_at = $3 WHERE id = $4")
        .bind(window.starts_at.unix())
        .bind(window.ends_at.unix())
        .bind(now.unix())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Moves the code to `to`, only if it is in one of `from`. Returns whether it moved.
pub async fn transition(
    conn: &mut Conn,
    id: i64,
    from: &[CodeState],
    to: CodeState,
    now: Timestamp,
) -> Result<bool> {
    let states: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let placeholders = super::Placeholders::after(3).list(states.len());
    let sql = format!(
        "UPDATE access_codes SET state = $1, updated_at = $2 WHERE id = $3 AND state IN ({placeholders})"
    );
    let mut q = sqlx::query(&sql)
        .bind(to.as_str())
        .bind(now.unix())
        .bind(id);
    for s in states {
        q = q.bind(s);
    }
    Ok(q.execute(&mut *conn).await?.rows_affected() > 0)
}

/// What the provider answered about a code.
#[derive(Debug)]
pub struct Receipt<'a> {
    /// The provider's reference.
    pub reference: &'a str,
    /// The PIN on the lock.
    pub pin: &'a Pin,
    /// The window the lock enforces.
    pub lock_window: Window,
    /// The lock has the code: a `pending` code becomes `active`.
    pub confirmed: bool,
    /// The answer applied a change of window in place (counted in `updates`).
    pub updated: bool,
}

/// Records a provider's answer in one statement, activating a pending code the lock has
/// confirmed.
pub async fn record_receipt(
    conn: &mut Conn,
    id: i64,
    r: &Receipt<'_>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE access_codes SET provider_ref = $1, pin = $2, lock_starts_at = $3, lock_ends_at = $4, updated_at = $5,
            state = CASE WHEN $6 AND state = 'pending' THEN 'active' ELSE state END,
            updates = updates + $7
         WHERE id = $8",
    )
    .bind(r.reference)
    .bind(r.pin.as_str())
    .bind(r.lock_window.starts_at.unix())
    .bind(r.lock_window.ends_at.unix())
    .bind(now.unix())
    .bind(r.confirmed)
    .bind(i64::from(r.updated))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Totals over a workspace's codes, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct CodeTotals {
    /// Codes a provider accepted.
    pub created: i64,
    /// Changes of window applied in place.
    pub updated: i64,
    /// Codes revoked (confirmed by the provider).
    pub revoked: i64,
}

/// Totals over the workspace's codes.
pub async fn totals(conn: &mut Conn, ws: &WorkspaceId) -> Result<CodeTotals> {
    Ok(sqlx::query_as::<_, CodeTotals>(
        "SELECT COUNT(provider_ref) AS created, CAST(COALESCE(SUM(updates), 0) AS BIGINT) AS updated,
                CAST(COALESCE(SUM(CASE WHEN state = 'revoked' THEN 1 ELSE 0 END), 0) AS BIGINT) AS revoked
         FROM access_codes WHERE workspace_id = $1",
    )
    .bind(ws.as_str())
    .fetch_one(&mut *conn)
    .await?)
}

/// Changes the PIN of a code not yet on its lock.
pub async fn set_pin(conn: &mut Conn, id: i64, pin: &Pin) -> Result<()> {
    sqlx::query("UPDATE access_codes SET pin = $1 WHERE id = $2")
        .bind(pin.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Notes that the code could not be revoked and an alert was raised.
pub async fn mark_unrevocable(conn: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("UPDATE access_codes SET unrevocable = 1 WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// True when another live code on `lock` uses `pin`.
pub async fn pin_in_use(
    conn: &mut Conn,
    ws: &WorkspaceId,
    lock: &LockId,
    pin: &Pin,
    except: Option<i64>,
) -> Result<bool> {
    let n = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM access_codes
         WHERE workspace_id = $1 AND lock_id = $2 AND pin = $3 AND state IN ('pending', 'active', 'revoking') AND id <> $4",
    )
    .bind(ws.as_str())
    .bind(lock.as_str())
    .bind(pin.as_str())
    .bind(except.unwrap_or(-1))
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

/// The live (`pending` or `active`) codes on `lock`, oldest first: what regenerating the
/// lock's PINs replaces, and whose reservations an assignment change re-plans.
pub async fn live_on_lock(
    conn: &mut Conn,
    ws: &WorkspaceId,
    lock: &LockId,
) -> Result<Vec<CodeRecord>> {
    let rows = sqlx::query_as::<_, RawRow>(&format!(
        "SELECT {COLUMNS} FROM access_codes
         WHERE workspace_id = $1 AND lock_id = $2 AND state IN ('pending', 'active') ORDER BY id"
    ))
    .bind(ws.as_str())
    .bind(lock.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(from_raw).collect()
}

/// The codes that take a slot on `lock` (ours `pending`, `active` or `revoking`, and the
/// unmanaged ones), as the lock's budget sees them (`latchkey_engine::capacity::Held`): a
/// code of a reservation may give up its slot to one needed sooner, a staff code or an
/// unmanaged one may not.
///
/// # Errors
/// Database errors.
pub async fn held_on_lock(conn: &mut Conn, ws: &WorkspaceId, lock: &LockId) -> Result<Vec<Held>> {
    // The reservation's id when the owner is one (a staff code's owner is not). The codes
    // the lock holds that Latchkey did not make (`unmanaged_codes`) take slots too, until
    // their window ends or for good; they have no code id.
    let rows = sqlx::query_as::<_, (Option<i64>, i64, i64, Option<i64>, String, Option<String>)>(
        "SELECT c.id, c.starts_at, c.ends_at, c.lock_ends_at, c.state, r.id
           FROM access_codes c
           LEFT JOIN reservations r ON r.workspace_id = c.workspace_id AND r.id = c.reservation_id
          WHERE c.workspace_id = $1 AND c.lock_id = $2 AND c.state IN ('pending', 'active', 'revoking')
         UNION ALL
         SELECT NULL, COALESCE(u.starts_at, 0), COALESCE(u.ends_at, $3), NULL, 'unmanaged', NULL
           FROM unmanaged_codes u
          WHERE u.workspace_id = $1 AND u.lock_id = $2",
    )
    .bind(ws.as_str())
    .bind(lock.as_str())
    .bind(i64::MAX)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(code, starts, ends, lock_ends, state, reservation)| Held {
            code,
            window: Window {
                starts_at: Timestamp(starts),
                ends_at: Timestamp(ends),
            },
            until: Timestamp(lock_ends.map_or(ends, |l| l.max(ends))),
            leaving: state == CodeState::Revoking.as_str(),
            movable: reservation.is_some(),
        })
        .collect())
}

/// Latchkey's codes on record as being on `lock` (state `active`, with the provider's
/// reference), as the drift check compares them with the lock's own list.
///
/// # Errors
/// Database errors.
pub async fn recorded_on_lock(
    conn: &mut Conn,
    ws: &WorkspaceId,
    lock: &LockId,
) -> Result<Vec<RecordedCode>> {
    let rows = sqlx::query_as::<_, (i64, String, String, i64, i64, Option<i64>, Option<i64>)>(
        "SELECT id, provider_ref, pin, starts_at, ends_at, lock_starts_at, lock_ends_at
           FROM access_codes
          WHERE workspace_id = $1 AND lock_id = $2 AND state = 'active'
            AND provider_ref IS NOT NULL AND pin IS NOT NULL",
    )
    .bind(ws.as_str())
    .bind(lock.as_str())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(code, reference, pin, starts, ends, lock_starts, lock_ends)| RecordedCode {
                code,
                reference,
                pin: Pin::new(pin),
                // The window the lock enforces, which is what its cloud lists.
                window: Window {
                    starts_at: Timestamp(lock_starts.unwrap_or(starts)),
                    ends_at: Timestamp(lock_ends.unwrap_or(ends)),
                },
            },
        )
        .collect())
}

/// The codes that take a slot on their lock but that no planned grant of their owner
/// wants there (a code being revoked, a code being replaced): each lock and the instant
/// its slot is freed at the latest. The capacity forecast counts them.
///
/// # Errors
/// Database errors.
pub async fn unplanned_slots(
    conn: &mut Conn,
    ws: &WorkspaceId,
) -> Result<Vec<(LockId, Timestamp)>> {
    let rows = sqlx::query_as::<_, (String, i64, Option<i64>)>(
        "SELECT c.lock_id, c.ends_at, c.lock_ends_at FROM access_codes c
         WHERE c.workspace_id = $1 AND c.state IN ('pending', 'active', 'revoking')
           AND NOT EXISTS (
             SELECT 1 FROM planned_grants p
              WHERE p.workspace_id = c.workspace_id AND p.owner_id = c.reservation_id
                AND p.lock_id = c.lock_id AND p.starts_at = c.starts_at AND p.ends_at = c.ends_at)",
    )
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(lock, ends, lock_ends)| {
            Ok((
                LockId::parse(lock).map_err(Error::Corrupt)?,
                Timestamp(lock_ends.map_or(ends, |l| l.max(ends))),
            ))
        })
        .collect()
}

/// How the front desk sees a code: its state, and whether its window is over.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CodeStatus {
    /// Being put on (or changed on) its lock.
    Pending,
    /// On its lock, its window not over.
    Active,
    /// Its window is over.
    Expired,
    /// Being deleted, or deleted, from its lock.
    Revoked,
    /// The provider refused it for good.
    Failed,
}

impl CodeStatus {
    /// The status of a code in `state` whose window ends at `ends_at`, at `now`.
    pub fn of(state: CodeState, ends_at: Timestamp, now: Timestamp) -> CodeStatus {
        match state {
            CodeState::Pending => CodeStatus::Pending,
            CodeState::Active if ends_at > now => CodeStatus::Active,
            CodeState::Active | CodeState::Expired => CodeStatus::Expired,
            CodeState::Revoking | CodeState::Revoked => CodeStatus::Revoked,
            CodeState::Failed => CodeStatus::Failed,
        }
    }

    /// The SQL condition selecting codes of this status, with `now` (when the status
    /// depends on it) at the next placeholder of `p`.
    fn condition(self, p: &mut super::Placeholders) -> String {
        match self {
            CodeStatus::Pending => "state = 'pending'".into(),
            CodeStatus::Active => format!("state = 'active' AND ends_at > {}", p.next()),
            CodeStatus::Expired => {
                format!(
                    "(state = 'expired' OR (state = 'active' AND ends_at <= {}))",
                    p.next()
                )
            }
            CodeStatus::Revoked => "state IN ('revoking', 'revoked')".into(),
            CodeStatus::Failed => "state = 'failed'".into(),
        }
    }
}

/// Which codes [`search`] returns; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct CodeFilter {
    /// Of this status.
    pub status: Option<CodeStatus>,
    /// On this lock.
    pub lock: Option<String>,
    /// Of this reservation (or staff code owner, `staff:{name}`).
    pub reservation: Option<String>,
    /// Whose window ends after this instant, Unix seconds UTC.
    pub from: Option<i64>,
    /// Whose window starts before this instant, Unix seconds UTC.
    pub to: Option<i64>,
}

/// Up to `limit` codes matching `filter` with ids below `before`, newest first.
///
/// # Errors
/// Database errors.
pub async fn search(
    conn: &mut Conn,
    ws: &WorkspaceId,
    filter: &CodeFilter,
    now: Timestamp,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<CodeRecord>> {
    let mut sql = format!("SELECT {COLUMNS} FROM access_codes WHERE workspace_id = $1 AND id < $2");
    let mut p = super::Placeholders::after(2);
    if let Some(status) = filter.status {
        sql.push_str(" AND ");
        sql.push_str(&status.condition(&mut p));
    }
    for (value, column) in [
        (filter.lock.is_some(), "lock_id ="),
        (filter.reservation.is_some(), "reservation_id ="),
        (filter.from.is_some(), "ends_at >"),
        (filter.to.is_some(), "starts_at <"),
    ] {
        if value {
            sql.push_str(&format!(" AND {column} {}", p.next()));
        }
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", p.next()));
    let mut query = sqlx::query_as::<_, RawRow>(&sql)
        .bind(ws.as_str())
        .bind(before.unwrap_or(i64::MAX));
    if matches!(
        filter.status,
        Some(CodeStatus::Active | CodeStatus::Expired)
    ) {
        query = query.bind(now.0);
    }
    if let Some(lock) = &filter.lock {
        query = query.bind(lock);
    }
    if let Some(reservation) = &filter.reservation {
        query = query.bind(reservation);
    }
    if let Some(from) = filter.from {
        query = query.bind(from);
    }
    if let Some(to) = filter.to {
        query = query.bind(to);
    }
    let rows = query.bind(limit).fetch_all(&mut *conn).await?;
    rows.into_iter().map(from_raw).collect()
}
