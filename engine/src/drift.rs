//! Drift: the codes a lock holds, as its cloud lists them, compared with the codes on
//! record as being on it. A code can be deleted, disabled or changed in the vendor's app,
//! and staff can add codes of their own there; the lock sync finds out here.
//!
//! [`compare`] is pure: the lock sync (`latchkey-service`'s `monitor`) reads both sides,
//! calls it, and puts back what drifted (see `docs/rules.md`, "Drift").

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::monitor::code_id_of;
use crate::{Pin, Window};

/// A code as the lock's cloud lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedCode {
    /// The provider's identifier for the code.
    pub reference: String,
    /// Its name at the provider: Latchkey's idempotency marker (`lk-{code id}`) for the
    /// codes Latchkey made, anything for codes made in the vendor's app.
    pub name: Option<String>,
    /// The PIN, where the cloud shows it.
    pub pin: Option<Pin>,
    /// The window the lock enforces (UTC), where the cloud shows one; `None` for a
    /// permanent code or a cloud that does not say.
    pub window: Option<Window>,
    /// `false` for a code the cloud lists but has disabled: it opens nothing.
    pub enabled: bool,
}

/// One of Latchkey's codes that the records say is on the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCode {
    /// The code's id (`access_codes.id`).
    pub code: i64,
    /// The provider's identifier for it.
    pub reference: String,
    /// The PIN on record.
    pub pin: Pin,
    /// The window on record as the lock enforces it (UTC, after the provider's rounding).
    pub window: Window,
}

/// How a recorded code differs from what the lock holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Drift {
    /// The lock no longer holds it.
    Missing,
    /// The lock holds it disabled.
    Disabled,
    /// The lock holds it with another PIN.
    PinChanged,
    /// The lock holds it with another window.
    WindowChanged,
}

impl Drift {
    /// What happened, in words, for an alert.
    pub fn describe(self) -> &'static str {
        match self {
            Drift::Missing => "was deleted from the lock",
            Drift::Disabled => "was disabled on the lock",
            Drift::PinChanged => "has another PIN on the lock",
            Drift::WindowChanged => "has another window on the lock",
        }
    }
}

/// What [`compare`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Recorded codes the lock does not hold as recorded, by code id, in the order given.
    pub drifted: Vec<(i64, Drift)>,
    /// Codes the lock holds that Latchkey did not make: listed, never touched, and
    /// counted against the lock's capacity.
    pub unmanaged: Vec<ListedCode>,
}

/// Compares `recorded` (Latchkey's codes on record as on the lock, read *before* the
/// listing, so that a code that reached the lock meanwhile is not missed) with `listed`
/// (the lock's codes as its cloud lists them).
///
/// A recorded code is matched by its reference. A PIN or window the cloud does not show
/// is not compared. A listed code that matches no recorded one is unmanaged unless its
/// name is one of Latchkey's markers (`lk-{id}`): those are Latchkey's own codes in
/// transit (being created or deleted), which the jobs that move them account for.
pub fn compare(recorded: &[RecordedCode], listed: &[ListedCode]) -> Comparison {
    let by_reference: HashMap<&str, &ListedCode> =
        listed.iter().map(|l| (l.reference.as_str(), l)).collect();
    let drifted = recorded
        .iter()
        .filter_map(|r| {
            let drift = match by_reference.get(r.reference.as_str()) {
                None => Drift::Missing,
                Some(l) if !l.enabled => Drift::Disabled,
                Some(l) if l.pin.as_ref().is_some_and(|pin| *pin != r.pin) => Drift::PinChanged,
                Some(l) if l.window.is_some_and(|w| w != r.window) => Drift::WindowChanged,
                Some(_) => return None,
            };
            Some((r.code, drift))
        })
        .collect();
    let recorded_refs: HashSet<&str> = recorded.iter().map(|r| r.reference.as_str()).collect();
    let unmanaged = listed
        .iter()
        .filter(|l| {
            !recorded_refs.contains(l.reference.as_str()) && code_id_of(l.name.as_deref()).is_none()
        })
        .cloned()
        .collect();
    Comparison { drifted, unmanaged }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    fn window(from: i64, until: i64) -> Window {
        Window {
            starts_at: Timestamp(from),
            ends_at: Timestamp(until),
        }
    }

    fn recorded(code: i64, pin: &str) -> RecordedCode {
        RecordedCode {
            code,
            reference: format!("ref-{code}"),
            pin: Pin::new(pin),
            window: window(100, 200),
        }
    }

    fn listed(reference: &str, name: &str, pin: &str, w: Window) -> ListedCode {
        ListedCode {
            reference: reference.into(),
            name: Some(name.into()),
            pin: Some(Pin::new(pin)),
            window: Some(w),
            enabled: true,
        }
    }

    #[test]
    fn each_kind_of_drift_is_named_and_a_code_as_recorded_is_not() {
        let records = [
            recorded(1, "1111"),
            recorded(2, "2222"),
            recorded(3, "3333"),
            recorded(4, "4444"),
            recorded(5, "5555"),
        ];
        let mut disabled = listed("ref-3", "lk-3", "3333", window(100, 200));
        disabled.enabled = false;
        let on_lock = [
            listed("ref-1", "lk-1", "1111", window(100, 200)),
            // ref-2 deleted
            disabled,
            listed("ref-4", "lk-4", "9999", window(100, 200)),
            listed("ref-5", "lk-5", "5555", window(100, 900)),
        ];
        let found = compare(&records, &on_lock);
        assert_eq!(
            found.drifted,
            vec![
                (2, Drift::Missing),
                (3, Drift::Disabled),
                (4, Drift::PinChanged),
                (5, Drift::WindowChanged)
            ]
        );
        assert!(found.unmanaged.is_empty());
    }

    #[test]
    fn what_the_cloud_does_not_show_is_not_compared() {
        let on_lock = [ListedCode {
            reference: "ref-1".into(),
            name: None,
            pin: None,
            window: None,
            enabled: true,
        }];
        assert_eq!(
            compare(&[recorded(1, "1111")], &on_lock),
            Comparison::default()
        );
    }

    #[test]
    fn codes_made_elsewhere_are_unmanaged_and_ours_in_transit_are_not() {
        let on_lock = [
            listed("ref-1", "lk-1", "1111", window(100, 200)),
            listed("x-7", "Cleaner", "7777", window(0, 10_000)),
            listed("ref-9", "lk-9", "9999", window(100, 200)), // being created or deleted
        ];
        let found = compare(&[recorded(1, "1111")], &on_lock);
        assert!(found.drifted.is_empty());
        assert_eq!(found.unmanaged, vec![on_lock[1].clone()]);
    }
}
