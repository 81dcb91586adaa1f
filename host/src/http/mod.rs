//! The HTTP API: one module per resource, each with its own routes and their OpenAPI
//! description (`#[utoipa::path]` on every handler), gathered into one OpenAPI 3.1
//! document served at `/v1/openapi.json`, with Swagger UI at `/v1/docs`.

mod accounts;
mod body;
mod hooks;
mod hooks_reenio;
mod locks_admin;
mod monitoring;
mod openapi;
mod ops;
mod plugins;
mod provider_hooks;
mod reservations;
mod staff;

/// The dashboard's files: public routes, outside the API.
mod dashboard;

use axum::Router;
use axum::extract::OriginalUri;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::App;
use crate::error::{Error, ErrorAt};

/// The router serving every route, for `serve`, `replay` and tests alike.
pub fn router(app: App) -> Router {
    let (api, doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(reservations::routes())
        .split_for_parts();
    Router::new()
        .merge(api)
        .merge(hooks::routes())
        .merge(accounts::routes())
        .merge(provider_hooks::routes())
        .merge(dashboard::routes())
        .merge(ops::routes())
        .merge(plugins::routes())
        .merge(locks_admin::routes())
        .merge(monitoring::routes())
        .merge(staff::routes())
        .merge(SwaggerUi::new("/v1/docs").url("/v1/openapi.json", doc))
        .fallback(not_found)
        .with_state(app)
}

async fn not_found(OriginalUri(uri): OriginalUri) -> ErrorAt {
    ErrorAt(
        Error::NotFound {
            what: "route",
            id: uri.path().to_owned(),
        },
        uri.path().to_owned(),
    )
}
