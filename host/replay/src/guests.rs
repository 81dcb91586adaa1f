//! The replay's guests: their inboxes (every channel captured in memory, across restarts
//! of the service) and what the oracle reads from them.

use std::sync::Arc;

use crate::capture::Capture;
use latchkey_service::catalog::Catalog;
use latchkey_service::error::Result;
use latchkey_service::notify::Notifier;
use latchkey_service::notify::channels::Senders;
use latchkey_service::notify::templates::Templates;

use super::oracle::Told;

/// The platform's callback endpoint in a replay (captured, never called).
const REPLAY_CALLBACK_URL: &str = "https://platform.replay.invalid/latchkey";

/// The property's templates, with every channel sending into `inbox`.
///
/// # Errors
/// A template of the property that does not load.
pub fn guest_notifier(catalog: &Catalog, inbox: &Capture) -> Result<Notifier> {
    let settings = &catalog.notifications;
    Ok(Notifier {
        templates: Templates::load(
            settings.templates.as_deref(),
            settings.locale.as_deref().unwrap_or("en"),
        )?,
        senders: Senders::all(Arc::new(inbox.clone())),
        callback_url: Some(REPLAY_CALLBACK_URL.into()),
    })
}

/// Every message delivered, as the oracle reads it. A message must tell each PIN in its
/// text too: one whose rendered text lacks a door's PIN counts as not telling it.
pub fn told(inbox: &Capture) -> Vec<Told> {
    inbox
        .sent()
        .into_iter()
        .map(|m| {
            let text = format!("{}\n{}", m.texts.email, m.texts.sms);
            Told {
                reservation: m.reservation.clone(),
                channel: m.channel.as_str().to_owned(),
                kind: m.kind.as_str().to_owned(),
                key: m.idempotency_key.clone(),
                at: m.at,
                doors: m
                    .content
                    .doors
                    .iter()
                    .map(|d| {
                        let pin = if text.contains(&d.pin) {
                            d.pin.clone()
                        } else {
                            String::new()
                        };
                        (d.lock.clone(), pin, d.window)
                    })
                    .collect(),
            }
        })
        .collect()
}
