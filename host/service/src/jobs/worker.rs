//! The job worker: runs due jobs one after another, and sleeps until the next is due.

use std::time::Duration;

use latchkey_store::jobs::Wakeups;
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
/// job due now is enqueued (by this process, or on PostgreSQL by any replica: `LISTEN`,
/// see [`Wakeups`]), or a second passes, until `cancel` fires.
pub async fn work(app: &App, cancel: CancellationToken) {
    let mut wakeups = match Wakeups::listen(&app.database).await {
        Ok(wakeups) => Some(wakeups),
        Err(e) => {
            tracing::warn!(error = ?e, "cannot listen for other replicas' jobs; polling each second");
            None
        }
    };
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
            woken = wake_up(&mut wakeups) => {
                if let Err(e) = woken {
                    // The listener reconnects on its next call; the poll covers the gap.
                    tracing::warn!(error = ?e, "lost the connection listening for jobs");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            () = tokio::time::sleep(idle.max(Duration::from_millis(50))) => {}
        }
    }
}

/// The next notification of a job due now; never, without a listener.
async fn wake_up(wakeups: &mut Option<Wakeups>) -> latchkey_store::error::Result<()> {
    match wakeups {
        Some(wakeups) => wakeups.next().await,
        None => std::future::pending().await,
    }
}
