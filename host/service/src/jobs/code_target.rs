//! What every code job needs: the code on record, its lock, and the lock's provider; plus
//! the steps shared by create, update and confirm.

use std::sync::Arc;

use latchkey_engine::{CodeRecord, CodeState, Lock, Timestamp};
use latchkey_providers::{CodeReceipt, CodeRequest, Provider, ReceiptStatus};
use latchkey_store::codes::{self, Receipt};
use latchkey_store::jobs::{self as queue, ClaimedJob};
use latchkey_store::{Conn, reservations};

use super::{Job, JobError, JobSpec};
use crate::app::App;
use crate::backup;
use crate::error::Result;

/// Seconds after a `Pending` answer before the code is first read back.
pub(super) const CONFIRM_AFTER_SECS: i64 = 30;

/// A code with its lock and provider.
pub(super) struct CodeTarget {
    pub row: CodeRecord,
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
        let provider = app
            .provider(&mut conn, &lock.provider)
            .await?
            .ok_or_else(|| {
                JobError::Permanent(format!("provider `{}` is not configured", lock.provider))
            })?;
        let device = lock.device_id().to_owned();
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
        self.row.code.opens_until() <= now
    }
}

/// Where a job expects its pending code to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
    /// Not created on the lock yet (a create job).
    NotOnLock,
    /// Already known to the provider (an update or a confirmation).
    OnLock,
}

/// The pending code a create, update or confirm job works on.
///
/// Returns `None`, with the job finished, when there is nothing to do: the code is gone or
/// no longer pending (revoked or expired meanwhile), it is not where the job expects it
/// (an update waits for its create job, which reads the latest window), or its window is
/// over (then it is recorded as expired).
pub(super) async fn pending_target(
    app: &App,
    job: &ClaimedJob,
    code: i64,
    expect: Expect,
) -> Result<Option<CodeTarget>, JobError> {
    let target = match CodeTarget::load(app, code).await? {
        Some(t)
            if t.row.code.state == CodeState::Pending
                && t.row.code.provider_ref.is_some() == (expect == Expect::OnLock) =>
        {
            t
        }
        _ => {
            super::complete(app, job).await?;
            return Ok(None);
        }
    };
    let now = app.clock.now();
    if target.is_over(now) {
        let mut tx = app.pool.begin().await?;
        codes::transition(
            &mut tx,
            code,
            &[CodeState::Pending],
            CodeState::Expired,
            now,
        )
        .await?;
        queue::complete(&mut tx, job.lease()).await?;
        tx.commit().await?;
        return Ok(None);
    }
    Ok(Some(target))
}

impl CodeTarget {
    /// The provider's reference of a code known to be on the lock.
    pub fn reference(&self) -> Result<String, JobError> {
        self.row.code.provider_ref.clone().ok_or_else(|| {
            JobError::Permanent(format!(
                "code {} has no provider reference",
                self.row.code.id
            ))
        })
    }
}

/// What a provider's answer did to the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// A code was created, or an answer only confirms a previous change.
    None,
    /// A window was changed in place.
    Updated,
}

/// Finishes `job` with a provider's answer for its code, in one transaction: records the
/// answer, activates the code when the lock has it (and starts clearing the code it
/// replaces) or schedules a read-back when it does not yet, and deletes the job.
pub(super) async fn finish_with_receipt(
    app: &App,
    job: &ClaimedJob,
    target: &CodeTarget,
    receipt: &CodeReceipt,
    change: Change,
) -> Result<(), JobError> {
    let mut tx = app.pool.begin().await?;
    // Taken first: the guest's notice is decided in this transaction too, and a
    // reconcile of the reservation takes the same lock before touching its codes.
    reservations::serialize(
        &mut tx,
        &app.catalog.workspace,
        target.row.code.reservation.as_str(),
    )
    .await?;
    apply_receipt(app, &mut tx, target, receipt, change).await?;
    queue::complete(&mut tx, job.lease()).await?;
    tx.commit().await?;
    Ok(())
}

async fn apply_receipt(
    app: &App,
    conn: &mut Conn,
    target: &CodeTarget,
    receipt: &CodeReceipt,
    change: Change,
) -> Result<(), JobError> {
    let now = app.clock.now();
    let id = target.row.code.id;
    let confirmed = receipt.status == ReceiptStatus::Active;
    let record = Receipt {
        reference: &receipt.reference,
        pin: &receipt.pin,
        lock_window: receipt.window,
        confirmed,
        updated: change == Change::Updated,
    };
    codes::record_receipt(conn, id, &record, now).await?;
    if confirmed {
        clear_replaced(app, conn, &target.row).await?;
        // The lock holds the code now: the guest may be told.
        crate::outbox::after_code_change(app, conn, &target.row.code.reservation).await?;
        Ok(())
    } else {
        let confirm = JobSpec::ConfirmCode { code: id };
        crate::queue::enqueue(
            conn,
            &app.catalog.workspace,
            &confirm,
            now.plus(CONFIRM_AFTER_SECS),
            now,
        )
        .await?;
        Ok(())
    }
}

/// Once a replacement is on the lock, starts clearing the code it replaces: the new PIN is
/// in place before the old one goes.
async fn clear_replaced(app: &App, conn: &mut Conn, row: &CodeRecord) -> Result<(), JobError> {
    let now = app.clock.now();
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
        let revoke = JobSpec::RevokeCode {
            code: old,
            cleanup: false,
        };
        crate::queue::enqueue(conn, &app.catalog.workspace, &revoke, now, now).await?;
    }
    Ok(())
}

/// `create_code` and `update_code`, as the worker runs them: each makes a pending code
/// true on its lock, and both fail alike.
pub(super) struct PendingCode {
    /// The code.
    pub(super) code: i64,
    /// Which change the code waits for.
    pub(super) change: PendingChange,
}

/// The change a pending code waits for.
pub(super) enum PendingChange {
    /// Put it on its lock ([`super::create_code`]).
    Create,
    /// Change its window there ([`super::update_code`]).
    Update,
}

#[async_trait::async_trait]
impl Job for PendingCode {
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError> {
        match self.change {
            PendingChange::Create => super::create_code::run(app, job, self.code).await,
            PendingChange::Update => super::update_code::run(app, job, self.code).await,
        }
    }

    /// The code is marked `failed`, a backup code is given in its place when its window
    /// is near (`backup::is_due`), and the guest may now be told of the doors that work.
    async fn on_dead_letter(
        &self,
        app: &App,
        tx: &mut Conn,
        _job: &ClaimedJob,
        _error: &str,
    ) -> Result<()> {
        let now = app.clock.now();
        codes::transition(tx, self.code, &[CodeState::Pending], CodeState::Failed, now).await?;
        if let Some(row) = codes::get(tx, &app.catalog.workspace, self.code).await? {
            if backup::is_due(&row, now) {
                let why = "its own code was refused by the lock";
                backup::pull(app, tx, &row, why, now).await?;
            }
            crate::outbox::after_code_change(app, tx, &row.code.reservation).await?;
        }
        Ok(())
    }

    /// The code is not on its lock yet: once its window is near (`backup::is_due`) and
    /// a few attempts failed, the guest gets a backup code from the lock's pool instead;
    /// otherwise they are told the doors that work in time, whatever becomes of it.
    async fn on_retry(&self, app: &App, tx: &mut Conn, job: &ClaimedJob) -> Result<()> {
        let Some(row) = codes::get(tx, &app.catalog.workspace, self.code).await? else {
            return Ok(());
        };
        let now = app.clock.now();
        if matches!(self.change, PendingChange::Create)
            && job.attempts >= backup::PULL_AFTER_ATTEMPTS
            && backup::is_due(&row, now)
        {
            let why = "its own code could not be put on the lock before arrival";
            if backup::pull(app, tx, &row, why, now).await?.is_some() {
                return Ok(());
            }
        }
        crate::outbox::tell_what_works_in_time(app, tx, &row.code.reservation).await
    }

    /// The code is pending again, for the job to act on.
    async fn on_retry_by_hand(&self, conn: &mut Conn, now: Timestamp) -> Result<()> {
        codes::transition(
            conn,
            self.code,
            &[CodeState::Failed],
            CodeState::Pending,
            now,
        )
        .await?;
        Ok(())
    }
}
