//! What every code job needs: the code on record, its lock, and the lock's provider; plus
//! the steps shared by create, update and confirm.

use std::sync::Arc;

use latchkey_engine::{CodeState, Lock, Timestamp};

use super::{JobError, JobSpec};
use crate::app::App;
use crate::providers::{CodeReceipt, CodeRequest, Provider, ReceiptStatus};
use crate::store::codes::{self, CodeRow};
use crate::store::{Conn, counters};

/// Seconds after a `Pending` answer before the code is first read back.
pub(super) const CONFIRM_AFTER_SECS: i64 = 30;

/// A code with its lock and provider.
pub(super) struct CodeTarget {
    pub row: CodeRow,
    pub lock: Lock,
    pub provider: Arc<dyn Provider>,
    pub device: String,
}

/// The idempotency marker sent with a code: short enough for Nuki's 20-character names.
pub(super) fn marker(code: i64) -> String {
    format!("lk-{code}")
}

impl CodeTarget {
    /// Loads code `code`; `None` when it no longer exists.
    pub async fn load(app: &App, code: i64) -> Result<Option<CodeTarget>, JobError> {
        let mut conn = app.pool.acquire().await?;
        let Some(row) = codes::get(&mut conn, &app.catalog.workspace, code).await? else {
            return Ok(None);
        };
        let lock = app.catalog.lock(&row.code.lock).cloned().ok_or_else(|| {
            JobError::Permanent(format!("lock `{}` is no longer configured", row.code.lock))
        })?;
        let provider = app.providers.get(&lock.provider).cloned().ok_or_else(|| {
            JobError::Permanent(format!("provider `{}` is not configured", lock.provider))
        })?;
        let device = lock.device.clone().unwrap_or_else(|| lock.id.to_string());
        Ok(Some(CodeTarget {
            row,
            lock,
            provider,
            device,
        }))
    }

    /// The request that puts this code's desired state on the lock.
    pub fn request(&self) -> CodeRequest {
        CodeRequest {
            marker: marker(self.row.code.id),
            pin: self.row.code.pin.clone(),
            window: self.row.code.window,
        }
    }

    /// True once the code can no longer open the door, whatever the lock does.
    pub fn is_over(&self, now: Timestamp) -> bool {
        let end = self
            .row
            .code
            .lock_window
            .map_or(self.row.code.window.ends_at, |w| {
                w.ends_at.max(self.row.code.window.ends_at)
            });
        end <= now
    }
}

/// Records a provider's answer for a code; activates it when the lock confirmed it, or
/// schedules a read-back when it did not yet.
pub(super) async fn apply_receipt(
    app: &App,
    conn: &mut Conn,
    target: &CodeTarget,
    receipt: &CodeReceipt,
    counter: Option<&str>,
) -> Result<(), JobError> {
    let now = app.clock.now();
    let ws = &app.catalog.workspace;
    let id = target.row.code.id;
    codes::record_receipt(
        conn,
        id,
        &receipt.reference,
        &receipt.pin,
        receipt.window,
        now,
    )
    .await?;
    if let Some(name) = counter {
        counters::bump(conn, ws, name, 1).await?;
    }
    match receipt.status {
        ReceiptStatus::Active => activate(app, conn, &target.row).await,
        ReceiptStatus::Pending => {
            super::enqueue(
                conn,
                ws,
                &JobSpec::ConfirmCode { code: id },
                now.plus(CONFIRM_AFTER_SECS),
                now,
            )
            .await?;
            Ok(())
        }
    }
}

/// Marks a confirmed code active and, if it replaces an older code, starts clearing that
/// one: the new PIN is in place before the old one goes.
pub(super) async fn activate(app: &App, conn: &mut Conn, row: &CodeRow) -> Result<(), JobError> {
    let now = app.clock.now();
    codes::transition(
        conn,
        row.code.id,
        &[CodeState::Pending],
        CodeState::Active,
        now,
    )
    .await?;
    if let Some(old) = row.replaces
        && codes::transition(
            conn,
            old,
            &[CodeState::Active, CodeState::Pending],
            CodeState::Revoking,
            now,
        )
        .await?
    {
        super::enqueue(
            conn,
            &app.catalog.workspace,
            &JobSpec::RevokeCode {
                code: old,
                cleanup: false,
            },
            now,
            now,
        )
        .await?;
    }
    Ok(())
}
