//! The inbox: accepted webhooks, deduplicated by (workspace, source, webhook id).

use latchkey_engine::rules::EventType;
use latchkey_engine::{ReservationId, Timestamp, WorkspaceId};
use serde::Serialize;

use super::Conn;
use crate::error::Result;

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its state became the reservation's state.
    Applied,
    /// Older than (or as old as) the state on record: changed nothing.
    Stale,
    /// The rule failed while planning from it; see the error.
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Stale => "stale",
            Outcome::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Outcome {
        match s {
            "stale" => Outcome::Stale,
            "failed" => Outcome::Failed,
            _ => Outcome::Applied,
        }
    }
}

/// An event to store.
#[derive(Debug)]
pub struct NewEvent<'a> {
    /// Workspace.
    pub workspace: &'a WorkspaceId,
    /// Source name.
    pub source: &'a str,
    /// The sender's `webhook-id`.
    pub webhook_id: &'a str,
    /// Event type.
    pub event_type: EventType,
    /// The reservation it is about.
    pub reservation: &'a ReservationId,
    /// The reservation version it carries.
    pub version: u64,
    /// The raw body, as received.
    pub payload: &'a str,
    /// When it was accepted (UTC).
    pub received_at: Timestamp,
}

/// A stored event, as the API and CLI show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventRow {
    /// Latchkey's id.
    pub id: i64,
    /// Source name.
    pub source: String,
    /// The sender's `webhook-id`.
    pub webhook_id: String,
    /// Event type (`reservation.paid`).
    pub event_type: String,
    /// The reservation.
    pub reservation_id: String,
    /// Version carried.
    pub version: i64,
    /// When accepted, Unix seconds UTC.
    pub received_at: i64,
    /// `applied`, `stale` or `failed`.
    pub outcome: String,
    /// The rule's error message, for failed events.
    pub error: Option<String>,
}

/// Stores `event` unless its webhook id was seen before from this source.
///
/// Returns the new event's id, or `None` for a repeated `webhook-id`.
pub async fn insert(conn: &mut Conn, e: &NewEvent<'_>, outcome: Outcome) -> Result<Option<i64>> {
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO events (workspace_id, source, webhook_id, event_type, reservation_id, version, payload, received_at, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (workspace_id, source, webhook_id) DO NOTHING
         RETURNING id",
    )
    .bind(e.workspace.as_str())
    .bind(e.source)
    .bind(e.webhook_id)
    .bind(e.event_type.as_str())
    .bind(e.reservation.as_str())
    .bind(i64::try_from(e.version).unwrap_or(i64::MAX))
    .bind(e.payload)
    .bind(e.received_at.unix())
    .bind(outcome.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(id)
}

/// Marks the reservation's latest applied event as failed with `error`, so the author of
/// the rule sees why nothing happened.
pub async fn fail_latest(
    conn: &mut Conn,
    ws: &WorkspaceId,
    reservation: &ReservationId,
    error: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE events SET outcome = 'failed', error = $1
         WHERE id = (SELECT MAX(id) FROM events WHERE workspace_id = $2 AND reservation_id = $3 AND outcome <> 'stale')",
    )
    .bind(error)
    .bind(ws.as_str())
    .bind(reservation.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every event of a reservation, oldest first.
pub async fn for_reservation(
    conn: &mut Conn,
    ws: &WorkspaceId,
    reservation: &str,
) -> Result<Vec<EventRow>> {
    Ok(sqlx::query_as::<_, EventRow>(
        "SELECT id, source, webhook_id, event_type, reservation_id, version, received_at, outcome, error
         FROM events WHERE workspace_id = $1 AND reservation_id = $2 ORDER BY id",
    )
    .bind(ws.as_str())
    .bind(reservation)
    .fetch_all(&mut *conn)
    .await?)
}

/// The latest `limit` failed events, newest first.
pub async fn failed(conn: &mut Conn, ws: &WorkspaceId, limit: i64) -> Result<Vec<EventRow>> {
    Ok(sqlx::query_as::<_, EventRow>(
        "SELECT id, source, webhook_id, event_type, reservation_id, version, received_at, outcome, error
         FROM events WHERE workspace_id = $1 AND outcome = 'failed' ORDER BY id DESC LIMIT $2",
    )
    .bind(ws.as_str())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

impl EventRow {
    /// The outcome as an enum.
    pub fn outcome(&self) -> Outcome {
        Outcome::parse(&self.outcome)
    }
}
