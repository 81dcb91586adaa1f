//! `create_code`: put a pending code on its lock.
//!
//! Safe to repeat: after a failed attempt (possibly a lost response), the code is first
//! looked up by its marker before it is created again.

use latchkey_providers::ProviderError;
use latchkey_store::codes;
use latchkey_store::jobs::ClaimedJob;

use super::JobError;
use super::code_target::{Change, CodeTarget, Expect, finish_with_receipt, pending_target};
use crate::app::App;
use crate::reconcile::pins;

pub(super) async fn run(app: &App, job: &ClaimedJob, code: i64) -> Result<(), JobError> {
    let Some(target) = pending_target(app, job, code, Expect::NotOnLock).await? else {
        return Ok(());
    };
    let request = target.request();
    let existing = if job.attempts > 1 {
        target
            .provider
            .find_code(&target.device, &request.marker)
            .await?
    } else {
        None
    };
    let receipt = match existing {
        Some(receipt) => receipt,
        None => match target.provider.create_code(&target.device, &request).await {
            Ok(receipt) => receipt,
            Err(ProviderError::PinConflict) => return Err(repin(app, &target).await),
            Err(e) => return Err(e.into()),
        },
    };
    finish_with_receipt(app, job, &target, &receipt, Change::None).await
}

/// Someone else's code on the lock already uses this PIN: choose another, and retry.
async fn repin(app: &App, target: &CodeTarget) -> JobError {
    let result = async {
        let mut tx = app.pool.begin().await?;
        let pin = pins::choose(
            &mut tx,
            &app.catalog.workspace,
            &target.lock,
            None,
            Some(target.row.code.id),
            &app.rng,
        )
        .await?;
        codes::set_pin(&mut tx, target.row.code.id, &pin).await?;
        tx.commit().await?;
        Ok::<_, crate::Error>(())
    }
    .await;
    match result {
        Ok(()) => JobError::Retry {
            error: "PIN already in use on the lock; chose another".into(),
            retry_after: Some(0),
        },
        Err(e) => e.into(),
    }
}
