//! The latest full state of each reservation.

use latchkey_engine::rules::{EventType, RuleEvent};
use latchkey_engine::{Pin, Reservation, ReservationId, Timestamp, WorkspaceId};

use super::Conn;
use crate::error::{Error, Result};

/// A reservation on record.
#[derive(Debug, Clone)]
pub struct ReservationRow {
    /// Its full state.
    pub state: Reservation,
    /// The latest event applied to it.
    pub last_event: RuleEvent,
    /// The guest's PIN, once chosen.
    pub pin: Option<Pin>,
    /// The rule's error from the latest evaluation, if it failed.
    pub rule_error: Option<String>,
}

/// The reservation on record.
///
/// # Errors
/// [`Error::Corrupt`] when the stored state no longer parses.
pub async fn get(conn: &mut Conn, ws: &WorkspaceId, id: &str) -> Result<Option<ReservationRow>> {
    let row = sqlx::query_as::<_, (String, String, i64, Option<String>, Option<String>)>(
        "SELECT state, last_event_type, last_event_at, pin, rule_error FROM reservations WHERE workspace_id = $1 AND id = $2",
    )
    .bind(ws.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((state, event_type, event_at, pin, rule_error)) = row else {
        return Ok(None);
    };
    let state: Reservation = serde_json::from_str(&state).map_err(|e| {
        Error::Corrupt(format!(
            "stored state of reservation `{id}` does not parse: {e}"
        ))
    })?;
    let kind = EventType::parse(&event_type).ok_or_else(|| {
        Error::Corrupt(format!(
            "reservation `{id}` has unknown event type `{event_type}`"
        ))
    })?;
    Ok(Some(ReservationRow {
        state,
        last_event: RuleEvent {
            kind,
            received_at: Timestamp(event_at),
        },
        pin: pin.map(Pin::new),
        rule_error,
    }))
}

/// Makes `state` the reservation's state, caused by `event`, unless the state on record
/// has the same or a higher version. Returns whether it did.
pub async fn upsert_if_newer(
    conn: &mut Conn,
    ws: &WorkspaceId,
    state: &Reservation,
    event: &RuleEvent,
) -> Result<bool> {
    let json = serde_json::to_string(state).map_err(|e| Error::Corrupt(e.to_string()))?;
    let done = sqlx::query(
        "INSERT INTO reservations (workspace_id, id, version, status, state, last_event_type, last_event_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (workspace_id, id) DO UPDATE SET
            version = excluded.version, status = excluded.status, state = excluded.state,
            last_event_type = excluded.last_event_type, last_event_at = excluded.last_event_at,
            updated_at = excluded.updated_at
         WHERE excluded.version > reservations.version",
    )
    .bind(ws.as_str())
    .bind(state.id.as_str())
    .bind(i64::try_from(state.version).unwrap_or(i64::MAX))
    .bind(state.status.as_str())
    .bind(json)
    .bind(event.kind.as_str())
    .bind(event.received_at.unix())
    .bind(event.received_at.unix())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Remembers the guest's PIN.
pub async fn set_pin(
    conn: &mut Conn,
    ws: &WorkspaceId,
    id: &ReservationId,
    pin: &Pin,
) -> Result<()> {
    sqlx::query("UPDATE reservations SET pin = $1 WHERE workspace_id = $2 AND id = $3")
        .bind(pin.as_str())
        .bind(ws.as_str())
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records (or clears) the rule's error for the reservation.
pub async fn set_rule_error(
    conn: &mut Conn,
    ws: &WorkspaceId,
    id: &ReservationId,
    error: Option<&str>,
) -> Result<()> {
    sqlx::query("UPDATE reservations SET rule_error = $1 WHERE workspace_id = $2 AND id = $3")
        .bind(error)
        .bind(ws.as_str())
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Serialises the caller's transaction with every other one working on reservation `id`
/// (its state, codes and guest notices), across replicas; see [`super::serialize_on`].
/// Staff codes pass their owner, `staff:{name}`.
///
/// # Errors
/// Database errors.
pub async fn serialize(conn: &mut Conn, ws: &WorkspaceId, id: &str) -> Result<()> {
    super::serialize_on(conn, &format!("reservation:{ws}:{id}")).await
}

/// Reservations a new rule may plan differently: those still entitled to access
/// (confirmed or paid) and those with a code that is not yet gone from its lock.
pub async fn open_ids(conn: &mut Conn, ws: &WorkspaceId) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT r.id FROM reservations r WHERE r.workspace_id = $1
           AND (r.status IN ('confirmed', 'paid')
                OR EXISTS (SELECT 1 FROM access_codes c
                           WHERE c.workspace_id = r.workspace_id AND c.reservation_id = r.id
                             AND c.state IN ('pending', 'active', 'revoking')))
         ORDER BY r.id",
    )
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?)
}

/// Up to `limit` reservations whose id or recorded state (guest name, e-mail, phone,
/// resources) contains `text`, case-insensitively, ordered by id after `after`.
///
/// # Errors
/// [`Error::Corrupt`] when a stored state no longer parses; database errors.
pub async fn search(
    conn: &mut Conn,
    ws: &WorkspaceId,
    text: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Reservation>> {
    // LIKE's wildcards in the text are matched literally.
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    let rows = sqlx::query_as::<_, (String,)>(
        "SELECT state FROM reservations WHERE workspace_id = $1 AND id > $2 \
         AND (LOWER(id) LIKE $3 ESCAPE '\\' OR LOWER(state) LIKE $4 ESCAPE '\\') \
         ORDER BY id LIMIT $5",
    )
    .bind(ws.as_str())
    .bind(after.unwrap_or(""))
    .bind(&pattern)
    .bind(&pattern)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(state,)| {
            serde_json::from_str(&state)
                .map_err(|e| Error::Corrupt(format!("stored reservation state: {e}")))
        })
        .collect()
}
