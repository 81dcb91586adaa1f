//! Lock-cloud accounts over HTTP. Secrets go in, never out.
//!
//! - `GET /v1/accounts`: `{"accounts": [{"key", "kind", "credentials": bool,
//!   "updated_at": unix seconds UTC | null}]}`, the `[[accounts]]` of property.toml as
//!   recorded at the latest start.
//! - `PUT /v1/accounts/{key}/credentials`: the credentials JSON of
//!   [`crate::credentials`] (`application/json`, at most 16 KiB); 204 once sealed and
//!   stored. 404 for an account property.toml does not declare; 422 (problem+json with a
//!   pointer) for a body that does not parse or whose `kind` is not the account's; 500
//!   when the service has no usable `LATCHKEY_CREDENTIALS_KEY` (logged). Every replica
//!   connects the account with them before its next call to the cloud
//!   ([`crate::credentials::accounts::AccountClients`]); if the cloud refuses them, that
//!   is logged and the previous credentials stay in use.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Json;
use latchkey_engine::clock::Clock;
use latchkey_providers::credentials::Credentials;
use latchkey_store as store;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::body::{is_json, read_limited, require_media_type};
use super::extract::Path;
use crate::app::App;
use crate::auth::Authorized;
use crate::auth::permission::Administer;
use crate::credentials::cipher::Key;
use crate::db::WorkspaceDb;
use crate::error::{Error, Problem};

/// Largest credentials body, in bytes.
const MAX_BODY: usize = 16 * 1024;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(set_credentials))
}

/// A lock-cloud account, never its secrets.
#[derive(Debug, Serialize, ToSchema)]
struct AccountView {
    /// The account's key in property.toml.
    key: String,
    /// `nuki`, `ttlock`, `igloohome` or `seam`.
    kind: String,
    /// Whether credentials are stored.
    credentials: bool,
    /// When they were stored, Unix seconds UTC.
    updated_at: Option<i64>,
}

/// The lock-cloud accounts.
#[derive(Debug, Serialize, ToSchema)]
struct AccountList {
    accounts: Vec<AccountView>,
}

/// The property's lock-cloud accounts, and whether each has credentials.
#[utoipa::path(get, path = "/v1/accounts", tag = "locks", responses((status = 200, body = AccountList)))]
async fn list(
    _: Authorized<Administer>,
    State(db): State<WorkspaceDb>,
) -> Result<Json<AccountList>, Error> {
    let mut conn = db.acquire().await?;
    let rows = store::credentials::accounts(&mut conn, db.workspace()).await?;
    let views: Vec<AccountView> = rows
        .into_iter()
        .map(|row| AccountView {
            credentials: row.credentials_kind.is_some(),
            updated_at: row.credentials_updated_at,
            key: row.account_key,
            kind: row.kind,
        })
        .collect();
    Ok(Json(AccountList { accounts: views }))
}

/// Stores an account's credentials, sealed; every replica uses them from its next call to
/// the cloud.
#[utoipa::path(
    put,
    path = "/v1/accounts/{key}/credentials",
    tag = "locks",
    params(("key" = String, Path, description = "The account's key in property.toml")),
    request_body(content = Object, description = "The credentials JSON (`kind` and the cloud's secrets)", content_type = "application/json"),
    responses(
        (status = 204, description = "Sealed and stored"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn set_credentials(
    _: Authorized<Administer>,
    State(db): State<WorkspaceDb>,
    State(clock): State<Arc<dyn Clock>>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, Error> {
    let ws = db.workspace();
    let account = {
        let mut conn = db.acquire().await?;
        store::credentials::account(&mut conn, ws, &key)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "account",
                id: key.clone(),
            })?
    };
    require_media_type(&headers, is_json, "application/json")?;
    let body = read_limited(&headers, body, MAX_BODY).await?;
    let credentials = Credentials::from_json(&body)?;
    if credentials.kind().as_str() != account.kind {
        return Err(Error::Invalid {
            pointer: "/kind".into(),
            detail: format!(
                "account `{key}` is a {} account in property.toml; these credentials are for {}",
                account.kind,
                credentials.kind()
            ),
        });
    }
    let cipher =
        Key::current().map_err(|e| Error::config_from("sealing an account's credentials", e))?;
    let sealed = cipher
        .seal(ws, &key, &credentials.to_plaintext())
        .map_err(|e| Error::internal_from(format!("sealing the credentials of `{key}`"), e))?;
    let mut conn = db.acquire().await?;
    store::credentials::put(
        &mut conn,
        ws,
        &key,
        credentials.kind().as_str(),
        &sealed,
        clock.now(),
    )
    .await?;
    tracing::info!(account = %key, kind = %credentials.kind(), "provider credentials stored");
    Ok(StatusCode::NO_CONTENT)
}
