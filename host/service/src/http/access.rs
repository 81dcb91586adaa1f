//! Who may use the API: dashboard sessions, API keys, users, and the audit log.
//!
//! - `POST /v1/session` signs in (an API key, or a username and password): 200 with the
//!   session (its CSRF token) and the `latchkey_session` cookie; `GET` shows it again
//!   (after a page reload), `DELETE` signs out.
//! - `/v1/keys`, `/v1/users`: admins create (a key is shown once), list and revoke.
//! - `GET /v1/audit`: every write made through the API, newest first.

use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use latchkey_engine::Role;
use latchkey_engine::clock::Clock;
use latchkey_store::access::{self, KeyRow, SessionRow, UserRow};
use latchkey_store::audit::{self, AuditEntry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::body::JsonBody;
use super::extract::{Path, Query};
use crate::app::App;
use crate::auth::permission::Administer;
use crate::auth::sessions::{self, SessionView, SignIn};
use crate::auth::{Authorized, Caller, Credential, keys, passwords};
use crate::db::WorkspaceDb;
use crate::error::{Error, Problem};

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(sign_in, show_session, sign_out))
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
        .routes(routes!(list_users, put_user))
        .routes(routes!(delete_user))
        .routes(routes!(list_audit))
}

/// Signs in and sets the session cookie.
#[utoipa::path(
    post,
    path = "/v1/session",
    tag = "access",
    request_body = SignIn,
    responses(
        (status = 200, description = "Signed in; the `latchkey_session` cookie is set", body = SessionView),
        (status = 401, description = "Unknown key, or wrong username or password", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn sign_in(
    State(db): State<WorkspaceDb>,
    State(clock): State<Arc<dyn Clock>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SignIn, 4096>,
) -> Result<Response, Error> {
    let mut conn = db.acquire().await?;
    let opened = sessions::open(&mut conn, db.workspace(), &body, clock.now()).await?;
    let cookie = sessions::set_cookie(&opened.token, &headers)?;
    Ok(([(header::SET_COOKIE, cookie)], Json(opened.view)).into_response())
}

/// The current session, with its CSRF token (for a page just reloaded).
#[utoipa::path(
    get,
    path = "/v1/session",
    tag = "access",
    responses(
        (status = 200, body = SessionView),
        (status = 401, description = "No live session", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn show_session(
    session: Option<Extension<SessionRow>>,
    caller: Option<Extension<Caller>>,
) -> Result<Json<SessionView>, Error> {
    // The authentication middleware resolved the cookie (live, this workspace's).
    let (Some(Extension(session)), Some(Extension(caller))) = (session, caller) else {
        return Err(Error::Unauthorized("not signed in".into()));
    };
    Ok(Json(SessionView {
        actor: caller.actor,
        role: caller.role,
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
    }))
}

/// Signs out: ends the session and clears the cookie.
#[utoipa::path(
    delete,
    path = "/v1/session",
    tag = "access",
    responses((status = 204, description = "Signed out (also when there was no session)")),
)]
async fn sign_out(State(db): State<WorkspaceDb>, headers: HeaderMap) -> Result<Response, Error> {
    if let Some(token) = sessions::token_of(&headers) {
        let mut conn = db.acquire().await?;
        access::delete_session(&mut conn, &keys::digest(token)).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, sessions::clear_cookie())],
    )
        .into_response())
}

/// The workspace's API keys.
#[derive(Debug, Serialize, ToSchema)]
struct KeyList {
    keys: Vec<KeyRow>,
}

/// `POST /v1/keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewKeyBody {
    /// A name telling the key apart, e.g. `front-desk-pc`.
    name: String,
    /// Its role.
    role: Role,
}

/// A key just created, with the key itself, shown this once.
#[derive(Debug, Serialize, ToSchema)]
struct CreatedKey {
    #[serde(flatten)]
    row: KeyRow,
    /// The key: store it now, it cannot be shown again.
    key: String,
}

/// Lists API keys, live and revoked (never their secrets).
#[utoipa::path(get, path = "/v1/keys", tag = "access", responses((status = 200, body = KeyList)))]
async fn list_keys(
    _: Authorized<Administer>,
    State(db): State<WorkspaceDb>,
) -> Result<Json<KeyList>, Error> {
    let mut conn = db.acquire().await?;
    let keys = access::list_keys(&mut conn, db.workspace()).await?;
    Ok(Json(KeyList { keys }))
}

/// Creates an API key; the answer holds the key, shown this once.
#[utoipa::path(
    post,
    path = "/v1/keys",
    tag = "access",
    request_body = NewKeyBody,
    responses(
        (status = 201, body = CreatedKey),
        (status = 409, description = "A live key has that name", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn create_key(
    Authorized { caller, .. }: Authorized<Administer>,
    State(db): State<WorkspaceDb>,
    State(clock): State<Arc<dyn Clock>>,
    JsonBody(body): JsonBody<NewKeyBody, 4096>,
) -> Result<(StatusCode, Json<CreatedKey>), Error> {
    let mut conn = db.acquire().await?;
    let created = keys::create(
        &mut conn,
        db.workspace(),
        &body.name,
        body.role,
        &caller.actor,
        clock.now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            row: created.row,
            key: created.key,
        }),
    ))
}

/// Revokes an API key; sessions signed in with it end.
#[utoipa::path(
    delete,
    path = "/v1/keys/{id}",
    tag = "access",
    params(("id" = i64, Path, description = "The key's id")),
    responses(
        (status = 200, description = "Revoked", body = KeyRow),
        (status = 404, description = "No live key with this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller's own key", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn revoke_key(
    Authorized { caller, .. }: Authorized<Administer>,
    State(db): State<WorkspaceDb>,
    State(clock): State<Arc<dyn Clock>>,
    Path(id): Path<i64>,
) -> Result<Json<KeyRow>, Error> {
    if caller.credential == Credential::Key(id) {
        return Err(Error::Conflict(
            "a key cannot revoke itself: revoke it with another admin key".into(),
        ));
    }
    let mut conn = db.acquire().await?;
    access::revoke_key(&mut conn, db.workspace(), id, clock.now())
        .await?
        .map(Json)
        .ok_or_else(|| Error::NotFound {
            what: "key",
            id: id.to_string(),
        })
}

/// The workspace's dashboard users.
#[derive(Debug, Serialize, ToSchema)]
struct UserList {
    users: Vec<UserRow>,
}

/// `POST /v1/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewUserBody {
    /// Sign-in name: 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
    username: String,
    /// At least 12 characters.
    password: String,
    /// Their role.
    role: Role,
}

/// Lists dashboard users.
#[utoipa::path(get, path = "/v1/users", tag = "access", responses((status = 200, body = UserList)))]
async fn list_users(
    _: Authorized<Administer>,
    State(db): State<WorkspaceDb>,
) -> Result<Json<UserList>, Error> {
    let mut conn = db.acquire().await?;
    let users = access::list_users(&mut conn, db.workspace()).await?;
    Ok(Json(UserList { users }))
}

/// Creates a dashboard user, or sets an existing one's password and role (their
/// sessions end).
#[utoipa::path(
    post,
    path = "/v1/users",
    tag = "access",
    request_body = NewUserBody,
    responses(
        (status = 201, body = UserRow),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn put_user(
    _: Authorized<Administer>,
    State(db): State<WorkspaceDb>,
    State(clock): State<Arc<dyn Clock>>,
    JsonBody(body): JsonBody<NewUserBody, 4096>,
) -> Result<(StatusCode, Json<UserRow>), Error> {
    let valid = !body.username.is_empty()
        && body.username.len() <= 64
        && body
            .username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !valid {
        return Err(Error::Invalid {
            pointer: "/username".into(),
            detail: "a username is 1 to 64 letters, digits, `.`, `_`, `-` or `@`".into(),
        });
    }
    let hash = passwords::hash(&body.password)?;
    let mut conn = db.acquire().await?;
    let user = access::put_user(
        &mut conn,
        db.workspace(),
        &body.username,
        body.role,
        &hash,
        clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Deletes a dashboard user; their sessions end.
#[utoipa::path(
    delete,
    path = "/v1/users/{username}",
    tag = "access",
    params(("username" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn delete_user(
    _: Authorized<Administer>,
    State(db): State<WorkspaceDb>,
    Path(username): Path<String>,
) -> Result<StatusCode, Error> {
    let mut conn = db.acquire().await?;
    if access::delete_user(&mut conn, db.workspace(), &username).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound {
            what: "user",
            id: username,
        })
    }
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
struct AuditPage {
    /// Newest first.
    entries: Vec<AuditEntry>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    next_cursor: Option<i64>,
}

/// `GET /v1/audit` paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Page {
    /// Entries per page, 1 to 500 (100 by default).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<i64>,
}

/// The audit log: every write made through the API (who, what, when, and its answer's
/// status), newest first.
#[utoipa::path(
    get,
    path = "/v1/audit",
    tag = "operations",
    params(Page),
    responses((status = 200, body = AuditPage)),
)]
async fn list_audit(
    _: Authorized<Administer>,
    State(db): State<WorkspaceDb>,
    Query(page): Query<Page>,
) -> Result<Json<AuditPage>, Error> {
    let limit = page.limit.unwrap_or(100).clamp(1, 500);
    let mut conn = db.acquire().await?;
    let entries = audit::list(&mut conn, db.workspace(), page.cursor, limit).await?;
    let next_cursor = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(AuditPage {
        entries,
        next_cursor,
    }))
}
