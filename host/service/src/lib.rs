//! The Latchkey service: webhooks in, rules, reconciler, durable jobs, the admin API.
//!
//! Roles, one module each, from the top: [`server`] and [`http`] (routes, problem+json);
//! [`jobs`] (the durable queue's handlers and the worker); [`locks`], [`staff`],
//! [`plugins`] and [`monitor`] (what admins and the desk do, and lock sync); [`reconcile`]
//! (desired grants versus codes on record); [`inbox`] (durable acceptance); [`outbox`]
//! (what to tell guests, when); [`app`] (the shared state); [`planner`] (the rule and the
//! lock branch assignments every plan reads); [`catalog`] (the property file); [`notify`]
//! (templates and channels); [`queue`], [`auth`], [`credentials`], [`telemetry`]. Below
//! it: `latchkey-sources` (webhook forms), `latchkey-providers` (lock clouds and the
//! simulator), `latchkey-store` (SQLite and PostgreSQL) and `latchkey-engine` (the pure
//! model and rules). The tools that drive it live in crates of their own: `latchkey-sim`
//! (contract fakes), `latchkey-replay` (replay and bench) and `latchkey` (the command).
//! See `docs/architecture.md`.

pub mod app;
pub mod arrival;
pub mod auth;
pub mod backup;
pub mod capacity;
pub mod catalog;
pub mod credentials;
pub mod db;
pub mod error;
pub mod guest_link;
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
pub mod staff;
pub mod telemetry;

pub use error::{Error, Result};
