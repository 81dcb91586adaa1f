//! What a lock held, over time: the ground truth the replay's oracle and the tests ask of
//! the simulator and of every contract fake ("does PIN P open lock L at instant T?").

use latchkey_engine::{Pin, Timestamp, Window};
use serde::Serialize;

/// One stretch of time during which a lock held one version of a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeSegment {
    /// The provider reference of the code.
    pub reference: String,
    /// The idempotency marker it was created with (the code's name at the provider;
    /// empty for codes made outside Latchkey).
    pub marker: String,
    /// The PIN.
    pub pin: Pin,
    /// The window the lock enforces (after rounding).
    pub window: Window,
    /// When the code reached the lock.
    pub present_from: Timestamp,
    /// When it left the lock (`None`: still there).
    pub present_until: Option<Timestamp>,
}

impl CodeSegment {
    /// True while the code is on the lock at `at`, whatever its window.
    pub fn present_at(&self, at: Timestamp) -> bool {
        self.present_from <= at && self.present_until.is_none_or(|end| at < end)
    }

    /// True when this code opens the door at `at`.
    pub fn opens_at(&self, at: Timestamp) -> bool {
        self.present_at(at) && self.window.contains(at)
    }
}

/// Anything that knows what its locks held: the simulator and the contract fakes.
pub trait HeldCodes: Send + Sync {
    /// Every code `device` has held, oldest first; empty for an unknown device.
    fn history(&self, device: &str) -> Vec<CodeSegment>;

    /// True when `pin` opens `device` at `at`.
    fn opens(&self, device: &str, pin: &str, at: Timestamp) -> bool {
        self.history(device)
            .iter()
            .any(|s| s.pin.as_str() == pin && s.opens_at(at))
    }
}
