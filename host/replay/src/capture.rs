//! A channel that keeps every message in memory: the replay's guests' inboxes, read by
//! its oracle, and a stand-in for channels a test does not exercise.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use latchkey_service::notify::channels::{Delivered, Outgoing, SendError, Sender};

/// The messages sent, in order.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    sent: Arc<Mutex<Vec<Outgoing>>>,
}

impl Capture {
    /// An empty capture.
    pub fn new() -> Capture {
        Capture::default()
    }

    /// Every message sent so far, in order.
    pub fn sent(&self) -> Vec<Outgoing> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl Sender for Capture {
    async fn send(&self, message: &Outgoing) -> Result<Delivered, SendError> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message.clone());
        Ok(Delivered { reference: None })
    }
}
