//! What every lock cloud's client shares: one HTTP client with a per-request timeout, a
//! rate limit per provider account, and the mapping of transport failures and of the
//! answers every cloud gives alike (429 and 503 with `Retry-After`, other 5xx) to
//! [`ProviderError`]. Each client maps its own 4xx semantics.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use reqwest::{Client, RequestBuilder};

use super::ProviderError;

/// Seconds to wait after a 429 that gives no `Retry-After`.
const DEFAULT_RETRY_AFTER_SECS: i64 = 60;

/// How a provider account's client talks HTTP.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Base URL without a trailing slash, e.g. `https://api.nuki.io`.
    pub base_url: String,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Most requests per second to this account; `None` for no limit (the contract
    /// fakes in replays).
    pub requests_per_second: Option<NonZeroU32>,
}

/// A client for one provider account.
#[derive(Debug)]
pub struct ProviderHttp {
    client: Client,
    base_url: String,
    limiter: Option<DefaultDirectRateLimiter>,
}

/// A provider's answer that was neither a success nor a failure every cloud shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status, 4xx.
    pub status: StatusCode,
    /// The body as text, for the error message.
    pub body: String,
}

impl ProviderHttp {
    /// A client for `settings`.
    ///
    /// # Errors
    /// [`ProviderError::Rejected`] when the HTTP client cannot be built (no TLS roots).
    pub fn new(settings: &HttpSettings) -> Result<ProviderHttp, ProviderError> {
        // reqwest is built without a crypto provider; ring is ours. Installing twice is
        // refused harmlessly, so every client may try.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Rejected(format!("cannot build an HTTP client: {e}")))?;
        Ok(ProviderHttp::with_client(client, settings))
    }

    /// A client for `settings` around `client`, which the caller built with settings of
    /// its own (the callback channel's reaches only public addresses); `settings.timeout`
    /// is the caller's to have applied.
    pub fn with_client(client: Client, settings: &HttpSettings) -> ProviderHttp {
        ProviderHttp {
            client,
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            limiter: settings
                .requests_per_second
                .map(|n| RateLimiter::direct(Quota::per_second(n))),
        }
    }

    /// The underlying client, to build requests with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `path` under the base URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends `request` once the account's rate limit allows, and returns a 2xx answer's
    /// body, or the refusal of any other 4xx for the client to interpret.
    ///
    /// # Errors
    /// [`ProviderError::Timeout`] when no answer came in time (the call may have taken
    /// effect); [`ProviderError::RateLimited`] on 429, or 503 with `Retry-After`;
    /// [`ProviderError::Unavailable`] on other 5xx and on connection failures.
    pub async fn send(
        &self,
        request: RequestBuilder,
    ) -> Result<Result<Vec<u8>, Refusal>, ProviderError> {
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.bytes().await.map_err(transport_error)?.to_vec();
        if status.is_success() {
            return Ok(Ok(body));
        }
        let text = String::from_utf8_lossy(&body)
            .chars()
            .take(500)
            .collect::<String>();
        match (status, retry_after) {
            (StatusCode::TOO_MANY_REQUESTS, after) => Err(ProviderError::RateLimited(
                after.unwrap_or(DEFAULT_RETRY_AFTER_SECS),
            )),
            (StatusCode::SERVICE_UNAVAILABLE, Some(after)) => {
                Err(ProviderError::RateLimited(after))
            }
            (s, _) if s.is_server_error() => {
                Err(ProviderError::Unavailable(format!("{s}: {text}")))
            }
            (s, _) => Ok(Err(Refusal {
                status: s,
                body: text,
            })),
        }
    }
}

fn transport_error(e: reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        ProviderError::Timeout
    } else {
        ProviderError::Unavailable(format!("{e}"))
    }
}

/// `Retry-After` in seconds: either delay-seconds or an HTTP date (RFC 9110 §10.2.3),
/// measured against the system clock, as the server meant it.
fn retry_after(headers: &HeaderMap) -> Option<i64> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<i64>() {
        return Some(secs.max(0));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.timestamp() - chrono::Utc::now().timestamp()).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(value).expect("ascii"),
        );
        h
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(retry_after(&with("120")), Some(120));
        assert_eq!(retry_after(&with("-5")), Some(0));
        assert_eq!(
            retry_after(&with("Sun, 06 Nov 1994 08:49:37 GMT")),
            Some(0),
            "a past date means now"
        );
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(300)).to_rfc2822();
        let secs = retry_after(&with(&soon)).expect("a date parses");
        assert!((295..=300).contains(&secs), "{secs}");
        assert_eq!(retry_after(&with("tomorrow")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }
}
