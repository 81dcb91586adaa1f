//! Guest notifications: what each guest was last told (`guest_notices`) and the outbox of
//! messages (`notifications`).

use latchkey_engine::rules::{Channel, Notify};
use latchkey_engine::{LockId, Timestamp, Window, WorkspaceId};
use serde::{Deserialize, Serialize};

use super::Conn;
use crate::error::{Error, Result};

/// Which message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The first message with the guest's PINs.
    Issued,
    /// A door's PIN or window changed, or a door was added.
    Changed,
    /// The guest's access was withdrawn.
    Revoked,
}

impl NoticeKind {
    /// Every kind.
    pub const ALL: [NoticeKind; 3] = [NoticeKind::Issued, NoticeKind::Changed, NoticeKind::Revoked];

    /// The stored name, also the callback event's suffix (`access_code.issued`).
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Issued => "issued",
            NoticeKind::Changed => "changed",
            NoticeKind::Revoked => "revoked",
        }
    }

    /// Parses [`NoticeKind::as_str`].
    pub fn parse(s: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One door as the guest is told it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Door {
    /// The lock.
    pub lock: LockId,
    /// Its name for guests, e.g. "Main entrance".
    pub name: String,
    /// The PIN the lock holds for the guest.
    pub pin: String,
    /// When the PIN opens the door (UTC; the guest's entitlement, which the lock may
    /// round outward to its precision).
    pub window: Window,
    /// An offline PIN: it must be used for the first time within 24 h of its start.
    pub offline: bool,
    /// How to use the door, from the lock's `instructions` in `property.toml`.
    #[serde(default)]
    pub instructions: Option<String>,
}

/// A reservation's notification state.
#[derive(Debug, Clone, Default)]
pub struct GuestNotice {
    /// The rule's latest request; `None`: tell nothing.
    pub request: Option<Notify>,
    /// The doors the guest was last told of; `None`: never told; empty after a
    /// revocation notice.
    pub told: Option<Vec<Door>>,
    /// Decisions so far.
    pub seq: i64,
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, text: Option<String>) -> Result<Option<T>> {
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| Error::Corrupt(format!("stored {what} does not parse: {e}")))
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Corrupt(e.to_string()))
}

/// The notification state of reservation `id` (the default when it has none yet).
///
/// # Errors
/// Database errors; [`Error::Corrupt`] for a stored document that no longer parses.
pub async fn notice(conn: &mut Conn, ws: &WorkspaceId, id: &str) -> Result<GuestNotice> {
    let row = sqlx::query_as::<_, (Option<String>, Option<String>, i64)>(
        "SELECT request, told, seq FROM guest_notices WHERE workspace_id = $1 AND reservation_id = $2",
    )
    .bind(ws.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((request, told, seq)) = row else {
        return Ok(GuestNotice::default());
    };
    Ok(GuestNotice {
        request: parse("notify request", request)?,
        told: parse("told doors", told)?,
        seq,
    })
}

/// Writes reservation `id`'s notification state.
///
/// # Errors
/// Database errors.
pub async fn save_notice(
    conn: &mut Conn,
    ws: &WorkspaceId,
    id: &str,
    notice: &GuestNotice,
    now: Timestamp,
) -> Result<()> {
    let request = notice.request.as_ref().map(to_json).transpose()?;
    let told = notice.told.as_ref().map(to_json).transpose()?;
    sqlx::query(
        "INSERT INTO guest_notices (workspace_id, reservation_id, request, told, seq, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (workspace_id, reservation_id) DO UPDATE SET
           request = excluded.request, told = excluded.told, seq = excluded.seq,
           updated_at = excluded.updated_at",
    )
    .bind(ws.as_str())
    .bind(id)
    .bind(request)
    .bind(told)
    .bind(notice.seq)
    .bind(now.unix())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What a message says, kept with it so that it is rendered when sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Content {
    /// The guest's name.
    pub guest_name: String,
    /// The doors concerned: with their PINs, or (revocation) the doors withdrawn.
    pub doors: Vec<Door>,
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// Waiting for its send job.
    Queued,
    /// Accepted by the channel.
    Sent,
    /// Not sent: no address, or the channel is not configured (see `detail`).
    Skipped,
    /// Not sent: a newer message on the same channel replaced it first.
    Superseded,
    /// The channel refused it for good, or retries ran out (see `detail`).
    Failed,
}

impl MessageState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Queued => "queued",
            MessageState::Sent => "sent",
            MessageState::Skipped => "skipped",
            MessageState::Superseded => "superseded",
            MessageState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<MessageState> {
        Some(match s {
            "queued" => MessageState::Queued,
            "sent" => MessageState::Sent,
            "skipped" => MessageState::Skipped,
            "superseded" => MessageState::Superseded,
            "failed" => MessageState::Failed,
            _ => return None,
        })
    }
}

/// A message to write to the outbox.
#[derive(Debug)]
pub struct NewMessage<'a> {
    /// The reservation.
    pub reservation: &'a str,
    /// The decision it belongs to.
    pub seq: i64,
    /// Which message.
    pub kind: NoticeKind,
    /// The channel.
    pub channel: Channel,
    /// Address, phone number or URL.
    pub recipient: Option<&'a str>,
    /// The locale to write in.
    pub locale: &'a str,
    /// What it says.
    pub content: &'a Content,
    /// `Queued`, or `Skipped` with the reason in `detail`.
    pub state: MessageState,
    /// Why it is skipped.
    pub detail: Option<&'a str>,
}

/// A message in the outbox.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// Id.
    pub id: i64,
    /// The reservation.
    pub reservation_id: String,
    /// The decision it belongs to (grows per reservation).
    pub seq: i64,
    /// Which message.
    pub kind: NoticeKind,
    /// The channel.
    pub channel: Channel,
    /// Address, phone number or URL.
    pub recipient: Option<String>,
    /// Locale.
    pub locale: String,
    /// What it says.
    pub content: Content,
    /// Sent along so that the receiver can drop a repeat.
    pub idempotency_key: String,
    /// Where it stands.
    pub state: MessageState,
    /// Why skipped or failed; the receiver's id once sent.
    pub detail: Option<String>,
    /// When decided, Unix seconds UTC.
    pub created_at: i64,
    /// When the channel accepted it, Unix seconds UTC.
    pub sent_at: Option<i64>,
}

/// The idempotency key of a decision's message on a channel: stable across retries and
/// restarts, unique per message.
pub fn idempotency_key(ws: &WorkspaceId, reservation: &str, seq: i64, channel: Channel) -> String {
    format!("{ws}:{reservation}:{seq}:{}", channel.as_str())
}

/// Writes `m` to the outbox and returns its id; `None` when this decision's message on
/// this channel exists already.
///
/// # Errors
/// Database errors.
pub async fn insert(
    conn: &mut Conn,
    ws: &WorkspaceId,
    m: &NewMessage<'_>,
    now: Timestamp,
) -> Result<Option<i64>> {
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO notifications (workspace_id, reservation_id, seq, kind, channel, recipient,
           locale, content, idempotency_key, state, detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(ws.as_str())
    .bind(m.reservation)
    .bind(m.seq)
    .bind(m.kind.as_str())
    .bind(m.channel.as_str())
    .bind(m.recipient)
    .bind(m.locale)
    .bind(to_json(m.content)?)
    .bind(idempotency_key(ws, m.reservation, m.seq, m.channel))
    .bind(m.state.as_str())
    .bind(m.detail)
    .bind(now.unix())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(id)
}

type RawMessage = (
    i64,
    String,
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
);

const COLUMNS: &str = "id, reservation_id, seq, kind, channel, recipient, locale, content, idempotency_key, state, detail, created_at, sent_at";

fn from_raw(r: RawMessage) -> Result<Message> {
    let (
        id,
        reservation_id,
        seq,
        kind,
        channel,
        recipient,
        locale,
        content,
        key,
        state,
        detail,
        created_at,
        sent_at,
    ) = r;
    let bad =
        |what: &str, v: &str| Error::Corrupt(format!("notification {id} has unknown {what} `{v}`"));
    Ok(Message {
        id,
        reservation_id,
        seq,
        kind: NoticeKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
        channel: Channel::parse(&channel).ok_or_else(|| bad("channel", &channel))?,
        recipient,
        locale,
        content: parse("notification content", Some(content))?.unwrap_or_else(|| Content {
            guest_name: String::new(),
            doors: Vec::new(),
        }),
        idempotency_key: key,
        state: MessageState::parse(&state).ok_or_else(|| bad("state", &state))?,
        detail,
        created_at,
        sent_at,
    })
}

/// Message `id` of the workspace.
///
/// # Errors
/// Database errors; [`Error::Corrupt`] for a row that no longer parses.
pub async fn get(conn: &mut Conn, ws: &WorkspaceId, id: i64) -> Result<Option<Message>> {
    sqlx::query_as::<_, RawMessage>(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .map(from_raw)
    .transpose()
}

/// The messages of reservation `reservation`, oldest first.
///
/// # Errors
/// Database errors; [`Error::Corrupt`] for a row that no longer parses.
pub async fn for_reservation(
    conn: &mut Conn,
    ws: &WorkspaceId,
    reservation: &str,
) -> Result<Vec<Message>> {
    sqlx::query_as::<_, RawMessage>(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE workspace_id = $1 AND reservation_id = $2 ORDER BY id"
    ))
    .bind(ws.as_str())
    .bind(reservation)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(from_raw)
    .collect()
}

/// True when a later decision wrote a message for the same reservation and channel: the
/// guest must not get an older message after a newer one.
///
/// # Errors
/// Database errors.
pub async fn is_superseded(conn: &mut Conn, ws: &WorkspaceId, m: &Message) -> Result<bool> {
    let newer = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM notifications
         WHERE workspace_id = $1 AND reservation_id = $2 AND channel = $3 AND seq > $4",
    )
    .bind(ws.as_str())
    .bind(&m.reservation_id)
    .bind(m.channel.as_str())
    .bind(m.seq)
    .fetch_one(&mut *conn)
    .await?;
    Ok(newer > 0)
}

/// Moves queued message `id` to `state` (with `detail`; `sent_at` when sent). Returns
/// whether it was still queued.
///
/// # Errors
/// Database errors.
pub async fn finish(
    conn: &mut Conn,
    id: i64,
    state: MessageState,
    detail: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    let sent_at = (state == MessageState::Sent).then_some(now.unix());
    let done = sqlx::query(
        "UPDATE notifications SET state = $1, detail = $2, sent_at = $3 WHERE id = $4 AND state = 'queued'",
    )
    .bind(state.as_str())
    .bind(detail)
    .bind(sent_at)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Puts failed message `id` back in the queue (a dead letter retried by hand).
///
/// # Errors
/// Database errors.
pub async fn reopen(conn: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("UPDATE notifications SET state = 'queued', detail = NULL WHERE id = $1 AND state = 'failed'")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
