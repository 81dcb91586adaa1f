//! Operations: health, alerts and dead letters.

use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::Json;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::app::App;
use crate::error::{Error, ErrorAt};
use crate::store::{alerts, jobs};

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/v1/alerts", get(list_alerts))
        .route("/v1/jobs/dead", get(dead_jobs))
        .route("/v1/jobs/{id}/retry", post(retry_job))
}

async fn ready(State(app): State<App>) -> (StatusCode, Json<Value>) {
    match sqlx::query("SELECT 1").execute(&app.pool).await {
        Ok(_) => (StatusCode::OK, Json(json!({ "database": "ok" }))),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "database": e.to_string() })),
        ),
    }
}

async fn list_alerts(
    State(app): State<App>,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<Value>, ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    let mut conn = app.pool.acquire().await.map_err(|e| at(e.into()))?;
    let list = alerts::list(&mut conn, &app.catalog.workspace)
        .await
        .map_err(at)?;
    Ok(Json(json!({ "alerts": list })))
}

async fn dead_jobs(
    State(app): State<App>,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<Value>, ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    let mut conn = app.pool.acquire().await.map_err(|e| at(e.into()))?;
    let list = jobs::dead(&mut conn, &app.catalog.workspace)
        .await
        .map_err(at)?;
    Ok(Json(json!({ "dead_letters": list })))
}

async fn retry_job(
    State(app): State<App>,
    Path(id): Path<i64>,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<Value>, ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    let mut conn = app.pool.acquire().await.map_err(|e| at(e.into()))?;
    if !crate::jobs::retry_dead_letter(&mut conn, &app.catalog.workspace, id, app.clock.now())
        .await
        .map_err(at)?
    {
        return Err(at(Error::NotFound {
            what: "dead letter",
            id: id.to_string(),
        }));
    }
    app.jobs_waiting.notify_one();
    Ok(Json(json!({ "retried": id })))
}
