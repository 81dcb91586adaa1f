//! `update_code`: change a code's window on its lock, keeping its PIN.

use latchkey_store::jobs::ClaimedJob;

use super::JobError;
use super::code_target::{Change, Expect, finish_with_receipt, pending_target};
use crate::app::App;

pub(super) async fn run(app: &App, job: &ClaimedJob, code: i64) -> Result<(), JobError> {
    let Some(target) = pending_target(app, job, code, Expect::OnLock).await? else {
        return Ok(());
    };
    let reference = target.reference()?;
    let mut request = target.request();
    request.pin = None;
    let receipt = target
        .provider
        .update_code(&target.device, &reference, &request)
        .await?;
    finish_with_receipt(app, job, &target, &receipt, Change::Updated).await
}
