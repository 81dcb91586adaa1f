//! Lock-cloud accounts over HTTP. Secrets go in, never out.
//!
//! - `GET /v1/accounts`: `{"accounts": [{"key", "kind", "credentials": bool,
//!   "updated_at": unix seconds UTC | null}]}`, the `[[accounts]]` of property.toml as
//!   recorded at the latest start.
//! - `PUT /v1/accounts/{key}/credentials`: the credentials JSON of
//!   [`crate::credentials`] (`application/json`, at most 16 KiB); 204 once sealed and
//!   stored. 404 for an account property.toml does not declare; 422 (problem+json with a
//!   pointer) for a body that does not parse or whose `kind` is not the account's; 500
//!   when the service has no usable `LATCHKEY_CREDENTIALS_KEY` (logged). The running
//!   clients keep the credentials they connected with: new ones take effect at the next
//!   start.

use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Json;
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
use crate::error::{Error, ErrorAt, Problem};

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
    State(app): State<App>,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<AccountList>, ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    let mut conn = app.pool.acquire().await.map_err(|e| at(e.into()))?;
    let rows = store::credentials::accounts(&mut conn, &app.catalog.workspace)
        .await
        .map_err(|e| at(e.into()))?;
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

/// Stores an account's credentials, sealed; they take effect at the next start.
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
    State(app): State<App>,
    Path(key): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    let ws = &app.catalog.workspace;
    let account = {
        let mut conn = app.pool.acquire().await.map_err(|e| at(e.into()))?;
        store::credentials::account(&mut conn, ws, &key)
            .await
            .map_err(|e| at(e.into()))?
            .ok_or_else(|| {
                at(Error::NotFound {
                    what: "account",
                    id: key.clone(),
                })
            })?
    };
    require_media_type(&headers, is_json, "application/json").map_err(at)?;
    let body = read_limited(&headers, body, MAX_BODY).await.map_err(at)?;
    let credentials = Credentials::from_json(&body).map_err(|e| at(e.into()))?;
    if credentials.kind().as_str() != account.kind {
        return Err(at(Error::Invalid {
            pointer: "/kind".into(),
            detail: format!(
                "account `{key}` is a {} account in property.toml; these credentials are for {}",
                account.kind,
                credentials.kind()
            ),
        }));
    }
    let cipher = Key::current().map_err(|e| at(Error::Config(e.to_string())))?;
    let sealed = cipher
        .seal(ws, &key, &credentials.to_plaintext())
        .map_err(|e| at(Error::Internal(e.to_string())))?;
    let mut conn = app.pool.acquire().await.map_err(|e| at(e.into()))?;
    store::credentials::put(
        &mut conn,
        ws,
        &key,
        credentials.kind().as_str(),
        &sealed,
        app.clock.now(),
    )
    .await
    .map_err(|e| at(e.into()))?;
    tracing::info!(account = %key, kind = %credentials.kind(), "provider credentials stored");
    Ok(StatusCode::NO_CONTENT)
}
