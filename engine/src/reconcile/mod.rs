//! What the reconciler decides without touching a lock or a database: the actions that
//! bring the codes on record to the desired grants ([`diff`]), and which PINs may be put on
//! a lock ([`pins`]). The host reads the codes, carries the actions out and records them.

pub mod diff;
pub mod pins;
