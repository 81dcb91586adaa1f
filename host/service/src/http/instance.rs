//! The problem+json `instance` of every error answer, set in one place: the request's
//! path, with each path parameter that carries a secret (a webhook source's URL secret, a
//! cloud's callback token) replaced by `…`, so that an answer never echoes one.

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::Problem;

/// Path parameters whose value is a secret, as the routes name them.
const SECRET_PARAMETERS: [&str; 2] = ["{secret}", "{token}"];

/// Middleware: fills `instance` in the problem an error answer carries (see
/// [`crate::error::Error`]'s `IntoResponse`) and re-encodes the body; other answers pass
/// untouched.
pub(super) async fn set_instance(request: Request, next: Next) -> Response {
    let instance = instance_of(
        request.uri().path(),
        request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
    );
    let mut response = next.run(request).await;
    let Some(mut problem) = response.extensions_mut().remove::<Problem>() else {
        return response;
    };
    problem.instance = Some(instance);
    match serde_json::to_vec(&problem) {
        Ok(body) => {
            response.headers_mut().remove(header::CONTENT_LENGTH);
            *response.body_mut() = Body::from(body);
        }
        // The body without `instance` is still a valid problem; keep it.
        Err(e) => tracing::error!(error = %e, "could not re-encode a problem document"),
    }
    response
}

/// `path` with the segments that `route` (the matched route's template, if any) names as
/// secrets replaced by `…`.
fn instance_of(path: &str, route: Option<&str>) -> String {
    let Some(route) = route else {
        return path.to_owned();
    };
    if !SECRET_PARAMETERS.iter().any(|p| route.contains(p)) {
        return path.to_owned();
    }
    let template: Vec<&str> = route.split('/').collect();
    let segments: Vec<&str> = path.split('/').collect();
    if template.len() != segments.len() {
        // Only a wildcard route can differ in length, and none carries a secret.
        return path.to_owned();
    }
    segments
        .iter()
        .zip(&template)
        .map(|(segment, part)| {
            if SECRET_PARAMETERS.contains(part) {
                "…"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::instance_of;

    #[test]
    fn secrets_in_the_path_are_never_echoed() {
        assert_eq!(
            instance_of("/v1/hooks/acme/s3cr3t", Some("/v1/hooks/{source}/{secret}")),
            "/v1/hooks/acme/…"
        );
        assert_eq!(
            instance_of(
                "/v1/provider-hooks/ttlock-main/t0k3n",
                Some("/v1/provider-hooks/{account}/{token}")
            ),
            "/v1/provider-hooks/ttlock-main/…"
        );
    }

    #[test]
    fn other_paths_are_kept_as_sent() {
        assert_eq!(
            instance_of("/v1/reservations/r-1", Some("/v1/reservations/{id}")),
            "/v1/reservations/r-1"
        );
        assert_eq!(instance_of("/nowhere", None), "/nowhere");
    }
}
