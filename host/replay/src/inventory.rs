//! A room inventory for bookings that name room types but not rooms.
//!
//! Each booking occupies a room of its type from the earliest access any of its versions
//! may get to the latest: [check-in − 1 h, check-out + 15 min] of the default policy, in
//! property-local time, taken over every stay in [`timeline::stays`](super::timeline::stays)
//! (so date changes never make two stays share a room). A room move holds a room of the
//! reserved type and one of the assigned type, each for that whole interval: wasteful, but
//! no version can then collide with another booking. Cancelled and no-show bookings hold
//! rooms too: a code may have been issued before they ended.
//!
//! Rooms are assigned by greedy interval partitioning per type (sort by start, reuse the
//! room freed earliest), which uses the fewest rooms and is deterministic.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use latchkey_engine::{LockId, Property, ResourceId, Timestamp};

use super::bookings::Booking;
use super::timeline::stays;

/// Access opens this long before local check-in (seconds), as in `rules/default.rhai`.
pub const OPEN_BEFORE_SECS: i64 = 3600;
/// Access closes this long after local check-out (seconds).
pub const CLOSE_AFTER_SECS: i64 = 900;

/// A derived room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// Resource id: the type followed by a two-digit (or longer) number, e.g. `A01`; a `-`
    /// separates them when the type ends in a digit or `-`, so ids never collide.
    pub resource: ResourceId,
    /// The room type it belongs to.
    pub room_type: String,
}

impl Room {
    /// The lock on this room's door: `room-{resource}`.
    pub fn lock_id(&self) -> Result<LockId, String> {
        LockId::parse(format!("room-{}", self.resource))
    }
}

/// The rooms a booking holds. `initial == final_room` unless the guest moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Room of the reserved type, held until the move.
    pub initial: ResourceId,
    /// Room of the assigned type, held after the move.
    pub final_room: ResourceId,
}

/// All rooms and who stays where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// Every room, sorted by type then number.
    pub rooms: Vec<Room>,
    /// Booking row (1-based) → its rooms.
    pub assignment: HashMap<usize, Assignment>,
}

/// Why an inventory could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    /// A room type does not make a valid resource id.
    #[error("room type `{room_type}` does not make a valid room id: {message}")]
    RoomType {
        /// The room type.
        room_type: String,
        /// Why the id was refused.
        message: String,
    },
}

/// The interval `[from, until)` (UTC seconds) during which `b` may hold a room.
pub fn occupancy(b: &Booking, property: &Property) -> (Timestamp, Timestamp) {
    let mut from = i64::MAX;
    let mut until = i64::MIN;
    for stay in stays(b) {
        let (check_in, check_out) = stay.instants(property);
        from = from.min(check_in.unix() - OPEN_BEFORE_SECS);
        until = until.max(check_out.unix() + CLOSE_AFTER_SECS);
    }
    (Timestamp(from), Timestamp(until))
}

/// Assigns every booking a room (two for a room move) so that no two occupancy intervals
/// overlap in one room.
///
/// # Errors
/// [`InventoryError`] when a room type cannot form a resource id.
pub fn build_inventory(
    bookings: &[Booking],
    property: &Property,
) -> Result<Inventory, InventoryError> {
    // Per type: (start, end, row, is_final) demands, is_final only for a move's second room.
    let mut demands: BTreeMap<&str, Vec<(i64, i64, usize, bool)>> = BTreeMap::new();
    for b in bookings {
        let (from, until) = occupancy(b, property);
        let (from, until) = (from.unix(), until.unix());
        demands
            .entry(&b.reserved_room_type)
            .or_default()
            .push((from, until, b.row, false));
        if b.moves_room() {
            demands
                .entry(&b.assigned_room_type)
                .or_default()
                .push((from, until, b.row, true));
        }
    }
    let mut inventory = Inventory::default();
    let mut initial: HashMap<usize, ResourceId> = HashMap::new();
    let mut moved: HashMap<usize, ResourceId> = HashMap::new();
    for (room_type, mut list) in demands {
        list.sort_unstable();
        // Min-heap on (free from, room number): the room freed earliest, lowest number first.
        let mut free: BinaryHeap<Reverse<(i64, usize)>> = BinaryHeap::new();
        let mut ids: Vec<ResourceId> = Vec::new();
        for (from, until, row, is_final) in list {
            let n = match free.peek() {
                Some(&Reverse((free_at, n))) if free_at <= from => {
                    free.pop();
                    n
                }
                _ => {
                    let id = room_id(room_type, ids.len() + 1)?;
                    inventory.rooms.push(Room {
                        resource: id.clone(),
                        room_type: room_type.to_string(),
                    });
                    ids.push(id);
                    ids.len() - 1
                }
            };
            free.push(Reverse((until, n)));
            let id = ids[n].clone();
            if is_final {
                moved.insert(row, id);
            } else {
                initial.insert(row, id);
            }
        }
    }
    for (row, first) in initial {
        let final_room = moved.remove(&row).unwrap_or_else(|| first.clone());
        inventory.assignment.insert(
            row,
            Assignment {
                initial: first,
                final_room,
            },
        );
    }
    Ok(inventory)
}

/// `{type}{n:02}`, with a `-` between when the type's last character would blur the number.
fn room_id(room_type: &str, n: usize) -> Result<ResourceId, InventoryError> {
    let sep = if room_type.ends_with(|c: char| c.is_ascii_digit() || c == '-') {
        "-"
    } else {
        ""
    };
    ResourceId::parse(format!("{room_type}{sep}{n:02}")).map_err(|message| {
        InventoryError::RoomType {
            room_type: room_type.to_string(),
            message,
        }
    })
}
