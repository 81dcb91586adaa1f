//! The HTTP API: one module per resource, each with its own routes and their OpenAPI
//! description (`#[utoipa::path]` on every handler), gathered into one OpenAPI 3.1
//! document served at `/v1/openapi.json`, with Swagger UI at `/v1/docs`.
//!
//! Two groups: the API proper, behind [`authenticate::authenticate`] (keys,
//! sessions, the rate limit, CSRF, the audit log), and the routes that authenticate
//! otherwise or not at all (webhooks by signature; the guest's page by its signed link;
//! health, readiness, metrics).

mod access;
mod accounts;
mod alerts;
mod authenticate;
mod body;
mod codes;
mod extract;
mod guest_page;
mod hooks;
mod hooks_reenio;
mod instance;
mod jobs;
mod locks_admin;
mod monitoring;
mod openapi;
mod ops;
mod plugins;
mod provider_hooks;
mod reservations;
mod rules;
mod sources;
mod staff;
mod workspace;

/// The dashboard's files: public routes, outside the API.
mod dashboard;

use axum::Router;
use axum::extract::OriginalUri;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::App;
use crate::error::Error;
use authenticate::authenticate;

/// The router serving every route, for `serve`, `replay` and tests alike.
pub fn router(app: App) -> Router {
    let api = OpenApiRouter::new()
        .merge(access::routes())
        .merge(workspace::routes())
        .merge(reservations::routes())
        .merge(codes::routes())
        .merge(monitoring::routes())
        .merge(locks_admin::routes())
        .merge(alerts::routes())
        .merge(jobs::routes())
        .merge(accounts::routes())
        .merge(staff::routes())
        .merge(plugins::routes())
        .merge(rules::routes())
        .merge(sources::routes())
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            authenticate,
        ));
    let (routes, mut doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(api)
        .merge(ops::routes())
        .split_for_parts();
    utoipa::Modify::modify(&openapi::Security, &mut doc);
    let router = Router::new()
        .merge(routes)
        .merge(hooks::routes())
        .merge(provider_hooks::routes())
        .merge(dashboard::routes())
        .merge(guest_page::routes())
        .merge(SwaggerUi::new("/v1/docs").url("/v1/openapi.json", doc))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(instance::set_instance))
        .with_state(app);
    crate::telemetry::layers(router)
}

async fn not_found(OriginalUri(uri): OriginalUri) -> Error {
    Error::NotFound {
        what: "route",
        id: uri.path().to_owned(),
    }
}
