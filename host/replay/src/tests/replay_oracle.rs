//! The real bookings through the timeline and a perfect (simulated) service must satisfy the
//! oracle; breaking one code must not.

use std::collections::HashMap;
use std::time::Instant;

use latchkey_engine::time::{at_local, local_day};
use latchkey_engine::{
    BranchId, DoorKind, LockId, Property, Reservation, ReservationId, ReservationStatus, Timestamp,
    Window, WindowPrecision,
};

use super::fixtures::*;
use crate::bookings::read_bookings;
use crate::inventory::build_inventory;
use crate::oracle::{Acked, CodeSegment, LockHistory, OraclePolicy, Origin, ViolationKind, check};
use crate::timeline::timeline;

/// The default policy's window, computed here with the engine's time helpers.
fn window(p: &Property, r: &Reservation) -> Option<Window> {
    if matches!(
        r.status,
        ReservationStatus::Cancelled | ReservationStatus::NoShow
    ) {
        return None;
    }
    let (first, last) = (
        local_day(r.check_in, p.timezone),
        local_day(r.check_out, p.timezone),
    );
    let (open, close) = if first == last {
        (
            at_local(first, p.day_use_start, p.timezone),
            at_local(first, p.day_use_end, p.timezone),
        )
    } else {
        (
            at_local(first, p.check_in_time, p.timezone),
            at_local(last, p.check_out_time, p.timezone),
        )
    };
    let mut end = close.plus(900);
    if let Some(left) = r.checked_out_at {
        end = end.min(left.plus(900));
    }
    Some(Window {
        starts_at: open.plus(-3600),
        ends_at: end,
    })
}

#[test]
fn a_perfect_service_on_the_real_bookings_passes_the_oracle_quickly() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/hotel_bookings_resort.csv");
    let bookings =
        read_bookings(std::fs::File::open(&path).expect("the resort bookings file must exist"))
            .expect("parses");
    let p = lisbon();
    let inv = build_inventory(&bookings, &p).expect("inventory");
    let hooks = timeline(&bookings, &inv, &p).expect("timeline");
    let branch = Some(BranchId::parse("main").expect("id"));
    let mut locks: Vec<LockHistory> = inv
        .rooms
        .iter()
        .enumerate()
        .map(|(i, r)| LockHistory {
            lock: r.lock_id().expect("lock id"),
            door: DoorKind::Private,
            branch: branch.clone(),
            resources: vec![r.resource.clone()],
            precision: if i % 3 == 0 {
                WindowPrecision::Hour
            } else {
                WindowPrecision::Minute
            },
            overflow: None,
            segments: Vec::new(),
        })
        .collect();
    for name in ["main-entrance", "pool", "gym"] {
        locks.push(LockHistory {
            lock: LockId::parse(name).expect("id"),
            door: DoorKind::Shared,
            branch: branch.clone(),
            resources: Vec::new(),
            precision: WindowPrecision::Minute,
            overflow: None,
            segments: Vec::new(),
        });
    }
    let lock_of: HashMap<String, usize> = locks
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.resources.iter().map(move |r| (r.to_string(), i)))
        .collect();
    let shared: Vec<usize> = (locks.len() - 3..locks.len()).collect();

    // Acked exactly when sent; the service keeps, per lock, the window of the state in force.
    let acked: Vec<Acked> = hooks
        .iter()
        .map(|h| Acked {
            reservation: h.reservation.clone(),
            webhook_id: h.webhook_id.clone(),
            acked_at: h.send_at,
        })
        .collect();
    let mut per_res: HashMap<&ReservationId, Vec<&Acked>> = HashMap::new();
    acked
        .iter()
        .for_each(|a| per_res.entry(&a.reservation.id).or_default().push(a));
    let end = acked
        .iter()
        .map(|a| a.acked_at)
        .max()
        .expect("acks")
        .plus(86_400);
    for (id, states) in &per_res {
        let pin = format!("{:06}", id.as_str()[1..].parse::<u64>().expect("row"));
        let mut open: HashMap<usize, CodeSegment> = HashMap::new();
        for a in states {
            let w = window(&p, &a.reservation);
            let doors: Vec<usize> = a
                .reservation
                .resources
                .iter()
                .map(|r| lock_of[r.as_str()])
                .chain(shared.iter().copied())
                .collect();
            for (&l, seg) in open.iter_mut() {
                if !doors.contains(&l) || w.is_none() {
                    seg.present_until.get_or_insert(a.acked_at);
                }
            }
            let Some(w) = w else { continue };
            for l in doors {
                let enforced = if locks[l].precision == WindowPrecision::Hour {
                    WindowPrecision::Hour.round_outward(w)
                } else {
                    w
                };
                let same = open
                    .get(&l)
                    .is_some_and(|s| s.window == enforced && s.present_until.is_none());
                if !same {
                    if let Some(mut old) = open.remove(&l) {
                        old.present_until.get_or_insert(a.acked_at);
                        locks[l].segments.push(old);
                    }
                    open.insert(
                        l,
                        CodeSegment {
                            reservation: Some((*id).clone()),
                            origin: Origin::Planned,
                            pin: pin.clone(),
                            window: enforced,
                            present_from: a.acked_at,
                            present_until: None,
                            riders: Vec::new(),
                        },
                    );
                }
            }
        }
        for (l, seg) in open {
            locks[l].segments.push(seg);
        }
    }
    let finals: HashMap<ReservationId, u64> = per_res
        .iter()
        .map(|(id, s)| ((*id).clone(), s.len() as u64))
        .collect();
    let segments: usize = locks.iter().map(|l| l.segments.len()).sum();

    let policy = OraclePolicy::default();
    let started = Instant::now();
    let v = check(&policy, &p, &acked, &locks, &[], &[], &finals, end);
    let took = started.elapsed();
    eprintln!(
        "oracle: {} acks, {} locks, {segments} segments in {took:?}",
        acked.len(),
        locks.len()
    );
    assert_eq!(
        v.iter().take(5).collect::<Vec<_>>(),
        Vec::<&crate::oracle::Violation>::new()
    );
    assert!(took.as_millis() < 2_000, "the oracle took {took:?}");

    // Start one room code an hour late: exactly one lockout.
    let victim = locks
        .iter_mut()
        .filter(|l| l.precision == WindowPrecision::Minute && l.door == DoorKind::Private)
        .flat_map(|l| l.segments.iter_mut())
        .find(|s| {
            let until = s.present_until.unwrap_or(Timestamp(i64::MAX));
            s.present_from <= s.window.starts_at
                && until >= s.window.starts_at.plus(7200)
                && s.window.len_secs() > 7200
        })
        .expect("a room code");
    victim.window.starts_at = victim.window.starts_at.plus(3600);
    let v = check(&policy, &p, &acked, &locks, &[], &[], &finals, end);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        v[0].kind == ViolationKind::Lockout && v[0].detail.contains("3600 s"),
        "{v:?}"
    );
}
