//! Lock monitoring: each lock's last known status, its activity log, and a sync now.

use axum::extract::State;
use axum::response::Json;
use latchkey_engine::LockId;
use latchkey_store::monitoring;
use latchkey_store::unmanaged::{self, UnmanagedCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Path, Query};
use super::locks_admin::lock_of;
use crate::app::App;
use crate::auth::Authorized;
use crate::auth::permission::{OperateFrontDesk, ReadFrontDesk};
use crate::backup;
use crate::capacity::{self, LockForecast};
use crate::error::{Error, Problem};
use crate::monitor;

/// Most activity entries one `GET /v1/locks/{lock}/activity` returns.
const MAX_ACTIVITY: i64 = 500;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_locks))
        .routes(routes!(sync_now))
        .routes(routes!(lock_activity))
        .routes(routes!(lock_unmanaged_codes))
        .routes(routes!(lock_backup_codes))
        .routes(routes!(capacity_forecast))
}

/// `GET /v1/capacity`'s answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct CapacityView {
    /// Local days each lock's forecast covers, today first.
    days: u32,
    /// Every lock that stores its codes (online locks), in `property.toml`'s order.
    locks: Vec<LockForecast>,
}

/// `GET /v1/capacity`: for each lock that stores its codes, the codes it will have to hold
/// at the busiest instant of each of the next 14 local days, against its capacity. A day
/// with `over > 0` also raises a `capacity_exceeded` alert.
#[utoipa::path(
    get,
    path = "/v1/capacity",
    tag = "locks",
    responses((status = 200, description = "Each lock's demand per local day", body = CapacityView)),
)]
async fn capacity_forecast(
    _: Authorized<ReadFrontDesk>,
    State(app): State<App>,
) -> Result<Json<CapacityView>, Error> {
    let mut conn = app.pool.acquire().await?;
    let locks = capacity::forecast(&app.catalog, &mut conn, app.clock.now()).await?;
    Ok(Json(CapacityView {
        days: capacity::FORECAST_DAYS,
        locks,
    }))
}

/// `GET /v1/locks`: every lock with its provider, branch and the status the last sync
/// stored (`status: null` before the first sync).
#[utoipa::path(
    get,
    path = "/v1/locks",
    tag = "locks",
    responses((status = 200, description = "`{\"locks\": [{\"id\", \"name\", \"provider\", \"branch\", \"capabilities\", \"status\"}]}`", body = Object)),
)]
async fn list_locks(
    _: Authorized<ReadFrontDesk>,
    State(app): State<App>,
) -> Result<Json<Value>, Error> {
    let mut conn = app.pool.acquire().await?;
    app.refresh(&mut conn).await?;
    let statuses = monitoring::statuses(&mut conn, &app.catalog.workspace).await?;
    let locks: Vec<Value> = app
        .catalog
        .locks
        .iter()
        .map(|lock| {
            json!({
                "id": lock.id,
                "name": lock.name,
                "provider": lock.provider,
                "branch": app.planner.assignments.branch_of(&lock.id),
                "capabilities": lock.capabilities,
                "status": statuses.iter().find(|s| s.lock_id == lock.id.as_str()),
            })
        })
        .collect();
    Ok(Json(json!({ "locks": locks })))
}

/// `POST /v1/locks/sync`: syncs every assigned lock now and answers what it did.
#[utoipa::path(
    post,
    path = "/v1/locks/sync",
    tag = "locks",
    responses((status = 200, description = "What the sync did", body = Object)),
)]
async fn sync_now(
    _: Authorized<OperateFrontDesk>,
    State(app): State<App>,
) -> Result<Json<monitor::SyncReport>, Error> {
    monitor::sync(&app).await.map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ActivityQuery {
    /// Most entries to return (1–500, 100 by default).
    limit: Option<i64>,
}

/// `GET /v1/locks/{lock}/activity?limit=N`: the lock's activity, newest first.
#[utoipa::path(
    get,
    path = "/v1/locks/{lock}/activity",
    tag = "locks",
    params(("lock" = String, Path, example = "room-101"), ActivityQuery),
    responses(
        (status = 200, description = "`{\"lock\", \"activity\": [{\"at\", \"action\", \"method\", \"initiator\", \"reservation_id\", \"code_id\", \"covered\", ...}]}`", body = Object),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn lock_activity(
    _: Authorized<ReadFrontDesk>,
    State(app): State<App>,
    Path(lock): Path<String>,
    Query(query): Query<ActivityQuery>,
) -> Result<Json<Value>, Error> {
    let id = lock_of(&app, &lock)?;
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_ACTIVITY);
    let mut conn = app.pool.acquire().await?;
    let entries = monitoring::activity(&mut conn, &app.catalog.workspace, &id, limit).await?;
    Ok(Json(json!({ "lock": id, "activity": entries })))
}

/// `GET /v1/locks/{lock}/backups`'s answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct BackupPoolView {
    /// The lock.
    #[schema(value_type = String)]
    lock: LockId,
    /// Backup codes the lock keeps (`[backup] pool_size`; 0 where the lock cannot keep
    /// any: offline, or unable to change or delete a code).
    pool_size: u32,
    /// Every code its pool has had and not given away, oldest first: `pending` (being put
    /// on), `active` (ready), then `revoking`, `revoked` (rotated out), `failed` or
    /// `expired`. No PINs: a backup code is known to nobody until it is given, and then
    /// it is the guest's reservation's code.
    codes: Vec<BackupCodeView>,
}

/// One code of a lock's backup pool.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct BackupCodeView {
    /// Code id (its marker on the lock is `lk-{id}`).
    id: i64,
    /// `pending`, `active`, `revoking`, `revoked`, `failed` or `expired`.
    state: String,
    /// Start of its window, Unix seconds UTC.
    starts_at: i64,
    /// End of its window, Unix seconds UTC.
    ends_at: i64,
}

/// `GET /v1/locks/{lock}/backups`: the lock's pool of backup codes (see `docs/rules.md`,
/// "Backup codes"). A code given to a guest leaves the pool and shows on the guest's
/// reservation, with the instant it was given (`pulled_at`).
#[utoipa::path(
    get,
    path = "/v1/locks/{lock}/backups",
    tag = "locks",
    params(("lock" = String, Path, example = "room-101")),
    responses(
        (status = 200, description = "The lock's backup pool", body = BackupPoolView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn lock_backup_codes(
    _: Authorized<ReadFrontDesk>,
    State(app): State<App>,
    Path(lock): Path<String>,
) -> Result<Json<BackupPoolView>, Error> {
    let id = lock_of(&app, &lock)?;
    let pool_size = app
        .catalog
        .lock(&id)
        .map_or(0, |l| app.catalog.backup_pool(l));
    let mut conn = app.pool.acquire().await?;
    let codes = backup::pool(&app, &mut conn, &id)
        .await?
        .into_iter()
        .map(|c| BackupCodeView {
            id: c.code.id,
            state: c.code.state.as_str().to_owned(),
            starts_at: c.code.window.starts_at.unix(),
            ends_at: c.code.window.ends_at.unix(),
        })
        .collect();
    Ok(Json(BackupPoolView {
        lock: id,
        pool_size,
        codes,
    }))
}

/// `GET /v1/locks/{lock}/unmanaged`'s answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct UnmanagedView {
    /// The lock.
    #[schema(value_type = String)]
    lock: LockId,
    /// Its codes that Latchkey did not make, oldest sighting first.
    codes: Vec<UnmanagedCode>,
}

/// `GET /v1/locks/{lock}/unmanaged`: the codes the lock held at its last sync that
/// Latchkey did not make (added in the vendor's app). Latchkey leaves them alone and
/// counts them against the lock's capacity. Empty where the lock's cloud lists no codes.
#[utoipa::path(
    get,
    path = "/v1/locks/{lock}/unmanaged",
    tag = "locks",
    params(("lock" = String, Path, example = "room-101")),
    responses(
        (status = 200, description = "The lock's unmanaged codes", body = UnmanagedView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn lock_unmanaged_codes(
    _: Authorized<ReadFrontDesk>,
    State(app): State<App>,
    Path(lock): Path<String>,
) -> Result<Json<UnmanagedView>, Error> {
    let id = lock_of(&app, &lock)?;
    let mut conn = app.pool.acquire().await?;
    let codes = unmanaged::list(&mut conn, &app.catalog.workspace, Some(&id)).await?;
    Ok(Json(UnmanagedView { lock: id, codes }))
}
