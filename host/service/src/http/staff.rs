//! Staff codes: `PUT|GET|DELETE /v1/staff-codes/{name}`, `GET /v1/staff-codes`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Json;
use latchkey_store::staff;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::body::{is_json, read_limited, require_media_type};
use super::extract::Path;
use crate::app::App;
use crate::auth::Authorized;
use crate::auth::permission::Administer;
use crate::db::WorkspaceDb;
use crate::error::{Error, Problem};
use crate::staff::admin::{self, StaffCodeSpec, StaffCodeView};

/// Largest staff code definition, in bytes.
const MAX_BODY_BYTES: usize = 16 * 1024;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show, put, delete))
}

/// Staff codes: access not tied to a reservation, on a recurring window.
#[utoipa::path(get, path = "/v1/staff-codes", tag = "locks", responses((status = 200, description = "`{\"staff_codes\": [...]}`", body = Object)))]
async fn list(
    _: Authorized<Administer>,
    State(db): State<WorkspaceDb>,
) -> Result<Json<Value>, Error> {
    let mut conn = db.acquire().await?;
    let codes = staff::list(&mut conn, db.workspace()).await?;
    Ok(Json(json!({ "staff_codes": codes })))
}

/// A staff code: its definition, next window and codes.
#[utoipa::path(
    get,
    path = "/v1/staff-codes/{name}",
    tag = "locks",
    params(("name" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
async fn show(
    _: Authorized<Administer>,
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<Json<StaffCodeView>, Error> {
    admin::show(&app, &name).await.map(Json)
}

/// Creates or replaces the staff code; 200 with its definition, next window and codes.
#[utoipa::path(
    put,
    path = "/v1/staff-codes/{name}",
    tag = "locks",
    params(("name" = String, Path)),
    request_body(content = Object, description = "`{\"locks\": [...], \"schedule\": cron, \"duration_secs\", \"pin\"?}`", content_type = "application/json"),
    responses(
        (status = 200, body = Object),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn put(
    _: Authorized<Administer>,
    State(app): State<App>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StaffCodeView>, Error> {
    require_media_type(&headers, is_json, "application/json")?;
    let body = read_limited(&headers, body, MAX_BODY_BYTES).await?;
    let spec: StaffCodeSpec = crate::json::decode(&body)?;
    admin::put(&app, &name, spec).await.map(Json)
}

/// Deletes the staff code; 204, its codes revoked by the worker.
#[utoipa::path(
    delete,
    path = "/v1/staff-codes/{name}",
    tag = "locks",
    params(("name" = String, Path)),
    responses((status = 204, description = "Deleted; its codes are revoked"), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
async fn delete(
    _: Authorized<Administer>,
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<StatusCode, Error> {
    admin::delete(&app, &name)
        .await
        .map(|()| StatusCode::NO_CONTENT)
}
