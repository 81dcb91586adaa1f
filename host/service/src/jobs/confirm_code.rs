//! `confirm_code`: read a pending code back until the lock confirms it.

use latchkey_providers::ReceiptStatus;
use latchkey_store::alerts::AlertKind;
use latchkey_store::jobs::ClaimedJob;
use latchkey_store::{Conn, codes};

use super::code_target::{Change, Expect, finish_with_receipt, pending_target};
use super::{Escalation, Job, JobError};
use crate::app::App;
use crate::error::Result;

/// Confirmation attempts after which a pending code is reported overdue (the job keeps
/// reading it back).
const ALERT_AFTER_CONFIRM_ATTEMPTS: i64 = 10;

/// Confirmation attempts after which a code is late enough for its guest to be told the
/// doors that work without it, once their window nears: a slow lock confirms within the
/// first two (30 s, then 60 s).
const LATE_AFTER_CONFIRM_ATTEMPTS: i64 = 3;

/// `confirm_code`, as the worker runs it.
pub(super) struct ConfirmCode {
    pub(super) code: i64,
}

#[async_trait::async_trait]
impl Job for ConfirmCode {
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError> {
        run(app, job, self.code).await
    }

    /// A code still unconfirmed after [`LATE_AFTER_CONFIRM_ATTEMPTS`]: the guest is told
    /// the doors that work in time.
    async fn on_retry(&self, app: &App, tx: &mut Conn, job: &ClaimedJob) -> Result<()> {
        if job.attempts < LATE_AFTER_CONFIRM_ATTEMPTS {
            return Ok(());
        }
        if let Some(row) = codes::get(tx, &app.catalog.workspace, self.code).await? {
            crate::outbox::tell_what_works_in_time(app, tx, &row.code.reservation).await?;
        }
        Ok(())
    }

    fn escalation(&self) -> Option<Escalation> {
        Some(Escalation {
            kind: AlertKind::ConfirmationOverdue,
            after_attempts: ALERT_AFTER_CONFIRM_ATTEMPTS,
            code: self.code,
        })
    }
}

async fn run(app: &App, job: &ClaimedJob, code: i64) -> Result<(), JobError> {
    let Some(target) = pending_target(app, job, code, Expect::OnLock).await? else {
        return Ok(());
    };
    let reference = target.reference()?;
    match target
        .provider
        .read_code(&target.device, &reference)
        .await?
    {
        Some(receipt) if receipt.status == ReceiptStatus::Active => {
            finish_with_receipt(app, job, &target, &receipt, Change::None).await
        }
        Some(_) => Err(JobError::Retry {
            error: "not yet confirmed on the lock".into(),
            retry_after: None,
        }),
        None => Err(JobError::Permanent(format!(
            "code {code} is not on lock `{}` any more",
            target.lock.id
        ))),
    }
}
