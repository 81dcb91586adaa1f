//! The OpenAPI document's frame: title, tags, security schemes, and the answers every
//! authenticated operation may give (401, 403, 429), added here once instead of on each
//! handler.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, ResponseBuilder, SecurityRequirement};
use utoipa::{Modify, ToSchema};

use crate::error::Problem;

/// The document's frame; the paths come from the routers.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Latchkey API",
        description = "Door access for guests' reservations: the admin and front-desk API, \
            and the webhooks booking platforms and lock clouds send. Authenticate with an \
            API key (`Authorization: Bearer lk_…`) or a dashboard session cookie; writes \
            with a cookie carry its CSRF token in `X-CSRF-Token`. Errors are RFC 9457 \
            `application/problem+json`.",
    ),
    tags(
        (name = "reservations", description = "Reservations, their codes and messages"),
        (name = "locks", description = "Locks: status, activity, branches, actions"),
        (name = "codes", description = "Access codes across locks"),
        (name = "rules", description = "The workspace's rule: upload, validate, dry-run, activate"),
        (name = "plugins", description = "Partner plugins (WebAssembly components)"),
        (name = "sources", description = "Webhook sources and their secrets"),
        (name = "webhooks", description = "Webhooks in, from booking platforms and lock clouds"),
        (name = "operations", description = "Alerts, dead letters, the audit log"),
        (name = "access", description = "API keys, users, sessions"),
    ),
    components(schemas(Problem)),
)]
pub(super) struct ApiDoc;

/// Operations under these prefixes are authenticated by other means (a signature, a
/// password) or not at all.
const UNSECURED_PREFIXES: [&str; 4] = [
    "/v1/hooks/",
    "/v1/provider-hooks/",
    "/v1/session",
    "/v1/openapi",
];

/// Adds the security schemes, and to every authenticated operation its security
/// requirement and the answers it may give besides its own (401, 403, 429, and 400 where
/// it takes a query). Applied to the finished document: the routers bring the paths, so
/// a `#[openapi(modifiers)]` would run before there are any.
pub(super) struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `lk_…`, shown once when created"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("latchkey_session"))),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            if !path.starts_with("/v1/") || UNSECURED_PREFIXES.iter().any(|p| path.starts_with(p)) {
                continue;
            }
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                operation.security = Some(vec![
                    SecurityRequirement::new("api_key", Vec::<String>::new()),
                    SecurityRequirement::new("session", Vec::<String>::new()),
                ]);
                let has_query = operation
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Query);
                if has_query {
                    operation
                        .responses
                        .responses
                        .entry("400".to_owned())
                        .or_insert_with(|| {
                            problem_response("A query parameter that does not parse")
                        });
                }
                for (status, description) in [
                    ("401", "No credentials, or unknown, revoked or expired ones"),
                    (
                        "403",
                        "The caller's role may not do this (or a cookie write without its CSRF token)",
                    ),
                    (
                        "429",
                        "The key's rate limit: wait for `Retry-After` seconds",
                    ),
                ] {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| problem_response(description));
                }
            }
        }
    }
}

/// A problem+json answer with `description`.
pub(super) fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                        Problem::name(),
                    ))))
                    .build(),
            )
            .build(),
    )
}
