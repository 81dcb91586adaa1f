use std::collections::HashMap;

use latchkey_engine::ReservationStatus;
use latchkey_engine::rules::EventType;

use super::fixtures::*;
use crate::bookings::{Booking, DepositType, FinalStatus};
use crate::inventory::{Inventory, build_inventory};
use crate::timeline::{PlannedWebhook, booking_webhooks, final_stay, timeline};

fn plan(b: &Booking) -> (Inventory, Vec<PlannedWebhook>) {
    let p = lisbon();
    let inv = build_inventory(std::slice::from_ref(b), &p).expect("inventory");
    let hooks = booking_webhooks(b, &inv, &p).expect("timeline");
    (inv, hooks)
}

fn events(hooks: &[PlannedWebhook]) -> Vec<EventType> {
    hooks.iter().map(|h| h.event).collect()
}

/// Versions 1, 2, 3… in send order, strictly increasing send instants, one reservation.
fn assert_well_formed(hooks: &[PlannedWebhook]) {
    for (i, h) in hooks.iter().enumerate() {
        assert_eq!(h.reservation.version, i as u64 + 1, "{}", h.webhook_id);
        assert_eq!(h.webhook_id, format!("{}-v{}", h.reservation.id, i + 1));
        if i > 0 {
            assert!(
                h.send_at > hooks[i - 1].send_at,
                "{} not after its predecessor",
                h.webhook_id
            );
        }
    }
    assert_eq!(hooks.first().map(|h| h.event), Some(EventType::Confirmed));
}

#[test]
fn checked_out_stay_with_changes_ends_in_the_real_dates() {
    let mut b = booking(7, "2016-07-01", 2);
    b.booking_changes = 3;
    let (inv, hooks) = plan(&b);
    assert_well_formed(&hooks);
    assert_eq!(
        events(&hooks),
        [
            EventType::Confirmed,
            EventType::Modified,
            EventType::Modified,
            EventType::Modified,
            EventType::Paid,
            EventType::StartsSoon,
            EventType::CheckedOut
        ]
    );
    // Booked 30 days before arrival at 10:00 WEST.
    assert_eq!(hooks[0].send_at, ts("2016-06-01T09:00:00Z"));
    // v1 holds one night more than the row; the modifications alternate back to the row.
    assert_eq!(hooks[0].reservation.check_out, ts("2016-07-04T10:00:00Z"));
    assert_eq!(hooks[1].reservation.check_out, ts("2016-07-03T10:00:00Z"));
    assert_eq!(hooks[2].reservation.check_out, ts("2016-07-04T10:00:00Z"));
    let last = &hooks[hooks.len() - 1].reservation;
    assert_eq!(last.status, ReservationStatus::CheckedOut);
    assert_eq!(last.check_in, ts("2016-07-01T14:00:00Z"));
    assert_eq!(last.check_out, ts("2016-07-03T10:00:00Z"));
    assert_eq!(last.checked_out_at, Some(ts("2016-07-03T09:30:00Z")));
    assert_eq!(last.resources, vec![inv.assignment[&7].final_room.clone()]);
    // No deposit: paid 48 h before check-in, then statuses carry over.
    assert_eq!(hooks[4].send_at, ts("2016-06-29T14:00:00Z"));
    assert_eq!(hooks[5].reservation.status, ReservationStatus::Paid);
    assert_eq!(last.guest.email.as_deref(), Some("h7@guests.example"));
}

#[test]
fn cancelled_booking_ends_cancelled_and_sends_nothing_after() {
    let mut b = booking(2, "2016-07-01", 3);
    b.status = FinalStatus::Canceled;
    b.canceled = true;
    b.status_date = day("2016-06-10");
    b.booking_changes = 17;
    b.deposit_type = DepositType::NonRefund;
    let (_, hooks) = plan(&b);
    assert_well_formed(&hooks);
    let last = hooks.last().expect("hooks");
    assert_eq!(last.event, EventType::Cancelled);
    assert_eq!(last.send_at, ts("2016-06-10T11:00:00Z"));
    assert_eq!(last.reservation.status, ReservationStatus::Cancelled);
    assert_eq!(
        hooks
            .iter()
            .filter(|h| h.event == EventType::Modified)
            .count(),
        17
    );
    assert_eq!(
        hooks[1].event,
        EventType::Paid,
        "non-refundable: paid 5 minutes after booking"
    );
    assert!(
        !events(&hooks).contains(&EventType::StartsSoon),
        "cancelled before it"
    );
    assert_eq!(
        last.reservation.check_out,
        ts("2016-07-04T10:00:00Z"),
        "real dates at the end"
    );
}

#[test]
fn cancellation_dated_before_booking_comes_half_an_hour_after_it() {
    let mut b = booking(3, "2016-07-01", 1);
    b.status = FinalStatus::Canceled;
    b.status_date = day("2016-01-01");
    b.booking_changes = 5;
    let (_, hooks) = plan(&b);
    assert_well_formed(&hooks);
    let last = hooks.last().expect("hooks");
    assert_eq!(last.event, EventType::Cancelled);
    assert_eq!(last.send_at.unix() - hooks[0].send_at.unix(), 1800);
    assert_eq!(
        hooks.len(),
        7,
        "confirmed, 5 modified, cancelled: no payment before it"
    );
}

#[test]
fn no_show_is_the_night_after_arrival_and_may_follow_payment() {
    let mut b = booking(4, "2016-03-26", 2);
    b.status = FinalStatus::NoShow;
    b.canceled = true;
    let (_, hooks) = plan(&b);
    assert_well_formed(&hooks);
    assert_eq!(
        events(&hooks),
        [
            EventType::Confirmed,
            EventType::Paid,
            EventType::StartsSoon,
            EventType::NoShow
        ]
    );
    // 02:00 on 27 March 2016 is the first instant of Lisbon summer time.
    assert_eq!(hooks[3].send_at, ts("2016-03-27T01:00:00Z"));
    assert_eq!(hooks[3].reservation.status, ReservationStatus::NoShow);
}

#[test]
fn room_move_switches_rooms_the_day_before_check_in() {
    let mut b = booking(5, "2016-07-01", 2);
    b.assigned_room_type = "C".into();
    let (inv, hooks) = plan(&b);
    assert_well_formed(&hooks);
    let a = &inv.assignment[&5];
    assert_ne!(a.initial, a.final_room);
    assert_eq!(hooks[0].reservation.resources, vec![a.initial.clone()]);
    let moved = hooks
        .iter()
        .find(|h| h.reservation.resources == vec![a.final_room.clone()])
        .expect("a move");
    assert_eq!(moved.event, EventType::Modified);
    assert_eq!(moved.send_at, ts("2016-06-30T14:00:00Z"));
}

#[test]
fn day_use_runs_on_the_day_use_hours() {
    let mut b = booking(6, "2016-07-01", 0);
    b.lead_time_days = 0;
    b.booking_changes = 2;
    let (_, hooks) = plan(&b);
    assert_well_formed(&hooks);
    // v1 is one day later; the day-use hours, not check-in/out.
    assert_eq!(hooks[0].reservation.check_in, ts("2016-07-02T08:00:00Z"));
    let last = &hooks.last().expect("hooks").reservation;
    assert_eq!(
        (last.check_in, last.check_out),
        (ts("2016-07-01T08:00:00Z"), ts("2016-07-01T17:00:00Z"))
    );
    assert_eq!(last.checked_out_at, Some(ts("2016-07-01T16:30:00Z")));
    assert_eq!(last.status, ReservationStatus::CheckedOut);
}

#[test]
fn dst_days_in_lisbon_give_the_right_utc_instants() {
    let p = lisbon();
    // Over the spring-forward night: in at 15:00 WET, out at 11:00 WEST.
    let (ci, co) = final_stay(&booking(1, "2016-03-26", 2)).instants(&p);
    assert_eq!(
        (ci, co),
        (ts("2016-03-26T15:00:00Z"), ts("2016-03-28T10:00:00Z"))
    );
    let (ci, _) = final_stay(&booking(1, "2016-03-27", 1)).instants(&p);
    assert_eq!(ci, ts("2016-03-27T14:00:00Z"));
    // Over the fall-back night: in at 15:00 WEST, out at 11:00 WET.
    let (ci, co) = final_stay(&booking(1, "2016-10-29", 2)).instants(&p);
    assert_eq!(
        (ci, co),
        (ts("2016-10-29T14:00:00Z"), ts("2016-10-31T11:00:00Z"))
    );
    let (_, co) = final_stay(&booking(1, "2016-10-29", 1)).instants(&p);
    assert_eq!(co, ts("2016-10-30T11:00:00Z"));
}

#[test]
fn whole_timeline_is_sorted_and_consistent_per_reservation() {
    let p = lisbon();
    let mut bookings = Vec::new();
    for (i, status) in [
        FinalStatus::CheckOut,
        FinalStatus::Canceled,
        FinalStatus::NoShow,
    ]
    .into_iter()
    .enumerate()
    {
        let mut b = booking(i + 1, "2016-10-29", 2);
        b.status = status;
        b.booking_changes = i as u32 + 1;
        bookings.push(b);
    }
    let inv = build_inventory(&bookings, &p).expect("inventory");
    let hooks = timeline(&bookings, &inv, &p).expect("timeline");
    assert!(
        hooks
            .windows(2)
            .all(|w| (w[0].send_at, &w[0].webhook_id) <= (w[1].send_at, &w[1].webhook_id))
    );
    let mut per: HashMap<String, Vec<PlannedWebhook>> = HashMap::new();
    for h in hooks {
        per.entry(h.reservation.id.to_string()).or_default().push(h);
    }
    assert_eq!(per.len(), 3);
    per.values().for_each(|v| assert_well_formed(v));
}
