//! `reconcile` and `reconcile_staff`: plan one reservation, or one staff code, again
//! (after a webhook or a change, or at a scheduled instant).

use latchkey_engine::ReservationId;
use latchkey_store::jobs::{self as queue, ClaimedJob};

use super::JobError;
use crate::app::App;

pub(super) async fn run(
    app: &App,
    job: &ClaimedJob,
    reservation: &ReservationId,
) -> Result<(), JobError> {
    let mut tx = app.pool.begin().await?;
    crate::reconcile::reconcile(app, &mut tx, reservation).await?;
    queue::complete(&mut tx, job.lease()).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn run_staff(app: &App, job: &ClaimedJob, name: &str) -> Result<(), JobError> {
    let mut tx = app.pool.begin().await?;
    crate::staff::reconcile(app, &mut tx, name).await?;
    queue::complete(&mut tx, job.lease()).await?;
    tx.commit().await?;
    Ok(())
}
