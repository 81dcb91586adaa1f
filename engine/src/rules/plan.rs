//! What a rule returns, and its validation.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{RuleError, RuleInput, RuleLimits};
use crate::Grant;

/// The desired grants for one reservation. An empty list means "no access".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// At most one grant per lock.
    pub grants: Vec<Grant>,
    /// Whether, and how, the guest is told about these grants; `None` tells nothing.
    #[serde(default)]
    pub notify: Option<Notify>,
}

/// A rule's request to tell the guest about their access. The host decides *when*: the
/// first message once the codes are on the locks (never a PIN that is not there yet),
/// again whenever a door's PIN or window changes, and, with `on_revoke`, a notice when
/// the access is withdrawn.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// The channels to use; each gets its own message.
    pub channels: Vec<Channel>,
    /// Also send a notice when the guest's access is withdrawn (cancellation, no-show).
    #[serde(default)]
    pub on_revoke: bool,
}

/// A way of telling the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// E-mail to the guest's address.
    Email,
    /// A text message to the guest's phone.
    Sms,
    /// A signed callback to the booking platform, which tells the guest itself.
    Callback,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Callback];

    /// The snake_case name used on the wire, in rules and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Callback => "callback",
        }
    }

    /// Parses the name written by [`Channel::as_str`].
    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl Plan {
    /// Checks the plan against the input it was computed from.
    ///
    /// # Errors
    /// [`RuleError::InvalidPlan`] naming the first offending grant: too many grants, a lock
    /// not in `input.locks`, the same lock twice, an empty window, or `issue_at` after
    /// `starts_at`.
    pub fn validate(&self, input: &RuleInput, limits: &RuleLimits) -> Result<(), RuleError> {
        if self.grants.len() > limits.max_grants {
            return Err(RuleError::InvalidPlan(format!(
                "{} grants, more than the limit of {}",
                self.grants.len(),
                limits.max_grants
            )));
        }
        let mut seen = HashSet::new();
        for (i, g) in self.grants.iter().enumerate() {
            if !input.locks.iter().any(|l| l.id == g.lock) {
                return Err(RuleError::InvalidPlan(format!(
                    "grants[{i}] names lock `{}`, which is not among the input's locks",
                    g.lock
                )));
            }
            if !seen.insert(&g.lock) {
                return Err(RuleError::InvalidPlan(format!(
                    "grants[{i}] repeats lock `{}`",
                    g.lock
                )));
            }
            if g.starts_at >= g.ends_at {
                return Err(RuleError::InvalidPlan(format!(
                    "grants[{i}] has an empty window: starts_at {} is not before ends_at {}",
                    g.starts_at, g.ends_at
                )));
            }
            if g.issue_at() > g.starts_at {
                return Err(RuleError::InvalidPlan(format!(
                    "grants[{i}] has issue_at {} after starts_at {}: the guest would be locked out",
                    g.issue_at(),
                    g.starts_at
                )));
            }
        }
        if let Some(notify) = &self.notify {
            let mut channels = HashSet::new();
            if let Some(c) = notify.channels.iter().find(|c| !channels.insert(**c)) {
                return Err(RuleError::InvalidPlan(format!(
                    "notify.channels repeats `{}`",
                    c.as_str()
                )));
            }
        }
        Ok(())
    }
}
