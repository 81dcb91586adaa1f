//! Access codes: what Latchkey has put, or is putting, on a lock.

use serde::{Deserialize, Serialize};

use super::{LockId, Pin, ReservationId, Window};

/// Lifecycle of an access code.
///
/// `pending → active → revoking → revoked`; `pending` also covers a change in flight.
/// `failed` means the provider refused for good (see the job's dead letter); `expired`
/// means the window ended and the code can no longer open the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeState {
    /// Being created or changed on the lock.
    Pending,
    /// On the lock, as recorded.
    Active,
    /// Being deleted from the lock.
    Revoking,
    /// Deleted from the lock (confirmed by the provider).
    Revoked,
    /// The provider refused it for good.
    Failed,
    /// Its window is over.
    Expired,
}

impl CodeState {
    /// The snake_case name used in the store and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeState::Pending => "pending",
            CodeState::Active => "active",
            CodeState::Revoking => "revoking",
            CodeState::Revoked => "revoked",
            CodeState::Failed => "failed",
            CodeState::Expired => "expired",
        }
    }

    /// Parses the name written by [`CodeState::as_str`].
    pub fn parse(s: &str) -> Option<CodeState> {
        Some(match s {
            "pending" => CodeState::Pending,
            "active" => CodeState::Active,
            "revoking" => CodeState::Revoking,
            "revoked" => CodeState::Revoked,
            "failed" => CodeState::Failed,
            "expired" => CodeState::Expired,
            _ => return None,
        })
    }

    /// True while the code is, or may still be, on the lock and able to open it.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            CodeState::Pending | CodeState::Active | CodeState::Revoking
        )
    }
}

/// An access code on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessCode {
    /// Latchkey's identifier; also the idempotency marker sent to the provider.
    pub id: i64,
    /// The reservation it serves.
    pub reservation: ReservationId,
    /// The lock it is on.
    pub lock: LockId,
    /// The PIN, once known (provider-generated PINs are known after creation).
    pub pin: Option<Pin>,
    /// The window Latchkey wants on the lock (UTC).
    pub window: Window,
    /// The window the lock actually enforces, after rounding to its precision.
    pub lock_window: Option<Window>,
    /// Lifecycle state.
    pub state: CodeState,
    /// The provider's reference for the code, once known.
    pub provider_ref: Option<String>,
}

impl AccessCode {
    /// The instant from which the code can no longer open the door: the later of its
    /// desired window's end and the end the lock enforces (after rounding outward).
    pub fn opens_until(&self) -> crate::Timestamp {
        self.lock_window
            .map_or(self.window.ends_at, |w| w.ends_at.max(self.window.ends_at))
    }

    /// True while the guest is still owed this code at `now`: its window is not over and
    /// it is pending, active, or was refused by its lock (and may yet be replaced).
    pub fn still_owed(&self, now: crate::Timestamp) -> bool {
        self.window.ends_at > now
            && matches!(
                self.state,
                CodeState::Pending | CodeState::Active | CodeState::Failed
            )
    }
}

/// An access code with the bookkeeping the reconciler needs: what replaced what, and
/// whether the front desk was already alerted that it cannot be revoked.
#[derive(Debug, Clone, Serialize)]
pub struct CodeRecord {
    /// The code.
    #[serde(flatten)]
    pub code: AccessCode,
    /// The code this one replaces, on locks that cannot change a code in place.
    pub replaces: Option<i64>,
    /// An unrevocable alert was raised for it.
    pub unrevocable: bool,
    /// For a backup code given to a guest: when it was given (UTC). Until then it was in
    /// its lock's pool, known to nobody.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulled_at: Option<crate::Timestamp>,
}

impl CodeRecord {
    /// True for a backup code given to a guest ([`CodeRecord::pulled_at`]) while the
    /// change it waits for (`pending`) can only take away time outside its window: it is on
    /// its lock (a provider reference and a PIN), and the window the lock enforces (the
    /// pool's long one, until the narrowing lands) covers the desired one. Its PIN works
    /// throughout the guest's window whether or not the narrowing has landed, so the guest
    /// may be told it at once. Any other pending code waits for its lock's confirmation.
    pub fn only_narrowing(&self) -> bool {
        let c = &self.code;
        self.pulled_at.is_some()
            && c.state == CodeState::Pending
            && c.provider_ref.is_some()
            && c.pin.is_some()
            && c.lock_window
                .is_some_and(|w| w.starts_at <= c.window.starts_at && w.ends_at >= c.window.ends_at)
    }
}
