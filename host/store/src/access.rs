//! API keys, dashboard users and their sessions (tables `api_keys`, `users`,
//! `sessions`). Secrets never reach this module in the clear except a user's Argon2
//! hash and a session's CSRF token; keys and session tokens are looked up by their
//! SHA-256 (see [`crate::auth::keys`]).

use latchkey_engine::Role;
use latchkey_engine::{Timestamp, WorkspaceId};
use serde::Serialize;
use utoipa::ToSchema;

use super::Conn;
use crate::error::{Error, Result};

/// An API key as listed: never its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyRow {
    /// Id.
    pub id: i64,
    /// Name given at creation, unique among the workspace's live keys.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The key's first 10 characters, to tell keys apart.
    pub prefix: String,
    /// Created, Unix seconds.
    pub created_at: i64,
    /// Who created it (`cli`, `bootstrap`, or an actor).
    pub created_by: String,
    /// Last authenticated request, Unix seconds (updated at most once a minute).
    pub last_used_at: Option<i64>,
    /// Revoked, Unix seconds.
    pub revoked_at: Option<i64>,
}

/// A key's columns, in [`KEY_COLUMNS`]' order.
type KeyTuple = (
    i64,
    String,
    String,
    String,
    i64,
    String,
    Option<i64>,
    Option<i64>,
);

/// The workspace, then a key's columns.
type KeyInWorkspace = (
    String,
    i64,
    String,
    String,
    String,
    i64,
    String,
    Option<i64>,
    Option<i64>,
);

/// A session's columns: workspace, key id, username, CSRF token, expiry.
type SessionTuple = (String, Option<i64>, Option<String>, String, i64);

fn key_row(t: KeyTuple) -> Result<KeyRow> {
    Ok(KeyRow {
        id: t.0,
        name: t.1,
        role: parse_role(&t.2)?,
        prefix: t.3,
        created_at: t.4,
        created_by: t.5,
        last_used_at: t.6,
        revoked_at: t.7,
    })
}

fn parse_role(text: &str) -> Result<Role> {
    Role::parse(text).ok_or_else(|| Error::Corrupt(format!("unknown role `{text}` on record")))
}

const KEY_COLUMNS: &str =
    "id, name, role, prefix, created_at, created_by, last_used_at, revoked_at";

/// A key to record.
#[derive(Debug)]
pub struct NewKeyRow<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its role.
    pub role: Role,
    /// Its first characters, shown in lists.
    pub prefix: &'a str,
    /// SHA-256 of the whole key, lowercase hex.
    pub secret_sha256: &'a str,
    /// Who creates it.
    pub created_by: &'a str,
}

/// Records `key`.
///
/// # Errors
/// [`Error::Conflict`] when a live key already has that name; database errors.
pub async fn insert_key(
    conn: &mut Conn,
    ws: &WorkspaceId,
    key: &NewKeyRow<'_>,
    now: Timestamp,
) -> Result<KeyRow> {
    let NewKeyRow {
        name,
        role,
        prefix,
        secret_sha256,
        created_by,
    } = *key;
    let sql = format!(
        "INSERT INTO api_keys (workspace_id, name, role, prefix, secret_sha256, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {KEY_COLUMNS}"
    );
    let row: KeyTuple = sqlx::query_as(&sql)
        .bind(ws.as_str())
        .bind(name)
        .bind(role.as_str())
        .bind(prefix)
        .bind(secret_sha256)
        .bind(now.0)
        .bind(created_by)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Error::Conflict(format!("a key named `{name}` already exists"))
            }
            other => other.into(),
        })?;
    key_row(row)
}

/// The live key whose secret hashes to `secret_sha256`, in any workspace.
///
/// # Errors
/// Database errors.
pub async fn live_key_by_hash(
    conn: &mut Conn,
    secret_sha256: &str,
) -> Result<Option<(WorkspaceId, KeyRow)>> {
    let sql = format!(
        "SELECT workspace_id, {KEY_COLUMNS} FROM api_keys \
         WHERE secret_sha256 = $1 AND revoked_at IS NULL"
    );
    let row: Option<KeyInWorkspace> = sqlx::query_as(&sql)
        .bind(secret_sha256)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(
        |(ws, id, name, role, prefix, created_at, by, used, revoked)| {
            let ws = WorkspaceId::parse(&ws)
                .map_err(|e| Error::Corrupt(format!("workspace id on record: {e}")))?;
            Ok((
                ws,
                key_row((id, name, role, prefix, created_at, by, used, revoked))?,
            ))
        },
    )
    .transpose()
}

/// Whether key `id` is live (not revoked).
///
/// # Errors
/// Database errors.
pub async fn key_is_live(conn: &mut Conn, ws: &WorkspaceId, id: i64) -> Result<Option<KeyRow>> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL"
    );
    let row: Option<KeyTuple> = sqlx::query_as(&sql)
        .bind(ws.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(key_row).transpose()
}

/// Records that key `id` was used at `now`, at most once a minute (a write per request
/// would make every read a write).
///
/// # Errors
/// Database errors.
pub async fn touch_key(conn: &mut Conn, id: i64, now: Timestamp) -> Result<()> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = $1 \
         WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(now.0)
    .bind(id)
    .bind(now.0 - 60)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The workspace's keys, live and revoked, newest first.
///
/// # Errors
/// Database errors.
pub async fn list_keys(conn: &mut Conn, ws: &WorkspaceId) -> Result<Vec<KeyRow>> {
    let sql =
        format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE workspace_id = $1 ORDER BY id DESC");
    let rows: Vec<KeyTuple> = sqlx::query_as(&sql)
        .bind(ws.as_str())
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(key_row).collect()
}

/// Revokes key `id`, and ends the sessions signed in with it. Answers the key, or `None`
/// when there is no live key `id`.
///
/// # Errors
/// Database errors.
pub async fn revoke_key(
    conn: &mut Conn,
    ws: &WorkspaceId,
    id: i64,
    now: Timestamp,
) -> Result<Option<KeyRow>> {
    let sql = format!(
        "UPDATE api_keys SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL \
         RETURNING {KEY_COLUMNS}"
    );
    let row: Option<KeyTuple> = sqlx::query_as(&sql)
        .bind(now.0)
        .bind(ws.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE workspace_id = $1 AND api_key_id = $2")
        .bind(ws.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    row.map(key_row).transpose()
}

/// Whether the workspace has any live admin key or admin user: without one, `serve`
/// creates a key so that someone can sign in.
///
/// # Errors
/// Database errors.
pub async fn has_admin(conn: &mut Conn, ws: &WorkspaceId) -> Result<bool> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM api_keys WHERE workspace_id = $1 AND role = 'admin' AND revoked_at IS NULL) \
              + (SELECT COUNT(*) FROM users WHERE workspace_id = $1 AND role = 'admin')",
    )
    .bind(ws.as_str())
    .fetch_one(&mut *conn)
    .await?;
    Ok(count > 0)
}

/// A dashboard user as listed: never the password hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserRow {
    /// Sign-in name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Created, Unix seconds.
    pub created_at: i64,
}

/// Creates or replaces user `username` (a new password or role).
///
/// # Errors
/// Database errors.
pub async fn put_user(
    conn: &mut Conn,
    ws: &WorkspaceId,
    username: &str,
    role: Role,
    password_hash: &str,
    now: Timestamp,
) -> Result<UserRow> {
    sqlx::query(
        "INSERT INTO users (workspace_id, username, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (workspace_id, username) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash",
    )
    .bind(ws.as_str())
    .bind(username)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(now.0)
    .execute(&mut *conn)
    .await?;
    // A new password ends the sessions signed in with the old one.
    sqlx::query("DELETE FROM sessions WHERE workspace_id = $1 AND username = $2")
        .bind(ws.as_str())
        .bind(username)
        .execute(&mut *conn)
        .await?;
    user(conn, ws, username)
        .await?
        .map(|(row, _)| row)
        .ok_or_else(|| Error::Corrupt("user vanished after insert".into()))
}

/// User `username` with their password hash.
///
/// # Errors
/// Database errors.
pub async fn user(
    conn: &mut Conn,
    ws: &WorkspaceId,
    username: &str,
) -> Result<Option<(UserRow, String)>> {
    let row: Option<(String, String, i64, String)> = sqlx::query_as(
        "SELECT username, role, created_at, password_hash FROM users WHERE workspace_id = $1 AND username = $2",
    )
    .bind(ws.as_str())
    .bind(username)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(username, role, created_at, hash)| {
        Ok((
            UserRow {
                username,
                role: parse_role(&role)?,
                created_at,
            },
            hash,
        ))
    })
    .transpose()
}

/// The workspace's users, by name.
///
/// # Errors
/// Database errors.
pub async fn list_users(conn: &mut Conn, ws: &WorkspaceId) -> Result<Vec<UserRow>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT username, role, created_at FROM users WHERE workspace_id = $1 ORDER BY username",
    )
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(username, role, created_at)| {
            Ok(UserRow {
                username,
                role: parse_role(&role)?,
                created_at,
            })
        })
        .collect()
}

/// Deletes user `username` and their sessions; whether there was one.
///
/// # Errors
/// Database errors.
pub async fn delete_user(conn: &mut Conn, ws: &WorkspaceId, username: &str) -> Result<bool> {
    sqlx::query("DELETE FROM sessions WHERE workspace_id = $1 AND username = $2")
        .bind(ws.as_str())
        .bind(username)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("DELETE FROM users WHERE workspace_id = $1 AND username = $2")
        .bind(ws.as_str())
        .bind(username)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionOwner {
    /// Signed in with this API key.
    Key(i64),
    /// Signed in with this user's password.
    User(String),
}

/// A live session.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// Its workspace.
    pub workspace: WorkspaceId,
    /// Who signed in.
    pub owner: SessionOwner,
    /// The token writes must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    /// When it ends, Unix seconds.
    pub expires_at: i64,
}

/// Records a session whose cookie token hashes to `token_sha256`.
///
/// # Errors
/// Database errors.
pub async fn insert_session(
    conn: &mut Conn,
    token_sha256: &str,
    session: &SessionRow,
    now: Timestamp,
) -> Result<()> {
    let (key, user) = match &session.owner {
        SessionOwner::Key(id) => (Some(*id), None),
        SessionOwner::User(name) => (None, Some(name.as_str())),
    };
    sqlx::query(
        "INSERT INTO sessions (token_sha256, workspace_id, api_key_id, username, csrf_token, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(token_sha256)
    .bind(session.workspace.as_str())
    .bind(key)
    .bind(user)
    .bind(&session.csrf_token)
    .bind(now.0)
    .bind(session.expires_at)
    .execute(&mut *conn)
    .await?;
    // Expired sessions go as new ones come, so the table stays small without a job.
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The unexpired session whose token hashes to `token_sha256`.
///
/// # Errors
/// Database errors.
pub async fn live_session(
    conn: &mut Conn,
    token_sha256: &str,
    now: Timestamp,
) -> Result<Option<SessionRow>> {
    let row: Option<SessionTuple> = sqlx::query_as(
        "SELECT workspace_id, api_key_id, username, csrf_token, expires_at FROM sessions \
         WHERE token_sha256 = $1 AND expires_at > $2",
    )
    .bind(token_sha256)
    .bind(now.0)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((ws, key, user, csrf_token, expires_at)) = row else {
        return Ok(None);
    };
    let owner = match (key, user) {
        (Some(id), _) => SessionOwner::Key(id),
        (None, Some(name)) => SessionOwner::User(name),
        (None, None) => return Err(Error::Corrupt("a session with no owner".into())),
    };
    Ok(Some(SessionRow {
        workspace: WorkspaceId::parse(&ws)
            .map_err(|e| Error::Corrupt(format!("workspace id on record: {e}")))?,
        owner,
        csrf_token,
        expires_at,
    }))
}

/// Ends the session whose token hashes to `token_sha256`.
///
/// # Errors
/// Database errors.
pub async fn delete_session(conn: &mut Conn, token_sha256: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
        .bind(token_sha256)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
