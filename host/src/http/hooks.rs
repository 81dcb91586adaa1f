//! `POST /v1/hooks/{source}`: webhooks from booking platforms.
//!
//! Checks, in order: the source exists (404), the body is JSON (415), at most
//! [`MAX_BODY_BYTES`] (413), signed (401), and well-formed (422). Only then is it stored,
//! and the answer (202, or 200 for a repeated `webhook-id`) is sent after the commit.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;

use crate::app::App;
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
    let secret = app
        .catalog
        .source(&source)
        .ok_or_else(|| at(Error::UnknownSource(source.clone())))?
        .secret
        .clone();
    check_json(&headers).map_err(at)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(at(Error::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        }));
    }
    let bytes = to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        at(Error::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        })
    })?;
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

fn check_json(headers: &HeaderMap) -> Result<(), Error> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType(if content_type.is_empty() {
            "(none)".into()
        } else {
            content_type.into()
        }))
    }
}
