//! Reservations: search, one reservation's state with the events received for it (and
//! any rule error), its access codes and the messages its guest was sent, Resend PIN, and
//! giving a guest a backup code.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Json;
use latchkey_engine::{CodeRecord, Reservation, Timestamp};
use latchkey_store::codes;
use latchkey_store::events::{self, EventRow};
use latchkey_store::guest_page::{self, GuestReport};
use latchkey_store::notifications::{self, Message};
use latchkey_store::reservations;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::body::JsonBody;
use super::extract::{Path, Query};
use crate::app::App;
use crate::auth::Authorized;
use crate::auth::permission::{OperateFrontDesk, ReadReservations};
use crate::db::WorkspaceDb;
use crate::error::{Error, Problem, Result};
use crate::guest_link;

/// A reservation as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationOut {
    /// Full state on record.
    #[schema(value_type = Object)]
    pub reservation: latchkey_engine::Reservation,
    /// The rule's error from the latest evaluation, if it failed.
    pub rule_error: Option<String>,
    /// Events received, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<EventRow>,
    /// Access codes, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub codes: Vec<CodeRecord>,
    /// Guest messages (sent, queued, skipped with the reason), oldest first.
    #[schema(value_type = Vec<Object>)]
    pub notifications: Vec<Message>,
    /// The guest's own page (`{base_url}/g/{token}`, or `/g/{token}` when `[guest_page]
    /// base_url` is unset), to hand to the guest; valid until a day after the stay's last
    /// door closes. `null` once it would have expired, or before the stay has codes.
    pub guest_page: Option<String>,
    /// What the guest reported on that page ("my code doesn't work"), oldest first.
    pub guest_reports: Vec<GuestReport>,
}

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(show))
        .routes(routes!(resend))
        .routes(routes!(give_backup))
}

/// `GET /v1/reservations` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// Text found in the reservation's id, guest name, e-mail, phone or resources
    /// (case-insensitive); all reservations when absent.
    q: Option<String>,
    /// Reservations per page, 1 to 200 (50 by default).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of reservations.
#[derive(Debug, Serialize, ToSchema)]
struct ReservationPage {
    /// In id order: each as on record (`id`, `status`, `resources`, `check_in`,
    /// `check_out` in Unix seconds UTC, `guest`, `version`).
    #[schema(value_type = Vec<Object>)]
    reservations: Vec<Reservation>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

/// Finds reservations by id, guest name, e-mail, phone or resource.
#[utoipa::path(
    get,
    path = "/v1/reservations",
    tag = "reservations",
    params(SearchQuery),
    responses((status = 200, body = ReservationPage), (status = 400, body = Problem, content_type = "application/problem+json")),
)]
async fn search(
    _: Authorized<ReadReservations>,
    State(db): State<WorkspaceDb>,
    Query(query): Query<SearchQuery>,
) -> Result<Json<ReservationPage>, Error> {
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let mut conn = db.acquire().await?;
    let found = reservations::search(
        &mut conn,
        db.workspace(),
        query.q.as_deref().unwrap_or("").trim(),
        query.cursor.as_deref(),
        limit,
    )
    .await?;
    let next_cursor = (found.len() as i64 == limit)
        .then(|| found.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(Json(ReservationPage {
        reservations: found,
        next_cursor,
    }))
}

/// Messages written by a Resend PIN.
#[derive(Debug, Serialize, ToSchema)]
struct Resent {
    /// One per channel the rule asks for: queued, or skipped with the reason (see the
    /// reservation's `notifications`).
    messages: usize,
}

/// Sends the guest their current PINs again, on the channels the rule asks for.
#[utoipa::path(
    post,
    path = "/v1/reservations/{id}/resend",
    tag = "reservations",
    params(("id" = String, Path, description = "The platform's reservation id")),
    responses(
        (status = 202, body = Resent),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to resend: not confirmed or paid, no message asked for, or no PIN on a lock yet", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn resend(
    _: Authorized<OperateFrontDesk>,
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Resent>), Error> {
    let mut tx = app.pool.begin().await?;
    let messages = crate::outbox::resend(&app, &mut tx, &id).await?;
    tx.commit().await?;
    app.jobs_waiting.notify();
    Ok((StatusCode::ACCEPTED, Json(Resent { messages })))
}

/// `POST /v1/reservations/{id}/backup-code`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct GiveBackup {
    /// The door whose code does not work.
    #[schema(example = "room-101")]
    lock: String,
}

/// A backup code given to a guest.
#[derive(Debug, Serialize, ToSchema)]
struct BackupGiven {
    /// The code, now the reservation's.
    code: i64,
    /// The door.
    #[schema(value_type = String)]
    lock: latchkey_engine::LockId,
    /// Its PIN, for the desk to read out; the guest is also told it on their channels.
    pin: Option<String>,
}

/// Gives the guest a backup code from the door's pool in place of their own code on it
/// (the guest at the door, their code not working): their code there is withdrawn, the
/// backup's window narrowed to theirs, and they are told its PIN.
#[utoipa::path(
    post,
    path = "/v1/reservations/{id}/backup-code",
    tag = "reservations",
    params(("id" = String, Path, description = "The platform's reservation id")),
    request_body = GiveBackup,
    responses(
        (status = 201, body = BackupGiven),
        (status = 404, description = "No such reservation or lock, or the reservation has no code on that lock", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The lock keeps no backup codes, or none is on the lock yet", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn give_backup(
    _: Authorized<OperateFrontDesk>,
    State(app): State<App>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<GiveBackup, 4096>,
) -> Result<(StatusCode, Json<BackupGiven>), Error> {
    let lock = super::locks_admin::lock_of(&app, &body.lock)?;
    let not_found = || Error::NotFound {
        what: "reservation",
        id: id.clone(),
    };
    let reservation =
        latchkey_engine::ReservationId::parse(id.as_str()).map_err(|_| not_found())?;
    let now = app.clock.now();
    let mut tx = app.pool.begin().await?;
    reservations::serialize(&mut tx, &app.catalog.workspace, reservation.as_str()).await?;
    let code = crate::backup::guest_code_on(&app, &mut tx, &reservation, &lock)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "code of the reservation on lock",
            id: lock.to_string(),
        })?;
    let given = crate::backup::pull(&app, &mut tx, &code, "given by the front desk", now)
        .await?
        .ok_or_else(|| crate::backup::no_pool(&lock))?;
    tx.commit().await?;
    app.jobs_waiting.notify();
    Ok((
        StatusCode::CREATED,
        Json(BackupGiven {
            code: given.code,
            lock: given.lock,
            pin: given.pin.map(|p| p.as_str().to_owned()),
        }),
    ))
}

/// A reservation: its state, the events received, the rule's error, its codes and the
/// guest's messages.
#[utoipa::path(
    get,
    path = "/v1/reservations/{id}",
    tag = "reservations",
    params(("id" = String, Path, description = "The platform's reservation id")),
    responses(
        (status = 200, body = ReservationOut),
        (status = 404, description = "No such reservation", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn show(
    _: Authorized<ReadReservations>,
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Json<ReservationOut>, Error> {
    load(&app, &id).await.map(Json)
}

/// Loads the view of reservation `id`.
///
/// # Errors
/// [`Error::NotFound`] for an unknown reservation; database errors.
pub async fn load(app: &App, id: &str) -> Result<ReservationOut> {
    let ws = &app.catalog.workspace;
    let mut conn = app.pool.acquire().await?;
    let row = reservations::get(&mut conn, ws, id)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "reservation",
            id: id.to_owned(),
        })?;
    let codes = codes::for_reservation(&mut conn, ws, id).await?;
    let now = app.clock.now();
    // Valid until a day after the last door closes, as in the guest's messages.
    let last_close = codes.iter().map(|c| c.code.window.ends_at).max();
    let guest_page = match last_close.filter(|t| t.plus(guest_link::VALID_AFTER_STAY_SECS) > now) {
        Some(t) => {
            let base = app.catalog.guest_page.base_url.as_deref().unwrap_or("");
            Some(guest_link::link(&mut conn, ws, base, &row.state.id, t, now).await?)
        }
        None => None,
    };
    Ok(ReservationOut {
        reservation: row.state,
        rule_error: row.rule_error,
        events: events::for_reservation(&mut conn, ws, id).await?,
        codes,
        notifications: notifications::for_reservation(&mut conn, ws, id).await?,
        guest_page,
        guest_reports: guest_page::since(&mut conn, ws, id, Timestamp(0)).await?,
    })
}
