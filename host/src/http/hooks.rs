//! `POST /v1/hooks/{source}`: webhooks from booking platforms.
//!
//! Checks, in order: the source exists (404), the body is JSON (415), at most
//! [`MAX_BODY_BYTES`] (413), signed (401), and well-formed (422). Only then is it stored,
//! and the answer (202, or 200 for a repeated `webhook-id`) is sent after the commit.
//! Sources of the `reenio` form are answered by [`super::hooks_reenio`].

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;

use super::body::{is_json, read_limited, require_media_type};
use crate::app::App;
use crate::catalog::SourceForm;
use crate::error::{Error, ErrorAt};
use crate::inbox::{self, Accepted};
use crate::sources::{canonical, signature};

/// Largest accepted webhook body, in bytes (256 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub(super) fn routes() -> Router<App> {
    Router::new().route("/v1/hooks/{source}", post(receive))
}

async fn receive(
    State(app): State<App>,
    Path(source): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    let entry = app
        .catalog
        .source(&source)
        .ok_or_else(|| at(Error::UnknownSource(source.clone())))?;
    let secret = match entry.form {
        SourceForm::Canonical => entry.canonical_secret().map_err(at)?.to_owned(),
        SourceForm::Reenio => {
            let settings = entry.reenio.as_ref().ok_or_else(|| {
                at(Error::Config(format!(
                    "source `{source}` has no [sources.reenio]"
                )))
            })?;
            return super::hooks_reenio::receive(&app, &source, settings, &headers, body)
                .await
                .map_err(at);
        }
        form => {
            return Err(at(Error::Conflict(format!(
                "source `{source}` uses the `{}` form, which this version cannot receive yet",
                form.as_str()
            ))));
        }
    };
    require_media_type(&headers, is_json, "application/json").map_err(at)?;
    let bytes = read_limited(&headers, body, MAX_BODY_BYTES)
        .await
        .map_err(at)?;
    let verified = signature::verify(&secret, &headers, &bytes, app.clock.now()).map_err(at)?;
    let event = canonical::parse(&bytes).map_err(at)?;
    let raw = String::from_utf8_lossy(&bytes);
    let accepted = inbox::accept(&app, &source, &verified.webhook_id, &event, &raw)
        .await
        .map_err(at)?;
    let status = match accepted {
        Accepted::Stored { .. } => StatusCode::ACCEPTED,
        Accepted::Duplicate => StatusCode::OK,
    };
    Ok((status, Json(accepted)).into_response())
}
