//! Webhook sources created through the API, and their signing secrets. Nothing here
//! seals or opens a secret: the caller does (see `crate::http::sources`), and this module
//! stores what it is given.

use latchkey_engine::{Timestamp, WorkspaceId};
use serde::Serialize;

use super::Conn;
use crate::error::Result;

/// A source created through the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ApiSource {
    /// The `{source}` segment of `POST /v1/hooks/{source}`.
    pub name: String,
    /// Its form (`canonical`).
    pub form: String,
    /// When created, Unix seconds UTC.
    pub created_at: i64,
    /// Who created it.
    pub created_by: String,
}

/// What may be shown of a secret: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SecretInfo {
    /// Its id.
    pub id: i64,
    /// Its first characters (`whsec_` and a few more), to tell it apart.
    pub prefix: String,
    /// When created, Unix seconds UTC.
    pub created_at: i64,
    /// When it stops verifying, Unix seconds UTC; `None` for the current secret.
    pub expires_at: Option<i64>,
}

/// A secret as stored: the `whsec_…` text in clear (`nonce` `None`) or sealed.
#[derive(Clone, sqlx::FromRow)]
pub struct StoredSecret {
    /// Its id.
    pub id: i64,
    /// The secret's bytes, or their ciphertext.
    pub secret: Vec<u8>,
    /// The nonce it was sealed with; `None` when stored in clear.
    pub nonce: Option<Vec<u8>>,
}

impl std::fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSecret")
            .field("id", &self.id)
            .field("sealed", &self.nonce.is_some())
            .finish_non_exhaustive()
    }
}

/// The sources of `ws`, by name.
///
/// # Errors
/// Database errors.
pub async fn list(conn: &mut Conn, ws: &WorkspaceId) -> Result<Vec<ApiSource>> {
    Ok(sqlx::query_as(
        "SELECT name, form, created_at, created_by FROM api_sources
         WHERE workspace_id = $1 ORDER BY name",
    )
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?)
}

/// Source `name` of `ws`, if created.
///
/// # Errors
/// Database errors.
pub async fn get(conn: &mut Conn, ws: &WorkspaceId, name: &str) -> Result<Option<ApiSource>> {
    Ok(sqlx::query_as(
        "SELECT name, form, created_at, created_by FROM api_sources
         WHERE workspace_id = $1 AND name = $2",
    )
    .bind(ws.as_str())
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Creates source `name`; `false` when it already exists.
///
/// # Errors
/// Database errors.
pub async fn create(
    conn: &mut Conn,
    ws: &WorkspaceId,
    name: &str,
    form: &str,
    by: &str,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO api_sources (workspace_id, name, form, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(ws.as_str())
    .bind(name)
    .bind(form)
    .bind(now.unix())
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Adds a current secret to source `name` (the caller has sealed it, or not).
///
/// # Errors
/// Database errors.
pub async fn add_secret(
    conn: &mut Conn,
    ws: &WorkspaceId,
    name: &str,
    prefix: &str,
    secret: &StoredSecretInput<'_>,
    now: Timestamp,
) -> Result<SecretInfo> {
    Ok(sqlx::query_as(
        "INSERT INTO source_secrets (workspace_id, source, prefix, secret, nonce, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, prefix, created_at, expires_at",
    )
    .bind(ws.as_str())
    .bind(name)
    .bind(prefix)
    .bind(secret.secret)
    .bind(secret.nonce)
    .bind(now.unix())
    .fetch_one(&mut *conn)
    .await?)
}

/// A secret to store: its bytes, or ciphertext and nonce.
#[derive(Clone, Copy)]
pub struct StoredSecretInput<'a> {
    /// The secret's bytes, or their ciphertext.
    pub secret: &'a [u8],
    /// The nonce, when sealed.
    pub nonce: Option<&'a [u8]>,
}

/// Makes every live secret of `name` expire at `expires_at` at the latest (a rotation),
/// and forgets those that expired by `now`.
///
/// # Errors
/// Database errors.
pub async fn expire_live(
    conn: &mut Conn,
    ws: &WorkspaceId,
    name: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM source_secrets WHERE workspace_id = $1 AND source = $2
         AND expires_at IS NOT NULL AND expires_at <= $3",
    )
    .bind(ws.as_str())
    .bind(name)
    .bind(now.unix())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE source_secrets SET expires_at = $1
         WHERE workspace_id = $2 AND source = $3 AND (expires_at IS NULL OR expires_at > $4)",
    )
    .bind(expires_at.unix())
    .bind(ws.as_str())
    .bind(name)
    .bind(expires_at.unix())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The secrets of `name` still verifying at `now`, newest first, for listings.
///
/// # Errors
/// Database errors.
pub async fn live_info(
    conn: &mut Conn,
    ws: &WorkspaceId,
    name: &str,
    now: Timestamp,
) -> Result<Vec<SecretInfo>> {
    Ok(sqlx::query_as(
        "SELECT id, prefix, created_at, expires_at FROM source_secrets
         WHERE workspace_id = $1 AND source = $2 AND (expires_at IS NULL OR expires_at > $3)
         ORDER BY id DESC",
    )
    .bind(ws.as_str())
    .bind(name)
    .bind(now.unix())
    .fetch_all(&mut *conn)
    .await?)
}

/// The secrets of `name` still verifying at `now`, as stored, newest first.
///
/// # Errors
/// Database errors.
pub async fn live(
    conn: &mut Conn,
    ws: &WorkspaceId,
    name: &str,
    now: Timestamp,
) -> Result<Vec<StoredSecret>> {
    Ok(sqlx::query_as(
        "SELECT id, secret, nonce FROM source_secrets
         WHERE workspace_id = $1 AND source = $2 AND (expires_at IS NULL OR expires_at > $3)
         ORDER BY id DESC",
    )
    .bind(ws.as_str())
    .bind(name)
    .bind(now.unix())
    .fetch_all(&mut *conn)
    .await?)
}
