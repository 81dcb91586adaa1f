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
//! Errors are problem+json: 404 for an unknown lock, 422 for a body that does not match
//! (`pointer` names the field, `/branch` for a branch the property does not have), 415 for
//! a body that is not JSON, 409 to regenerate an unassigned lock.

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Json;
use axum::routing::{get, post};
use latchkey_engine::{BranchId, LockId};
use serde::{Deserialize, Deserializer};

use super::body::{is_json, read_limited, require_media_type};
use crate::app::App;
use crate::error::{Error, ErrorAt};
use crate::locks::assignment::{self, AssignOutcome, Assignment};
use crate::locks::regenerate::{self, RegenerateSummary};

/// Largest accepted body of `PUT /v1/locks/{lock}/branch`, in bytes.
const MAX_BODY_BYTES: usize = 4096;

/// The routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/v1/locks/{lock}/branch", get(show).put(assign))
        .route("/v1/locks/{lock}/regenerate", post(regenerate))
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
fn lock_of(app: &App, text: &str) -> Result<LockId, Error> {
    let not_found = || Error::NotFound {
        what: "lock",
        id: text.to_owned(),
    };
    let id = LockId::parse(text).map_err(|_| not_found())?;
    app.catalog.lock(&id).map(|_| id).ok_or_else(not_found)
}

async fn show(
    State(app): State<App>,
    Path(lock): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<Assignment>, ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    let id = lock_of(&app, &lock).map_err(at)?;
    app.assignments.get(&id).map(Json).ok_or_else(|| {
        at(Error::NotFound {
            what: "lock",
            id: lock,
        })
    })
}

async fn assign(
    State(app): State<App>,
    Path(lock): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<AssignOutcome>, ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    let id = lock_of(&app, &lock).map_err(at)?;
    require_media_type(&headers, is_json, "application/json").map_err(at)?;
    let body = read_limited(&headers, body, MAX_BODY_BYTES)
        .await
        .map_err(at)?;
    let AssignBody { branch } = crate::json::decode(&body).map_err(at)?;
    assignment::assign(&app, &id, branch)
        .await
        .map(Json)
        .map_err(at)
}

async fn regenerate(
    State(app): State<App>,
    Path(lock): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> Result<(StatusCode, Json<RegenerateSummary>), ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    let id = lock_of(&app, &lock).map_err(at)?;
    let summary = regenerate::regenerate(&app, &id).await.map_err(at)?;
    Ok((StatusCode::ACCEPTED, Json(summary)))
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
