//! `latchkey replay`: real hotel bookings driven through the service under a simulated
//! clock, checked by an independent oracle.
//!
//! The pieces, in the order the replay uses them:
//!
//! 1. [`bookings`] reads a CSV in the *Hotel booking demand* format into [`bookings::Booking`]s
//!    (one per data row; reservation id `H{row}`).
//! 2. [`inventory`] invents the rooms the data does not name: per room type, as few rooms as
//!    needed so that no two stays ever overlap in one room, at any version of a booking.
//! 3. [`timeline`] turns every booking into the webhooks a booking platform would send
//!    (confirmed, paid, starts soon, modified, room move, cancelled, no-show, checked out),
//!    each carrying the reservation's full state and a growing version.
//! 4. [`faults`] parses `--faults` and perturbs delivery (duplicates, reordering,
//!    redelivery after a lost 2xx) and lock availability (outages), reproducibly from a seed.
//! 5. [`oracle`] checks the locks' recorded code tables against the acknowledged webhooks
//!    with its own implementation of the default hotel policy, by exact interval arithmetic,
//!    and what [`guests`] were told against what the locks held.
//!
//! [`reenio`] delivers the same bookings as reenio would (`--source reenio`): state in
//! the reenio fake, triggers to the service.
//!
//! Everything else here is pure: no clock, no I/O beyond the reader handed in, no store. The
//! driver glues these to the running service.
//!
//! Instants are UTC Unix seconds ([`latchkey_engine::Timestamp`]); local days and times are
//! in the property's IANA zone.

pub mod bookings;
pub mod capture;
pub mod clouds;
pub mod driver;
pub mod faults;
pub mod guests;
pub mod inventory;
pub mod oracle;
pub mod reenio;
pub mod replicas;
pub mod settings;
pub mod shadow;
pub mod timeline;

pub mod bench;

#[cfg(test)]
mod tests;
