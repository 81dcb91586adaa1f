//! `refill_backups`: keep one lock's pool of backup codes full and fresh (`backup::refill`),
//! in one transaction with the next run it schedules.

use latchkey_engine::LockId;
use latchkey_store::jobs::{self as queue, ClaimedJob};

use super::{Job, JobError};
use crate::app::App;
use crate::backup;

/// `refill_backups`, as the worker runs it.
pub(super) struct RefillBackups {
    pub lock: LockId,
}

#[async_trait::async_trait]
impl Job for RefillBackups {
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError> {
        let now = app.clock.now();
        let mut tx = app.pool.begin().await?;
        let added = backup::refill(app, &mut tx, &self.lock, now).await?;
        queue::complete(&mut tx, job.lease()).await?;
        tx.commit().await?;
        if added > 0 {
            tracing::debug!(lock = %self.lock, added, "backup pool refilled");
            app.jobs_waiting.notify();
        }
        Ok(())
    }
}
