//! Lock administration (issue 5, item 6): branch assignment and PIN regeneration.
//!
//! - `GET /v1/locks/{lock}/branch`: the lock's effective assignment,
//!   `{"lock", "branch": id | null, "origin": "property" | "api", "updated_at": s | null}`.
//! - `PUT /v1/locks/{lock}/branch` with `{"branch": "main"}` or `{"branch": null}`
//!   (`application/json`): assigns or unassigns the lock and queues a reconcile of every
//!   reservation it may concern; 200 with the assignment plus `previous` and
//!   `reconciling` (how many reservations were queued).
//! - `POST /v1/locks/{lock}/regenerate`: new PINs for every reservation with access
//!   through the lock, the old codes revoked once the new ones are on the lock; 202 with
//!   the summary (see [`crate::locks::regenerate`]), whose `replaced` entries are the
//!   guests who will be told their new PIN.
//!
//! - `POST /v1/locks/{lock}/unlock`: opens the door now through its cloud, for locks that
//!   can (`capabilities.remote_unlock`); 202 with `{"lock", "unlocked_at"}`.
//!
//! Errors are problem+json: 404 for an unknown lock, 422 for a body that does not match
//! (`pointer` names the field, `/branch` for a branch the property does not have), 415 for
//! a body that is not JSON, 409 to regenerate an unassigned lock or to unlock one that
//! cannot be unlocked remotely, 502 when the lock's cloud refuses or fails.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Json;
use latchkey_engine::{BranchId, LockId};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::body::{is_json, read_limited, require_media_type};
use super::extract::Path;
use crate::app::App;
use crate::auth::Authorized;
use crate::auth::permission::{Administer, OperateFrontDesk, ReadFrontDesk};
use crate::error::{Error, Problem};
use crate::locks::assignment::{self, AssignOutcome};
use crate::locks::regenerate::{self, RegenerateSummary};
use crate::planner::Assignment;

/// Largest accepted body of `PUT /v1/locks/{lock}/branch`, in bytes.
const MAX_BODY_BYTES: usize = 4096;

/// The routes.
pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(show, assign))
        .routes(routes!(regenerate))
        .routes(routes!(unlock))
}

/// The body of `PUT /v1/locks/{lock}/branch`. `branch` must be present: `null` unassigns,
/// so a forgotten field must not unassign by accident.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    #[serde(deserialize_with = "required_nullable")]
    branch: Option<BranchId>,
}

/// With `deserialize_with`, serde no longer treats a missing `Option` field as `None`.
fn required_nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BranchId>, D::Error> {
    Option::<BranchId>::deserialize(d)
}

/// A configured lock named by the path, else 404.
pub(super) fn lock_of(app: &App, text: &str) -> Result<LockId, Error> {
    let not_found = || Error::NotFound {
        what: "lock",
        id: text.to_owned(),
    };
    let id = LockId::parse(text).map_err(|_| not_found())?;
    app.catalog.lock(&id).map(|_| id).ok_or_else(not_found)
}

#[utoipa::path(
    get,
    path = "/v1/locks/{lock}/branch",
    tag = "locks",
    params(("lock" = String, Path, example = "room-101")),
    responses(
        (status = 200, description = "`{\"lock\", \"branch\", \"origin\": \"property\" | \"api\", \"updated_at\"}`", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn show(
    _: Authorized<ReadFrontDesk>,
    State(app): State<App>,
    Path(lock): Path<String>,
) -> Result<Json<Assignment>, Error> {
    let id = lock_of(&app, &lock)?;
    app.refresh_now().await?;
    app.planner
        .assignments
        .get(&id)
        .map(Json)
        .ok_or_else(|| Error::NotFound {
            what: "lock",
            id: lock,
        })
}

#[utoipa::path(
    put,
    path = "/v1/locks/{lock}/branch",
    tag = "locks",
    params(("lock" = String, Path, example = "room-101")),
    request_body(content = Object, description = "`{\"branch\": \"main\"}` or `{\"branch\": null}`", content_type = "application/json"),
    responses(
        (status = 200, description = "The assignment, `previous`, and how many reservations are re-planned", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn assign(
    _: Authorized<Administer>,
    State(app): State<App>,
    Path(lock): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<AssignOutcome>, Error> {
    let id = lock_of(&app, &lock)?;
    require_media_type(&headers, is_json, "application/json")?;
    let body = read_limited(&headers, body, MAX_BODY_BYTES).await?;
    let AssignBody { branch } = crate::json::decode(&body)?;
    assignment::assign(&app, &id, branch).await.map(Json)
}

#[utoipa::path(
    post,
    path = "/v1/locks/{lock}/regenerate",
    tag = "locks",
    params(("lock" = String, Path, example = "room-101")),
    responses(
        (status = 202, description = "New PINs are being put on the lock; `replaced` lists the guests who will be told", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The lock is not assigned to a branch", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn regenerate(
    _: Authorized<OperateFrontDesk>,
    State(app): State<App>,
    Path(lock): Path<String>,
) -> Result<(StatusCode, Json<RegenerateSummary>), Error> {
    let id = lock_of(&app, &lock)?;
    let summary = regenerate::regenerate(&app, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(summary)))
}

/// A remote unlock done.
#[derive(Debug, Serialize, ToSchema)]
struct Unlocked {
    /// The lock.
    lock: String,
    /// When the cloud accepted the unlock, Unix seconds UTC.
    unlocked_at: i64,
}

/// Opens the door now through the lock's cloud (who asked is in the audit log).
#[utoipa::path(
    post,
    path = "/v1/locks/{lock}/unlock",
    tag = "locks",
    params(("lock" = String, Path, example = "room-101")),
    responses(
        (status = 202, body = Unlocked),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The lock cannot be unlocked remotely", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The lock's cloud refused or failed", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn unlock(
    Authorized { caller, .. }: Authorized<OperateFrontDesk>,
    State(app): State<App>,
    Path(lock): Path<String>,
) -> Result<(StatusCode, Json<Unlocked>), Error> {
    let id = lock_of(&app, &lock)?;
    crate::locks::unlock(&app, &id).await?;
    tracing::info!(lock = %id, actor = %caller.actor, "door unlocked remotely");
    Ok((
        StatusCode::ACCEPTED,
        Json(Unlocked {
            lock: id.to_string(),
            unlocked_at: app.clock.now().0,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_branch_field_is_required_and_may_be_null() {
        let named: AssignBody = crate::json::decode(br#"{"branch":"main"}"#).expect("named");
        assert_eq!(named.branch.map(|b| b.to_string()), Some("main".into()));
        let null: AssignBody = crate::json::decode(br#"{"branch":null}"#).expect("null");
        assert!(null.branch.is_none());
        assert!(crate::json::decode::<AssignBody>(b"{}").is_err());
        assert!(crate::json::decode::<AssignBody>(br#"{"branch":"a b"}"#).is_err());
        assert!(crate::json::decode::<AssignBody>(br#"{"branch":"main","x":1}"#).is_err());
    }
}
