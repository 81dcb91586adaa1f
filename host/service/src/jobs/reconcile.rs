//! `reconcile` and `reconcile_staff`: plan one reservation, or one staff code, again
//! (after a webhook or a change, or at a scheduled instant).

use latchkey_engine::ReservationId;
use latchkey_store::jobs::{self as queue, ClaimedJob};

use super::{Job, JobError};
use crate::app::App;

/// `reconcile`: plan one reservation again.
pub(super) struct Reconcile {
    pub(super) reservation: ReservationId,
}

#[async_trait::async_trait]
impl Job for Reconcile {
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError> {
        run(app, job, &self.reservation).await
    }
}

/// `reconcile_staff`: plan one staff code again.
pub(super) struct ReconcileStaff {
    pub(super) name: String,
}

#[async_trait::async_trait]
impl Job for ReconcileStaff {
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError> {
        run_staff(app, job, &self.name).await
    }
}

async fn run(app: &App, job: &ClaimedJob, reservation: &ReservationId) -> Result<(), JobError> {
    let mut tx = app.pool.begin().await?;
    crate::reconcile::reconcile(app, &mut tx, reservation).await?;
    queue::complete(&mut tx, job.lease()).await?;
    tx.commit().await?;
    Ok(())
}

async fn run_staff(app: &App, job: &ClaimedJob, name: &str) -> Result<(), JobError> {
    let mut tx = app.pool.begin().await?;
    crate::staff::reconcile(app, &mut tx, name).await?;
    queue::complete(&mut tx, job.lease()).await?;
    tx.commit().await?;
    Ok(())
}
