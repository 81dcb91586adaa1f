//! The `reenio` webhook form: reenio's custom-message webhooks, which carry ids only, and
//! the admin REST API the reservation is then fetched from (`platforms.md` §1, §5).
//!
//! The flow:
//! 1. `POST /v1/hooks/{source}` (the `hooks_reenio` route): the setup probe `{}` is
//!    answered `200 REENIO` with no side effect; any other body needs the secret header
//!    (constant-time compare, one or two secrets for rotation, 401 otherwise), is parsed
//!    ([`wire::WebhookBody`]), stored raw in `reenio_deliveries` and answered
//!    `200 text/plain REENIO`, with a `fetch_reenio` job enqueued in the same transaction
//!    (the inbox's `reenio` module).
//!    No API call is made before answering: reenio's sender timeout is unknown (§1.4).
//! 2. The `fetch_reenio` job fetches `GET /reservation/detail/{id}` and
//!    `GET /customer/detail/{id}` through [`client::ReenioClient`] (200 requests a minute,
//!    `Retry-After` honoured), builds a canonical snapshot ([`snapshot`]) and hands it to
//!    the inbox (`accept`) once per stored delivery. The reconciler plans from that
//!    fetched state, never from the order in which triggers came.
//!
//! Where the sources are silent we assume, and the contract fake (`latchkey_sim::reenio`) follows:
//! - the detail routes answer the object itself (no envelope), PascalCase fields as in the
//!   2020 community client (§1.5); `Start`/`End` are UTC, with or without an offset;
//! - `State` numbers: see [`wire::ReenioState`];
//! - errors are any non-2xx status; the body is only quoted in messages;
//! - reenio sends `Content-Type: application/json`.
//!
//! What the form cannot know: reenio has no "modified" trigger, so a change of time or
//! place reaches Latchkey only with the next trigger of that reservation; "took place"
//! carries no departure time (the stay then ends at its booked check-out); a reservation
//! awaiting confirmation is not handed to the rules at all.
//!
//! Reservation ids: reenio's integer id `N` of source `S` becomes the reservation `S-N`.
//!
//! The API key never sits in `property.toml`: [`ReenioSettings::api_key_env`] names the
//! environment variable holding it, read when the first fetch needs the client.

pub mod client;
pub mod snapshot;
pub mod triggers;
pub mod wire;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use latchkey_engine::ResourceId;
use latchkey_providers::credentials::Secret;
use serde::Deserialize;

use crate::error::Error;
use client::ReenioClient;
use triggers::TriggerTarget;

/// The header carrying the shared secret when the settings name none.
pub const DEFAULT_HEADER: &str = "x-latchkey-token";

/// The header naming which custom message (hook) a delivery comes from; absent means
/// [`DEFAULT_HOOK`].
pub const HOOK_HEADER: &str = "x-latchkey-hook";

/// The hook of a delivery without [`HOOK_HEADER`].
pub const DEFAULT_HOOK: &str = "default";

/// The environment variable holding the API key when the settings name none.
pub const DEFAULT_API_KEY_ENV: &str = "LATCHKEY_REENIO_API_KEY";

/// reenio's admin API for reenio.com accounts (RA); reenio.cz accounts use
/// `https://reenio.cz/cs/api/v1/admin`.
pub const DEFAULT_API_BASE_URL: &str = "https://reenio.com/en/api/v1/admin";

/// Shortest accepted secret, in bytes (platforms.md §5 asks for 32 random bytes; we
/// refuse only what is plainly guessable).
const MIN_SECRET_LEN: usize = 16;

/// Which field of a reenio reservation names the booked resource.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceField {
    /// `PlaceId` (a room, a court): the default.
    #[default]
    Place,
    /// `ServiceId`.
    Service,
    /// `EmployeeId`.
    Employee,
}

/// Settings of a `reenio` source (`[sources.reenio]` in `property.toml`).
///
/// ```toml
/// [sources.reenio]
/// secrets = ["…32+ random bytes…"]          # one, or two while rotating
/// header = "x-latchkey-token"              # the custom header set in reenio
/// api_base_url = "https://reenio.com/en/api/v1/admin"
/// api_key_env = "LATCHKEY_REENIO_API_KEY"
/// resource_field = "place"                 # place | service | employee
/// resources = { "12" = "101" }             # reenio id → our resource id
/// [sources.reenio.hooks.starts-2h]         # per hook (x-latchkey-hook), per triggerType
/// "4" = "reservation.starts_soon"
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReenioSettings {
    /// Accepted shared secrets: one, or two during rotation.
    pub secrets: Vec<Secret>,
    /// The header carrying the secret (`x-…` or `authorization`, as reenio allows).
    #[serde(default = "default_header")]
    pub header: String,
    /// Base URL of the admin API, without a trailing slash.
    #[serde(default = "default_api_base_url")]
    pub api_base_url: String,
    /// Environment variable holding the API key (sent as `Authorization: Bearer`).
    #[serde(default = "default_api_key_env")]
    pub api_key_env: String,
    /// Which reservation field names the resource.
    #[serde(default)]
    pub resource_field: ResourceField,
    /// reenio ids (in decimal) → resource ids; an id not listed is taken as is.
    #[serde(default)]
    pub resources: BTreeMap<String, ResourceId>,
    /// Per hook, per `triggerType` (in decimal): what it means, over the default table
    /// ([`triggers::default_target`]).
    #[serde(default)]
    pub hooks: BTreeMap<String, BTreeMap<String, TriggerTarget>>,
    /// The API client, built on first use (or installed by a replay or a test).
    #[serde(skip)]
    pub api: ApiSlot,
}

fn default_header() -> String {
    DEFAULT_HEADER.into()
}

fn default_api_base_url() -> String {
    DEFAULT_API_BASE_URL.into()
}

fn default_api_key_env() -> String {
    DEFAULT_API_KEY_ENV.into()
}

impl std::fmt::Debug for ReenioSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `Secret` redacts itself; listed explicitly so that a new field is a decision.
        f.debug_struct("ReenioSettings")
            .field("secrets", &self.secrets)
            .field("header", &self.header)
            .field("api_base_url", &self.api_base_url)
            .field("api_key_env", &self.api_key_env)
            .field("resource_field", &self.resource_field)
            .field("resources", &self.resources)
            .field("hooks", &self.hooks)
            .finish_non_exhaustive()
    }
}

impl ReenioSettings {
    /// Checks the settings of source `source`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key: no secret or more than two, a short secret, a
    /// header reenio would refuse, a trigger key that is not a number.
    pub fn check(&self, source: &str) -> Result<(), Error> {
        let bad = |msg: String| Error::Config(format!("source `{source}` [sources.reenio]: {msg}"));
        if self.secrets.is_empty() || self.secrets.len() > 2 {
            return Err(bad(
                "`secrets` takes one secret, or two while rotating".into()
            ));
        }
        if self
            .secrets
            .iter()
            .any(|s| s.expose().len() < MIN_SECRET_LEN)
        {
            return Err(bad(format!(
                "each secret needs at least {MIN_SECRET_LEN} bytes"
            )));
        }
        let header = self.header.to_ascii_lowercase();
        if !(header.starts_with("x-") || header == "authorization")
            || axum::http::HeaderName::from_bytes(header.as_bytes()).is_err()
        {
            return Err(bad(format!(
                "`header` `{}` must start with `x-` or be `authorization` (reenio accepts no other)",
                self.header
            )));
        }
        for (hook, table) in &self.hooks {
            if let Some(key) = table.keys().find(|k| k.parse::<u32>().is_err()) {
                return Err(bad(format!(
                    "`hooks.{hook}`: `{key}` is not a triggerType number"
                )));
            }
        }
        Ok(())
    }

    /// The resource a reenio resource id stands for.
    pub fn resource(&self, reenio_id: i64) -> Result<ResourceId, String> {
        let key = reenio_id.to_string();
        match self.resources.get(&key) {
            Some(id) => Ok(id.clone()),
            None => ResourceId::parse(key),
        }
    }

    /// The API client: the one installed, or one built from these settings and the
    /// environment on first use.
    ///
    /// # Errors
    /// [`Error::Config`] when the API key's variable is unset or the client cannot be built.
    pub fn client(&self) -> Result<Arc<ReenioClient>, Error> {
        if let Some(client) = self.api.0.get() {
            return Ok(Arc::clone(client));
        }
        let key = std::env::var(&self.api_key_env).map_err(|_| {
            Error::Config(format!(
                "the reenio API key is not set: export {}",
                self.api_key_env
            ))
        })?;
        let client = ReenioClient::new(&client::ClientSettings::production(
            &self.api_base_url,
            Secret::new(key),
        ))
        .map_err(|e| Error::Config(format!("reenio API client: {e}")))?;
        // Another task may have won the race; either client is as good.
        Ok(Arc::clone(self.api.0.get_or_init(|| Arc::new(client))))
    }
}

/// Where a source's API client lives once built; clones of the catalog share it, so
/// every job of the process shares one rate limit.
#[derive(Clone, Default)]
pub struct ApiSlot(Arc<OnceLock<Arc<ReenioClient>>>);

impl ApiSlot {
    /// Uses `client` from now on (replays and tests point it at the fake). Returns false
    /// when a client was already in place, which is then kept.
    pub fn install(&self, client: ReenioClient) -> bool {
        self.0.set(Arc::new(client)).is_ok()
    }
}

impl std::fmt::Debug for ApiSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "connected"
        } else {
            "not connected"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml_text: &str) -> ReenioSettings {
        toml::from_str(toml_text).expect("settings parse")
    }

    #[test]
    fn defaults_and_checks() {
        let s = settings(r#"secrets = ["0123456789abcdef0123"]"#);
        assert_eq!(s.header, DEFAULT_HEADER);
        assert_eq!(s.api_key_env, DEFAULT_API_KEY_ENV);
        assert_eq!(s.resource_field, ResourceField::Place);
        s.check("r").expect("valid");
        assert_eq!(s.resource(12).expect("id").as_str(), "12");

        let three =
            settings(r#"secrets = ["0123456789abcdef", "0123456789abcdeg", "0123456789abcdeh"]"#);
        assert!(three.check("r").is_err());
        assert!(settings(r#"secrets = ["short"]"#).check("r").is_err());
        let header = settings(
            r#"secrets = ["0123456789abcdef0123"]
               header = "token""#,
        );
        assert!(header.check("r").is_err());
        let hooks = settings(
            r#"secrets = ["0123456789abcdef0123"]
               [hooks.default]
               four = "reservation.paid""#,
        );
        assert!(hooks.check("r").is_err());
    }

    #[test]
    fn resources_map_and_debug_redacts() {
        let s = settings(
            r#"secrets = ["0123456789abcdef-secret"]
               resources = { "7" = "101" }"#,
        );
        assert_eq!(s.resource(7).expect("mapped").as_str(), "101");
        let shown = format!("{s:?}");
        assert!(!shown.contains("secret\""), "{shown}");
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
    }
}
