//! Operations: liveness and readiness.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Json;
use axum::routing::get;
use serde_json::{Value, json};

use crate::app::App;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

async fn ready(State(app): State<App>) -> (StatusCode, Json<Value>) {
    match sqlx::query("SELECT 1").execute(&app.pool).await {
        Ok(_) => (StatusCode::OK, Json(json!({ "database": "ok" }))),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "database": e.to_string() })),
        ),
    }
}
