//! Tests of the replay's pure parts, one file per module.

mod bookings;
mod faults;
mod fixtures;
mod inventory;
mod oracle;
mod replay_oracle;
mod timeline;
