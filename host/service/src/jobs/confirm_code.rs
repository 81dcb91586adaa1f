//! `confirm_code`: read a pending code back until the lock confirms it.

use latchkey_providers::ReceiptStatus;
use latchkey_store::jobs::ClaimedJob;

use super::JobError;
use super::code_target::{Change, Expect, finish_with_receipt, pending_target};
use crate::app::App;

pub(super) async fn run(app: &App, job: &ClaimedJob, code: i64) -> Result<(), JobError> {
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
