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
    // Set when a run ended in an error that may have left its job leased to this worker.
    let mut holding = false;
    while !cancel.is_cancelled() {
        if holding {
            holding = !take_back(app).await;
        }
        if let Err(e) = run_due(app).await {
            tracing::error!(error = ?e, "job worker failed; retrying shortly");
            holding = true;
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

/// Makes the jobs leased to this worker claimable again; true once done. Called after a
/// run failed so badly that its job could be neither finished nor put back (the database
/// went away mid-run): that job stays leased to this worker, which runs one job at a time
/// and so holds no other, and is taken back as soon as the database answers instead of
/// after its lease.
async fn take_back(app: &App) -> bool {
    let released = async {
        let mut conn = app.pool.acquire().await?;
        latchkey_store::jobs::release_held(&mut conn, &app.worker, app.clock.now()).await
    };
    match released.await {
        Ok(n) => {
            if n > 0 {
                tracing::info!(jobs = n, "took back the jobs a failed run left leased");
            }
            true
        }
        Err(e) => {
            tracing::debug!(error = ?e, "the database does not answer yet");
            false
        }
    }
}
