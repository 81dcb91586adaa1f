//! Operations: liveness (`/healthz`), readiness (`/readyz`), Prometheus metrics
//! (`/metrics`). All three are public: a load balancer or a scraper calls them without a
//! key.

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json};
use latchkey_store::{self as store, Backend};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::App;

/// How long `/readyz` waits for the database, in seconds, before calling it unreachable
/// (a pool at its limit would otherwise hold the probe for the pool's own timeout).
const READY_TIMEOUT_SECS: u64 = 2;

/// The exposition format's media type (Prometheus text format 0.0.4).
const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// The process is up.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

/// Whether the service can serve: its database answers and holds every migration this
/// binary embeds.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `unavailable` (then the answer is 503).
    pub status: String,
    /// `ok`, or why the database did not answer.
    pub database: String,
    /// The migrations' state; absent when the database did not answer.
    pub migrations: Option<Migrations>,
}

/// The embedded migrations compared with the database's `_sqlx_migrations`.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Migrations {
    /// How many migrations this binary embeds.
    pub embedded: usize,
    /// How many of them the database records as applied successfully.
    pub applied: usize,
    /// Embedded but not recorded: the schema is older than the binary.
    pub missing: Vec<MigrationRef>,
    /// Recorded as started but not finished.
    pub failed: Vec<MigrationRef>,
    /// Recorded with another checksum: the file changed after it was applied.
    pub modified: Vec<MigrationRef>,
}

/// One migration.
#[derive(Debug, Serialize, ToSchema)]
pub struct MigrationRef {
    /// Its version (the file name's number).
    pub version: i64,
    /// Its description (the file name's words).
    pub description: String,
}

/// Liveness: the process answers. Touches no database, so a slow disk never gets the
/// process restarted.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The process is up", body = Health)),
)]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: 200 when the database answers and every migration this binary embeds is
/// applied; 503 otherwise, saying what is wrong.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "The database does not answer, or its schema is not this binary's", body = Readiness),
    ),
)]
async fn readyz(State(app): State<App>) -> (StatusCode, Json<Readiness>) {
    let checked = tokio::time::timeout(
        Duration::from_secs(READY_TIMEOUT_SECS),
        check_migrations(&app.pool),
    )
    .await
    .unwrap_or_else(|_| Err(format!("no answer within {READY_TIMEOUT_SECS} s")));
    let readiness = match checked {
        Ok(migrations) => {
            let ready = migrations.missing.is_empty()
                && migrations.failed.is_empty()
                && migrations.modified.is_empty();
            Readiness {
                status: if ready { "ready" } else { "unavailable" }.into(),
                database: "ok".into(),
                migrations: Some(migrations),
            }
        }
        Err(error) => Readiness {
            status: "unavailable".into(),
            database: error,
            migrations: None,
        },
    };
    let status = if readiness.status == "ready" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness))
}

/// Compares the embedded migrations with those the database records. The error is the
/// database's, for the answer.
async fn check_migrations(pool: &store::Pool) -> Result<Migrations, String> {
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    // The embedded set `store::open` applied: the same backend's migrations.
    let migrator = Backend::of(&conn).migrator();
    // SQLite declares `success` BOOLEAN, a type the Any driver does not carry: read it
    // as an integer on both databases.
    let rows = sqlx::query(
        "SELECT version, CAST(success AS INTEGER) AS success, checksum FROM _sqlx_migrations",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| e.to_string())?;
    let mut recorded = std::collections::HashMap::new();
    for row in rows {
        let version: i64 = row.try_get("version").map_err(|e| e.to_string())?;
        let success = row
            .try_get::<i64, _>("success")
            .map_err(|e| e.to_string())?
            != 0;
        let checksum: Vec<u8> = row.try_get("checksum").map_err(|e| e.to_string())?;
        recorded.insert(version, (success, checksum));
    }
    let mut report = Migrations::default();
    for migration in migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
    {
        report.embedded += 1;
        let this = || MigrationRef {
            version: migration.version,
            description: migration.description.to_string(),
        };
        match recorded.get(&migration.version) {
            None => report.missing.push(this()),
            Some((false, _)) => report.failed.push(this()),
            Some((true, checksum)) if *checksum != *migration.checksum => {
                report.modified.push(this());
            }
            Some(_) => report.applied += 1,
        }
    }
    Ok(report)
}

/// Prometheus metrics in the text exposition format: webhooks by outcome, rule
/// evaluations and their latency by runtime, job runs by state, provider calls by outcome
/// and latency, alerts by kind (see `telemetry::metrics` for every name).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "The metrics", body = String, content_type = "text/plain; version=0.0.4")),
)]
async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        crate::telemetry::metrics::render(),
    )
}
