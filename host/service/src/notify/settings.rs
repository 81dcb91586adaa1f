//! `[notifications]` in `property.toml`: the default locale, template overrides, and the
//! channels' endpoints. Secrets never go in that file: the SMTP URL with credentials and
//! the SMS gateway's token come from the environment ([`SMTP_URL_ENV`],
//! [`SMS_TOKEN_ENV`]); the callback's signing secret is the platform's, like a webhook
//! source's.

use std::path::PathBuf;

use serde::Deserialize;

/// Environment variable holding the SMTP URL (`smtp://user:pass@host:587`,
/// `smtps://…` for implicit TLS); overrides `[notifications.email] smtp_url`.
pub const SMTP_URL_ENV: &str = "LATCHKEY_SMTP_URL";

/// Environment variable holding the SMS gateway's auth token (Twilio's `AuthToken`).
pub const SMS_TOKEN_ENV: &str = "LATCHKEY_SMS_AUTH_TOKEN";

/// `[notifications]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    /// Locale used when the guest's is not one we have templates for; `en` by default.
    #[serde(default)]
    pub locale: Option<String>,
    /// A directory (relative to the property directory) of template overrides, laid out
    /// as `{locale}/{subject,email,sms}.j2`.
    #[serde(default)]
    pub templates: Option<PathBuf>,
    /// E-mail over SMTP.
    #[serde(default)]
    pub email: Option<EmailSettings>,
    /// Text messages through a Twilio-compatible gateway.
    #[serde(default)]
    pub sms: Option<SmsSettings>,
    /// Signed callbacks to the booking platform.
    #[serde(default)]
    pub callback: Option<CallbackSettings>,
}

/// `[notifications.email]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// The sender, e.g. `Resort Hotel <frontdesk@resort.example>`.
    pub from: String,
    /// `smtp://host:port` (STARTTLS when the server offers it), `smtps://host:465`
    /// (implicit TLS), or `smtp://host:port?tls=none` for a relay on loopback.
    /// [`SMTP_URL_ENV`] overrides it and is where credentials belong.
    #[serde(default)]
    pub smtp_url: Option<String>,
}

impl std::fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A URL may carry a password.
        f.debug_struct("EmailSettings")
            .field("from", &self.from)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// `[notifications.sms]`: Twilio's Messages API or a gateway with its contract
/// (<https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource>).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    /// Base URL, `https://api.twilio.com` by default.
    #[serde(default = "default_twilio")]
    pub base_url: String,
    /// The account SID (`AC…`), also the Basic-auth user.
    pub account_sid: String,
    /// The sending number (E.164) or messaging service SID (`MG…`).
    pub from: String,
}

fn default_twilio() -> String {
    "https://api.twilio.com".into()
}

/// `[notifications.callback]`: where the booking platform takes `access_code.*` events,
/// signed with Standard Webhooks.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackSettings {
    /// The platform's endpoint (`https://…`).
    pub url: String,
    /// The signing secret, `whsec_` followed by base64.
    pub secret: String,
    /// Allow targets on loopback or private networks (tests, a platform on the same
    /// host); refused by default as a guard against server-side request forgery.
    #[serde(default)]
    pub allow_private: bool,
}

impl std::fmt::Debug for CallbackSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackSettings")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("allow_private", &self.allow_private)
            .finish()
    }
}
