//! The reenio admin REST API client (RA, platforms.md §1.5): the two reads the webhook form
//! needs, `GET /reservation/detail/{id}` and `GET /customer/detail/{id}`.
//!
//! It sends `Authorization: Bearer <ApiKey>` and `Accept: application/json`, keeps under
//! reenio's 200 requests a minute per account with a `governor` limiter (shared by every
//! job of the process, see [`super::ApiSlot`]), and maps failures as the lock clouds'
//! clients do through [`ProviderHttp`]: 429 (or 503 with `Retry-After`) is
//! [`ProviderError::RateLimited`] with the server's delay, 5xx and transport failures are
//! retryable, 404 is "no such reservation", any other 4xx a refusal.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::{StatusCode, header};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use latchkey_providers::ProviderError;
use latchkey_providers::credentials::Secret;
use latchkey_providers::http::{HttpSettings, ProviderHttp};
use serde::de::DeserializeOwned;

use super::wire::{CustomerDetail, ReservationDetail};

/// reenio's published limit, requests per minute per account (RA).
pub const REQUESTS_PER_MINUTE: u32 = 200;

/// How a client reaches one reenio account.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Base URL of the admin API, e.g. `https://reenio.com/en/api/v1/admin`.
    pub base_url: String,
    /// The API key.
    pub api_key: Secret,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Most requests a minute; `None` for no limit (a replay's loopback fake).
    pub requests_per_minute: Option<NonZeroU32>,
}

impl ClientSettings {
    /// The production settings: reenio's limit and a 10 s timeout.
    pub fn production(base_url: &str, api_key: Secret) -> ClientSettings {
        ClientSettings {
            base_url: base_url.to_owned(),
            api_key,
            timeout: Duration::from_secs(10),
            requests_per_minute: NonZeroU32::new(REQUESTS_PER_MINUTE),
        }
    }
}

/// A client of one reenio account.
#[derive(Debug)]
pub struct ReenioClient {
    http: ProviderHttp,
    api_key: Secret,
    limiter: Option<DefaultDirectRateLimiter>,
}

impl ReenioClient {
    /// A client for `settings`.
    ///
    /// # Errors
    /// [`ProviderError::Rejected`] when the HTTP client cannot be built.
    pub fn new(settings: &ClientSettings) -> Result<ReenioClient, ProviderError> {
        // The shared client limits per second; reenio's budget is per minute, so the
        // limiter is ours and allows the minute's budget as a burst.
        let http = ProviderHttp::new(&HttpSettings {
            base_url: settings.base_url.clone(),
            timeout: settings.timeout,
            requests_per_second: None,
        })?;
        Ok(ReenioClient {
            http,
            api_key: settings.api_key.clone(),
            limiter: settings
                .requests_per_minute
                .map(|n| RateLimiter::direct(Quota::per_minute(n))),
        })
    }

    /// The reservation `id`, or `None` when reenio knows no such reservation (404).
    ///
    /// # Errors
    /// As [`ReenioClient`] describes; [`ProviderError::Rejected`] for an answer that does
    /// not parse.
    pub async fn reservation(&self, id: i64) -> Result<Option<ReservationDetail>, ProviderError> {
        self.get(&format!("/reservation/detail/{id}")).await
    }

    /// The customer `id`, or `None` when reenio knows no such customer (404).
    ///
    /// # Errors
    /// As [`ReenioClient::reservation`].
    pub async fn customer(&self, id: i64) -> Result<Option<CustomerDetail>, ProviderError> {
        self.get(&format!("/customer/detail/{id}")).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, ProviderError> {
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        let request = self
            .http
            .client()
            .get(self.http.url(path))
            .bearer_auth(self.api_key.expose())
            .header(header::ACCEPT, "application/json");
        match self.http.send(request).await? {
            Ok(body) => serde_json::from_slice(&body).map(Some).map_err(|e| {
                ProviderError::Rejected(format!(
                    "reenio answered GET {path} with an unreadable body: {e}"
                ))
            }),
            Err(refusal) if refusal.status == StatusCode::NOT_FOUND => Ok(None),
            Err(refusal) => Err(ProviderError::Rejected(format!(
                "reenio refused GET {path}: {} {}",
                refusal.status, refusal.body
            ))),
        }
    }
}
