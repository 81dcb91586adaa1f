//! `reconcile`: plan one reservation again (after a webhook, or at a scheduled instant).

use latchkey_engine::ReservationId;

use super::JobError;
use crate::app::App;
use crate::store::jobs::{self as queue, ClaimedJob};

pub(super) async fn run(
    app: &App,
    job: &ClaimedJob,
    reservation: &ReservationId,
) -> Result<(), JobError> {
    let mut tx = app.pool.begin().await?;
    crate::reconcile::reconcile(app, &mut tx, reservation).await?;
    queue::complete(&mut tx, job.id).await?;
    tx.commit().await?;
    Ok(())
}
