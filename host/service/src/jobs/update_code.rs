//! `update_code`: change a code's window on its lock, keeping its PIN.

use latchkey_engine::Timestamp;
use latchkey_store::Conn;
use latchkey_store::jobs::ClaimedJob;

use super::code_target::{
    Change, Expect, fail_pending_code, finish_with_receipt, pending_target, reopen_failed_code,
};
use super::{Job, JobError};
use crate::app::App;
use crate::error::Result;

/// `update_code`, as the worker runs it.
pub(super) struct UpdateCode {
    pub(super) code: i64,
}

#[async_trait::async_trait]
impl Job for UpdateCode {
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
