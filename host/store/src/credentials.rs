//! Lock-cloud accounts: sealed credentials per workspace and account key, and the accounts
//! property.toml declared at the latest start. Nothing here sees a secret in clear: the
//! caller seals and opens them (the service's `credentials::cipher`).

use latchkey_engine::{Timestamp, WorkspaceId};
use serde::Serialize;
use sqlx::Connection as _;

use super::Conn;
use crate::error::Result;

/// A sealed value as stored: the nonce and the ciphertext with its 16-byte tag.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The nonce, [`NONCE_LEN`] bytes.
    pub nonce: Vec<u8>,
    /// Ciphertext followed by the Poly1305 tag.
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("nonce_len", &self.nonce.len())
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// A stored credentials row.
#[derive(Debug, Clone)]
pub struct StoredCredentials {
    /// The account key (a lock's `provider`).
    pub account_key: String,
    /// The kind recorded beside the ciphertext (`nuki`, …), for listings.
    pub kind: String,
    /// Nonce and ciphertext.
    pub sealed: Sealed,
    /// When last set, Unix seconds UTC.
    pub updated_at: i64,
    /// How many times they were set: 1 for the first set, one more for each replacement.
    pub revision: i64,
}

/// What may be shown of stored credentials: never the ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CredentialsInfo {
    /// The account key.
    pub account_key: String,
    /// The kind.
    pub kind: String,
    /// When last set, Unix seconds UTC.
    pub updated_at: i64,
}

/// An account declared in property.toml (as recorded at the latest start), and whether it
/// has credentials.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountRow {
    /// The account key.
    pub account_key: String,
    /// The kind property.toml gives it.
    pub kind: String,
    /// The kind of the stored credentials, if any.
    pub credentials_kind: Option<String>,
    /// When the credentials were last set, Unix seconds UTC, if any.
    pub credentials_updated_at: Option<i64>,
}

/// Stores (or replaces) the sealed credentials of `account`, and returns their new
/// revision (see [`StoredCredentials::revision`]).
pub async fn put(
    conn: &mut Conn,
    ws: &WorkspaceId,
    account: &str,
    kind: &str,
    sealed: &Sealed,
    now: Timestamp,
) -> Result<i64> {
    let revision = sqlx::query_scalar(
        "INSERT INTO provider_credentials
             (workspace_id, account_key, kind, nonce, ciphertext, updated_at, revision)
         VALUES ($1, $2, $3, $4, $5, $6, 1)
         ON CONFLICT (workspace_id, account_key) DO UPDATE SET kind = excluded.kind,
             nonce = excluded.nonce, ciphertext = excluded.ciphertext,
             updated_at = excluded.updated_at,
             revision = provider_credentials.revision + 1
         RETURNING revision",
    )
    .bind(ws.as_str())
    .bind(account)
    .bind(kind)
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .bind(now.unix())
    .fetch_one(&mut *conn)
    .await?;
    Ok(revision)
}

/// The revision of the credentials stored for `account`, if any: one indexed read, made
/// before each call to the account's cloud.
pub async fn revision(conn: &mut Conn, ws: &WorkspaceId, account: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT revision FROM provider_credentials WHERE workspace_id = $1 AND account_key = $2",
    )
    .bind(ws.as_str())
    .bind(account)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The sealed credentials of `account`, if stored.
pub async fn get(
    conn: &mut Conn,
    ws: &WorkspaceId,
    account: &str,
) -> Result<Option<StoredCredentials>> {
    let row = sqlx::query_as::<_, (String, String, Vec<u8>, Vec<u8>, i64, i64)>(
        "SELECT account_key, kind, nonce, ciphertext, updated_at, revision FROM provider_credentials
         WHERE workspace_id = $1 AND account_key = $2",
    )
    .bind(ws.as_str())
    .bind(account)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(
        |(account_key, kind, nonce, ciphertext, updated_at, revision)| StoredCredentials {
            account_key,
            kind,
            sealed: Sealed { nonce, ciphertext },
            updated_at,
            revision,
        },
    ))
}

/// Every account of `ws` with stored credentials, by key.
pub async fn list(conn: &mut Conn, ws: &WorkspaceId) -> Result<Vec<CredentialsInfo>> {
    Ok(sqlx::query_as(
        "SELECT account_key, kind, updated_at FROM provider_credentials
         WHERE workspace_id = $1 ORDER BY account_key",
    )
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?)
}

/// Deletes the credentials of `account`; returns whether there were any.
pub async fn delete(conn: &mut Conn, ws: &WorkspaceId, account: &str) -> Result<bool> {
    let done = sqlx::query(
        "DELETE FROM provider_credentials WHERE workspace_id = $1 AND account_key = $2",
    )
    .bind(ws.as_str())
    .bind(account)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Records `accounts` (key, kind) as the accounts `ws` declares, in place of the previous
/// record, in one transaction.
pub async fn record_accounts(
    conn: &mut Conn,
    ws: &WorkspaceId,
    accounts: &[(String, String)],
) -> Result<()> {
    let mut tx = conn.begin().await?;
    sqlx::query("DELETE FROM provider_accounts WHERE workspace_id = $1")
        .bind(ws.as_str())
        .execute(&mut *tx)
        .await?;
    for (key, kind) in accounts {
        sqlx::query(
            "INSERT INTO provider_accounts (workspace_id, account_key, kind) VALUES ($1, $2, $3)",
        )
        .bind(ws.as_str())
        .bind(key)
        .bind(kind)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The accounts `ws` declared at the latest start, by key, each with its credentials'
/// kind and date if stored.
pub async fn accounts(conn: &mut Conn, ws: &WorkspaceId) -> Result<Vec<AccountRow>> {
    Ok(sqlx::query_as(
        "SELECT a.account_key, a.kind, c.kind AS credentials_kind,
                c.updated_at AS credentials_updated_at
         FROM provider_accounts a
         LEFT JOIN provider_credentials c
             ON c.workspace_id = a.workspace_id AND c.account_key = a.account_key
         WHERE a.workspace_id = $1 ORDER BY a.account_key",
    )
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?)
}

/// The account `key` of `ws`, if declared at the latest start.
pub async fn account(conn: &mut Conn, ws: &WorkspaceId, key: &str) -> Result<Option<AccountRow>> {
    Ok(accounts(conn, ws)
        .await?
        .into_iter()
        .find(|a| a.account_key == key))
}
