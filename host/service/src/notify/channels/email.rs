//! E-mail over SMTP (lettre). The message's Message-ID derives from its idempotency key,
//! so a retry after a lost answer carries the same id and mail clients thread, or drop,
//! the repeat. A 5xx answer (a permanent SMTP failure, RFC 5321 §4.2.1) refuses the
//! message; anything else is retried.

use async_trait::async_trait;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};

use super::{Delivered, Outgoing, SendError, Sender};
use crate::error::{Error, Result};

/// Sends through one SMTP relay.
pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Email {
    /// A sender through the relay at `smtp_url` (lettre's form: `smtp://host:port` plain,
    /// `smtp://host:587?tls=required` STARTTLS, `smtps://host:465` implicit TLS; user and
    /// password in the URL) from `from` (`Name <address>`).
    ///
    /// # Errors
    /// [`Error::Config`] for a URL or sender lettre does not accept (the URL is not
    /// repeated: it may hold a password).
    pub fn new(smtp_url: &str, from: &str) -> Result<Email> {
        // lettre's TLS is rustls; ring is ours (see the provider HTTP client).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| Error::config_from("[notifications.email] SMTP URL", e))?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        let from = from
            .parse()
            .map_err(|e| Error::config_from(format!("[notifications.email] from `{from}`"), e))?;
        Ok(Email { transport, from })
    }
}

/// `<hash@latchkey>`: the idempotency key holds characters a Message-ID may not.
fn message_id(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("<{}@latchkey>", hex::encode(&digest[..16]))
}

#[async_trait]
impl Sender for Email {
    async fn send(&self, m: &Outgoing) -> Result<Delivered, SendError> {
        let to: Mailbox = m
            .recipient
            .parse()
            .map_err(|e| SendError::Refused(format!("address `{}`: {e}", m.recipient)))?;
        let id = message_id(&m.idempotency_key);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&m.texts.subject)
            .message_id(Some(id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(m.texts.email.clone())
            .map_err(|e| SendError::Refused(format!("cannot build the message: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(Delivered {
                reference: Some(id),
            }),
            Err(e) if e.is_permanent() => Err(SendError::Refused(e.to_string())),
            Err(e) => Err(SendError::Retry {
                error: format!("SMTP: {e}"),
                retry_after: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stable_per_key_and_well_formed() {
        let a = message_id("demo:R-1001:1:email");
        assert_eq!(a, message_id("demo:R-1001:1:email"));
        assert_ne!(a, message_id("demo:R-1001:2:email"));
        assert!(a.starts_with('<') && a.ends_with("@latchkey>") && !a.contains(':'));
    }

    #[test]
    fn bad_settings_are_refused_without_repeating_the_url() {
        let err = Email::new(
            "ftp://user:hunter2@mail.example",
            "Hotel <desk@hotel.example>",
        )
        .expect_err("not an SMTP URL");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        Email::new("smtp://127.0.0.1:2525", "not an address").expect_err("bad sender");
    }
}
