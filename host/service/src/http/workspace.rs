//! `GET /v1/workspace`: the workspace's property, branches and resources, as
//! `property.toml` declares them (read-only here: that file is where they are edited).

use axum::extract::State;
use axum::response::Json;
use latchkey_engine::{Branch, Property, Resource};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::App;
use crate::auth::Authorized;
use crate::auth::permission::ReadFrontDesk;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(show))
}

/// The workspace's facts.
#[derive(Debug, Serialize, ToSchema)]
struct WorkspaceView {
    /// The workspace id.
    workspace: String,
    /// The property: name, IANA time zone (every local time the dashboard shows is in
    /// it), check-in and check-out times.
    #[schema(value_type = Object)]
    property: Property,
    /// Its branches (`{"id", "name"}`).
    #[schema(value_type = Vec<Object>)]
    branches: Vec<Branch>,
    /// Bookable resources (`{"id", "kind", "branch", "name"}`).
    #[schema(value_type = Vec<Object>)]
    resources: Vec<Resource>,
}

/// The workspace's property, branches and resources.
#[utoipa::path(get, path = "/v1/workspace", tag = "locks", responses((status = 200, body = WorkspaceView)))]
async fn show(_: Authorized<ReadFrontDesk>, State(app): State<App>) -> Json<WorkspaceView> {
    Json(WorkspaceView {
        workspace: app.catalog.workspace.to_string(),
        property: app.catalog.property.clone(),
        branches: app.catalog.branches.clone(),
        resources: app.catalog.resources.clone(),
    })
}
