//! `GET /v1/codes`: access codes across locks and reservations, filtered and paged.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Json;
use latchkey_engine::clock::Clock;
use latchkey_store::codes::{self, CodeFilter, CodeStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::Query;
use crate::app::App;
use crate::auth::Authorized;
use crate::auth::permission::ReadFrontDesk;
use crate::db::WorkspaceDb;
use crate::error::{Error, Problem};

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The filters and paging of `GET /v1/codes`; every filter narrows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CodeQuery {
    /// Only codes of this status.
    status: Option<CodeStatus>,
    /// Only codes on this lock.
    lock: Option<String>,
    /// Only codes of this reservation (`staff:{name}` for a staff code's).
    reservation: Option<String>,
    /// Only codes whose window ends after this instant (Unix seconds UTC).
    from: Option<i64>,
    /// Only codes whose window starts before this instant (Unix seconds UTC).
    to: Option<i64>,
    /// Codes per page, 1 to 500 (100 by default).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<i64>,
}

/// An access code as the front desk sees it.
#[derive(Debug, Serialize, ToSchema)]
struct CodeView {
    /// Id.
    id: i64,
    /// The lock it is on.
    lock: String,
    /// Its reservation (or `staff:{name}`).
    reservation: String,
    /// The PIN; `null` until the provider chose it (offline locks' generated PINs).
    pin: Option<String>,
    /// Derived from `state` and the window: what the desk filters by.
    status: CodeStatus,
    /// The state on record (`pending`, `active`, `revoking`, `revoked`, `failed`,
    /// `expired`).
    state: String,
    /// Window start, Unix seconds UTC.
    starts_at: i64,
    /// Window end, Unix seconds UTC.
    ends_at: i64,
}

/// A page of codes.
#[derive(Debug, Serialize, ToSchema)]
struct CodePage {
    /// Newest first.
    codes: Vec<CodeView>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    next_cursor: Option<i64>,
}

/// Access codes, newest first, by status (`active`, `pending`, `expired`, `revoked`,
/// `failed`), lock, reservation and window.
#[utoipa::path(
    get,
    path = "/v1/codes",
    tag = "codes",
    params(CodeQuery),
    responses((status = 200, body = CodePage), (status = 400, body = Problem, content_type = "application/problem+json")),
)]
async fn list(
    _: Authorized<ReadFrontDesk>,
    State(db): State<WorkspaceDb>,
    State(clock): State<Arc<dyn Clock>>,
    Query(query): Query<CodeQuery>,
) -> Result<Json<CodePage>, Error> {
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let filter = CodeFilter {
        status: query.status,
        lock: query.lock,
        reservation: query.reservation,
        from: query.from,
        to: query.to,
    };
    let now = clock.now();
    let mut conn = db.acquire().await?;
    let rows = codes::search(&mut conn, db.workspace(), &filter, now, query.cursor, limit).await?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.code.id))
        .flatten();
    let codes = rows
        .into_iter()
        .map(|row| {
            let code = row.code;
            CodeView {
                id: code.id,
                lock: code.lock.to_string(),
                reservation: code.reservation.to_string(),
                pin: code.pin.map(|p| p.as_str().to_owned()),
                status: CodeStatus::of(code.state, code.window.ends_at, now),
                state: code.state.as_str().to_owned(),
                starts_at: code.window.starts_at.0,
                ends_at: code.window.ends_at.0,
            }
        })
        .collect();
    Ok(Json(CodePage { codes, next_cursor }))
}
