//! Staff codes: `PUT|GET|DELETE /v1/staff-codes/{name}`, `GET /v1/staff-codes`.

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Json;
use axum::routing::get;
use serde_json::{Value, json};

use super::body::{is_json, read_limited, require_media_type};
use crate::app::App;
use crate::error::{Error, ErrorAt};
use crate::staff::admin::{self, StaffCodeSpec, StaffCodeView};
use crate::store::staff;

/// Largest staff code definition, in bytes.
const MAX_BODY_BYTES: usize = 16 * 1024;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/v1/staff-codes", get(list))
        .route("/v1/staff-codes/{name}", get(show).put(put).delete(delete))
}

async fn list(
    State(app): State<App>,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<Value>, ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    let mut conn = app.pool.acquire().await.map_err(|e| at(e.into()))?;
    let codes = staff::list(&mut conn, &app.catalog.workspace)
        .await
        .map_err(at)?;
    Ok(Json(json!({ "staff_codes": codes })))
}

async fn show(
    State(app): State<App>,
    Path(name): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<StaffCodeView>, ErrorAt> {
    admin::show(&app, &name)
        .await
        .map(Json)
        .map_err(|e| ErrorAt(e, uri.path().to_owned()))
}

/// Creates or replaces the staff code; 200 with its definition, next window and codes.
async fn put(
    State(app): State<App>,
    Path(name): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StaffCodeView>, ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    require_media_type(&headers, is_json, "application/json").map_err(at)?;
    let body = read_limited(&headers, body, MAX_BODY_BYTES)
        .await
        .map_err(at)?;
    let spec: StaffCodeSpec = crate::json::decode(&body).map_err(at)?;
    admin::put(&app, &name, spec).await.map(Json).map_err(at)
}

/// Deletes the staff code; 204, its codes revoked by the worker.
async fn delete(
    State(app): State<App>,
    Path(name): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> Result<StatusCode, ErrorAt> {
    admin::delete(&app, &name)
        .await
        .map(|()| StatusCode::NO_CONTENT)
        .map_err(|e| ErrorAt(e, uri.path().to_owned()))
}
