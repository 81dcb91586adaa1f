//! Alerts a person must see.

use latchkey_engine::{Timestamp, WorkspaceId};
use serde::Serialize;

/// Counter: alerts raised by `kind` (`lock_offline`, `dead_letter`, …); an alert raised
/// again under the same key is not counted twice. Described and served by the service's
/// metrics exporter.
pub const ALERTS_RAISED: &str = "latchkey_alerts_raised_total";

use super::Conn;
use crate::error::Result;

/// Why an alert was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A code that should be gone cannot be deleted (offline PIN): it opens the door until
    /// its window ends.
    Unrevocable,
    /// A revocation keeps failing while the code can still open the door.
    RevocationFailing,
    /// A job exhausted its retries and is in the dead-letter list.
    DeadLetter,
    /// A code was not confirmed on the lock in time.
    ConfirmationOverdue,
    /// The lock's cloud reports it unreachable (for longer than the grace period).
    LockOffline,
    /// The lock's battery is low: replace it soon.
    BatteryLow,
    /// The lock's battery is critical: replace it now, codes may stop reaching the lock.
    BatteryCritical,
    /// The door was opened by a code or person no active grant covers: a security
    /// incident.
    AccessOutsideGrant,
    /// A guest message was refused for good (bad address, unreachable number) or ran
    /// out of retries: the guest may not know their PIN.
    NotificationFailed,
    /// The platform's callback endpoint was disabled (410 Gone, or days of failure).
    CallbackDisabled,
    /// A lock's forecast needs more codes at once on some day than the lock holds.
    CapacityExceeded,
    /// One of Latchkey's codes was deleted, disabled or changed on the lock behind its
    /// back; it is being put back.
    CodeDrift,
    /// The lock holds a code Latchkey did not make (left alone, counted against capacity).
    UnmanagedCode,
    /// Before a guest's arrival, a door's code was not on its lock as recorded (missing,
    /// changed, pending, failed or unreadable): the desk should make sure they get in.
    ArrivalAtRisk,
    /// A backup code from a lock's pool was given to a guest whose own code could not
    /// reach the lock in time, or who said it did not work.
    BackupCodeGiven,
    /// A guest said on their page that a door's code does not work (what the read-back
    /// found and did is in the message).
    GuestReport,
}

impl AlertKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Unrevocable => "unrevocable",
            AlertKind::RevocationFailing => "revocation_failing",
            AlertKind::DeadLetter => "dead_letter",
            AlertKind::ConfirmationOverdue => "confirmation_overdue",
            AlertKind::LockOffline => "lock_offline",
            AlertKind::BatteryLow => "battery_low",
            AlertKind::BatteryCritical => "battery_critical",
            AlertKind::AccessOutsideGrant => "access_outside_grant",
            AlertKind::NotificationFailed => "notification_failed",
            AlertKind::CallbackDisabled => "callback_disabled",
            AlertKind::CapacityExceeded => "capacity_exceeded",
            AlertKind::CodeDrift => "code_drift",
            AlertKind::UnmanagedCode => "unmanaged_code",
            AlertKind::ArrivalAtRisk => "arrival_at_risk",
            AlertKind::BackupCodeGiven => "backup_code_given",
            AlertKind::GuestReport => "guest_report",
        }
    }
}

/// An alert to raise.
#[derive(Debug)]
pub struct NewAlert<'a> {
    /// Kind.
    pub kind: AlertKind,
    /// Raised at most once per key.
    pub dedupe_key: String,
    /// The lock concerned.
    pub lock: Option<&'a str>,
    /// The reservation concerned.
    pub reservation: Option<&'a str>,
    /// The code concerned.
    pub code: Option<i64>,
    /// What a person should know.
    pub message: String,
}

/// A raised alert.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AlertRow {
    /// Id.
    pub id: i64,
    /// Kind (`unrevocable`, …).
    pub kind: String,
    /// Lock.
    pub lock_id: Option<String>,
    /// Reservation.
    pub reservation_id: Option<String>,
    /// Code.
    pub code_id: Option<i64>,
    /// Message.
    pub message: String,
    /// When raised, Unix seconds UTC.
    pub raised_at: i64,
    /// When acknowledged, Unix seconds UTC.
    pub acknowledged_at: Option<i64>,
}

/// Raises `alert` unless one with the same key exists. Returns true when it is new, and
/// logs it loudly: these need a person.
pub async fn raise(
    conn: &mut Conn,
    ws: &WorkspaceId,
    alert: &NewAlert<'_>,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO alerts (workspace_id, kind, dedupe_key, lock_id, reservation_id, code_id, message, raised_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(ws.as_str())
    .bind(alert.kind.as_str())
    .bind(format!("{ws}:{}", alert.dedupe_key))
    .bind(alert.lock)
    .bind(alert.reservation)
    .bind(alert.code)
    .bind(&alert.message)
    .bind(now.unix())
    .execute(&mut *conn)
    .await?;
    let new = done.rows_affected() > 0;
    if new {
        metrics::counter!(ALERTS_RAISED, "kind" => alert.kind.as_str()).increment(1);
        tracing::warn!(
            kind = alert.kind.as_str(),
            lock = alert.lock,
            reservation = alert.reservation,
            "ALERT: {}",
            alert.message
        );
    }
    Ok(new)
}

/// Alerts of the workspace, newest first.
pub async fn list(conn: &mut Conn, ws: &WorkspaceId) -> Result<Vec<AlertRow>> {
    Ok(sqlx::query_as::<_, AlertRow>(
        "SELECT id, kind, lock_id, reservation_id, code_id, message, raised_at, acknowledged_at
         FROM alerts WHERE workspace_id = $1 ORDER BY id DESC",
    )
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?)
}

/// Marks alert `id` acknowledged at `now` (kept if it already was); answers it, or
/// `None` when the workspace has no such alert.
///
/// # Errors
/// Database errors.
pub async fn acknowledge(
    conn: &mut Conn,
    ws: &WorkspaceId,
    id: i64,
    now: Timestamp,
) -> Result<Option<AlertRow>> {
    Ok(sqlx::query_as::<_, AlertRow>(
        "UPDATE alerts SET acknowledged_at = COALESCE(acknowledged_at, $1) \
         WHERE workspace_id = $2 AND id = $3 \
         RETURNING id, kind, lock_id, reservation_id, code_id, message, raised_at, acknowledged_at",
    )
    .bind(now.unix())
    .bind(ws.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}
