//! reenio deliveries (`reenio_deliveries`): each webhook as received, before it is
//! answered, and what became of it once its reservation was fetched.

use latchkey_engine::{Timestamp, WorkspaceId};

use super::Conn;
use crate::error::Result;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// The reservation is still to be fetched.
    Pending,
    /// Fetched and handed to the inbox.
    Fetched,
    /// The hook's mapping ignores its trigger; kept for audit.
    Ignored,
    /// The fetched reservation awaits confirmation; nothing was planned.
    Unconfirmed,
    /// reenio knows no such reservation, and Latchkey had none on record.
    Gone,
}

impl DeliveryState {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Fetched => "fetched",
            DeliveryState::Ignored => "ignored",
            DeliveryState::Unconfirmed => "unconfirmed",
            DeliveryState::Gone => "gone",
        }
    }
}

/// A delivery to store.
#[derive(Debug)]
pub struct NewDelivery<'a> {
    /// Source name.
    pub source: &'a str,
    /// The hook (custom message) it came from.
    pub hook: &'a str,
    /// `triggerType`.
    pub trigger_type: u32,
    /// `reservationId`, if any.
    pub reservation_id: Option<i64>,
    /// `customerId`, if any.
    pub customer_id: Option<i64>,
    /// The body as received.
    pub body: &'a str,
    /// SHA-256 of the body, hex.
    pub body_sha256: &'a str,
    /// When it was received (UTC).
    pub received_at: Timestamp,
    /// `Pending`, or `Ignored` when nothing is to be fetched.
    pub state: DeliveryState,
}

/// A delivery waiting for its reservation's fetch.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingDelivery {
    /// Id.
    pub id: i64,
    /// The hook it came from.
    pub hook: String,
    /// `triggerType`.
    pub trigger_type: i64,
    /// `customerId`, if any.
    pub customer_id: Option<i64>,
    /// The body as received.
    pub body: String,
}

/// Whether an identical body came from `hook` of `source` at or after `since`: then this
/// one is reenio retrying a delivery whose answer it did not get.
pub async fn seen_since(
    conn: &mut Conn,
    ws: &WorkspaceId,
    source: &str,
    hook: &str,
    body_sha256: &str,
    since: Timestamp,
) -> Result<bool> {
    let found = sqlx::query_scalar::<_, i64>(
        "SELECT id FROM reenio_deliveries
         WHERE workspace_id = $1 AND source = $2 AND body_sha256 = $3 AND hook = $4 AND received_at >= $5
         LIMIT 1",
    )
    .bind(ws.as_str())
    .bind(source)
    .bind(body_sha256)
    .bind(hook)
    .bind(since.unix())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// Stores `d`; returns its id.
pub async fn insert(conn: &mut Conn, ws: &WorkspaceId, d: &NewDelivery<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(
        "INSERT INTO reenio_deliveries (workspace_id, source, hook, trigger_type, reservation_id,
             customer_id, body, body_sha256, received_at, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(ws.as_str())
    .bind(d.source)
    .bind(d.hook)
    .bind(i64::from(d.trigger_type))
    .bind(d.reservation_id)
    .bind(d.customer_id)
    .bind(d.body)
    .bind(d.body_sha256)
    .bind(d.received_at.unix())
    .bind(d.state.as_str())
    .fetch_one(&mut *conn)
    .await?)
}

/// The pending deliveries about reenio reservation `reservation` of `source`, oldest first.
pub async fn pending(
    conn: &mut Conn,
    ws: &WorkspaceId,
    source: &str,
    reservation: i64,
) -> Result<Vec<PendingDelivery>> {
    Ok(sqlx::query_as::<_, PendingDelivery>(
        "SELECT id, hook, trigger_type, customer_id, body FROM reenio_deliveries
         WHERE workspace_id = $1 AND source = $2 AND reservation_id = $3 AND state = 'pending'
         ORDER BY id",
    )
    .bind(ws.as_str())
    .bind(source)
    .bind(reservation)
    .fetch_all(&mut *conn)
    .await?)
}

/// Records what became of delivery `id`: `state`, and the inbox event it became.
pub async fn finish(
    conn: &mut Conn,
    id: i64,
    state: DeliveryState,
    event_id: Option<i64>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE reenio_deliveries SET state = $1, event_id = $2, processed_at = $3 WHERE id = $4",
    )
    .bind(state.as_str())
    .bind(event_id)
    .bind(now.unix())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// How many deliveries of `source` are in `state` (for tests and the operator).
pub async fn count(
    conn: &mut Conn,
    ws: &WorkspaceId,
    source: &str,
    state: DeliveryState,
) -> Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM reenio_deliveries WHERE workspace_id = $1 AND source = $2 AND state = $3",
    )
    .bind(ws.as_str())
    .bind(source)
    .bind(state.as_str())
    .fetch_one(&mut *conn)
    .await?)
}
