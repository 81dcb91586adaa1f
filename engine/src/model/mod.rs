//! The domain model: who may open which door, and when.
//!
//! A *workspace* (one customer account) holds *properties*; a property has *branches*
//! (buildings or sites), *resources* (what guests book: rooms, courts, lockers) and *locks*.
//! A *reservation* books resources between check-in and check-out; a rule turns it into
//! *grants* (desired access: lock + window); the host makes each grant real as an
//! *access code* (a PIN on the lock).

mod access;
mod code;
mod grant;
mod ids;
mod lock;
mod property;
mod reservation;

pub use access::Role;
pub use code::{AccessCode, CodeRecord, CodeState};
pub use grant::{CredentialKind, Grant, WhenFull, Window};
pub use ids::{BranchId, LockId, PropertyId, ReservationId, ResourceId, WorkspaceId};
pub use lock::{Capabilities, Connectivity, DoorKind, Lock, Pin, PinRules, WindowPrecision};
pub use property::{Branch, Property, Resource, ResourceKind};
pub use reservation::{Guest, Reservation, ReservationStatus};
