//! Latchkey's engine: the domain model and the sandboxed rule runtimes.
//!
//! Nothing here touches the network or a database. The host (the crates under `host/`)
//! owns all effects; the engine only answers "which grants should exist for this reservation now?".
//!
//! Time: every instant is a [`Timestamp`], whole seconds since the Unix epoch, UTC. Local
//! times (check-in at 15:00 in Europe/Lisbon) are computed explicitly with [`time`].

pub mod capacity;
pub mod clock;
pub mod drift;
pub mod json;
pub mod model;
pub mod monitor;
pub mod reconcile;
pub mod retry;
pub mod rules;
pub mod time;

pub use model::*;
pub use time::Timestamp;
