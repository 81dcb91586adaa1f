//! Lock administration routes: branch assignment and PIN regeneration (work in progress).

use axum::Router;

use crate::app::App;

/// The routes.
pub fn routes() -> Router<App> {
    Router::new()
}
