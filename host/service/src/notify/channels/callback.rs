//! A signed callback to the booking platform, so that it can put the PIN into its own
//! guest messages: Standard Webhooks outbound (<https://www.standardwebhooks.com/>),
//! events `access_code.issued`, `access_code.changed` and `access_code.revoked`, with the
//! message's idempotency key as `webhook-id` (the receiver drops a repeat).
//!
//! Any 2xx delivers. 410 Gone disables the endpoint at once; any other answer, a timeout
//! or a refused connection is retried (after `Retry-After` where given) by the send job,
//! which also disables an endpoint after days of failure (see [`crate::notify`]).
//! Redirects are not followed, proxies not used, and unless `allow_private` only public
//! addresses are reached ([`crate::notify::ssrf`]).

use std::time::Duration;

use async_trait::async_trait;
use axum::http::StatusCode;
use latchkey_engine::Timestamp;
use latchkey_providers::http::{HttpSettings, ProviderHttp};
use serde::Serialize;

use super::{Delivered, Outgoing, SendError, Sender};
use crate::error::{Error, Result};
use crate::notify::settings::CallbackSettings;
use crate::notify::ssrf;
use latchkey_sources::signature;

/// Seconds a platform has to answer a callback.
const TIMEOUT_SECS: u64 = 15;

/// Posts to one platform endpoint.
pub struct Callback {
    http: ProviderHttp,
    url: reqwest::Url,
    secret: String,
    allow_private: bool,
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback")
            .field("url", &self.url.as_str())
            .field("secret", &"<redacted>")
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

/// The event body.
#[derive(Debug, Serialize)]
struct Event<'a> {
    #[serde(rename = "type")]
    kind: String,
    timestamp: String,
    data: Data<'a>,
}

#[derive(Debug, Serialize)]
struct Data<'a> {
    reservation_id: &'a str,
    guest_name: &'a str,
    locale: &'a str,
    doors: Vec<DoorOut<'a>>,
    message: &'a crate::notify::templates::Rendered,
}

#[derive(Debug, Serialize)]
struct DoorOut<'a> {
    lock: &'a str,
    name: &'a str,
    /// Absent from a revocation: the PIN no longer matters and is not repeated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pin: Option<&'a str>,
    starts_at: String,
    ends_at: String,
    offline: bool,
}

impl Callback {
    /// A sender to `settings.url`.
    ///
    /// # Errors
    /// [`Error::Config`] for a URL that is not `http(s)://`, a literal non-public address
    /// without `allow_private`, a malformed secret, or no HTTP client.
    pub fn new(settings: &CallbackSettings) -> Result<Callback> {
        let config = |m: String| Error::config(format!("[notifications.callback] {m}"));
        let url = reqwest::Url::parse(&settings.url).map_err(|e| config(format!("url: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(config(format!(
                "url must be http(s), not `{}`",
                url.scheme()
            )));
        }
        if !settings.allow_private {
            ssrf::check_literal(&url).map_err(config)?;
        }
        signature::sign(&settings.secret, "probe", Timestamp(0), b"{}")
            .map_err(|e| config(format!("secret: {e}")))?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut client = reqwest::Client::builder()
            .timeout(Duration::from_secs(TIMEOUT_SECS))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private {
            client = client.dns_resolver(ssrf::PublicOnly);
        }
        let client = client
            .build()
            .map_err(|e| config(format!("cannot build an HTTP client: {e}")))?;
        let http = ProviderHttp::with_client(
            client,
            &HttpSettings {
                base_url: settings.url.clone(),
                timeout: Duration::from_secs(TIMEOUT_SECS),
                requests_per_second: None,
            },
        );
        Ok(Callback {
            http,
            url,
            secret: settings.secret.clone(),
            allow_private: settings.allow_private,
        })
    }

    /// The endpoint's URL, as its health is recorded.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    fn body(m: &Outgoing) -> Result<Vec<u8>, SendError> {
        let revoked = m.kind == latchkey_store::notifications::NoticeKind::Revoked;
        let event = Event {
            kind: format!("access_code.{}", m.kind.as_str()),
            timestamp: m.at.to_rfc3339(),
            data: Data {
                reservation_id: m.reservation.as_str(),
                guest_name: &m.content.guest_name,
                locale: &m.locale,
                doors: m
                    .content
                    .doors
                    .iter()
                    .map(|d| DoorOut {
                        lock: d.lock.as_str(),
                        name: &d.name,
                        pin: (!revoked).then_some(d.pin.as_str()),
                        starts_at: d.window.starts_at.to_rfc3339(),
                        ends_at: d.window.ends_at.to_rfc3339(),
                        offline: d.offline,
                    })
                    .collect(),
                message: &m.texts,
            },
        };
        serde_json::to_vec(&event).map_err(|e| SendError::Refused(e.to_string()))
    }
}

#[async_trait]
impl Sender for Callback {
    async fn send(&self, m: &Outgoing) -> Result<Delivered, SendError> {
        if !self.allow_private {
            ssrf::check(&self.url).await.map_err(SendError::Refused)?;
        }
        let body = Self::body(m)?;
        let signed = signature::sign(&self.secret, &m.idempotency_key, m.at, &body)
            .map_err(|e| SendError::Refused(e.to_string()))?;
        let request = self
            .http
            .client()
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &m.idempotency_key)
            .header("webhook-timestamp", m.at.unix().to_string())
            .header("webhook-signature", signed)
            .body(body);
        match self.http.send(request).await? {
            Ok(_) => Ok(Delivered { reference: None }),
            Err(refusal) if refusal.status == StatusCode::GONE => Err(SendError::Gone),
            Err(refusal) => Err(SendError::Retry {
                error: format!("the platform answered {}: {}", refusal.status, refusal.body),
                retry_after: None,
            }),
        }
    }
}
