//! The host's one error type, and its HTTP form: RFC 9457 `application/problem+json`.
//!
//! Handlers and store functions return [`Error`]. Client errors carry a message meant for
//! the caller; internal errors (database, bugs) are logged once with their cause and
//! answered with a generic text, so nothing internal leaks.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error underneath one of ours, kept as the `source` of the chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong while serving a request or running a job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No webhook source with this name is configured.
    #[error("no webhook source named `{0}` is configured")]
    UnknownSource(String),
    /// The request is not authentic: bad or missing signature, or a timestamp out of range.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller is authenticated but their role may not do this.
    #[error("the `{role}` role may not {action}")]
    Forbidden {
        /// The caller's role.
        role: latchkey_engine::Role,
        /// What was refused, e.g. `administer the workspace`.
        action: &'static str,
    },
    /// A write made with a session cookie lacks the session's CSRF token.
    #[error("a write made with the session cookie must carry its CSRF token in `X-CSRF-Token`")]
    Csrf,
    /// The caller sent more requests than their key's rate allows.
    #[error("too many requests: retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a request will be accepted again.
        retry_after_secs: u64,
    },
    /// The body is larger than the limit.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The content type is not one the route accepts.
    #[error("content type `{got}` is not accepted; send {expected}")]
    UnsupportedMediaType {
        /// The content type received.
        got: String,
        /// What the route takes.
        expected: &'static str,
    },
    /// A query string or path parameter that does not parse.
    #[error("{0}")]
    BadRequest(String),
    /// The body parsed but does not match the schema.
    #[error("{detail}")]
    Invalid {
        /// JSON Pointer (RFC 6901) to the offending field, e.g. `/data/check_in`.
        pointer: String,
        /// What is wrong with it.
        detail: String,
    },
    /// An uploaded plugin was refused; `code` says why: `invalid-name`, `not-a-component`,
    /// `forbidden-import`, `wrong-world` or `smoke-test-failed`.
    #[error("{detail}")]
    PluginRefused {
        /// Stable machine code.
        code: &'static str,
        /// What is wrong, for the plugin's author.
        detail: String,
    },
    /// Something named in the request does not exist.
    #[error("{what} `{id}` was not found")]
    NotFound {
        /// Kind of thing (`reservation`, `job`).
        what: &'static str,
        /// Its identifier.
        id: String,
    },
    /// A request that cannot be carried out in the current state.
    #[error("{0}")]
    Conflict(String),
    /// A lock's cloud refused or failed a call made on a person's behalf.
    #[error("{0}")]
    Upstream(String),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The schema could not be migrated.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Configuration is invalid. Build it with [`Error::config`] or [`Error::config_from`].
    #[error("{context}")]
    Config {
        /// What is wrong, naming the key or file.
        context: String,
        /// The error underneath, when there is one (a file that does not parse, a URL
        /// refused); printed after `context` by `{:#}` and logged with it.
        #[source]
        source: Option<BoxError>,
    },
    /// A bug or an impossible state. Build it with [`Error::internal`] or
    /// [`Error::internal_from`].
    #[error("internal error: {context}")]
    Internal {
        /// What was being done.
        context: String,
        /// The error underneath, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// A job's lease ran out and another worker claimed it; what this holder did under
    /// the lease must be rolled back (see `latchkey_store::jobs::Lease`).
    #[error("job {job} was claimed again after attempt {attempt}'s lease ran out")]
    LeaseLost {
        /// The job.
        job: i64,
        /// The attempt whose lease was lost.
        attempt: i64,
    },
}

impl From<latchkey_store::error::Error> for Error {
    fn from(e: latchkey_store::error::Error) -> Error {
        use latchkey_store::error::Error as Store;
        match e {
            Store::Database(e) => Error::Database(e),
            Store::Migrate(e) => Error::Migrate(e),
            Store::Corrupt(what) => Error::internal(what),
            Store::Conflict(what) => Error::Conflict(what),
            Store::LeaseLost { job, attempt } => Error::LeaseLost { job, attempt },
        }
    }
}

impl From<latchkey_sources::Error> for Error {
    fn from(e: latchkey_sources::Error) -> Error {
        use latchkey_sources::Error as Source;
        match e {
            Source::Unauthorized(why) => Error::Unauthorized(why),
            Source::Invalid { pointer, detail } => Error::Invalid { pointer, detail },
            Source::Config(what) => Error::config(what),
        }
    }
}

impl From<latchkey_engine::json::Invalid> for Error {
    fn from(e: latchkey_engine::json::Invalid) -> Error {
        Error::Invalid {
            pointer: e.pointer,
            detail: e.detail,
        }
    }
}

impl Error {
    /// Invalid configuration, with nothing underneath: `context` names the key or file and
    /// says what is wrong.
    pub fn config(context: impl Into<String>) -> Error {
        Error::Config {
            context: context.into(),
            source: None,
        }
    }

    /// Invalid configuration because of `source`: `context` names the key or file.
    pub fn config_from(context: impl Into<String>, source: impl Into<BoxError>) -> Error {
        Error::Config {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// A bug or an impossible state, with nothing underneath.
    pub fn internal(context: impl Into<String>) -> Error {
        Error::Internal {
            context: context.into(),
            source: None,
        }
    }

    /// A bug or an impossible state because of `source`: `context` says what was being
    /// done.
    pub fn internal_from(context: impl Into<String>, source: impl Into<BoxError>) -> Error {
        Error::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::UnknownSource(_) | Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden { .. } | Error::Csrf => StatusCode::FORBIDDEN,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Upstream(_) => StatusCode::BAD_GATEWAY,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Invalid { .. } | Error::PluginRefused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Database(sqlx::Error::PoolTimedOut) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Database(_)
            | Error::Migrate(_)
            | Error::Config { .. }
            | Error::Internal { .. }
            | Error::LeaseLost { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine-readable code, also the last segment of the problem `type`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnknownSource(_) => "unknown-source",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden { .. } => "forbidden",
            Error::Csrf => "csrf",
            Error::BadRequest(_) => "bad-request",
            Error::Upstream(_) => "provider-failed",
            Error::RateLimited { .. } => "rate-limited",
            Error::PayloadTooLarge { .. } => "payload-too-large",
            Error::UnsupportedMediaType { .. } => "unsupported-media-type",
            Error::Invalid { .. } => "invalid-body",
            Error::PluginRefused { code, .. } => code,
            Error::NotFound { .. } => "not-found",
            Error::Conflict(_) => "conflict",
            Error::Database(sqlx::Error::PoolTimedOut) => "unavailable",
            Error::Database(_)
            | Error::Migrate(_)
            | Error::Config { .. }
            | Error::Internal { .. }
            | Error::LeaseLost { .. } => "internal",
        }
    }

    /// The RFC 9457 body for this error, without `instance` (the router sets it to the
    /// request's path on the way out). An internal error is logged here, with its cause,
    /// and its body says only that it was logged.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let internal = matches!(
            self,
            Error::Database(_)
                | Error::Migrate(_)
                | Error::Config { .. }
                | Error::Internal { .. }
                | Error::LeaseLost { .. }
        );
        let detail = if internal {
            tracing::error!(error = ?self, "request failed");
            "the server could not complete the request; it has been logged".to_owned()
        } else {
            self.to_string()
        };
        Problem {
            kind: format!("urn:latchkey:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            instance: None,
            code: self.code(),
            pointer: match self {
                Error::Invalid { pointer, .. } => Some(pointer.clone()),
                _ => None,
            },
            retry_after_secs: match self {
                Error::RateLimited { retry_after_secs } => Some(*retry_after_secs),
                _ => None,
            },
        }
    }
}

/// An RFC 9457 problem document, plus a stable `code` and, for schema errors, a JSON
/// `pointer` to the offending field.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// URI naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary (the HTTP reason phrase).
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Human-readable explanation of this occurrence.
    pub detail: String,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Stable machine code.
    pub code: &'static str,
    /// JSON Pointer to the field at fault (422 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Seconds to wait before retrying (429 only), also sent as `Retry-After`.
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let retry_after = self.retry_after_secs;
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// The answer to a failed request: its problem document, which also rides along in the
/// response's extensions so that the router's outermost layer can name the request in
/// `instance` (the handlers need not know their path).
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let mut response = problem.clone().into_response();
        response.extensions_mut().insert(problem);
        response
    }
}

/// `error` and every cause under it, as `{:#}` prints an `anyhow` chain: `context: cause:
/// …`. For logs, where the whole chain must show.
pub fn display_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// Shorthand for host results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
