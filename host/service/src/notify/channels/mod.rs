//! The channels a message goes out on, behind one trait: [`email`] (SMTP), [`sms`] (a
//! Twilio-compatible Messages API), [`callback`] (a Standard Webhooks callback to the
//! booking platform); replays and tests keep messages in memory with `latchkey_sim::capture`.

pub mod callback;
pub mod email;
pub mod sms;

use async_trait::async_trait;
use latchkey_engine::rules::Channel;
use latchkey_engine::{ReservationId, Timestamp};
use latchkey_store::notifications::Content;
use latchkey_store::notifications::NoticeKind;

use super::templates::Rendered;

/// A message ready to go: rendered, with its structured content for the channels that
/// carry data (the callback).
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The outbox id.
    pub id: i64,
    /// Stable across retries and restarts: sent as the e-mail's Message-ID and the
    /// callback's `webhook-id`, so a receiver can drop a repeat.
    pub idempotency_key: String,
    /// Which message.
    pub kind: NoticeKind,
    /// The channel it goes out on.
    pub channel: Channel,
    /// The reservation.
    pub reservation: ReservationId,
    /// Address, phone number or URL.
    pub recipient: String,
    /// The locale it is written in.
    pub locale: String,
    /// The texts.
    pub texts: Rendered,
    /// What it says, as data.
    pub content: Content,
    /// When it is sent (the service's clock).
    pub at: Timestamp,
}

/// The channel's receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The receiver's id for the message, when it gives one (SMS `sid`).
    pub reference: Option<String>,
}

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Try again later, after at least `retry_after` seconds when the receiver said so.
    #[error("{error}")]
    Retry {
        /// What went wrong.
        error: String,
        /// The receiver's `Retry-After`, in seconds.
        retry_after: Option<i64>,
    },
    /// The receiver refused this message for good (a malformed address, a number that
    /// cannot take texts); retrying cannot help.
    #[error("refused: {0}")]
    Refused(String),
    /// The endpoint is gone (HTTP 410): disable it.
    #[error("the endpoint answered 410 Gone")]
    Gone,
}

/// One channel.
#[async_trait]
pub trait Sender: Send + Sync + std::fmt::Debug {
    /// Sends `message`. At least once: after an error the job retries, and the message's
    /// idempotency key lets the receiver drop a repeat where its protocol allows.
    async fn send(&self, message: &Outgoing) -> Result<Delivered, SendError>;
}

/// The configured channels.
#[derive(Debug, Clone, Default)]
pub struct Senders {
    /// E-mail.
    pub email: Option<std::sync::Arc<dyn Sender>>,
    /// Text messages.
    pub sms: Option<std::sync::Arc<dyn Sender>>,
    /// Callbacks to the platform.
    pub callback: Option<std::sync::Arc<dyn Sender>>,
}

impl Senders {
    /// The sender for `channel`, if configured.
    pub fn get(&self, channel: Channel) -> Option<&std::sync::Arc<dyn Sender>> {
        match channel {
            Channel::Email => self.email.as_ref(),
            Channel::Sms => self.sms.as_ref(),
            Channel::Callback => self.callback.as_ref(),
        }
    }

    /// Every channel sending into `sender` (replays, tests).
    pub fn all(sender: std::sync::Arc<dyn Sender>) -> Senders {
        Senders {
            email: Some(sender.clone()),
            sms: Some(sender.clone()),
            callback: Some(sender),
        }
    }
}
