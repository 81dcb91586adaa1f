//! Text messages through Twilio's Messages API, or any gateway with its contract
//! (<https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource>):
//! `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, Basic auth with the account
//! SID and auth token, a form with `To`, `From` (or `MessagingServiceSid` for an `MG…`
//! sender) and `Body`; `201` with the message's `sid`. A 4xx names the fault in
//! `{code, message}` and refuses the message (an invalid or unreachable number, error
//! 21211 or 21614), except 401/403 (our credentials) which are retried so that the
//! alert on the dead letter, not a silent failure, tells a person. 429 and 5xx are retried
//! after `Retry-After`. Twilio has no idempotency key on this call: a retry after a lost
//! answer may send a second text.

use std::time::Duration;

use async_trait::async_trait;
use latchkey_providers::ProviderError;
use latchkey_providers::http::{HttpSettings, ProviderHttp};
use serde::Deserialize;

use super::{Delivered, Outgoing, SendError, Sender};
use crate::error::{Error, Result};
use crate::notify::settings::SmsSettings;

/// Sends through one account.
pub struct Sms {
    http: ProviderHttp,
    account_sid: String,
    auth_token: String,
    from: String,
}

impl std::fmt::Debug for Sms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sms")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Created {
    sid: String,
}

#[derive(Deserialize)]
struct Problem {
    code: Option<i64>,
    message: Option<String>,
}

impl From<ProviderError> for SendError {
    fn from(e: ProviderError) -> SendError {
        match e {
            ProviderError::RateLimited(secs) => SendError::Retry {
                error: e.to_string(),
                retry_after: Some(secs),
            },
            e if e.is_retryable() => SendError::Retry {
                error: e.to_string(),
                retry_after: None,
            },
            e => SendError::Refused(e.to_string()),
        }
    }
}

impl Sms {
    /// A sender for `settings` with `auth_token`.
    ///
    /// # Errors
    /// [`Error::Config`] when the HTTP client cannot be built.
    pub fn new(settings: &SmsSettings, auth_token: &str) -> Result<Sms> {
        let http = ProviderHttp::new(&HttpSettings {
            base_url: settings.base_url.clone(),
            timeout: Duration::from_secs(15),
            requests_per_second: None,
        })
        .map_err(|e| Error::config_from("[notifications.sms]", e))?;
        Ok(Sms {
            http,
            account_sid: settings.account_sid.clone(),
            auth_token: auth_token.to_owned(),
            from: settings.from.clone(),
        })
    }
}

#[async_trait]
impl Sender for Sms {
    async fn send(&self, m: &Outgoing) -> Result<Delivered, SendError> {
        let url = self.http.url(&format!(
            "/2010-04-01/Accounts/{}/Messages.json",
            self.account_sid
        ));
        let sender = if self.from.starts_with("MG") {
            "MessagingServiceSid"
        } else {
            "From"
        };
        let form = [
            ("To", m.recipient.as_str()),
            (sender, self.from.as_str()),
            ("Body", m.texts.sms.as_str()),
        ];
        let request = self
            .http
            .client()
            .post(url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&form);
        match self.http.send(request).await? {
            Ok(body) => {
                let created: Created =
                    serde_json::from_slice(&body).map_err(|e| SendError::Retry {
                        error: format!("the gateway's answer does not parse: {e}"),
                        retry_after: None,
                    })?;
                Ok(Delivered {
                    reference: Some(created.sid),
                })
            }
            Err(refusal) => {
                let problem: Option<Problem> = serde_json::from_str(&refusal.body).ok();
                let detail = problem
                    .map(|p| {
                        format!(
                            "{} (code {})",
                            p.message.unwrap_or_default(),
                            p.code.map_or_else(|| "none".into(), |c| c.to_string())
                        )
                    })
                    .unwrap_or(refusal.body);
                let error = format!("SMS gateway answered {}: {detail}", refusal.status);
                if matches!(refusal.status.as_u16(), 401 | 403) {
                    Err(SendError::Retry {
                        error,
                        retry_after: None,
                    })
                } else {
                    Err(SendError::Refused(error))
                }
            }
        }
    }
}
