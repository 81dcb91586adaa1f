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

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Json;
use axum::routing::{get, put};
use serde::Serialize;

use super::body::{is_json, read_limited, require_media_type};
use crate::app::App;
use crate::credentials::Credentials;
use crate::credentials::cipher::Key;
use crate::error::{Error, ErrorAt};
use crate::store;

/// Largest credentials body, in bytes.
const MAX_BODY: usize = 16 * 1024;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/v1/accounts", get(list))
        .route("/v1/accounts/{key}/credentials", put(set_credentials))
}

#[derive(Debug, Serialize)]
struct AccountView {
    key: String,
    kind: String,
    credentials: bool,
    updated_at: Option<i64>,
}

async fn list(
    State(app): State<App>,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<serde_json::Value>, ErrorAt> {
    let at = |e: Error| ErrorAt(e, uri.path().to_owned());
    let mut conn = app.pool.acquire().await.map_err(|e| at(e.into()))?;
    let rows = store::credentials::accounts(&mut conn, &app.catalog.workspace)
        .await
        .map_err(at)?;
    let views: Vec<AccountView> = rows
        .into_iter()
        .map(|row| AccountView {
            credentials: row.credentials_kind.is_some(),
            updated_at: row.credentials_updated_at,
            key: row.account_key,
            kind: row.kind,
        })
        .collect();
    Ok(Json(serde_json::json!({ "accounts": views })))
}

async fn set_credentials(
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
            .map_err(at)?
            .ok_or_else(|| {
                at(Error::NotFound {
                    what: "account",
                    id: key.clone(),
                })
            })?
    };
    require_media_type(&headers, is_json, "application/json").map_err(at)?;
    let body = read_limited(&headers, body, MAX_BODY).await.map_err(at)?;
    let credentials = Credentials::from_json(&body).map_err(at)?;
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
        credentials.kind(),
        &sealed,
        app.clock.now(),
    )
    .await
    .map_err(at)?;
    tracing::info!(account = %key, kind = %credentials.kind(), "provider credentials stored");
    Ok(StatusCode::NO_CONTENT)
}
