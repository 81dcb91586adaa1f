//! `confirm_code`: read a pending code back until the lock confirms it.

use latchkey_engine::CodeState;

use super::JobError;
use super::code_target::{Change, CodeTarget, apply_receipt};
use crate::app::App;
use crate::providers::ReceiptStatus;
use crate::store::codes;
use crate::store::jobs::{self as queue, ClaimedJob};

pub(super) async fn run(app: &App, job: &ClaimedJob, code: i64) -> Result<(), JobError> {
    let now = app.clock.now();
    let (target, reference) = match CodeTarget::load(app, code).await? {
        Some(t) if t.row.code.state == CodeState::Pending => {
            match t.row.code.provider_ref.clone() {
                Some(reference) => (t, reference),
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
    match target
        .provider
        .read_code(&target.device, &reference)
        .await?
    {
        Some(receipt) if receipt.status == ReceiptStatus::Active => {
            let mut tx = app.pool.begin().await?;
            apply_receipt(app, &mut tx, &target, &receipt, Change::None).await?;
            queue::complete(&mut tx, job.id).await?;
            tx.commit().await?;
            Ok(())
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
