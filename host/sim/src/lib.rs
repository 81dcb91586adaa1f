//! Stand-ins for the world around Latchkey: what the replay, the bench and the tests run
//! the service against, and nothing the service itself depends on.
//!
//! - [`clouds`]: contract fakes of the four lock clouds (Nuki, TTLock, igloohome, Seam),
//!   HTTP servers that follow each published API, over a model of every lock and a fault
//!   plan;
//! - [`reenio`]: a contract fake of reenio's admin API;
//! - [`twilio`]: a Twilio-compatible Messages API;
//! - [`scratch`]: throw-away PostgreSQL databases.

pub mod clouds;
pub mod reenio;
pub mod scratch;
pub mod twilio;
