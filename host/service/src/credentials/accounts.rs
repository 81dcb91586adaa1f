//! The property's lock-cloud accounts in this service: recorded per workspace, their
//! sealed credentials opened with the key from the environment, each connected
//! ([`latchkey_providers::accounts::connect`]) at start, and connected again, on every
//! replica, once newer credentials are on record ([`AccountClients`]).

use std::collections::HashMap;
use std::sync::Arc;

use latchkey_engine::WorkspaceId;
use latchkey_engine::clock::Clock;
use latchkey_providers::Provider;
use latchkey_providers::account::AccountClient;
use latchkey_providers::accounts::{AccountEntry, connect, missing_credentials, validate};
use latchkey_providers::credentials::Credentials;
use latchkey_store::{self as store, Conn};

use super::cipher::Key;
use crate::error::{Error, Result, display_chain};

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

/// Opens the stored credentials of `entry`, with their revision (see
/// [`latchkey_store::credentials::StoredCredentials::revision`]).
///
/// # Errors
/// [`Error::Config`] naming the account: nothing stored (with the command to run), a
/// missing or wrong key, an altered row, or credentials of another kind.
pub async fn credentials_of(
    conn: &mut Conn,
    ws: &WorkspaceId,
    entry: &AccountEntry,
    key: &Key,
) -> Result<(Credentials, i64)> {
    let key_name = &entry.key;
    let stored = store::credentials::get(conn, ws, key_name)
        .await?
        .ok_or_else(|| Error::config(missing_credentials(key_name)))?;
    let plaintext = key
        .open(ws, key_name, &stored.sealed)
        .map_err(|e| Error::config_from(format!("account `{key_name}`"), e))?;
    let credentials = Credentials::from_json(&plaintext).map_err(|_| {
        Error::config(format!(
            "account `{key_name}`: the stored credentials do not parse; set them again with `latchkey credentials set {key_name} --file creds.json`"
        ))
    })?;
    if credentials.kind() != entry.kind {
        return Err(Error::config(format!(
            "account `{key_name}` is a {} account in property.toml, but its stored credentials are for {}: run `latchkey credentials set {key_name} --file creds.json`",
            entry.kind,
            credentials.kind()
        )));
    }
    Ok((credentials, stored.revision))
}

/// Connects every account of `ws` from its stored credentials, in order: the clients to
/// register in [`Providers`](latchkey_providers::Providers) (before guarding them), each
/// under its account's key, and held by the returned [`AccountClients`] to be connected
/// again when newer credentials are stored. The key ([`Key::current`]) is read only when
/// there is an account.
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
) -> Result<AccountClients> {
    let mut clients = AccountClients::none();
    if accounts.is_empty() {
        return Ok(clients);
    }
    validate(accounts).map_err(|e| Error::config_from("property.toml [[accounts]]", e))?;
    let key = Key::current().map_err(|e| {
        Error::config_from(
            "property.toml declares lock-cloud accounts, whose credentials need the key",
            e,
        )
    })?;
    for entry in accounts {
        let (credentials, revision) = credentials_of(conn, ws, entry, &key).await?;
        let provider = connect(entry, &credentials, Arc::clone(clock))
            .await
            .map_err(|e| {
                Error::config_from(
                    format!(
                        "account `{}` ({} at {}): cannot connect",
                        entry.key,
                        entry.kind,
                        entry.base_url()
                    ),
                    e,
                )
            })?;
        tracing::info!(account = %entry.key, kind = %entry.kind, revision, "lock-cloud account connected");
        clients.accounts.insert(
            entry.key.clone(),
            Account {
                entry: entry.clone(),
                client: Arc::new(AccountClient::new(provider, revision)),
                clock: Arc::clone(clock),
                reconnecting: tokio::sync::Mutex::new(Reconnect::default()),
            },
        );
    }
    Ok(clients)
}

/// The connected lock-cloud accounts of this process. Credentials set through the API
/// (`PUT /v1/accounts/{key}/credentials`) or the CLI on any replica are stored with a new
/// revision; [`AccountClients::refresh`], called before each call to an account's cloud,
/// reads that revision (one indexed query) and connects the account again with the new
/// credentials, so that every replica calls the cloud with the credentials the admin set
/// last, without a restart.
#[derive(Default)]
pub struct AccountClients {
    accounts: HashMap<String, Account>,
}

impl std::fmt::Debug for AccountClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.accounts.keys()).finish()
    }
}

struct Account {
    entry: AccountEntry,
    client: Arc<AccountClient>,
    /// The clock its clients read (TTLock signs calls with the time).
    clock: Arc<dyn Clock>,
    /// Held while connecting, so that concurrent calls connect once.
    reconnecting: tokio::sync::Mutex<Reconnect>,
}

/// The newest revision that could not be connected: tried once, not before every call.
#[derive(Debug, Default)]
struct Reconnect {
    failed_revision: Option<i64>,
}

impl AccountClients {
    /// No accounts: a property on the simulator alone (replays, tests).
    pub fn none() -> AccountClients {
        AccountClients::default()
    }

    /// Every account's client under its key, to register in
    /// [`Providers`](latchkey_providers::Providers).
    pub fn providers(&self) -> impl Iterator<Item = (String, Arc<dyn Provider>)> + '_ {
        self.accounts.iter().map(|(key, account)| {
            let provider: Arc<dyn Provider> = account.client.clone();
            (key.clone(), provider)
        })
    }

    /// Brings the client of `account` (a lock's `provider`) up to the newest credentials
    /// on record; a key that is no account (the simulator) is left alone. When the new
    /// credentials cannot be opened or the cloud refuses them, the error is logged once for
    /// that revision and the client connected with the previous ones goes on serving.
    ///
    /// # Errors
    /// Database errors only.
    pub async fn refresh(&self, conn: &mut Conn, ws: &WorkspaceId, account: &str) -> Result<()> {
        let Some(held) = self.accounts.get(account) else {
            return Ok(());
        };
        let Some(revision) = store::credentials::revision(conn, ws, account).await? else {
            // Deleted credentials stop nothing already connected; the next start refuses.
            return Ok(());
        };
        if revision <= held.client.revision() {
            return Ok(());
        }
        let mut reconnect = held.reconnecting.lock().await;
        if revision <= held.client.revision() || reconnect.failed_revision >= Some(revision) {
            return Ok(());
        }
        let connected = match Key::current() {
            Ok(key) => match credentials_of(conn, ws, &held.entry, &key).await {
                Ok((credentials, revision)) => {
                    connect(&held.entry, &credentials, Arc::clone(&held.clock))
                        .await
                        .map(|provider| (provider, revision))
                        .map_err(|e| display_chain(&e))
                }
                Err(Error::Database(e)) => return Err(Error::Database(e)),
                Err(e) => Err(display_chain(&e)),
            },
            Err(e) => Err(display_chain(&e)),
        };
        match connected {
            Ok((provider, revision)) => {
                held.client.replace(provider, revision);
                tracing::info!(
                    account,
                    revision,
                    "lock-cloud account connected with new credentials"
                );
            }
            Err(why) => {
                reconnect.failed_revision = Some(revision);
                tracing::error!(account, revision, error = %why, "new credentials could not be connected; the previous ones stay in use");
            }
        }
        Ok(())
    }
}
