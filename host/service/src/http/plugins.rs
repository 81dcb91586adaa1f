//! Partner plugins over HTTP: upload, list, show, delete, and the workspace's active rule.
//!
//! - `PUT /v1/plugins/{name}`: the component's bytes (`application/wasm`, at most 10 MiB);
//!   201 with the new version, or 200 with the version that already holds these bytes.
//! - `GET /v1/plugins`, `GET /v1/plugins/{name}`, `GET /v1/plugins/{name}/versions/{v}`.
//! - `DELETE /v1/plugins/{name}` and `DELETE /v1/plugins/{name}/versions/{v}`: 204, or 409
//!   while a workspace plans with it.
//! - `GET|PUT|DELETE /v1/workspaces/{workspace}/rule`: which rule the workspace plans
//!   with; PUT `{"plugin": NAME, "version": N}` activates a version, DELETE goes back to
//!   the property's rule file. Both re-plan the workspace's open reservations.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use latchkey_engine::WorkspaceId;
use latchkey_store::plugins::{self as stored, PluginVersion};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::body::{is_json, read_limited, require_media_type};
use super::extract::Path;
use crate::app::App;
use crate::auth::Authorized;
use crate::auth::permission::{Administer, ManagePlugins};
use crate::error::{Error, Problem, Result};
use crate::planner::RuleSource;
use crate::plugins::{self, MAX_COMPONENT_BYTES};

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(upload, show, delete_all))
        .routes(routes!(show_version, delete_version))
        .routes(routes!(show_rule, activate, deactivate))
}

/// A plugin and its versions, with the workspaces planning with each.
#[derive(Debug, Serialize)]
struct PluginView {
    name: String,
    versions: Vec<VersionView>,
}

#[derive(Debug, Serialize)]
struct VersionView {
    #[serde(flatten)]
    version: PluginVersion,
    /// Workspaces planning with this version.
    active_in: Vec<String>,
}

/// The body of `PUT /v1/workspaces/{workspace}/rule`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Activate {
    plugin: String,
    version: i64,
}

/// Uploads a component (`application/wasm`, at most 10 MiB): 201 with the new version, or 200 with the version that already holds these bytes.
#[utoipa::path(
    put,
    path = "/v1/plugins/{name}",
    tag = "plugins",
    params(("name" = String, Path)),
    request_body(content = Vec<u8>, description = "The component's bytes (`application/wasm` is accepted too)", content_type = "application/octet-stream"),
    responses((status = 201, body = Object), (status = 200, body = Object), (status = 413, body = Problem, content_type = "application/problem+json"), (status = 415, body = Problem, content_type = "application/problem+json"), (status = 422, description = "Refused: not a component, forbidden import, wrong world, smoke test failed", body = Problem, content_type = "application/problem+json")),
)]
async fn upload(
    _: Authorized<ManagePlugins>,
    State(app): State<App>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    require_media_type(
        &headers,
        |t| t == "application/wasm" || t == "application/octet-stream",
        "the component's bytes as application/wasm",
    )?;
    let bytes = read_limited(&headers, body, MAX_COMPONENT_BYTES).await?;
    let uploaded = plugins::upload(&app, &name, bytes).await?;
    let location = format!("/v1/plugins/{name}/versions/{}", uploaded.version.version);
    let status = if uploaded.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (status, Json(uploaded)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Every plugin with its versions and the workspaces planning with each.
#[utoipa::path(
    get,
    path = "/v1/plugins",
    tag = "plugins",
    responses((status = 200, body = Object)),
)]
async fn list(
    _: Authorized<ManagePlugins>,
    State(app): State<App>,
) -> Result<Json<serde_json::Value>, Error> {
    let views = views(&app, None).await?;
    Ok(Json(serde_json::json!({ "plugins": views })))
}

/// A plugin and its versions.
#[utoipa::path(
    get,
    path = "/v1/plugins/{name}",
    tag = "plugins",
    params(("name" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
async fn show(
    _: Authorized<ManagePlugins>,
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<Json<PluginView>, Error> {
    views(&app, Some(&name))
        .await?
        .pop()
        .map(Json)
        .ok_or_else(|| Error::NotFound {
            what: "plugin",
            id: name,
        })
}

/// One version of a plugin.
#[utoipa::path(
    get,
    path = "/v1/plugins/{name}/versions/{version}",
    tag = "plugins",
    params(("name" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
async fn show_version(
    _: Authorized<ManagePlugins>,
    State(app): State<App>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<VersionView>, Error> {
    let version = parse_version(&version)?;
    views(&app, Some(&name))
        .await?
        .pop()
        .and_then(|p| {
            p.versions
                .into_iter()
                .find(|v| v.version.version == version)
        })
        .map(Json)
        .ok_or_else(|| Error::NotFound {
            what: "plugin version",
            id: format!("{name}@{version}"),
        })
}

/// Deletes a plugin's every version; 409 while a workspace plans with it.
#[utoipa::path(
    delete,
    path = "/v1/plugins/{name}",
    tag = "plugins",
    params(("name" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")),
)]
async fn delete_all(
    _: Authorized<ManagePlugins>,
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<StatusCode, Error> {
    plugins::delete(&app, &name, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes one version; 409 while a workspace plans with it.
#[utoipa::path(
    delete,
    path = "/v1/plugins/{name}/versions/{version}",
    tag = "plugins",
    params(("name" = String, Path), ("version" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")),
)]
async fn delete_version(
    _: Authorized<ManagePlugins>,
    State(app): State<App>,
    Path((name, version)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    let version = parse_version(&version)?;
    plugins::delete(&app, &name, Some(version)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The rule the workspace plans with.
#[utoipa::path(
    get,
    path = "/v1/workspaces/{workspace}/rule",
    tag = "plugins",
    params(("workspace" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
async fn show_rule(
    _: Authorized<ManagePlugins>,
    State(app): State<App>,
    Path(workspace): Path<String>,
) -> Result<Json<RuleSource>, Error> {
    workspace_of(&app, &workspace)?;
    Ok(Json(app.refresh_now().await?.source))
}

/// Activates a plugin version (`{\"plugin\", \"version\"}`) and re-plans the open reservations.
#[utoipa::path(
    put,
    path = "/v1/workspaces/{workspace}/rule",
    tag = "plugins",
    params(("workspace" = String, Path)),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, body = Object), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 415, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
)]
async fn activate(
    _: Authorized<Administer>,
    State(app): State<App>,
    Path(workspace): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<RuleSource>, Error> {
    let ws = workspace_of(&app, &workspace)?;
    require_media_type(&headers, is_json, "application/json")?;
    let body = read_limited(&headers, body, 4096).await?;
    let Activate { plugin, version } = crate::json::decode(&body)?;
    plugins::activate(&app, &ws, &plugin, version).await?;
    Ok(Json(app.planner.rule.cached().source))
}

/// Goes back to the property's rule file and re-plans the open reservations.
#[utoipa::path(
    delete,
    path = "/v1/workspaces/{workspace}/rule",
    tag = "plugins",
    params(("workspace" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
async fn deactivate(
    _: Authorized<Administer>,
    State(app): State<App>,
    Path(workspace): Path<String>,
) -> Result<Json<RuleSource>, Error> {
    let ws = workspace_of(&app, &workspace)?;
    plugins::deactivate(&app, &ws).await?;
    Ok(Json(app.refresh_now().await?.source))
}

/// The plugins (all, or the one named), each with its versions and their users.
async fn views(app: &App, name: Option<&str>) -> Result<Vec<PluginView>> {
    let mut conn = app.pool.acquire().await?;
    let versions = match name {
        Some(name) => stored::versions(&mut conn, name).await?,
        None => stored::list(&mut conn).await?,
    };
    let mut by_name: BTreeMap<String, PluginView> = BTreeMap::new();
    for version in versions {
        let active_in = stored::users(&mut conn, &version.name, Some(version.version))
            .await?
            .into_iter()
            .map(|a| a.workspace_id)
            .collect();
        by_name
            .entry(version.name.clone())
            .or_insert_with(|| PluginView {
                name: version.name.clone(),
                versions: Vec::new(),
            })
            .versions
            .push(VersionView { version, active_in });
    }
    Ok(by_name.into_values().collect())
}

fn workspace_of(app: &App, workspace: &str) -> Result<WorkspaceId> {
    if app.catalog.workspace.as_str() == workspace {
        Ok(app.catalog.workspace.clone())
    } else {
        Err(Error::NotFound {
            what: "workspace",
            id: workspace.to_owned(),
        })
    }
}

fn parse_version(text: &str) -> Result<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| Error::NotFound {
            what: "plugin version",
            id: text.to_owned(),
        })
}
