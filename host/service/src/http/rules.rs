//! The workspace's rule over HTTP: upload Rhai versions (every one is kept), validate,
//! dry-run, activate, and see which rule plans now.
//!
//! - `POST /v1/rules/validate` `{source}`: whether it compiles, with the error's line and
//!   column.
//! - `POST /v1/rules` `{source}`: 201 with the stored version; 422 (pointer `/source`)
//!   when it does not compile.
//! - `GET /v1/rules`: the active rule (the property's file, a Rhai version or a plugin)
//!   and the versions, newest first; `GET /v1/rules/{id}` one version with its source.
//! - `POST /v1/rules/dry-run`: a rule (given, stored, or the active one) evaluated on a
//!   stored reservation or a sample input; the plan and the input. Writes nothing.
//! - `POST /v1/rules/{id}/activate`: the version becomes the workspace's rule, survives a
//!   restart, and every open reservation is re-planned.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use latchkey_engine::rules::rhai::RhaiRule;
use latchkey_engine::rules::{self, Plan, Rule, RuleError, RuleInput};
use latchkey_store::reservations;
use latchkey_store::rule_versions::{self, RuleVersion};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::body::JsonBody;
use crate::app::App;
use crate::auth::Authorized;
use crate::auth::permission::Administer;
use crate::error::{Error, Problem, Result};
use crate::planner::RuleSource;
use crate::plugins;

/// Largest rule source accepted, in bytes (256 KiB).
pub const MAX_SOURCE_BYTES: usize = 256 * 1024;

/// Largest request body, in bytes: a source at the limit, escaped as JSON (a newline or a
/// quote takes two bytes), with a sample input beside it.
const MAX_BODY_BYTES: usize = 2 * MAX_SOURCE_BYTES + 64 * 1024;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list, upload))
        .routes(routes!(show))
        .routes(routes!(validate))
        .routes(routes!(dry_run))
        .routes(routes!(activate))
}

/// A Rhai rule's source.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceIn {
    /// The script: defines `fn plan(input)` (see docs/rules.md).
    pub source: String,
}

/// Whether a source compiles.
#[derive(Debug, Serialize, ToSchema)]
pub struct Validation {
    /// True when it compiles under the rule limits.
    pub valid: bool,
    /// Why not (Rhai reports the first error only).
    pub errors: Vec<CompileError>,
}

/// A compile error, with its position when the compiler gives one.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompileError {
    /// Line, from 1.
    pub line: Option<u32>,
    /// Column (character in the line), from 1.
    pub column: Option<u32>,
    /// What is wrong.
    pub message: String,
}

/// The rule the workspace plans with now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActiveView {
    /// `file` (the property's rule file), `rhai` (a version uploaded here) or `plugin`.
    pub kind: &'static str,
    /// The Rhai version's id or the plugin's version; `null` for the file.
    pub version: Option<i64>,
    /// The file's path, the plugin's name, or `version N`.
    pub name: String,
    /// When activated, Unix seconds UTC; `null` for the file.
    pub activated_at: Option<i64>,
    /// The Rhai source the workspace plans with (the file's, or the version's), for an
    /// editor to start from; `null` for a plugin.
    pub source: Option<String>,
}

/// A stored rule version.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    /// Its id.
    pub id: i64,
    /// When uploaded, Unix seconds UTC.
    pub created_at: i64,
    /// Who uploaded it (`key:<name>`, `user:<name>`).
    pub created_by: String,
    /// When last activated, Unix seconds UTC; `null` when never.
    pub activated_at: Option<i64>,
    /// Whether it compiles under the current rule limits.
    pub valid: bool,
    /// Whether the workspace plans with it now.
    pub active: bool,
    /// SHA-256 of the source, lower-case hex.
    pub sha256: String,
}

/// A stored rule version with its source.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionWithSource {
    /// The version.
    #[serde(flatten)]
    pub version: VersionView,
    /// Its source.
    pub source: String,
}

/// The active rule and the stored versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesView {
    /// What plans now.
    pub active: ActiveView,
    /// Every uploaded version, newest first.
    pub versions: Vec<VersionView>,
}

/// The answer to an activation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Activated {
    /// What plans now.
    pub active: ActiveView,
}

/// What to dry-run: a rule (`source`, or a stored `version`, or the active rule when
/// neither) on an input (a stored `reservation`, or a sample `input`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunIn {
    /// A Rhai source to try.
    #[serde(default)]
    pub source: Option<String>,
    /// A stored version's id.
    #[serde(default)]
    pub version: Option<i64>,
    /// A stored reservation's id: the input is the one the reconciler would build now.
    #[serde(default)]
    pub reservation: Option<String>,
    /// A sample input, in the rule input's schema (docs/rules.md).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub input: Option<RuleInput>,
}

/// A dry-run's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct DryRunOut {
    /// The plan: grants (lock, `starts_at`, `ends_at`, `issue_at`) and `notify`; grants on
    /// unassigned locks removed, as the reconciler removes them.
    #[schema(value_type = Object)]
    pub plan: Plan,
    /// The input the rule was given.
    #[schema(value_type = Object)]
    pub input: RuleInput,
    /// Lines the rule logged.
    pub log: Vec<String>,
}

/// Whether a Rhai source compiles under the rule limits, and where it does not.
#[utoipa::path(
    post,
    path = "/v1/rules/validate",
    tag = "rules",
    request_body = SourceIn,
    responses(
        (status = 200, body = Validation),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a `{source}` object", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn validate(
    _: Authorized<Administer>,
    State(app): State<App>,
    JsonBody(SourceIn { source }): JsonBody<SourceIn, MAX_BODY_BYTES>,
) -> Result<Json<Validation>, Error> {
    let outcome = compile(&app, source).await?;
    Ok(Json(match outcome {
        Ok(_) => Validation {
            valid: true,
            errors: Vec::new(),
        },
        Err(e) => Validation {
            valid: false,
            errors: vec![e],
        },
    }))
}

/// Stores a Rhai source as a new version (not activated). Every version is kept.
#[utoipa::path(
    post,
    path = "/v1/rules",
    tag = "rules",
    request_body = SourceIn,
    responses(
        (status = 201, body = VersionWithSource),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "It does not compile: pointer `/source`, the error with its line and column", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn upload(
    auth: Authorized<Administer>,
    State(app): State<App>,
    JsonBody(SourceIn { source }): JsonBody<SourceIn, MAX_BODY_BYTES>,
) -> Result<Response, Error> {
    compile(&app, source.clone())
        .await?
        .map_err(|e| refused_at("/source", &e))?;
    let sha256 = hex::encode(Sha256::digest(source.as_bytes()));
    let ws = &app.catalog.workspace;
    let mut conn = app.pool.acquire().await?;
    let stored = rule_versions::insert(
        &mut conn,
        ws,
        &source,
        &sha256,
        &auth.caller.actor,
        app.clock.now(),
    )
    .await?;
    tracing::info!(workspace = %ws, version = stored.id, by = auth.caller.actor, "rule version stored");
    let location = format!("/v1/rules/{}", stored.id);
    let view = VersionWithSource {
        version: version_view(&app, stored, true),
        source,
    };
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The rule the workspace plans with, and every stored version, newest first.
#[utoipa::path(
    get,
    path = "/v1/rules",
    tag = "rules",
    responses((status = 200, body = RulesView)),
)]
async fn list(_: Authorized<Administer>, State(app): State<App>) -> Result<Json<RulesView>, Error> {
    let mut conn = app.pool.acquire().await?;
    let stored = rule_versions::list(&mut conn, &app.catalog.workspace).await?;
    drop(conn);
    let limits = app.planner.loader.limits().clone();
    // Compiling every version takes a while for long histories: off the async workers.
    let checked = blocking(move || {
        stored
            .into_iter()
            .map(|(version, source)| {
                let valid = RhaiRule::compile(&source, limits.clone()).is_ok();
                (version, valid, source)
            })
            .collect::<Vec<_>>()
    })
    .await?;
    let mut active = active_view(app.refresh_now().await?.source);
    active.source = match active.kind {
        // Read as the rule loader did at start; a file edited since is shown as it is now.
        "file"
            if app
                .catalog
                .rule_path
                .extension()
                .is_some_and(|e| e == "rhai") =>
        {
            tokio::fs::read_to_string(&app.catalog.rule_path).await.ok()
        }
        "rhai" => checked
            .iter()
            .find(|(version, _, _)| Some(version.id) == active.version)
            .map(|(_, _, source)| source.clone()),
        _ => None,
    };
    Ok(Json(RulesView {
        active,
        versions: checked
            .into_iter()
            .map(|(version, valid, _)| version_view(&app, version, valid))
            .collect(),
    }))
}

/// One stored version, with its source.
#[utoipa::path(
    get,
    path = "/v1/rules/{id}",
    tag = "rules",
    params(("id" = i64, Path, description = "The version's id")),
    responses(
        (status = 200, body = VersionWithSource),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn show(
    _: Authorized<Administer>,
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Json<VersionWithSource>, Error> {
    let (version, source) = stored_version(&app, &id).await?;
    let valid = compile(&app, source.clone()).await?.is_ok();
    app.refresh_now().await?;
    Ok(Json(VersionWithSource {
        version: version_view(&app, version, valid),
        source,
    }))
}

/// Evaluates a rule (`source`, a stored `version`, or the active rule) on a stored
/// `reservation` (the input the reconciler would build now) or a sample `input`, and
/// answers the plan. Nothing is written.
#[utoipa::path(
    post,
    path = "/v1/rules/dry-run",
    tag = "rules",
    request_body = DryRunIn,
    responses(
        (status = 200, body = DryRunOut),
        (status = 404, description = "No such version or reservation", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad body, a source that does not compile, or the rule's error (runtime, limits, invalid plan); the pointer names the rule's origin", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn dry_run(
    _: Authorized<Administer>,
    State(app): State<App>,
    JsonBody(request): JsonBody<DryRunIn, MAX_BODY_BYTES>,
) -> Result<Json<DryRunOut>, Error> {
    run_dry(&app, request).await.map(Json)
}

/// Makes a stored version the workspace's rule (it stays so after a restart) and
/// re-plans every open reservation.
#[utoipa::path(
    post,
    path = "/v1/rules/{id}/activate",
    tag = "rules",
    params(("id" = i64, Path, description = "The version's id")),
    responses(
        (status = 200, body = Activated),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The version no longer compiles under the current limits", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn activate(
    auth: Authorized<Administer>,
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Json<Activated>, Error> {
    let id = parse_id(&id)?;
    plugins::activate_rhai(&app, &app.catalog.workspace, id, &auth.caller.actor).await?;
    Ok(Json(Activated {
        active: active_view(app.planner.rule.cached().source),
    }))
}

async fn run_dry(app: &App, request: DryRunIn) -> Result<DryRunOut> {
    let DryRunIn {
        source,
        version,
        reservation,
        input,
    } = request;
    // The rule and the assignments on record, whichever replica changed them last.
    let current = app.refresh_now().await?;
    let (rule, origin): (Arc<dyn Rule>, &str) = match (source, version) {
        (Some(_), Some(_)) => {
            return Err(invalid("/version", "give `source` or `version`, not both"));
        }
        (Some(source), None) => {
            let rule = compile(app, source)
                .await?
                .map_err(|e| refused_at("/source", &e))?;
            (Arc::new(rule), "/source")
        }
        (None, Some(id)) => {
            let (_, source) = stored_version(app, &id.to_string()).await?;
            let rule = compile(app, source)
                .await?
                .map_err(|e| refused_at("/version", &e))?;
            (Arc::new(rule), "/version")
        }
        (None, None) => (current.rule, ""),
    };
    let input = match (reservation, input) {
        (Some(_), Some(_)) => {
            return Err(invalid("/input", "give `reservation` or `input`, not both"));
        }
        (None, None) => return Err(invalid("", "give a `reservation` id or a sample `input`")),
        (None, Some(input)) => input,
        (Some(id), None) => {
            let mut conn = app.pool.acquire().await?;
            let row = reservations::get(&mut conn, &app.catalog.workspace, &id)
                .await?
                .ok_or(Error::NotFound {
                    what: "reservation",
                    id,
                })?;
            crate::reconcile::rule_input(app, &row, app.clock.now())
        }
    };
    let limits = app.planner.loader.limits().clone();
    let (outcome, log, input) = blocking(move || {
        let (outcome, log) = rules::evaluate_with_log(rule.as_ref(), &input, &limits);
        (outcome, log, input)
    })
    .await?;
    let plan = outcome.map_err(|e| invalid(origin, &e.to_string()))?;
    Ok(DryRunOut {
        plan: crate::reconcile::only_assigned(app, plan),
        input,
        log,
    })
}

/// Compiles `source` under the rule limits, off the async workers. The outer error is the
/// host's; the inner one is the source's fault.
async fn compile(app: &App, source: String) -> Result<Result<RhaiRule, CompileError>> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(Error::PayloadTooLarge {
            limit: MAX_SOURCE_BYTES,
        });
    }
    let limits = app.planner.loader.limits().clone();
    blocking(move || RhaiRule::compile(&source, limits).map_err(|e| compile_error(&e))).await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal_from("rule task panicked", e))
}

/// A compile error with the position Rhai appends to its message, `… (line L, position
/// C)`, split out (the engine keeps only the text of the error).
fn compile_error(e: &RuleError) -> CompileError {
    let text = match e {
        RuleError::Compile(text) => text.clone(),
        other => other.to_string(),
    };
    let position = text.strip_suffix(')').and_then(|t| {
        let (message, place) = t.rsplit_once(" (line ")?;
        let (line, column) = place.split_once(", position ")?;
        Some((message, line.parse().ok()?, column.parse().ok()?))
    });
    match position {
        Some((message, line, column)) => CompileError {
            line: Some(line),
            column: Some(column),
            message: message.to_owned(),
        },
        None => CompileError {
            line: None,
            column: None,
            message: text,
        },
    }
}

/// A 422 for a source that does not compile, at `pointer`, with the position in the text.
fn refused_at(pointer: &str, e: &CompileError) -> Error {
    let detail = match (e.line, e.column) {
        (Some(line), Some(column)) => {
            format!(
                "the rule does not compile: line {line}, column {column}: {}",
                e.message
            )
        }
        _ => format!("the rule does not compile: {}", e.message),
    };
    invalid(pointer, &detail)
}

fn invalid(pointer: &str, detail: &str) -> Error {
    Error::Invalid {
        pointer: pointer.to_owned(),
        detail: detail.to_owned(),
    }
}

async fn stored_version(app: &App, id: &str) -> Result<(RuleVersion, String)> {
    let id = parse_id(id)?;
    let mut conn = app.pool.acquire().await?;
    rule_versions::get(&mut conn, &app.catalog.workspace, id)
        .await?
        .ok_or_else(|| not_found(&id.to_string()))
}

fn parse_id(text: &str) -> Result<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| not_found(text))
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: "rule version",
        id: id.to_owned(),
    }
}

fn version_view(app: &App, version: RuleVersion, valid: bool) -> VersionView {
    let active = matches!(app.planner.rule.cached().source, RuleSource::Rhai { version: v, .. } if v == version.id);
    VersionView {
        id: version.id,
        created_at: version.created_at,
        created_by: version.created_by,
        activated_at: version.activated_at,
        valid,
        active,
        sha256: version.sha256,
    }
}

fn active_view(source: RuleSource) -> ActiveView {
    match source {
        RuleSource::File { path } => ActiveView {
            kind: "file",
            version: None,
            name: path,
            activated_at: None,
            source: None,
        },
        RuleSource::Plugin {
            name,
            version,
            activated_at,
            ..
        } => ActiveView {
            kind: "plugin",
            version: Some(version),
            name,
            activated_at: Some(activated_at),
            source: None,
        },
        RuleSource::Rhai {
            version,
            activated_at,
            ..
        } => ActiveView {
            kind: "rhai",
            version: Some(version),
            name: format!("version {version}"),
            activated_at: Some(activated_at),
            source: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_position_from_rhai_messages() {
        let limits = latchkey_engine::rules::RuleLimits::default();
        let e = RhaiRule::compile("fn plan(input) {\n  let x = ;\n}", limits.clone())
            .expect_err("a syntax error");
        let c = compile_error(&e);
        assert_eq!(c.line, Some(2), "{c:?}");
        assert!(c.column.is_some(), "{c:?}");
        assert!(!c.message.contains("(line"), "{c:?}");
        let e = RhaiRule::compile("fn other(x) { x }", limits).expect_err("no plan");
        let c = compile_error(&e);
        assert_eq!((c.line, c.column), (None, None));
        assert!(c.message.contains("plan"), "{c:?}");
    }
}
