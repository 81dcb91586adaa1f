//! `GET /v1/reservations/{id}`: a reservation's state, the events received for it (with
//! any rule error), its access codes and the messages its guest was sent.

use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::response::Json;
use axum::routing::get;
use serde::Serialize;

use crate::app::App;
use crate::error::{Error, ErrorAt, Result};
use crate::store::codes::{self, CodeRow};
use crate::store::events::{self, EventRow};
use crate::store::notifications::{self, Message};
use crate::store::reservations;

/// A reservation as the API shows it.
#[derive(Debug, Serialize)]
pub struct ReservationOut {
    /// Full state on record.
    pub reservation: latchkey_engine::Reservation,
    /// The rule's error from the latest evaluation, if it failed.
    pub rule_error: Option<String>,
    /// Events received, oldest first.
    pub events: Vec<EventRow>,
    /// Access codes, oldest first.
    pub codes: Vec<CodeRow>,
    /// Guest messages (sent, queued, skipped with the reason), oldest first.
    pub notifications: Vec<Message>,
}

pub(super) fn routes() -> Router<App> {
    Router::new().route("/v1/reservations/{id}", get(show))
}

async fn show(
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
