use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::fixtures::*;
use crate::bookings::{Booking, read_bookings};
use crate::inventory::{Inventory, build_inventory, occupancy};
use crate::timeline::timeline;

/// Every pair of stays in every room, compared directly: no shared instant.
fn assert_no_overlap(bookings: &[Booking], inv: &Inventory) {
    let p = lisbon();
    let mut per_room: HashMap<String, Vec<(i64, i64, usize)>> = HashMap::new();
    for b in bookings {
        let a = inv
            .assignment
            .get(&b.row)
            .expect("every booking has a room");
        let (from, until) = occupancy(b, &p);
        let mut rooms = vec![a.initial.to_string()];
        if a.final_room != a.initial {
            rooms.push(a.final_room.to_string());
        }
        for r in rooms {
            per_room
                .entry(r)
                .or_default()
                .push((from.unix(), until.unix(), b.row));
        }
    }
    for (room, stays) in per_room {
        for (i, x) in stays.iter().enumerate() {
            for y in &stays[i + 1..] {
                assert!(
                    x.1 <= y.0 || y.1 <= x.0,
                    "room {room}: rows {} and {} overlap",
                    x.2,
                    y.2
                );
            }
        }
    }
}

#[test]
fn overlapping_stays_get_different_rooms_and_back_to_back_share_one() {
    let p = lisbon();
    let a = booking(1, "2016-07-01", 2);
    let b = booking(2, "2016-07-02", 2);
    let c = booking(3, "2016-07-03", 1); // arrives the day `a` leaves: 11:15 < 14:00
    let inv = build_inventory(&[a.clone(), b.clone(), c.clone()], &p).expect("inventory");
    assert_eq!(inv.rooms.len(), 2);
    assert_eq!(inv.assignment[&1].initial.as_str(), "A01");
    assert_eq!(inv.assignment[&2].initial.as_str(), "A02");
    assert_eq!(inv.assignment[&3].initial.as_str(), "A01");
    assert_eq!(inv.rooms[0].lock_id().expect("id").as_str(), "room-A01");
    assert_no_overlap(&[a, b, c], &inv);
}

#[test]
fn room_move_holds_a_room_of_each_type() {
    let p = lisbon();
    let mut a = booking(1, "2016-07-01", 2);
    a.assigned_room_type = "D".into();
    let inv = build_inventory(&[a], &p).expect("inventory");
    assert_eq!(inv.assignment[&1].initial.as_str(), "A01");
    assert_eq!(inv.assignment[&1].final_room.as_str(), "D01");
    assert_eq!(inv.rooms.len(), 2);
}

#[test]
fn room_types_ending_in_digits_do_not_collide() {
    let p = lisbon();
    let mut bookings = Vec::new();
    for (row, t) in ["A1", "A", "A1-"].into_iter().enumerate() {
        let mut b = booking(row + 1, "2016-07-01", 1);
        b.reserved_room_type = t.into();
        b.assigned_room_type = t.into();
        bookings.push(b);
    }
    let inv = build_inventory(&bookings, &p).expect("inventory");
    let ids: Vec<&str> = inv.rooms.iter().map(|r| r.resource.as_str()).collect();
    assert_eq!(ids, ["A01", "A1-01", "A1--01"]);
}

#[test]
fn random_bookings_never_share_a_room() {
    let p = lisbon();
    let mut rng = StdRng::seed_from_u64(7);
    let types = ["A", "B", "X9"];
    let bookings: Vec<Booking> = (1..=600)
        .map(|row| {
            let start = day("2016-03-01") + chrono::Days::new(rng.random_range(0..300));
            let mut b = booking(
                row,
                &start.format("%Y-%m-%d").to_string(),
                rng.random_range(0..6),
            );
            b.reserved_room_type = types[rng.random_range(0..3)].into();
            b.assigned_room_type = types[rng.random_range(0..3)].into();
            b.booking_changes = rng.random_range(0..3);
            b
        })
        .collect();
    let inv = build_inventory(&bookings, &p).expect("inventory");
    assert_eq!(inv.assignment.len(), 600);
    assert_no_overlap(&bookings, &inv);
    assert_eq!(
        build_inventory(&bookings, &p).expect("again"),
        inv,
        "deterministic"
    );
}

/// The real file: no overlap, and every version of every reservation stays inside the
/// occupancy interval its rooms were assigned for.
#[test]
fn real_resort_bookings_fit_their_rooms_at_every_version() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/hotel_bookings_resort.csv");
    let bookings =
        read_bookings(std::fs::File::open(&path).expect("the resort bookings file must exist"))
            .expect("parses");
    let p = lisbon();
    let inv = build_inventory(&bookings, &p).expect("inventory");
    assert_eq!(inv.assignment.len(), bookings.len());
    assert_no_overlap(&bookings, &inv);
    let hooks = timeline(&bookings, &inv, &p).expect("timeline");
    let by_row: HashMap<String, &Booking> =
        bookings.iter().map(|b| (b.reservation_id(), b)).collect();
    for h in &hooks {
        let b = by_row[h.reservation.id.as_str()];
        let (from, until) = occupancy(b, &p);
        let r = &h.reservation;
        assert!(
            r.check_in.unix() - 3600 >= from.unix() && r.check_out.unix() + 900 <= until.unix(),
            "{}",
            h.webhook_id
        );
        let a = &inv.assignment[&b.row];
        assert!(
            r.resources == vec![a.initial.clone()] || r.resources == vec![a.final_room.clone()]
        );
    }
    assert!(hooks.len() > 3 * bookings.len());
}
