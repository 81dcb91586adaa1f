//! `confirm_code`: read a pending code back until the lock confirms it.

use latchkey_providers::ReceiptStatus;
use latchkey_store::alerts::AlertKind;
use latchkey_store::jobs::ClaimedJob;

use super::code_target::{Change, Expect, finish_with_receipt, pending_target};
use super::{Escalation, Job, JobError};
use crate::app::App;

/// Confirmation attempts after which a pending code is reported overdue (the job keeps
/// reading it back).
const ALERT_AFTER_CONFIRM_ATTEMPTS: i64 = 10;

/// `confirm_code`, as the worker runs it.
pub(super) struct ConfirmCode {
    pub(super) code: i64,
}

#[async_trait::async_trait]
impl Job for ConfirmCode {
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError> {
        run(app, job, self.code).await
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
