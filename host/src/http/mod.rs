//! The HTTP API: one module per resource, each with its own routes.

mod accounts;
mod body;
mod hooks;
mod hooks_reenio;
mod locks_admin;
mod monitoring;
mod ops;
mod plugins;
mod provider_hooks;
mod reservations;
mod staff;

use axum::Router;
use axum::extract::OriginalUri;

use crate::app::App;
use crate::error::{Error, ErrorAt};

/// The router serving every route, for `serve`, `replay` and tests alike.
pub fn router(app: App) -> Router {
    Router::new()
        .merge(hooks::routes())
        .merge(accounts::routes())
        .merge(provider_hooks::routes())
        .merge(reservations::routes())
        .merge(ops::routes())
        .merge(plugins::routes())
        .merge(locks_admin::routes())
        .merge(monitoring::routes())
        .merge(staff::routes())
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
