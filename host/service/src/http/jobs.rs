//! Dead letters: jobs that ran out of retries, and their retry.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Json;
use latchkey_engine::clock::Clock;
use latchkey_store::jobs::{self, DeadJob};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::Path;
use crate::app::App;
use crate::auth::Authorized;
use crate::auth::permission::{Administer, ReadFrontDesk};
use crate::db::WorkspaceDb;
use crate::error::{Error, Problem};
use crate::queue::JobsWaiting;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(dead))
        .routes(routes!(retry))
}

/// The dead letters.
#[derive(Debug, Serialize, ToSchema)]
struct DeadLetters {
    dead_letters: Vec<DeadJob>,
}

/// A dead letter given new retries.
#[derive(Debug, Serialize, ToSchema)]
struct Retried {
    /// The job's id.
    retried: i64,
}

/// Jobs that ran out of retries: each needs a person (or a retry once the cause is fixed).
#[utoipa::path(get, path = "/v1/jobs/dead", tag = "operations", responses((status = 200, body = DeadLetters)))]
async fn dead(
    _: Authorized<ReadFrontDesk>,
    State(db): State<WorkspaceDb>,
) -> Result<Json<DeadLetters>, Error> {
    let mut conn = db.acquire().await?;
    let dead_letters = jobs::dead(&mut conn, db.workspace()).await?;
    Ok(Json(DeadLetters { dead_letters }))
}

/// Gives a dead letter a fresh set of retries; the worker picks it up at once.
#[utoipa::path(
    post,
    path = "/v1/jobs/{id}/retry",
    tag = "operations",
    params(("id" = i64, Path)),
    responses((status = 200, body = Retried), (status = 404, description = "No dead letter with this id", body = Problem, content_type = "application/problem+json")),
)]
async fn retry(
    _: Authorized<Administer>,
    State(db): State<WorkspaceDb>,
    State(clock): State<Arc<dyn Clock>>,
    State(jobs_waiting): State<JobsWaiting>,
    Path(id): Path<i64>,
) -> Result<Json<Retried>, Error> {
    let mut conn = db.acquire().await?;
    if !crate::jobs::retry_dead_letter(&mut conn, db.workspace(), id, clock.now()).await? {
        return Err(Error::NotFound {
            what: "dead letter",
            id: id.to_string(),
        });
    }
    jobs_waiting.notify();
    Ok(Json(Retried { retried: id }))
}
