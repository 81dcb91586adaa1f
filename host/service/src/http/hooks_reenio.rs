//! `POST /v1/hooks/{source}` for a source of the `reenio` form (platforms.md §1.2–1.4,
//! §5): answers `200 text/plain REENIO`, which is the only answer reenio counts as
//! delivered.
//!
//! Checks, in order: the body is JSON (415) and at most [`MAX_BODY_BYTES`] (413); the
//! setup probe `{}` is answered at once, without the secret and without a trace; then
//! the secret header (401), the hook named by `x-latchkey-hook` (404), and the body (422).
//! The delivery is on disk before the answer; no API call is made before it.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::body::{is_json, read_limited, require_media_type};
use super::hooks::MAX_BODY_BYTES;
use crate::app::App;
use crate::error::Error;
use crate::inbox::reenio::{self as accept, Accepted};
use latchkey_sources::reenio::wire::{self, WebhookBody};
use latchkey_sources::reenio::{DEFAULT_HOOK, HOOK_HEADER, ReenioSettings, triggers};

/// The body reenio requires of a successful answer (RW).
const ACK_BODY: &str = "REENIO";

pub(super) async fn receive(
    app: &App,
    source: &str,
    settings: &ReenioSettings,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    require_media_type(headers, is_json, "application/json")?;
    let bytes = read_limited(headers, body, MAX_BODY_BYTES).await?;
    if wire::is_probe(&bytes) {
        return Ok(acknowledged());
    }
    authenticate(settings, headers)?;
    let hook = hook(settings, headers)?;
    let delivery = WebhookBody::parse(&bytes)?;
    let target = triggers::resolve(&settings.hooks, hook, delivery.trigger_type);
    let raw = String::from_utf8_lossy(&bytes);
    match accept::accept(app, source, hook, target, &delivery, &raw).await? {
        Accepted::Duplicate => tracing::debug!(source, hook, "reenio delivery repeated"),
        Accepted::Stored { delivery } | Accepted::Ignored { delivery } => {
            tracing::debug!(source, hook, delivery, "reenio delivery stored");
        }
    }
    Ok(acknowledged())
}

fn acknowledged() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        ACK_BODY,
    )
        .into_response()
}

/// Accepts the request when its secret header holds one of the source's secrets
/// (compared in constant time; `Authorization` may carry it after `Bearer `).
fn authenticate(settings: &ReenioSettings, headers: &HeaderMap) -> Result<(), Error> {
    let given = headers
        .get(settings.header.as_str())
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or_else(|| {
            Error::Unauthorized(format!("the `{}` header is missing", settings.header))
        })?;
    let given = given.strip_prefix("Bearer ").unwrap_or(given);
    // Every secret is compared, so the time taken does not tell which one matched.
    let matched = settings.secrets.iter().fold(false, |any, secret| {
        constant_time_eq::constant_time_eq(given.as_bytes(), secret.expose().as_bytes()) | any
    });
    if matched {
        Ok(())
    } else {
        Err(Error::Unauthorized(format!(
            "the `{}` header does not hold the source's secret",
            settings.header
        )))
    }
}

/// The hook the delivery names; an undeclared one is refused so that a typo in reenio's
/// header is seen, not silently mapped by the defaults.
fn hook<'a>(settings: &ReenioSettings, headers: &'a HeaderMap) -> Result<&'a str, Error> {
    let Some(value) = headers.get(HOOK_HEADER) else {
        return Ok(DEFAULT_HOOK);
    };
    let name = value.to_str().map(str::trim).unwrap_or_default();
    if name == DEFAULT_HOOK || settings.hooks.contains_key(name) {
        Ok(name)
    } else {
        Err(Error::NotFound {
            what: "reenio hook",
            id: name.to_owned(),
        })
    }
}
