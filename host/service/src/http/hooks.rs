//! `POST /v1/hooks/{source}` (and `/v1/hooks/{source}/{secret}` for generic sources that
//! carry their secret in the path): webhooks from booking platforms.
//!
//! Checks, in order: the source exists and takes deliveries (404, 409 for a polled
//! feed), the body is JSON (415), at most [`MAX_BODY_BYTES`] (413), authentic (401), and
//! well-formed (422, with a pointer into the payload). Only then is it stored, and the
//! answer (202, or 200 for a repeated delivery or a payload about nothing we act on) is
//! sent after the commit. Sources of the `reenio` form are answered by
//! [`super::hooks_reenio`].

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use latchkey_providers::credentials::Secret;

use super::body::{is_json, read_limited, require_media_type};
use crate::app::App;
use crate::error::Error;
use crate::inbox::{self, Accepted};
use crate::telemetry::metrics::{self, WebhookOutcome};
use latchkey_sources::{SourceEntry, SourceForm};
use latchkey_sources::{canonical, lodgify, mapped, signature};

/// Largest accepted webhook body, in bytes (256 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/v1/hooks/{source}", post(receive))
        .route("/v1/hooks/{source}/{secret}", post(receive_with_secret))
}

async fn receive(
    State(app): State<App>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    counted(handle(&app, &source, None, &headers, body).await)
}

async fn receive_with_secret(
    State(app): State<App>,
    Path((source, secret)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    counted(handle(&app, &source, Some(&secret), &headers, body).await)
}

/// Counts a refusal by its status (the inbox counts what it handled).
fn counted(answer: Result<Response, Error>) -> Result<Response, Error> {
    if let Err(e) = &answer {
        metrics::webhook_refused(e.status());
    }
    answer
}

async fn handle(
    app: &App,
    source: &str,
    path_secret: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    // A source of the property file wins a name clash with one created through the API.
    let api;
    let (entry, api_secrets) = match app.catalog.source(source) {
        Some(entry) => (entry, None),
        None => {
            api = super::sources::lookup(app, source)
                .await?
                .ok_or_else(|| Error::UnknownSource(source.to_owned()))?;
            (&api.entry, Some(&api.secrets))
        }
    };
    let takes_path_secret = entry.generic.as_ref().is_some_and(|g| g.verify.in_path());
    if path_secret.is_some() && !takes_path_secret {
        return Err(Error::NotFound {
            what: "route",
            id: format!("/v1/hooks/{source}/…"),
        });
    }
    match entry.form {
        SourceForm::Ical => {
            return Err(Error::Conflict(format!(
                "source `{source}` is a polled calendar feed, which receives no webhooks"
            )));
        }
        SourceForm::Reenio => {
            let reenio = settings(entry, entry.reenio.as_ref())?;
            return super::hooks_reenio::receive(app, source, reenio, headers, body).await;
        }
        _ => {}
    }
    require_media_type(headers, is_json, "application/json")?;
    let bytes = read_limited(headers, body, MAX_BODY_BYTES).await?;
    let accepted = match entry.form {
        SourceForm::Lodgify => receive_lodgify(app, entry, headers, &bytes).await?,
        SourceForm::Generic => receive_generic(app, entry, path_secret, headers, bytes).await?,
        _ => receive_canonical(app, entry, api_secrets, headers, &bytes).await?,
    };
    let status = match accepted {
        Accepted::Stored { .. } => StatusCode::ACCEPTED,
        Accepted::Duplicate | Accepted::Ignored => StatusCode::OK,
    };
    Ok((status, Json(accepted)).into_response())
}

fn settings<'a, T>(entry: &SourceEntry, settings: Option<&'a T>) -> Result<&'a T, Error> {
    settings.ok_or_else(|| {
        Error::config(format!(
            "source `{}` has no [sources.{}]",
            entry.name,
            entry.form.as_str()
        ))
    })
}

/// `api_secrets`: the live secrets of a source created through the API; a file source
/// has its one `secret`.
async fn receive_canonical(
    app: &App,
    entry: &SourceEntry,
    api_secrets: Option<&Vec<Secret>>,
    headers: &HeaderMap,
    bytes: &Bytes,
) -> Result<Accepted, Error> {
    let secrets: Vec<&str> = match api_secrets {
        Some(secrets) => secrets.iter().map(Secret::expose).collect(),
        None => vec![entry.canonical_secret()?],
    };
    let verified = signature::verify_any(&secrets, headers, bytes, app.clock.now())?;
    let event = canonical::parse(bytes)?;
    let raw = String::from_utf8_lossy(bytes);
    inbox::accept(app, &entry.name, &verified.webhook_id, &event, &raw).await
}

async fn receive_lodgify(
    app: &App,
    entry: &SourceEntry,
    headers: &HeaderMap,
    bytes: &Bytes,
) -> Result<Accepted, Error> {
    let s = settings(entry, entry.lodgify.as_ref())?;
    lodgify::verify(s, headers, bytes)?;
    let Some(event) = lodgify::map(&entry.name, s, &app.catalog.property, bytes)? else {
        metrics::webhook_received(&entry.name, WebhookOutcome::Ignored);
        return Ok(Accepted::Ignored);
    };
    let raw = String::from_utf8_lossy(bytes);
    let id = mapped::body_id(bytes);
    inbox::accept_mapped(app, &entry.name, Some(&id), &event, &raw).await
}

async fn receive_generic(
    app: &App,
    entry: &SourceEntry,
    path_secret: Option<&str>,
    headers: &HeaderMap,
    bytes: Bytes,
) -> Result<Accepted, Error> {
    let s = settings(entry, entry.generic.as_ref())?;
    let delivery = s
        .verify
        .verify(headers, &bytes, path_secret, app.clock.now())?;
    // A transform runs for up to the rules' deadline: off the async workers.
    let mapped = {
        let (s, bytes, property) = (s.clone(), bytes.clone(), app.catalog.property.clone());
        tokio::task::spawn_blocking(move || s.map(&bytes, &property))
            .await
            .map_err(|e| Error::internal_from("the mapping task failed", e))??
    };
    let Some(event) = mapped else {
        metrics::webhook_received(&entry.name, WebhookOutcome::Ignored);
        return Ok(Accepted::Ignored);
    };
    let raw = String::from_utf8_lossy(&bytes);
    let id = delivery.unwrap_or_else(|| mapped::body_id(&bytes));
    inbox::accept_mapped(app, &entry.name, Some(&id), &event, &raw).await
}
