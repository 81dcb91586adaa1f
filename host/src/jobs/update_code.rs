//! `update_code`: change a code's window on its lock, keeping its PIN.

use latchkey_engine::CodeState;

use super::JobError;
use super::code_target::{Change, CodeTarget, apply_receipt};
use crate::app::App;
use crate::store::codes;
use crate::store::jobs::{self as queue, ClaimedJob};

pub(super) async fn run(app: &App, job: &ClaimedJob, code: i64) -> Result<(), JobError> {
    let now = app.clock.now();
    let (target, reference) = match CodeTarget::load(app, code).await? {
        Some(t) if t.row.code.state == CodeState::Pending => {
            match t.row.code.provider_ref.clone() {
                Some(reference) => (t, reference),
                // Not on the lock yet: its create job reads the latest window.
                None => return super::complete(app, job).await,
            }
        }
        _ => return super::complete(app, job).await,
    };
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
        queue::complete(&mut tx, job.id).await?;
        tx.commit().await?;
        return Ok(());
    }
    let mut request = target.request();
    request.pin = None;
    let receipt = target
        .provider
        .update_code(&target.device, &reference, &request)
        .await?;
    let mut tx = app.pool.begin().await?;
    apply_receipt(app, &mut tx, &target, &receipt, Change::Updated).await?;
    queue::complete(&mut tx, job.id).await?;
    tx.commit().await?;
    Ok(())
}
