//! What the service tells its operators: Prometheus metrics ([`metrics`]), structured logs
//! ([`init_logging`]), and a request id on every HTTP request ([`layers`]).
//!
//! Logs never carry request or response headers (they hold API keys, session cookies,
//! CSRF tokens and webhook signatures), and a request's path is logged as its route
//! (`/v1/hooks/{source}/{secret}`), never as sent, since some sources carry their secret
//! in the path.

pub mod metrics;

use axum::Router;
use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{HeaderName, HeaderValue, Request};
use tower::ServiceBuilder;
use tower::util::MapRequestLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use tracing_subscriber::EnvFilter;

/// The header carrying a request's id, in both directions.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest request id kept from a client, in bytes; a longer one is replaced.
pub const MAX_REQUEST_ID_BYTES: usize = 128;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, with the spans (and so the request id) it happened in.
    #[default]
    Json,
    /// Human-readable lines.
    Text,
}

/// Installs the process's log subscriber, writing to standard error in `format`.
/// `RUST_LOG` overrides `default_filter` (an `EnvFilter` directive such as
/// `info,sqlx=warn`).
pub fn init_logging(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        // The span list, not just the current span: a handler's own span would otherwise
        // hide the request's id.
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .init(),
        LogFormat::Text => builder.init(),
    }
}

/// Wraps `router` so that every request has an id (the client's `x-request-id` when it is
/// short and plain, else a new UUID), echoed in the response, and runs in a `request`
/// span with its method, route and id; each response is logged at INFO with its status
/// and latency. Also installs the metrics recorder, so that the router's first request
/// is already counted.
pub fn layers(router: Router) -> Router {
    metrics::install();
    let header = HeaderName::from_static(REQUEST_ID_HEADER);
    router.layer(
        ServiceBuilder::new()
            .layer(MapRequestLayer::new(drop_unfit_request_id))
            .layer(SetRequestIdLayer::new(header.clone(), MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::new(header)),
    )
}

/// Removes a client's request id that is too long or holds anything beyond letters,
/// digits and `-_.:/+=@`, so that a new one is made: the id lands in every log line of
/// the request.
fn drop_unfit_request_id(mut request: Request<Body>) -> Request<Body> {
    let fit = |v: &HeaderValue| {
        let bytes = v.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID_BYTES
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(b))
    };
    let keep = {
        let mut values = request.headers().get_all(REQUEST_ID_HEADER).iter();
        match (values.next(), values.next()) {
            (None, _) => true,
            (Some(v), None) => fit(v),
            // Two ids: neither can be trusted to be the one the client logs.
            (Some(_), Some(_)) => false,
        }
    };
    if !keep {
        request.headers_mut().remove(REQUEST_ID_HEADER);
    }
    request
}

fn request_span(request: &Request<Body>) -> tracing::Span {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // An unmatched path (a 404) matched no route with a secret in it.
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| request.uri().path(), MatchedPath::as_str);
    tracing::info_span!(
        "request",
        method = %request.method(),
        path,
        request_id = id,
    )
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, PoisonError};

    use axum::routing::post;
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;

    /// Log output kept in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn log_lines_carry_the_request_id_and_route_and_never_a_secret() {
        let captured = Captured::default();
        let writer = captured.clone();
        // Every level: no secret may appear even in a debug line.
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .with_max_level(Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let router = layers(Router::new().route(
            "/v1/hooks/{source}/{secret}",
            post(|| async {
                tracing::info!("handled");
                "ok"
            }),
        ));
        let secrets = [
            "s3cr3t-in-path",
            "lk_topsecret",
            "cookie-secret",
            "csrf-secret",
            "v1,signature-secret",
        ];
        let request = Request::post(format!("/v1/hooks/demo/{}", secrets[0]))
            .header("authorization", format!("Bearer {}", secrets[1]))
            .header("cookie", format!("latchkey_session={}", secrets[2]))
            .header("x-csrf-token", secrets[3])
            .header("webhook-signature", secrets[4])
            .header(REQUEST_ID_HEADER, "req-42")
            .body(Body::empty())
            .expect("request");
        let response = router.oneshot(request).await.expect("answer");
        assert_eq!(response.headers()[REQUEST_ID_HEADER], "req-42");

        let logs = String::from_utf8(captured.0.lock().expect("log").clone()).expect("UTF-8");
        let lines: Vec<Value> = logs
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        let in_request = |message: &str| {
            lines
                .iter()
                .find(|l| l["fields"]["message"] == message)
                .unwrap_or_else(|| panic!("no {message:?} line in {logs}"))
                .clone()
        };
        let handled = in_request("handled");
        let span = &handled["spans"][0];
        assert_eq!(span["name"], "request", "{handled}");
        assert_eq!(span["request_id"], "req-42");
        assert_eq!(span["method"], "POST");
        assert_eq!(span["path"], "/v1/hooks/{source}/{secret}");
        let finished = in_request("finished processing request");
        assert_eq!(finished["level"], "INFO");
        assert_eq!(finished["fields"]["status"], 200);
        assert_eq!(finished["spans"][0]["request_id"], "req-42");
        for secret in secrets {
            assert!(!logs.contains(secret), "{secret} logged: {logs}");
        }
    }
}
