//! `GET /v1/reservations/{id}`: a reservation's state, the events received for it (with
//! any rule error), its access codes and the messages its guest was sent.

use axum::extract::{OriginalUri, Path, State};
use axum::response::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::App;
use crate::auth::Authorized;
use crate::auth::permission::ReadReservations;
use crate::error::{Error, ErrorAt, Problem, Result};
use crate::store::codes::{self, CodeRow};
use crate::store::events::{self, EventRow};
use crate::store::notifications::{self, Message};
use crate::store::reservations;

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
    pub codes: Vec<CodeRow>,
    /// Guest messages (sent, queued, skipped with the reason), oldest first.
    #[schema(value_type = Vec<Object>)]
    pub notifications: Vec<Message>,
}

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(show))
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
    OriginalUri(uri): OriginalUri,
) -> Result<Json<ReservationOut>, ErrorAt> {
    load(&app, &id)
        .await
        .map(Json)
        .map_err(|e| ErrorAt(e, uri.path().to_owned()))
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
    Ok(ReservationOut {
        reservation: row.state,
        rule_error: row.rule_error,
        events: events::for_reservation(&mut conn, ws, id).await?,
        codes: codes::for_reservation(&mut conn, ws, id).await?,
        notifications: notifications::for_reservation(&mut conn, ws, id).await?,
    })
}
