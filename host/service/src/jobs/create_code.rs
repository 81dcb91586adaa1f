//! `create_code`: put a pending code on its lock.
//!
//! Safe to repeat: after a failed attempt (possibly a lost response), the code is first
//! looked up by its marker before it is created again.

use latchkey_engine::Timestamp;
use latchkey_providers::ProviderError;
use latchkey_store::Conn;
use latchkey_store::codes;
use latchkey_store::jobs::ClaimedJob;

use super::code_target::{
    Change, CodeTarget, Expect, fail_pending_code, finish_with_receipt, pending_target,
    reopen_failed_code,
};
use super::{Job, JobError};
use crate::app::App;
use crate::error::Result;
use crate::reconcile::pins;

/// `create_code`, as the worker runs it.
pub(super) struct CreateCode {
    pub(super) code: i64,
}

#[async_trait::async_trait]
impl Job for CreateCode {
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError> {
        run(app, job, self.code).await
    }

    async fn on_dead_letter(
        &self,
        app: &App,
        tx: &mut Conn,
        _job: &ClaimedJob,
        _error: &str,
    ) -> Result<()> {
        fail_pending_code(app, tx, self.code).await
    }

    async fn on_retry_by_hand(&self, conn: &mut Conn, now: Timestamp) -> Result<()> {
        reopen_failed_code(conn, self.code, now).await
    }
}

async fn run(app: &App, job: &ClaimedJob, code: i64) -> Result<(), JobError> {
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
