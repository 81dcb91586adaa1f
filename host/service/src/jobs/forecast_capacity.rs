//! `forecast_capacity`: forecast each lock's demand for the next days, alert the days
//! over capacity, forget the planned grants long ended, then schedule the next run. One
//! transaction: the alerts and the next run commit together.

use latchkey_store::jobs::{self as queue, ClaimedJob};

use super::{Job, JobError, JobSpec};
use crate::app::App;
use crate::capacity;

/// `forecast_capacity`, as the worker runs it.
pub(super) struct ForecastCapacity;

#[async_trait::async_trait]
impl Job for ForecastCapacity {
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError> {
        let now = app.clock.now();
        let catalog = &app.catalog;
        let mut tx = app.pool.begin().await?;
        let forecasts = capacity::forecast(catalog, &mut tx, now).await?;
        let raised = capacity::raise_alerts(catalog, &mut tx, &forecasts, now).await?;
        let pruned = capacity::prune(catalog, &mut tx, now).await?;
        tracing::debug!(raised, pruned, "capacity forecast");
        let next = now.plus(capacity::FORECAST_EVERY_SECS);
        crate::queue::enqueue(
            &mut tx,
            &catalog.workspace,
            &JobSpec::ForecastCapacity,
            next,
            now,
        )
        .await?;
        queue::complete(&mut tx, job.lease()).await?;
        tx.commit().await?;
        Ok(())
    }
}
