//! The property's lock-cloud accounts in this service: recorded per workspace, their
//! sealed credentials opened with the key from the environment, and each connected
//! ([`latchkey_providers::accounts::connect`]) at start.

use std::sync::Arc;

use latchkey_engine::WorkspaceId;
use latchkey_engine::clock::Clock;
use latchkey_providers::Provider;
use latchkey_providers::accounts::{AccountEntry, connect, missing_credentials, validate};
use latchkey_providers::credentials::Credentials;
use latchkey_store::{self as store, Conn};

use super::cipher::Key;
use crate::error::{Error, Result};

/// Records `accounts` as the ones `ws` declares (what the API checks credentials
/// against); see [`latchkey_store::credentials::record_accounts`].
///
/// # Errors
/// Database errors.
pub async fn register(conn: &mut Conn, ws: &WorkspaceId, accounts: &[AccountEntry]) -> Result<()> {
    let pairs: Vec<(String, String)> = accounts
        .iter()
        .map(|a| (a.key.clone(), a.kind.as_str().to_owned()))
        .collect();
    Ok(store::credentials::record_accounts(conn, ws, &pairs).await?)
}

/// Opens the stored credentials of `entry`.
///
/// # Errors
/// [`Error::Config`] naming the account: nothing stored (with the command to run), a
/// missing or wrong key, an altered row, or credentials of another kind.
pub async fn credentials_of(
    conn: &mut Conn,
    ws: &WorkspaceId,
    entry: &AccountEntry,
    key: &Key,
) -> Result<Credentials> {
    let key_name = &entry.key;
    let stored = store::credentials::get(conn, ws, key_name)
        .await?
        .ok_or_else(|| Error::Config(missing_credentials(key_name)))?;
    let plaintext = key
        .open(ws, key_name, &stored.sealed)
        .map_err(|e| Error::Config(format!("account `{key_name}`: {e}")))?;
    let credentials = Credentials::from_json(&plaintext).map_err(|_| {
        Error::Config(format!(
            "account `{key_name}`: the stored credentials do not parse; set them again with `latchkey credentials set {key_name} --file creds.json`"
        ))
    })?;
    if credentials.kind() != entry.kind {
        return Err(Error::Config(format!(
            "account `{key_name}` is a {} account in property.toml, but its stored credentials are for {}: run `latchkey credentials set {key_name} --file creds.json`",
            entry.kind,
            credentials.kind()
        )));
    }
    Ok(credentials)
}

/// Connects every account of `ws` from its stored credentials, in order, returning each
/// client under its key (to register in [`Providers`](latchkey_providers::Providers) before guarding them). The
/// key ([`Key::current`]) is read only when there is an account.
///
/// # Errors
/// [`Error::Config`] naming the first account that cannot be connected and why: see
/// [`credentials_of`]; or the cloud refusing the credentials or not answering (a lock
/// that names the account would otherwise be silently dropped).
pub async fn connect_all(
    conn: &mut Conn,
    ws: &WorkspaceId,
    accounts: &[AccountEntry],
    clock: &Arc<dyn Clock>,
) -> Result<Vec<(String, Arc<dyn Provider>)>> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    validate(accounts).map_err(|e| Error::Config(e.to_string()))?;
    let key = Key::current().map_err(|e| {
        Error::Config(format!(
            "property.toml declares lock-cloud accounts, whose credentials need the key: {e}"
        ))
    })?;
    let mut connected = Vec::with_capacity(accounts.len());
    for entry in accounts {
        let credentials = credentials_of(conn, ws, entry, &key).await?;
        let provider = connect(entry, &credentials, Arc::clone(clock))
            .await
            .map_err(|e| {
                Error::Config(format!(
                    "account `{}` ({} at {}): cannot connect: {e}",
                    entry.key,
                    entry.kind,
                    entry.base_url()
                ))
            })?;
        tracing::info!(account = %entry.key, kind = %entry.kind, "lock-cloud account connected");
        connected.push((entry.key.clone(), provider));
    }
    Ok(connected)
}
