//! Telling guests, the means: message templates ([`templates`]), the channels that carry
//! them (e-mail, SMS, the platform's signed callback: [`channels`]) and their settings
//! ([`settings`]), assembled into a [`Notifier`]. What to tell whom and when is decided by
//! the outbox (module `outbox`); the `send_notification` job sends. A callback endpoint that has
//! failed for [`DISABLE_CALLBACK_AFTER_SECS`] is disabled with an alert, and at once on
//! 410 Gone.

pub mod channels;
pub mod settings;
pub mod ssrf;
pub mod templates;

use std::sync::Arc;

use latchkey_engine::Guest;
use latchkey_engine::rules::Channel;

use crate::error::{Error, Result};
use channels::Senders;
use channels::callback::Callback;
use channels::email::Email;
use channels::sms::Sms;
use settings::{NotificationSettings, SMS_TOKEN_ENV, SMTP_URL_ENV};
use templates::Templates;

pub use latchkey_engine::rules::Notify;

/// Seconds of continuous failure after which a callback endpoint is disabled (5 days).
pub const DISABLE_CALLBACK_AFTER_SECS: i64 = 5 * 86_400;

/// Everything the host needs to tell guests: the templates and the configured channels.
#[derive(Debug)]
pub struct Notifier {
    /// Message texts.
    pub templates: Templates,
    /// The channels that are configured.
    pub senders: Senders,
    /// The platform's callback URL: the recipient of callback messages.
    pub callback_url: Option<String>,
}

impl Notifier {
    /// Templates and channels from `[notifications]` (as resolved by the catalog, the
    /// templates directory made absolute), with secrets looked up by `secret` (the
    /// environment in `serve`). E-mail needs `from` and an SMTP URL (from the file or
    /// [`SMTP_URL_ENV`]); SMS needs [`SMS_TOKEN_ENV`].
    ///
    /// # Errors
    /// [`Error::Config`] naming what is missing or malformed.
    pub fn from_settings(
        settings: &NotificationSettings,
        secret: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Notifier> {
        let templates = Templates::load(
            settings.templates.as_deref(),
            settings.locale.as_deref().unwrap_or("en"),
        )?;
        let mut senders = Senders::default();
        if let Some(email) = &settings.email {
            let url = secret(SMTP_URL_ENV)
                .or_else(|| email.smtp_url.clone())
                .ok_or_else(|| {
                    Error::config(format!(
                        "[notifications.email] needs smtp_url, or {SMTP_URL_ENV} in the environment"
                    ))
                })?;
            senders.email = Some(Arc::new(Email::new(&url, &email.from)?));
        }
        if let Some(sms) = &settings.sms {
            let token = secret(SMS_TOKEN_ENV).ok_or_else(|| {
                Error::config(format!(
                    "[notifications.sms] needs the gateway's auth token in {SMS_TOKEN_ENV}"
                ))
            })?;
            senders.sms = Some(Arc::new(Sms::new(sms, &token)?));
        }
        let mut callback_url = None;
        if let Some(callback) = &settings.callback {
            let sender = Callback::new(callback)?;
            callback_url = Some(sender.url().to_owned());
            senders.callback = Some(Arc::new(sender));
        }
        Ok(Notifier {
            templates,
            senders,
            callback_url,
        })
    }

    /// Built-in templates in English and no channel: every message is recorded as
    /// skipped (tests and tools that tell nobody).
    ///
    /// # Errors
    /// Never in practice: the built-in templates are checked by the tests.
    pub fn silent() -> Result<Notifier> {
        Ok(Notifier {
            templates: Templates::load(None, "en")?,
            senders: Senders::default(),
            callback_url: None,
        })
    }

    /// Where a message on `channel` goes for `guest`, or why it cannot go.
    pub fn recipient(&self, channel: Channel, guest: &Guest) -> Result<String, &'static str> {
        if self.senders.get(channel).is_none() {
            return Err(match channel {
                Channel::Email => "e-mail is not configured ([notifications.email])",
                Channel::Sms => "text messages are not configured ([notifications.sms])",
                Channel::Callback => {
                    "no callback endpoint is configured ([notifications.callback])"
                }
            });
        }
        let found = match channel {
            Channel::Email => guest.email.clone(),
            Channel::Sms => guest.phone.clone(),
            Channel::Callback => self.callback_url.clone(),
        };
        found.filter(|r| !r.trim().is_empty()).ok_or(match channel {
            Channel::Email => "the guest has no e-mail address",
            Channel::Sms => "the guest has no phone number",
            Channel::Callback => "no callback endpoint is configured ([notifications.callback])",
        })
    }
}
