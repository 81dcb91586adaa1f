//! The Latchkey service: webhooks in, rules, reconciler, durable jobs, lock providers.
//!
//! Roles, one module each: [`http`] (routes, problem+json), [`sources`] (webhook forms and
//! signatures), [`inbox`] (durable acceptance), [`reconcile`] (desired grants versus codes
//! on record), [`notify`] (telling guests: outbox, templates, channels), [`plugins`]
//! (partner rules as WebAssembly), [`jobs`] (the durable queue's handlers), [`providers`]
//! (lock clouds and the simulator), [`store`] (SQLite and PostgreSQL). The tools that drive
//! it live in crates of their own: `latchkey-sim` (contract fakes), `latchkey-replay`
//! (replay and bench) and `latchkey` (the command). See `docs/architecture.md`.

pub mod app;
pub mod auth;
pub mod catalog;
pub mod credentials;
pub mod error;
pub mod http;
pub mod inbox;
pub mod jobs;
pub mod json;
pub mod locks;
pub mod monitor;
pub mod notify;
pub mod outbox;
pub mod planner;
pub mod plugins;
pub mod queue;
pub mod reconcile;
pub mod rule_loader;
pub mod server;
pub mod sources;
pub mod staff;
pub mod telemetry;

pub use error::{Error, Result};
