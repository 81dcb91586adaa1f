use std::collections::HashMap;

use latchkey_engine::{
    BranchId, DoorKind, Guest, LockId, Reservation, ReservationId, ReservationStatus, ResourceId,
    Timestamp, Window, WindowPrecision,
};

use super::fixtures::*;
use crate::oracle::{
    Acked, CodeSegment, FaultWindow, LockHistory, OraclePolicy, Origin, Told, UnrevocableAlert,
    Violation, ViolationKind, attach_riders, check, check_told,
};

const WINDOW: (&str, &str) = ("2016-07-01T13:00:00Z", "2016-07-03T10:15:00Z");

fn state(version: u64, status: ReservationStatus, room: &str) -> Reservation {
    Reservation {
        id: ReservationId::parse("R1").expect("id"),
        status,
        resources: vec![ResourceId::parse(room).expect("id")],
        check_in: ts("2016-07-01T14:00:00Z"),
        check_out: ts("2016-07-03T10:00:00Z"),
        checked_out_at: None,
        guest: Guest::default(),
        version,
    }
}

fn ack(reservation: Reservation, at: &str) -> Acked {
    let webhook_id = format!("{}-v{}", reservation.id, reservation.version);
    Acked {
        reservation,
        webhook_id,
        acked_at: ts(at),
    }
}

fn lock(
    id: &str,
    door: DoorKind,
    branch: bool,
    rooms: &[&str],
    precision: WindowPrecision,
) -> LockHistory {
    LockHistory {
        lock: LockId::parse(id).expect("id"),
        door,
        branch: branch.then(|| BranchId::parse("main").expect("id")),
        resources: rooms
            .iter()
            .map(|r| ResourceId::parse(*r).expect("id"))
            .collect(),
        precision,
        overflow: None,
        segments: Vec::new(),
    }
}

fn seg(
    res: Option<&str>,
    pin: &str,
    window: (&str, &str),
    present: (&str, Option<&str>),
) -> CodeSegment {
    CodeSegment {
        reservation: res.map(|r| ReservationId::parse(r).expect("id")),
        origin: Origin::Planned,
        pin: pin.into(),
        window: Window {
            starts_at: ts(window.0),
            ends_at: ts(window.1),
        },
        present_from: ts(present.0),
        present_until: present.1.map(ts),
        riders: Vec::new(),
    }
}

/// R1, paid, stays 1–3 July 2016 in A01; its PIN is on its room and the entrance for the
/// whole window; A02 and an unassigned door hold nothing.
struct World {
    acked: Vec<Acked>,
    locks: Vec<LockHistory>,
    faults: Vec<FaultWindow>,
    alerts: Vec<UnrevocableAlert>,
    finals: HashMap<ReservationId, u64>,
    policy: OraclePolicy,
}

const ROOM: usize = 0;
const ENTRANCE: usize = 1;
const OTHER_ROOM: usize = 2;
const UNASSIGNED: usize = 3;

impl World {
    fn new() -> World {
        let mut locks = vec![
            lock(
                "room-A01",
                DoorKind::Private,
                true,
                &["A01"],
                WindowPrecision::Minute,
            ),
            lock(
                "entrance",
                DoorKind::Shared,
                true,
                &[],
                WindowPrecision::Minute,
            ),
            lock(
                "room-A02",
                DoorKind::Private,
                true,
                &["A02"],
                WindowPrecision::Minute,
            ),
            lock(
                "pool",
                DoorKind::Shared,
                false,
                &[],
                WindowPrecision::Minute,
            ),
        ];
        for l in [ROOM, ENTRANCE] {
            locks[l].segments.push(seg(
                Some("R1"),
                "4821",
                WINDOW,
                ("2016-06-29T14:00:00Z", Some(WINDOW.1)),
            ));
        }
        let mut w = World {
            acked: vec![
                ack(
                    state(1, ReservationStatus::Confirmed, "A01"),
                    "2016-06-01T09:00:00Z",
                ),
                ack(
                    state(2, ReservationStatus::Paid, "A01"),
                    "2016-06-29T14:00:00Z",
                ),
            ],
            locks,
            faults: Vec::new(),
            alerts: Vec::new(),
            finals: HashMap::new(),
            policy: OraclePolicy {
                requires_payment: true,
                ..OraclePolicy::default()
            },
        };
        w.sync_finals();
        w
    }

    /// The service holds every acked version (no lost event unless a test says so).
    fn sync_finals(&mut self) {
        for a in &self.acked {
            let v = self.finals.entry(a.reservation.id.clone()).or_insert(0);
            *v = (*v).max(a.reservation.version);
        }
    }

    fn check(&self) -> Vec<Violation> {
        check(
            &self.policy,
            &lisbon(),
            &self.acked,
            &self.locks,
            &self.faults,
            &self.alerts,
            &self.finals,
            ts("2016-07-10T00:00:00Z"),
        )
    }

    fn cancel_at(&mut self, at: &str) {
        self.acked
            .push(ack(state(3, ReservationStatus::Cancelled, "A01"), at));
        self.sync_finals();
    }

    fn seg_until(&mut self, l: usize, until: &str) {
        self.locks[l].segments[0].present_until = Some(ts(until));
    }
}

fn summary(v: &[Violation]) -> Vec<(ViolationKind, Option<String>, Timestamp)> {
    v.iter()
        .map(|v| (v.kind, v.lock.as_ref().map(ToString::to_string), v.at))
        .collect()
}

fn one(
    kind: ViolationKind,
    lock: Option<&str>,
    at: &str,
) -> Vec<(ViolationKind, Option<String>, Timestamp)> {
    vec![(kind, lock.map(str::to_string), ts(at))]
}

#[test]
fn a_correct_history_has_no_violation() {
    assert_eq!(World::new().check(), vec![]);
}

#[test]
fn a_window_one_hour_short_is_a_lockout() {
    let mut w = World::new();
    w.locks[ROOM].segments[0].window.ends_at = ts("2016-07-03T09:15:00Z");
    let v = w.check();
    assert_eq!(
        summary(&v),
        one(
            ViolationKind::Lockout,
            Some("room-A01"),
            "2016-07-03T09:15:00Z"
        )
    );
    assert_eq!(
        v[0].reservation.as_ref().map(ReservationId::as_str),
        Some("R1")
    );
    assert!(v[0].detail.contains("3600 s"), "{}", v[0].detail);
}

#[test]
fn a_code_of_another_guest_does_not_count() {
    let mut w = World::new();
    w.locks[ROOM].segments[0].reservation = Some(ReservationId::parse("R2").expect("id"));
    let kinds: Vec<_> = w
        .check()
        .iter()
        .map(|v| (v.kind, v.reservation.clone()))
        .collect();
    assert!(kinds.contains(&(
        ViolationKind::Lockout,
        Some(ReservationId::parse("R1").expect("id"))
    )));
    assert!(kinds.contains(&(
        ViolationKind::StaleAccess,
        Some(ReservationId::parse("R2").expect("id"))
    )));
}

#[test]
fn a_code_left_after_cancellation_is_stale_access() {
    let mut w = World::new();
    w.cancel_at("2016-07-02T12:00:00Z");
    let v = w.check();
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(
        v.iter()
            .all(|v| v.kind == ViolationKind::StaleAccess && v.at == ts("2016-07-02T12:05:00Z"))
    );
}

#[test]
fn grace_after_cancellation_excuses_five_minutes_and_no_more() {
    let mut w = World::new();
    w.cancel_at("2016-07-02T12:00:00Z");
    w.seg_until(ROOM, "2016-07-02T12:05:00Z");
    w.seg_until(ENTRANCE, "2016-07-02T12:06:00Z");
    let v = w.check();
    assert_eq!(
        summary(&v),
        one(
            ViolationKind::StaleAccess,
            Some("entrance"),
            "2016-07-02T12:05:00Z"
        )
    );
    assert!(v[0].detail.contains("60 s"), "{}", v[0].detail);
}

#[test]
fn an_outage_moves_the_revocation_deadline_on_its_lock_only() {
    let mut w = World::new();
    w.cancel_at("2016-07-02T12:00:00Z");
    w.faults.push(FaultWindow {
        lock: w.locks[ROOM].lock.clone(),
        from: ts("2016-07-02T11:50:00Z"),
        until: ts("2016-07-02T12:30:00Z"),
    });
    w.seg_until(ROOM, "2016-07-02T12:35:00Z");
    w.seg_until(ENTRANCE, "2016-07-02T12:35:00Z");
    assert_eq!(
        summary(&w.check()),
        one(
            ViolationKind::StaleAccess,
            Some("entrance"),
            "2016-07-02T12:05:00Z"
        )
    );
    w.seg_until(ROOM, "2016-07-02T12:36:00Z");
    w.seg_until(ENTRANCE, "2016-07-02T12:05:00Z");
    assert_eq!(
        summary(&w.check()),
        one(
            ViolationKind::StaleAccess,
            Some("room-A01"),
            "2016-07-02T12:35:00Z"
        )
    );
}

#[test]
fn an_outage_excuses_a_missing_code_until_grace_after_it_ends() {
    let mut w = World::new();
    // The room's code vanishes from 20:00 to 20:30 during an outage that ends at 20:20.
    let mut second = w.locks[ROOM].segments[0].clone();
    w.seg_until(ROOM, "2016-07-01T20:00:00Z");
    second.present_from = ts("2016-07-01T20:30:00Z");
    w.locks[ROOM].segments.push(second);
    w.faults.push(FaultWindow {
        lock: w.locks[ROOM].lock.clone(),
        from: ts("2016-07-01T20:00:00Z"),
        until: ts("2016-07-01T20:20:00Z"),
    });
    let v = w.check();
    assert_eq!(
        summary(&v),
        one(
            ViolationKind::Lockout,
            Some("room-A01"),
            "2016-07-01T20:25:00Z"
        )
    );
    assert!(v[0].detail.contains("300 s"), "{}", v[0].detail);
}

#[test]
fn a_late_booking_has_grace_to_get_its_code() {
    let mut w = World::new();
    // Paid an hour into the window: the code must follow within five minutes.
    w.acked[1].acked_at = ts("2016-07-01T14:00:00Z");
    for l in [ROOM, ENTRANCE] {
        w.locks[l].segments[0].present_from = ts("2016-07-01T14:05:00Z");
    }
    assert_eq!(w.check(), vec![]);
    w.locks[ROOM].segments[0].present_from = ts("2016-07-01T14:06:00Z");
    assert_eq!(
        summary(&w.check()),
        one(
            ViolationKind::Lockout,
            Some("room-A01"),
            "2016-07-01T14:05:00Z"
        )
    );
}

#[test]
fn a_code_before_payment_is_stale_where_payment_is_required() {
    let mut w = World::new();
    w.locks[ENTRANCE].segments[0].present_from = ts("2016-06-28T00:00:00Z");
    w.acked[1].acked_at = ts("2016-07-01T14:00:00Z");
    w.locks[ROOM].segments[0].present_from = ts("2016-07-01T14:00:00Z");
    let v = w.check();
    assert_eq!(
        summary(&v),
        one(ViolationKind::StaleAccess, Some("entrance"), WINDOW.0)
    );
    w.policy.requires_payment = false;
    assert_eq!(
        summary(&w.check()),
        one(ViolationKind::Lockout, Some("room-A01"), WINDOW.0)
    );
}

#[test]
fn hour_rounding_is_allowed_on_offline_locks_only() {
    let mut w = World::new();
    w.locks[ROOM].precision = WindowPrecision::Hour;
    w.locks[ROOM].segments[0].window.ends_at = ts("2016-07-03T11:00:00Z");
    w.locks[ROOM].segments[0].present_until = None;
    assert_eq!(w.check(), vec![]);
    w.locks[ROOM].segments[0].window.ends_at = ts("2016-07-03T12:00:00Z");
    assert_eq!(
        summary(&w.check()),
        one(
            ViolationKind::StaleAccess,
            Some("room-A01"),
            "2016-07-03T11:00:00Z"
        )
    );
    w.locks[ROOM].precision = WindowPrecision::Minute;
    w.locks[ROOM].segments[0].window.ends_at = ts("2016-07-03T11:00:00Z");
    assert_eq!(
        summary(&w.check()),
        one(ViolationKind::StaleAccess, Some("room-A01"), WINDOW.1)
    );
}

#[test]
fn an_unrevocable_alert_excuses_that_code_on_that_lock_only() {
    let mut w = World::new();
    w.cancel_at("2016-07-02T12:00:00Z");
    w.seg_until(ENTRANCE, "2016-07-02T12:00:00Z");
    let alert = |lock: &str, res: &str| UnrevocableAlert {
        lock: LockId::parse(lock).expect("id"),
        reservation: ReservationId::parse(res).expect("id"),
        raised_at: ts("2016-07-02T12:00:01Z"),
    };
    w.alerts = vec![alert("entrance", "R1"), alert("room-A01", "R2")];
    assert_eq!(
        summary(&w.check()),
        one(
            ViolationKind::StaleAccess,
            Some("room-A01"),
            "2016-07-02T12:05:00Z"
        )
    );
    w.alerts.push(alert("room-A01", "R1"));
    assert_eq!(w.check(), vec![]);
}

#[test]
fn checkout_ends_access_fifteen_minutes_after_leaving() {
    let mut w = World::new();
    let mut out = state(3, ReservationStatus::CheckedOut, "A01");
    out.checked_out_at = Some(ts("2016-07-03T08:00:00Z"));
    w.acked.push(ack(out, "2016-07-03T08:00:00Z"));
    w.sync_finals();
    assert_eq!(
        summary(&w.check()),
        one(
            ViolationKind::StaleAccess,
            Some("entrance"),
            "2016-07-03T08:15:00Z"
        )
        .into_iter()
        .chain(one(
            ViolationKind::StaleAccess,
            Some("room-A01"),
            "2016-07-03T08:15:00Z"
        ))
        .collect::<Vec<_>>()
    );
    w.seg_until(ROOM, "2016-07-03T08:15:00Z");
    w.seg_until(ENTRANCE, "2016-07-03T08:15:00Z");
    assert_eq!(w.check(), vec![]);
    // Leaving is no reason to lock the guest out before the fifteen minutes are up.
    w.seg_until(ENTRANCE, "2016-07-03T08:10:00Z");
    assert_eq!(
        summary(&w.check()),
        one(
            ViolationKind::Lockout,
            Some("entrance"),
            "2016-07-03T08:10:00Z"
        )
    );
}

#[test]
fn a_room_move_needs_the_new_door_and_revokes_the_old() {
    let mut w = World::new();
    w.acked.push(ack(
        state(3, ReservationStatus::Paid, "A02"),
        "2016-06-30T14:00:00Z",
    ));
    w.sync_finals();
    let v = summary(&w.check());
    assert_eq!(
        v,
        vec![
            (
                ViolationKind::Lockout,
                Some("room-A02".to_string()),
                ts(WINDOW.0)
            ),
            (
                ViolationKind::StaleAccess,
                Some("room-A01".to_string()),
                ts(WINDOW.0)
            ),
        ]
    );
    let moved = seg(Some("R1"), "4821", WINDOW, ("2016-06-30T14:00:00Z", None));
    w.locks[OTHER_ROOM].segments.push(moved);
    w.seg_until(ROOM, "2016-06-30T14:00:00Z");
    assert_eq!(w.check(), vec![]);
}

#[test]
fn out_of_order_acks_never_roll_the_state_back() {
    let mut w = World::new();
    w.cancel_at("2016-06-30T00:00:00Z");
    // The older "paid" is acknowledged again after the cancellation: still cancelled.
    w.acked.push(ack(
        state(2, ReservationStatus::Paid, "A01"),
        "2016-06-30T01:00:00Z",
    ));
    w.seg_until(ROOM, "2016-06-30T00:05:00Z");
    w.seg_until(ENTRANCE, "2016-06-30T00:05:00Z");
    assert_eq!(w.check(), vec![]);
}

#[test]
fn unassigned_doors_and_foreign_codes_entitle_nobody() {
    let mut w = World::new();
    w.locks[UNASSIGNED].segments.push(seg(
        Some("R1"),
        "4821",
        WINDOW,
        ("2016-06-29T14:00:00Z", None),
    ));
    w.locks[OTHER_ROOM]
        .segments
        .push(seg(None, "1111", WINDOW, ("2016-06-29T14:00:00Z", None)));
    let v = w.check();
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(
        v.iter()
            .all(|v| v.kind == ViolationKind::StaleAccess && v.at == ts(WINDOW.0))
    );
    assert!(
        v.iter().any(|v| v.reservation.is_none()
            && v.lock.as_ref().is_some_and(|l| l.as_str() == "room-A02"))
    );
}

#[test]
fn the_same_pin_twice_on_a_lock_is_shared() {
    let mut w = World::new();
    let other = seg(
        Some("R2"),
        "4821",
        ("2016-07-05T13:00:00Z", "2016-07-06T10:15:00Z"),
        ("2016-07-02T13:00:00Z", None),
    );
    w.locks[ENTRANCE].segments.push(other.clone());
    let v: Vec<_> = w
        .check()
        .into_iter()
        .filter(|v| v.kind != ViolationKind::StaleAccess)
        .collect();
    assert_eq!(
        summary(&v),
        one(
            ViolationKind::SharedPin,
            Some("entrance"),
            "2016-07-02T13:00:00Z"
        )
    );
    assert!(
        !v[0].detail.contains("4821"),
        "PINs are not written in full"
    );
    // One after the other, or on different locks: fine.
    let mut w = World::new();
    let mut later = other.clone();
    later.present_from = ts(WINDOW.1);
    w.locks[ENTRANCE].segments.push(later);
    w.locks[OTHER_ROOM].segments.push(other);
    assert!(w.check().iter().all(|v| v.kind != ViolationKind::SharedPin));
}

#[test]
fn an_acked_version_the_service_never_reached_is_a_lost_event() {
    let mut w = World::new();
    w.finals.insert(ReservationId::parse("R1").expect("id"), 1);
    let v = w.check();
    assert_eq!(
        summary(&v),
        vec![(ViolationKind::LostEvent, None, ts("2016-06-29T14:00:00Z"))]
    );
    assert!(v[0].detail.contains("R1-v2"), "{}", v[0].detail);
    w.finals.clear();
    assert_eq!(
        w.check().len(),
        1,
        "a reservation the service never heard of"
    );
}

#[test]
fn violations_serialise_for_the_report() {
    let mut w = World::new();
    w.finals.insert(ReservationId::parse("R1").expect("id"), 1);
    let json = serde_json::to_value(&w.check()[0]).expect("json");
    assert_eq!(json["kind"], "lost_event");
    assert_eq!(json["at"], "2016-06-29T14:00:00Z");
    assert_eq!(json["reservation"], "R1");
    assert!(json["lock"].is_null());
}

#[test]
fn dst_day_use_and_stays_use_local_wall_clock() {
    let mut w = World::new();
    // Over the fall-back night: 15:00 WEST − 1 h to 11:00 WET + 15 min.
    for a in &mut w.acked {
        a.reservation.check_in = ts("2016-10-29T14:00:00Z");
        a.reservation.check_out = ts("2016-10-31T11:00:00Z");
    }
    for l in [ROOM, ENTRANCE] {
        w.locks[l].segments[0].window = Window {
            starts_at: ts("2016-10-29T13:00:00Z"),
            ends_at: ts("2016-10-31T11:15:00Z"),
        };
        w.locks[l].segments[0].present_until = None;
    }
    let end = ts("2016-11-10T00:00:00Z");
    let run = |w: &World| {
        check(
            &w.policy,
            &lisbon(),
            &w.acked,
            &w.locks,
            &[],
            &[],
            &w.finals,
            end,
        )
    };
    assert_eq!(run(&w), vec![]);
    // Day use on the spring-forward day: 09:00 WEST − 1 h = 07:00Z to 18:15 WEST = 17:15Z.
    for a in &mut w.acked {
        a.reservation.check_in = ts("2016-03-27T08:00:00Z");
        a.reservation.check_out = ts("2016-03-27T17:00:00Z");
        a.acked_at = ts("2016-03-20T00:00:00Z").plus(a.reservation.version as i64);
    }
    for l in [ROOM, ENTRANCE] {
        w.locks[l].segments[0].window = Window {
            starts_at: ts("2016-03-27T07:00:00Z"),
            ends_at: ts("2016-03-27T17:15:00Z"),
        };
        w.locks[l].segments[0].present_from = ts("2016-03-24T07:00:00Z");
    }
    assert_eq!(run(&w), vec![]);
}

// ---- what guests were told ------------------------------------------------------------

fn told(key: &str, kind: &str, at: &str, pin: &str) -> Told {
    Told {
        reservation: ReservationId::parse("R1").expect("id"),
        channel: "email".into(),
        kind: kind.into(),
        key: key.into(),
        at: ts(at),
        doors: ["room-A01", "entrance"]
            .iter()
            .map(|l| {
                let window = Window {
                    starts_at: ts(WINDOW.0),
                    ends_at: ts(WINDOW.1),
                };
                (LockId::parse(*l).expect("id"), pin.to_owned(), window)
            })
            .collect(),
    }
}

impl World {
    fn check_told(&self, messages: &[Told]) -> Vec<Violation> {
        check_told(
            &self.policy,
            &lisbon(),
            &self.acked,
            &self.locks,
            &self.faults,
            messages,
            &["email".to_owned()],
            ts("2016-07-10T00:00:00Z"),
        )
    }
}

#[test]
fn a_guest_told_the_pin_on_the_locks_is_fine_and_one_never_told_is_not() {
    let w = World::new();
    let right = [told("k1", "issued", "2016-06-29T14:00:00Z", "4821")];
    assert_eq!(w.check_told(&right), Vec::new());
    let never = w.check_told(&[]);
    assert_eq!(
        summary(&never),
        vec![
            (
                ViolationKind::WrongPinTold,
                Some("entrance".into()),
                ts(WINDOW.0)
            ),
            (
                ViolationKind::WrongPinTold,
                Some("room-A01".into()),
                ts(WINDOW.0)
            ),
        ]
    );
    assert!(
        never[0].detail.contains("never told"),
        "{}",
        never[0].detail
    );
}

#[test]
fn a_wrong_pin_or_a_pin_changed_without_a_message_is_found() {
    let w = World::new();
    let wrong = w.check_told(&[told("k1", "issued", "2016-06-29T14:00:00Z", "1111")]);
    assert_eq!(wrong.len(), 2);
    assert!(
        wrong[0].detail.contains("told PIN 1111"),
        "{}",
        wrong[0].detail
    );

    // The room's PIN changes on 2 July; the guest is told only an hour later.
    let mut w = World::new();
    w.seg_until(ROOM, "2016-07-02T00:00:00Z");
    w.locks[ROOM].segments.push(seg(
        Some("R1"),
        "9999",
        WINDOW,
        ("2016-07-02T00:00:00Z", Some(WINDOW.1)),
    ));
    let first = told("k1", "issued", "2016-06-29T14:00:00Z", "4821");
    let mut second = told("k2", "changed", "2016-07-02T01:00:00Z", "4821");
    second.doors[0].1 = "9999".into();
    let late = w.check_told(&[first.clone(), second.clone()]);
    assert_eq!(
        summary(&late),
        one(
            ViolationKind::WrongPinTold,
            Some("room-A01"),
            "2016-07-02T00:05:00Z"
        ),
        "told an hour after the change, beyond the grace"
    );
    second.at = ts("2016-07-02T00:03:00Z");
    assert_eq!(
        w.check_told(&[first, second]),
        Vec::new(),
        "within the grace"
    );
}

#[test]
fn the_same_message_twice_is_a_duplicate() {
    let w = World::new();
    let once = told("k1", "issued", "2016-06-29T14:00:00Z", "4821");
    let mut again = once.clone();
    again.at = ts("2016-06-29T15:00:00Z");
    let v = w.check_told(&[once.clone(), again.clone()]);
    assert_eq!(
        summary(&v),
        one(
            ViolationKind::DuplicateMessage,
            None,
            "2016-06-29T15:00:00Z"
        )
    );
    assert!(
        v[0].detail.contains("one idempotency key"),
        "{}",
        v[0].detail
    );
    again.key = "k2".into();
    let v = w.check_told(&[once, again]);
    assert_eq!(
        v.len(),
        1,
        "same words under a new key: still the same message"
    );
}

#[test]
fn nobody_is_owed_a_message_after_checking_out() {
    // Payment and departure arrive together after the guest left (reordered webhooks).
    let mut w = World::new();
    let mut left = state(3, ReservationStatus::CheckedOut, "A01");
    left.checked_out_at = Some(ts("2016-07-03T09:30:00Z"));
    w.acked.truncate(1);
    w.acked.push(ack(left, "2016-07-03T09:30:00Z"));
    w.sync_finals();
    for l in [ROOM, ENTRANCE] {
        w.locks[l].segments[0].present_from = ts("2016-07-03T09:30:00Z");
        w.locks[l].segments[0].window.ends_at = ts("2016-07-03T09:45:00Z");
        w.locks[l].segments[0].present_until = Some(ts("2016-07-03T09:45:00Z"));
    }
    assert_eq!(w.check(), Vec::new(), "the locks did right");
    assert_eq!(w.check_told(&[]), Vec::new());
}

/// A backup code with the pool's long window, present on the room lock from `present`.
fn backup(res: Option<&str>, origin: Origin, present: (&str, Option<&str>)) -> CodeSegment {
    CodeSegment {
        origin,
        ..seg(
            res,
            "7310",
            ("2016-06-01T00:00:00Z", "2016-08-30T00:00:00Z"),
            present,
        )
    }
}

#[test]
fn a_backup_code_in_its_pool_opens_the_door_for_no_one() {
    let mut w = World::new();
    w.locks[ROOM]
        .segments
        .push(backup(None, Origin::Pool, ("2016-06-01T00:00:00Z", None)));
    assert_eq!(w.check(), vec![]);
    // The same code, not known to be a backup, is access nobody is entitled to.
    w.locks[ROOM].segments[1].origin = Origin::Planned;
    let v = w.check();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].kind, ViolationKind::StaleAccess);
}

#[test]
fn a_given_backup_code_is_held_to_the_guests_window_after_grace() {
    // R1's room code is gone; a backup code was given two hours before the window opened
    // (2016-07-01T13:00Z, check-in 15:00 local less an hour) and narrowed within grace.
    let mut w = World::new();
    w.locks[ROOM].segments.clear();
    let given = "2016-07-01T11:00:00Z";
    let narrowed = "2016-07-01T11:04:00Z";
    w.locks[ROOM].segments.push(backup(
        None,
        Origin::Pool,
        ("2016-06-01T00:00:00Z", Some(given)),
    ));
    w.locks[ROOM]
        .segments
        .push(backup(Some("R1"), Origin::Given, (given, Some(narrowed))));
    let mut after = seg(Some("R1"), "7310", WINDOW, (narrowed, Some(WINDOW.1)));
    after.origin = Origin::Given;
    w.locks[ROOM].segments.push(after);
    assert_eq!(w.check(), vec![]);

    // Not narrowed for an hour: what it opened past grace is stale access.
    let late = "2016-07-01T12:00:00Z";
    w.locks[ROOM].segments[1].present_until = Some(ts(late));
    w.locks[ROOM].segments[2].present_from = ts(late);
    assert_eq!(
        summary(&w.check()),
        one(
            ViolationKind::StaleAccess,
            Some("room-A01"),
            "2016-07-01T11:05:00Z"
        )
    );
}

// ---- a full door's overflow -----------------------------------------------------------

/// The world with a side door named as the entrance's overflow, and R1's entrance code
/// on the side door instead (the entrance was full when it was needed).
fn overflowed() -> World {
    let mut w = World::new();
    w.locks[ENTRANCE].overflow = Some(LockId::parse("side-door").expect("id"));
    let mut side = lock(
        "side-door",
        DoorKind::Shared,
        true,
        &[],
        WindowPrecision::Minute,
    );
    side.segments = std::mem::take(&mut w.locks[ENTRANCE].segments);
    w.locks.push(side);
    w
}

const SIDE: usize = 4;

#[test]
fn a_code_on_the_overflow_door_lets_the_guest_of_the_full_door_in() {
    let w = overflowed();
    assert_eq!(w.check(), vec![]);
    // Told the side door's PIN: that door is named, and it opens.
    let mut message = told("k1", "issued", "2016-06-29T14:00:00Z", "4821");
    message.doors[1].0 = LockId::parse("side-door").expect("id");
    assert_eq!(w.check_told(&[message]), Vec::new());
}

#[test]
fn the_overflow_door_entitles_nobody_by_itself_and_holds_its_codes_to_the_guests_window() {
    // Nobody is owed a code on the side door: without one there, the guest is locked out
    // of the entrance, not of the side door.
    let mut w = overflowed();
    w.locks[SIDE].segments.clear();
    assert_eq!(
        summary(&w.check()),
        one(ViolationKind::Lockout, Some("entrance"), WINDOW.0)
    );
    // A code on it past the guest's cancellation is stale, as on the entrance.
    let mut w = overflowed();
    w.cancel_at("2016-07-02T12:00:00Z");
    let stale: Vec<_> = w
        .check()
        .into_iter()
        .filter(|v| v.lock.as_ref().map(LockId::as_str) == Some("side-door"))
        .map(|v| (v.kind, v.at))
        .collect();
    assert_eq!(
        stale,
        vec![(ViolationKind::StaleAccess, ts("2016-07-02T12:05:00Z"))]
    );
    // A code there for a guest the entrance does not admit is stale from its first
    // instant.
    let mut w = overflowed();
    let mut stranger = w.locks[SIDE].segments[0].clone();
    stranger.reservation = Some(ReservationId::parse("R2").expect("id"));
    stranger.pin = "7305".into();
    w.locks[SIDE].segments.push(stranger);
    assert_eq!(
        summary(&w.check()),
        one(ViolationKind::StaleAccess, Some("side-door"), WINDOW.0)
    );
}

// ---- a code held by a guest it was not made for -----------------------------------------

/// The world with R2, paid for the same nights in A02: its own code on A02, none of its
/// own on the entrance, and a message telling it R1's entrance PIN (as the `share`
/// strategy does on a full door), attached as the oracle attaches what guests were told.
fn sharing() -> (World, Vec<Told>) {
    let mut w = World::new();
    let r2 = |version, status| Reservation {
        id: ReservationId::parse("R2").expect("id"),
        ..state(version, status, "A02")
    };
    w.acked
        .push(ack(r2(1, ReservationStatus::Paid), "2016-06-20T09:00:00Z"));
    w.sync_finals();
    w.locks[OTHER_ROOM].segments.push(seg(
        Some("R2"),
        "5932",
        WINDOW,
        ("2016-06-29T14:00:00Z", Some(WINDOW.1)),
    ));
    let mut message = told("k2", "issued", "2016-06-29T15:00:00Z", "4821");
    message.reservation = ReservationId::parse("R2").expect("id");
    message.doors[0].0 = LockId::parse("room-A02").expect("id");
    message.doors[0].1 = "5932".into();
    let messages = vec![
        told("k1", "issued", "2016-06-29T14:00:00Z", "4821"),
        message,
    ];
    attach_riders(&mut w.locks, &messages);
    (w, messages)
}

#[test]
fn a_guest_told_another_guests_pin_holds_that_code_from_then_on() {
    let (w, messages) = sharing();
    let riders = &w.locks[ENTRANCE].segments[0].riders;
    assert_eq!(
        riders,
        &vec![(
            ReservationId::parse("R2").expect("id"),
            ts("2016-06-29T15:00:00Z")
        )]
    );
    assert!(
        w.locks[ROOM].segments[0].riders.is_empty(),
        "R2 was told no PIN for room A01"
    );
    // R2 gets in through the entrance on R1's code, and was told a PIN that opens it.
    assert_eq!(w.check(), vec![]);
    assert_eq!(w.check_told(&messages), vec![]);
}

#[test]
fn a_holder_of_a_shared_code_is_held_to_their_own_entitlement() {
    let (mut w, _) = sharing();
    let r2 = Reservation {
        id: ReservationId::parse("R2").expect("id"),
        ..state(2, ReservationStatus::Cancelled, "A02")
    };
    w.acked.push(ack(r2, "2016-07-02T12:00:00Z"));
    w.sync_finals();
    // R2's own code stays on A02 and R1's entrance code stays for R1: both open for R2
    // after its cancellation.
    let stale: Vec<_> = w
        .check()
        .into_iter()
        .map(|v| {
            (
                v.kind,
                v.reservation.map(|r| r.to_string()),
                v.lock.map(|l| l.to_string()),
                v.at,
            )
        })
        .collect();
    let at = ts("2016-07-02T12:05:00Z");
    assert_eq!(
        stale,
        vec![
            (
                ViolationKind::StaleAccess,
                Some("R2".into()),
                Some("entrance".into()),
                at
            ),
            (
                ViolationKind::StaleAccess,
                Some("R2".into()),
                Some("room-A02".into()),
                at
            ),
        ]
    );
}

#[test]
fn a_pin_told_while_no_code_holds_it_gives_nothing() {
    let mut w = World::new();
    let mut message = told("k2", "issued", "2016-06-28T09:00:00Z", "4821");
    message.reservation = ReservationId::parse("R2").expect("id");
    attach_riders(&mut w.locks, &[message]);
    assert!(
        w.locks
            .iter()
            .all(|l| l.segments.iter().all(|s| s.riders.is_empty()))
    );
}
