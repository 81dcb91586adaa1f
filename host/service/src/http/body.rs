//! Request bodies: the media type a route accepts, and a size limit enforced before the
//! body is read where the client declares its length.

use axum::body::{Body, Bytes, to_bytes};
use axum::http::{HeaderMap, header};

use crate::error::Error;

/// Checks the request's media type (without parameters, case-insensitively) with
/// `accepts`; `expected` names what the route takes, for the error.
///
/// # Errors
/// [`Error::UnsupportedMediaType`].
pub(super) fn require_media_type(
    headers: &HeaderMap,
    accepts: impl Fn(&str) -> bool,
    expected: &'static str,
) -> Result<(), Error> {
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
    if accepts(&essence) {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType {
            got: if content_type.is_empty() {
                "(none)".into()
            } else {
                content_type.into()
            },
            expected,
        })
    }
}

/// JSON, including `application/*+json`.
pub(super) fn is_json(essence: &str) -> bool {
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads at most `limit` bytes of `body`; a declared `Content-Length` over the limit is
/// refused before anything is read.
///
/// # Errors
/// [`Error::PayloadTooLarge`].
pub(super) async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, Error> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(Error::PayloadTooLarge { limit });
    }
    to_bytes(body, limit)
        .await
        .map_err(|_| Error::PayloadTooLarge { limit })
}

/// A JSON request body of at most `LIMIT` bytes, decoded into `T`: put it last among a
/// handler's extractors.
///
/// Rejections (problem+json): 415 for a body that is not JSON, 413 above `LIMIT`, 422
/// with a `pointer` to the field that does not match `T`.
#[derive(Debug)]
pub(super) struct JsonBody<T, const LIMIT: usize = 65_536>(pub T);

impl<T, S, const LIMIT: usize> axum::extract::FromRequest<S> for JsonBody<T, LIMIT>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(request: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        json_body(&parts.headers, body, LIMIT).await.map(JsonBody)
    }
}

/// A JSON request body of at most `limit` bytes, decoded as a `T`: what every admin route
/// with a JSON body checks, in order (415, 413, 422 with a pointer).
///
/// # Errors
/// [`Error::UnsupportedMediaType`], [`Error::PayloadTooLarge`], [`Error::Invalid`].
async fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<T, Error> {
    require_media_type(headers, is_json, "application/json")?;
    let bytes = read_limited(headers, body, limit).await?;
    crate::json::decode(&bytes)
}
