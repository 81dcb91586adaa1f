//! `update_code`: change a code's window on its lock, keeping its PIN (sent again where the
//! lock takes chosen PINs).

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
    // Where the lock takes chosen PINs, the PIN goes with the window, so an update also
    // sets back a PIN changed behind our back; elsewhere the lock keeps the one it chose.
    if !target.lock.capabilities.custom_pin {
        request.pin = None;
    }
    let receipt = target
        .provider
        .update_code(&target.device, &reference, &request)
        .await?;
    finish_with_receipt(app, job, &target, &receipt, Change::Updated).await
}
