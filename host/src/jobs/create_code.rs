//! `create_code`: put a pending code on its lock.
//!
//! Safe to repeat: after a failed attempt (possibly a lost response), the code is first
//! looked up by its marker before it is created again.

use latchkey_engine::CodeState;

use super::JobError;
use super::code_target::{Change, CodeTarget, apply_receipt};
use crate::app::App;
use crate::providers::ProviderError;
use crate::reconcile::pins;
use crate::store::codes;
use crate::store::jobs::{self as queue, ClaimedJob};

pub(super) async fn run(app: &App, job: &ClaimedJob, code: i64) -> Result<(), JobError> {
    let now = app.clock.now();
    let target = match CodeTarget::load(app, code).await? {
        // Revoked or expired before it was created, or created by an earlier attempt whose
        // follow-up (confirmation, update) is already queued.
        Some(t) if t.row.code.state == CodeState::Pending && t.row.code.provider_ref.is_none() => t,
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
    let mut tx = app.pool.begin().await?;
    apply_receipt(app, &mut tx, &target, &receipt, Change::None).await?;
    queue::complete(&mut tx, job.id).await?;
    tx.commit().await?;
    Ok(())
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
