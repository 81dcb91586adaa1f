//! Lock monitoring: each lock's last known status, its activity log, and a sync now.

use axum::Router;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::Json;
use axum::routing::{get, post};
use latchkey_engine::LockId;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::error::{Error, ErrorAt};
use crate::monitor;
use crate::store::monitoring;

/// Most activity entries one `GET /v1/locks/{lock}/activity` returns.
const MAX_ACTIVITY: i64 = 500;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/v1/locks", get(list_locks))
        .route("/v1/locks/sync", post(sync_now))
        .route("/v1/locks/{lock}/activity", get(lock_activity))
}

/// `GET /v1/locks`: every lock with its provider, branch and the status the last sync
/// stored (`status: null` before the first sync).
async fn list_locks(
    State(app): State<App>,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<Value>, ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    let mut conn = app.pool.acquire().await.map_err(|e| at(e.into()))?;
    let statuses = monitoring::statuses(&mut conn, &app.catalog.workspace)
        .await
        .map_err(at)?;
    let locks: Vec<Value> = app
        .catalog
        .locks
        .iter()
        .map(|lock| {
            json!({
                "id": lock.id,
                "name": lock.name,
                "provider": lock.provider,
                "branch": app.assignments.branch_of(&lock.id),
                "capabilities": lock.capabilities,
                "status": statuses.iter().find(|s| s.lock_id == lock.id.as_str()),
            })
        })
        .collect();
    Ok(Json(json!({ "locks": locks })))
}

/// `POST /v1/locks/sync`: syncs every assigned lock now and answers what it did.
async fn sync_now(
    State(app): State<App>,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<monitor::SyncReport>, ErrorAt> {
    monitor::sync(&app)
        .await
        .map(Json)
        .map_err(|e| ErrorAt(e, uri.path().to_owned()))
}

#[derive(Debug, Deserialize)]
struct ActivityQuery {
    /// Most entries to return (1–500, 100 by default).
    limit: Option<i64>,
}

/// `GET /v1/locks/{lock}/activity?limit=N`: the lock's activity, newest first.
async fn lock_activity(
    State(app): State<App>,
    Path(lock): Path<String>,
    Query(query): Query<ActivityQuery>,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<Value>, ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    let not_found = || Error::NotFound {
        what: "lock",
        id: lock.clone(),
    };
    let id = LockId::parse(&lock).map_err(|_| at(not_found()))?;
    if app.catalog.lock(&id).is_none() {
        return Err(at(not_found()));
    }
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_ACTIVITY);
    let mut conn = app.pool.acquire().await.map_err(|e| at(e.into()))?;
    let entries = monitoring::activity(&mut conn, &app.catalog.workspace, &id, limit)
        .await
        .map_err(at)?;
    Ok(Json(json!({ "lock": id, "activity": entries })))
}
