//! `revoke_code`: delete a code from its lock (a revocation, or the cleanup of an
//! expired code).
//!
//! A revocation is a security action: it retries for as long as the code could open the
//! door. A lock that cannot revoke raises an unrevocable alert, and the code stays on
//! record as active: a revocation that did not happen is never recorded.

use latchkey_engine::CodeState;
use latchkey_providers::ProviderError;
use latchkey_store::alerts::AlertKind;
use latchkey_store::jobs::{self as queue, ClaimedJob};
use latchkey_store::{codes, reservations};

use super::code_target::{CodeTarget, marker};
use super::{Escalation, Job, JobError};
use crate::app::App;

/// Revocation attempts after which a person is alerted (the job keeps retrying).
const ALERT_AFTER_REVOKE_ATTEMPTS: i64 = 5;

/// `revoke_code`, as the worker runs it.
pub(super) struct RevokeCode {
    pub(super) code: i64,
    pub(super) cleanup: bool,
}

#[async_trait::async_trait]
impl Job for RevokeCode {
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError> {
        run(app, job, self.code, self.cleanup).await
    }

    /// A revocation is a security action: a person hears of it while it keeps failing. A
    /// cleanup only frees a slot.
    fn escalation(&self) -> Option<Escalation> {
        (!self.cleanup).then_some(Escalation {
            kind: AlertKind::RevocationFailing,
            after_attempts: ALERT_AFTER_REVOKE_ATTEMPTS,
            code: self.code,
        })
    }
}

async fn run(app: &App, job: &ClaimedJob, code: i64, cleanup: bool) -> Result<(), JobError> {
    let now = app.clock.now();
    let Some(target) = CodeTarget::load(app, code).await? else {
        return super::complete(app, job).await;
    };
    let expected = if cleanup {
        CodeState::Expired
    } else {
        CodeState::Revoking
    };
    if target.row.code.state != expected {
        return super::complete(app, job).await;
    }
    let reference = match &target.row.code.provider_ref {
        Some(r) => Some(r.clone()),
        // Created by an attempt whose answer was lost, or never created: ask the lock.
        None => target
            .provider
            .find_code(&target.device, &marker(code))
            .await?
            .map(|r| r.reference),
    };
    let outcome = match &reference {
        Some(reference) => target.provider.revoke_code(&target.device, reference).await,
        None => Ok(()),
    };
    let mut tx = app.pool.begin().await?;
    reservations::serialize(
        &mut tx,
        &app.catalog.workspace,
        target.row.code.reservation.as_str(),
    )
    .await?;
    match outcome {
        Ok(()) | Err(ProviderError::NotFound(_)) => {
            if !cleanup {
                codes::transition(
                    &mut tx,
                    code,
                    &[CodeState::Revoking],
                    CodeState::Revoked,
                    now,
                )
                .await?;
            }
        }
        Err(ProviderError::Unsupported(_)) => {
            if !cleanup {
                codes::transition(
                    &mut tx,
                    code,
                    &[CodeState::Revoking],
                    CodeState::Active,
                    now,
                )
                .await?;
                crate::reconcile::raise_unrevocable(app, &mut tx, &target.row).await?;
            }
        }
        Err(e) if e.is_retryable() && !cleanup && target.is_over(now) => {
            // The code can no longer open the door: nothing left to protect.
            codes::transition(
                &mut tx,
                code,
                &[CodeState::Revoking],
                CodeState::Expired,
                now,
            )
            .await?;
        }
        Err(e) => {
            drop(tx);
            return Err(e.into());
        }
    }
    queue::complete(&mut tx, job.lease()).await?;
    tx.commit().await?;
    Ok(())
}
