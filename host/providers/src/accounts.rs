//! Real lock clouds: the `[[accounts]]` of property.toml, and connecting one with its
//! credentials into a [`Provider`] that goes into [`Providers`](super::Providers) beside
//! the simulator.
//!
//! ```toml
//! [[accounts]]
//! key = "nuki-main"              # what a lock's `provider` names
//! kind = "nuki"                  # nuki | ttlock | igloohome | seam
//! # base_url = "https://api.nuki.io"   # default: the vendor's production URL
//! # auth_url = "…"                     # igloohome only: the OAuth2 server
//! # requests_per_second = 5            # default: per kind, see `default_requests_per_second`
//! ```
//!
//! No secret is written in property.toml: the service stores credentials per workspace,
//! sealed (`latchkey_service::credentials`), with `latchkey credentials set KEY --file PATH` or
//! `PUT /v1/accounts/{key}/credentials`. A client reads each account's locks when it
//! connects, so their capabilities are known before the catalog resolves.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use latchkey_engine::clock::Clock;
use serde::Deserialize;

use super::http::HttpSettings;
use super::igloohome::{self, Igloohome, IgloohomeCredentials};
use super::nuki::Nuki;
use super::seam::Seam;
use super::ttlock::{TtLock, TtLockCredentials};
use super::{Provider, ProviderError};
use crate::credentials::{Credentials, Kind};

/// Nuki Web API in production (lock-providers.md §1.1).
pub const NUKI_BASE_URL: &str = "https://api.nuki.io";
/// TTLock Open Platform outside mainland China (§2.1; `https://cnapi.ttlock.com` inside).
pub const TTLOCK_BASE_URL: &str = "https://euapi.ttlock.com";
/// Seam's API (§4.1).
pub const SEAM_BASE_URL: &str = "https://connect.getseam.com";
/// Per-request timeout of every account's client.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// An `[[accounts]]` entry of property.toml: one lock-cloud account. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountEntry {
    /// The provider key locks name in `provider` (e.g. `nuki-main`): letters, digits, `-`,
    /// `_` and `.`; not `simulator`.
    pub key: String,
    /// Which cloud.
    pub kind: Kind,
    /// Overrides the vendor's production base URL (a regional host, a test double).
    #[serde(default)]
    pub base_url: Option<String>,
    /// igloohome only: overrides the OAuth2 server
    /// ([`igloohome::PRODUCTION_AUTH_URL`]).
    #[serde(default)]
    pub auth_url: Option<String>,
    /// Most requests per second to this account; default
    /// [`default_requests_per_second`].
    #[serde(default)]
    pub requests_per_second: Option<NonZeroU32>,
}

/// The pace used when property.toml gives none, per kind, in requests per second.
///
/// - Nuki: no published limit, only abuse protection (lock-providers.md §1.9): 5.
/// - TTLock: an unpublished call-count limit (errcode 30006) and a monthly quota (§2.9): 5.
/// - igloohome: no numeric limit found (§3.5): 5.
/// - Seam: limits are per device and per minute (10 creations, 20 deletions, §4.6), so an
///   account with many locks may go faster: 10.
pub fn default_requests_per_second(kind: Kind) -> NonZeroU32 {
    let n = match kind {
        Kind::Nuki | Kind::Ttlock | Kind::Igloohome => NonZeroU32::new(5),
        Kind::Seam => NonZeroU32::new(10),
    };
    n.unwrap_or(NonZeroU32::MIN)
}

impl AccountEntry {
    /// The base URL: the override, or the vendor's production URL.
    pub fn base_url(&self) -> &str {
        if let Some(url) = &self.base_url {
            return url;
        }
        match self.kind {
            Kind::Nuki => NUKI_BASE_URL,
            Kind::Ttlock => TTLOCK_BASE_URL,
            Kind::Igloohome => igloohome::PRODUCTION_BASE_URL,
            Kind::Seam => SEAM_BASE_URL,
        }
    }

    /// igloohome's OAuth2 server: the override, or production.
    pub fn auth_url(&self) -> &str {
        self.auth_url
            .as_deref()
            .unwrap_or(igloohome::PRODUCTION_AUTH_URL)
    }

    /// How the account's client talks HTTP.
    pub fn http_settings(&self) -> HttpSettings {
        HttpSettings {
            base_url: self.base_url().to_owned(),
            timeout: REQUEST_TIMEOUT,
            requests_per_second: Some(
                self.requests_per_second
                    .unwrap_or_else(|| default_requests_per_second(self.kind)),
            ),
        }
    }
}

/// The message for an account with nothing stored, telling the admin what to run.
pub fn missing_credentials(key: &str) -> String {
    format!(
        "account `{key}` has no credentials: run `latchkey credentials set {key} --file creds.json`"
    )
}

/// `[[accounts]]` entries that cannot be used; the message names the account and the
/// key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidAccounts(pub String);

/// Checks the entries: keys well formed, unique and not `simulator`; URLs http(s);
/// `auth_url` only on igloohome accounts.
///
/// # Errors
/// [`InvalidAccounts`] naming the account and the key at fault.
pub fn validate(accounts: &[AccountEntry]) -> Result<(), InvalidAccounts> {
    for (i, entry) in accounts.iter().enumerate() {
        let key = &entry.key;
        if key.is_empty()
            || key.len() > 64
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(InvalidAccounts(format!(
                "accounts: key `{}` must be 1 to 64 letters, digits, `-`, `_` or `.`",
                key.escape_debug()
            )));
        }
        if key == "simulator" {
            return Err(InvalidAccounts(
                "accounts: `simulator` is the simulated locks' key; name the account otherwise"
                    .into(),
            ));
        }
        if accounts[..i].iter().any(|a| &a.key == key) {
            return Err(InvalidAccounts(format!(
                "accounts: `{key}` is declared twice"
            )));
        }
        for (name, url) in [("base_url", &entry.base_url), ("auth_url", &entry.auth_url)] {
            if let Some(url) = url
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                return Err(InvalidAccounts(format!(
                    "account `{key}`: {name} must be an http(s) URL"
                )));
            }
        }
        if entry.auth_url.is_some() && entry.kind != Kind::Igloohome {
            return Err(InvalidAccounts(format!(
                "account `{key}`: auth_url is for igloohome accounts only"
            )));
        }
    }
    Ok(())
}

/// Connects one account with `credentials`, listing its locks. `clock` dates TTLock's
/// signed calls and times its token.
///
/// # Errors
/// [`ProviderError::Rejected`] when the credentials are of another kind; otherwise the
/// client's own errors (refused credentials, an unreachable cloud).
pub async fn connect(
    entry: &AccountEntry,
    credentials: &Credentials,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn Provider>, ProviderError> {
    let settings = entry.http_settings();
    let provider: Arc<dyn Provider> = match credentials {
        Credentials::Nuki { api_token } if entry.kind == Kind::Nuki => {
            Arc::new(Nuki::connect(&settings, api_token.expose()).await?)
        }
        Credentials::Ttlock {
            client_id,
            client_secret,
            username,
            password,
        } if entry.kind == Kind::Ttlock => {
            let credentials = TtLockCredentials {
                client_id: client_id.clone(),
                client_secret: client_secret.expose().to_owned(),
                username: username.clone(),
                password: password.expose().to_owned(),
            };
            Arc::new(TtLock::connect_with_clock(&settings, credentials, clock).await?)
        }
        Credentials::Igloohome {
            client_id,
            client_secret,
        } if entry.kind == Kind::Igloohome => {
            let credentials = IgloohomeCredentials {
                client_id: client_id.clone(),
                client_secret: client_secret.expose().to_owned(),
            };
            Arc::new(Igloohome::connect(&settings, entry.auth_url(), credentials).await?)
        }
        Credentials::Seam { api_key } if entry.kind == Kind::Seam => {
            Arc::new(Seam::connect(&settings, api_key.expose()).await?)
        }
        other => {
            return Err(ProviderError::Rejected(format!(
                "credentials for {} given to a {} account",
                other.kind(),
                entry.kind
            )));
        }
    };
    Ok(provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(toml_text: &str) -> AccountEntry {
        toml::from_str(toml_text).expect("account entry")
    }

    #[test]
    fn defaults_are_the_vendors_production_urls() {
        let nuki = entry(
            r#"key = "n"
kind = "nuki""#,
        );
        assert_eq!(nuki.base_url(), "https://api.nuki.io");
        let ttlock = entry(
            r#"key = "t"
kind = "ttlock""#,
        );
        assert_eq!(ttlock.base_url(), "https://euapi.ttlock.com");
        let seam = entry(
            r#"key = "s"
kind = "seam""#,
        );
        assert_eq!(seam.base_url(), "https://connect.getseam.com");
        assert_eq!(
            seam.http_settings().requests_per_second,
            NonZeroU32::new(10)
        );
        let igloo = entry(
            r#"key = "i"
kind = "igloohome"
requests_per_second = 2
auth_url = "http://127.0.0.1:9/auth""#,
        );
        assert_eq!(igloo.base_url(), igloohome::PRODUCTION_BASE_URL);
        assert_eq!(igloo.auth_url(), "http://127.0.0.1:9/auth");
        assert_eq!(
            igloo.http_settings().requests_per_second,
            NonZeroU32::new(2)
        );
    }

    #[test]
    fn entries_refuse_secrets_and_zero_rates() {
        assert!(
            toml::from_str::<AccountEntry>("key = \"n\"\nkind = \"nuki\"\napi_token = \"x\"")
                .is_err()
        );
        assert!(
            toml::from_str::<AccountEntry>("key = \"n\"\nkind = \"nuki\"\nrequests_per_second = 0")
                .is_err()
        );
        assert!(toml::from_str::<AccountEntry>("key = \"n\"\nkind = \"august\"").is_err());
    }

    #[test]
    fn validation_names_the_account() {
        let ok = entry("key = \"nuki-main\"\nkind = \"nuki\"");
        assert!(validate(std::slice::from_ref(&ok)).is_ok());
        let twice = validate(&[ok.clone(), ok.clone()]).expect_err("duplicate");
        assert!(twice.to_string().contains("`nuki-main` is declared twice"));
        let sim = entry("key = \"simulator\"\nkind = \"seam\"");
        assert!(validate(&[sim]).is_err());
        let spaced = entry("key = \"a b\"\nkind = \"seam\"");
        assert!(validate(&[spaced]).is_err());
        let auth = entry("key = \"n\"\nkind = \"nuki\"\nauth_url = \"https://x\"");
        assert!(validate(&[auth]).is_err());
        let url = entry("key = \"n\"\nkind = \"nuki\"\nbase_url = \"ftp://x\"");
        assert!(
            validate(&[url])
                .expect_err("bad url")
                .to_string()
                .contains("account `n`: base_url")
        );
    }
}
