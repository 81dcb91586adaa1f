//! The job worker: runs due jobs one after another, and sleeps until the next is due.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::error::Result;

/// Runs every job that is due now, including jobs that become due now as a result.
/// Returns how many ran.
///
/// # Errors
/// Database errors.
pub async fn run_due(app: &App) -> Result<usize> {
    let mut ran = 0;
    while super::run_next(app).await? {
        ran += 1;
    }
    Ok(ran)
}

/// The job worker for `serve`: runs due jobs, then sleeps until the next one is due, a
/// new one is enqueued by this process, or a second passes (a job another replica
/// enqueued is found by then), until `cancel` fires.
pub async fn work(app: &App, cancel: CancellationToken) {
    while !cancel.is_cancelled() {
        if let Err(e) = run_due(app).await {
            tracing::error!(error = ?e, "job worker failed; retrying shortly");
        }
        let idle = match app.next_job_at().await {
            Ok(Some(at)) => Duration::from_secs(
                u64::try_from(at.unix() - app.clock.now().unix())
                    .unwrap_or(0)
                    .min(1),
            ),
            _ => Duration::from_secs(1),
        };
        tokio::select! {
            () = cancel.cancelled() => break,
            () = app.jobs_waiting.notified() => {}
            () = tokio::time::sleep(idle.max(Duration::from_millis(50))) => {}
        }
    }
}
