//! Alerts a person must see, and their acknowledgement.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Json;
use latchkey_engine::clock::Clock;
use latchkey_store::alerts::{self, AlertRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Path, Query};
use crate::app::App;
use crate::auth::Authorized;
use crate::auth::permission::{OperateFrontDesk, ReadFrontDesk};
use crate::db::WorkspaceDb;
use crate::error::{Error, Problem};

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(acknowledge))
}

/// The alerts.
#[derive(Debug, Serialize, ToSchema)]
struct AlertList {
    /// Newest first.
    alerts: Vec<AlertRow>,
}

/// `GET /v1/alerts` filter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AlertQuery {
    /// `true`: only alerts not yet acknowledged.
    open: Option<bool>,
}

/// Alerts (offline locks, batteries, codes that cannot be revoked, doors opened outside
/// any grant, failed messages, dead letters), newest first.
#[utoipa::path(get, path = "/v1/alerts", tag = "operations", params(AlertQuery), responses((status = 200, body = AlertList), (status = 400, body = Problem, content_type = "application/problem+json")))]
async fn list(
    _: Authorized<ReadFrontDesk>,
    State(db): State<WorkspaceDb>,
    Query(query): Query<AlertQuery>,
) -> Result<Json<AlertList>, Error> {
    let mut conn = db.acquire().await?;
    let mut alerts = alerts::list(&mut conn, db.workspace()).await?;
    if query.open == Some(true) {
        alerts.retain(|a| a.acknowledged_at.is_none());
    }
    Ok(Json(AlertList { alerts }))
}

/// Acknowledges an alert: someone has seen it (kept in the list, marked).
#[utoipa::path(
    post,
    path = "/v1/alerts/{id}/acknowledge",
    tag = "operations",
    params(("id" = i64, Path)),
    responses((status = 200, body = AlertRow), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
async fn acknowledge(
    _: Authorized<OperateFrontDesk>,
    State(db): State<WorkspaceDb>,
    State(clock): State<Arc<dyn Clock>>,
    Path(id): Path<i64>,
) -> Result<Json<AlertRow>, Error> {
    let mut conn = db.acquire().await?;
    alerts::acknowledge(&mut conn, db.workspace(), id, clock.now())
        .await?
        .map(Json)
        .ok_or_else(|| Error::NotFound {
            what: "alert",
            id: id.to_string(),
        })
}
