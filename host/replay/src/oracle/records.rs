//! Checks on the records themselves: PINs shared on one lock, acknowledged versions the
//! service does not hold.

use std::collections::HashMap;

use latchkey_engine::{ReservationId, Timestamp};

use super::{Acked, LockHistory, Violation, ViolationKind};

/// A code's presence `[from, until)` in UTC seconds and its reservation.
type Presence<'a> = (i64, i64, Option<&'a ReservationId>);

pub(super) fn shared_pins(lock: &LockHistory, end: i64, out: &mut Vec<Violation>) {
    let mut by_pin: HashMap<&str, Vec<Presence>> = HashMap::new();
    for s in &lock.segments {
        let until = s.present_until.map_or(i64::MAX, Timestamp::unix);
        if s.present_from.unix() < until && s.present_from.unix() < end {
            by_pin.entry(&s.pin).or_default().push((
                s.present_from.unix(),
                until,
                s.reservation.as_ref(),
            ));
        }
    }
    for (pin, mut list) in by_pin {
        list.sort_unstable();
        let mut holder: Option<(i64, Option<&ReservationId>)> = None;
        for (from, until, res) in list {
            if let Some((held_until, other)) = holder.filter(|h| from < h.0) {
                out.push(Violation {
                    kind: ViolationKind::SharedPin,
                    reservation: res.cloned(),
                    lock: Some(lock.lock.clone()),
                    at: Timestamp(from),
                    detail: format!(
                        "PIN ending {} is also held by {} (present until {})",
                        &pin[pin.len().saturating_sub(2)..]
                            .chars()
                            .collect::<String>(),
                        other.map_or_else(
                            || "a code not made by Latchkey".to_string(),
                            ToString::to_string
                        ),
                        if held_until == i64::MAX {
                            "the end".to_string()
                        } else {
                            Timestamp(held_until).to_string()
                        }
                    ),
                });
            }
            if holder.is_none_or(|h| until > h.0) {
                holder = Some((until, res));
            }
        }
    }
}

pub(super) fn lost_events(
    acked: &[Acked],
    final_versions: &HashMap<ReservationId, u64>,
    out: &mut Vec<Violation>,
) {
    let mut top: HashMap<&ReservationId, &Acked> = HashMap::new();
    for a in acked {
        let e = top.entry(&a.reservation.id).or_insert(a);
        if (a.reservation.version, std::cmp::Reverse(a.acked_at))
            > (e.reservation.version, std::cmp::Reverse(e.acked_at))
        {
            *e = a;
        }
    }
    for (id, a) in top {
        let held = final_versions.get(id).copied().unwrap_or(0);
        if a.reservation.version > held {
            out.push(Violation {
                kind: ViolationKind::LostEvent,
                reservation: Some(id.clone()),
                lock: None,
                at: a.acked_at,
                detail: format!(
                    "webhook {} (version {}) was acknowledged but the service holds version {held}",
                    a.webhook_id, a.reservation.version
                ),
            });
        }
    }
}
