//! `poll_ical`: fetch one calendar feed and apply it (see [`latchkey_sources::ical`]), then
//! schedule the next poll. A failed fetch is not a job failure: it counts as a miss, so
//! the schedule never stops and never backs off a feed that fails.

use latchkey_store::jobs::{self as queue, ClaimedJob};

use super::{Job, JobError, JobSpec};
use crate::app::App;
use crate::inbox::ical as poll;
use latchkey_sources::SourceForm;

/// `poll_ical`, as the worker runs it.
pub(super) struct PollIcal {
    pub(super) source: String,
}

#[async_trait::async_trait]
impl Job for PollIcal {
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError> {
        run(app, job, &self.source).await
    }
}

async fn run(app: &App, job: &ClaimedJob, source: &str) -> Result<(), JobError> {
    let settings = app
        .catalog
        .source(source)
        .filter(|s| s.form == SourceForm::Ical)
        .and_then(|s| s.ical.clone());
    let Some(settings) = settings else {
        // The source was removed from property.toml: its schedule ends here.
        let mut conn = app.pool.acquire().await?;
        queue::complete(&mut conn, job.lease()).await?;
        return Ok(());
    };
    let report = poll::poll(app, source, &settings).await?;
    tracing::debug!(source, ?report, "calendar polled");
    let now = app.clock.now();
    let next = now.plus(i64::try_from(settings.poll_every_secs).unwrap_or(i64::MAX));
    let mut tx = app.pool.begin().await?;
    let spec = JobSpec::PollIcal {
        source: source.to_owned(),
    };
    crate::queue::enqueue(&mut tx, &app.catalog.workspace, &spec, next, now).await?;
    queue::complete(&mut tx, job.lease()).await?;
    tx.commit().await?;
    Ok(())
}
