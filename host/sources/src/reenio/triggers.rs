//! What a reenio `triggerType` means for Latchkey: the default table of platforms.md §5.6,
//! which the admin overrides per hook and trigger in `[sources.reenio.hooks.<hook>]`.
//!
//! | triggerType | default |
//! |---|---|
//! | 0 created | `created`: `reservation.confirmed` if the fetched state is confirmed, else `reservation.modified` |
//! | 3 confirmed | `reservation.confirmed` |
//! | 7 paid | `reservation.paid` |
//! | 4 start of term | `reservation.starts_soon` |
//! | 6, 8, 9 cancellations | `reservation.cancelled` |
//! | 10 did not take place | `reservation.no_show` |
//! | 1 end of term, 2 took place | `reservation.checked_out` |
//! | 5 customer registration | `ignore` (stored for audit, nothing fetched) |
//! | any other | `reservation.modified` (a refetch), logged as unmapped |
//!
//! The event type only labels the event: the reservation's state, and so the plan, always
//! comes from what was fetched.

use std::collections::BTreeMap;

use latchkey_engine::rules::EventType;
use serde::{Deserialize, Deserializer};

use super::wire::ReenioState;

/// What one trigger of one hook means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerTarget {
    /// Store the delivery for audit; fetch nothing, plan nothing.
    Ignore,
    /// reenio's "reservation created": confirmed if the fetched state says so.
    Created,
    /// This canonical event.
    Event(EventType),
}

impl<'de> Deserialize<'de> for TriggerTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        match name.as_str() {
            "ignore" => Ok(TriggerTarget::Ignore),
            "created" => Ok(TriggerTarget::Created),
            other => EventType::parse(other).map(TriggerTarget::Event).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "`{other}` is neither `ignore`, `created` nor an event type such as `reservation.paid`"
                ))
            }),
        }
    }
}

/// The default meaning of `trigger` (platforms.md §5.6), and whether the table knows it.
pub fn default_target(trigger: u32) -> (TriggerTarget, bool) {
    use EventType::*;
    let target = match trigger {
        0 => TriggerTarget::Created,
        3 => TriggerTarget::Event(Confirmed),
        7 => TriggerTarget::Event(Paid),
        4 => TriggerTarget::Event(StartsSoon),
        6 | 8 | 9 => TriggerTarget::Event(Cancelled),
        10 => TriggerTarget::Event(NoShow),
        1 | 2 => TriggerTarget::Event(CheckedOut),
        5 => TriggerTarget::Ignore,
        _ => return (TriggerTarget::Event(Modified), false),
    };
    (target, true)
}

/// The meaning of `trigger` on `hook`: the hook's own mapping, else the default table.
pub fn resolve(
    hooks: &BTreeMap<String, BTreeMap<String, TriggerTarget>>,
    hook: &str,
    trigger: u32,
) -> TriggerTarget {
    hooks
        .get(hook)
        .and_then(|table| table.get(&trigger.to_string()))
        .copied()
        .unwrap_or_else(|| {
            let (target, known) = default_target(trigger);
            if !known {
                tracing::info!(
                    hook,
                    trigger,
                    "unmapped triggerType {trigger}: refetching as reservation.modified"
                );
            }
            target
        })
}

impl TriggerTarget {
    /// The event to record once the reservation was fetched in `state`; `None` for
    /// [`TriggerTarget::Ignore`].
    pub fn event(self, state: ReenioState) -> Option<EventType> {
        match self {
            TriggerTarget::Ignore => None,
            TriggerTarget::Created if state == ReenioState::Confirmed => Some(EventType::Confirmed),
            TriggerTarget::Created => Some(EventType::Modified),
            TriggerTarget::Event(kind) => Some(kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_table() {
        let event = |t| default_target(t).0.event(ReenioState::Confirmed);
        assert_eq!(event(0), Some(EventType::Confirmed));
        assert_eq!(
            default_target(0).0.event(ReenioState::AwaitingConfirmation),
            Some(EventType::Modified),
            "creation is not confirmation"
        );
        assert_eq!(event(3), Some(EventType::Confirmed));
        assert_eq!(event(7), Some(EventType::Paid));
        assert_eq!(event(4), Some(EventType::StartsSoon));
        for t in [6, 8, 9] {
            assert_eq!(event(t), Some(EventType::Cancelled));
        }
        assert_eq!(event(10), Some(EventType::NoShow));
        assert_eq!(event(1), Some(EventType::CheckedOut));
        assert_eq!(event(2), Some(EventType::CheckedOut));
        assert_eq!(event(5), None);
        assert_eq!(
            default_target(11),
            (TriggerTarget::Event(EventType::Modified), false)
        );
    }

    #[test]
    fn a_hook_overrides_the_default() {
        let hooks: BTreeMap<String, BTreeMap<String, TriggerTarget>> = toml::from_str(
            r#"[late-checkout]
               "1" = "ignore"
               "11" = "reservation.modified"
               [vip]
               "0" = "reservation.paid""#,
        )
        .expect("parses");
        assert_eq!(resolve(&hooks, "late-checkout", 1), TriggerTarget::Ignore);
        assert_eq!(
            resolve(&hooks, "default", 1),
            TriggerTarget::Event(EventType::CheckedOut)
        );
        assert_eq!(
            resolve(&hooks, "vip", 0),
            TriggerTarget::Event(EventType::Paid)
        );
        assert_eq!(
            resolve(&hooks, "vip", 7),
            TriggerTarget::Event(EventType::Paid)
        );
        let bad: Result<BTreeMap<String, TriggerTarget>, _> =
            toml::from_str(r#""1" = "reservation.exploded""#);
        assert!(bad.is_err());
    }
}
