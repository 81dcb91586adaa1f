//! Black-box tests: the real router on a real SQLite file, a simulated clock and the lock
//! simulator. One binary, because linking is slow on small machines.

mod accounts;
mod bad_input;
mod branches;
mod dashboard;
mod dead_letters;
mod dst;
mod front_desk;
mod generic;
mod harness;
mod hostile;
mod ical;
mod igloohome;
mod lodgify;
mod monitoring;
mod notifications;
mod notify_channels;
mod nuki;
mod operations;
mod plugin_api;
mod plugins;
mod provider_hooks;
mod reenio;
mod reenio_api;
mod replay;
mod replicas;
mod reservations;
mod roles;
mod rule_failures;
mod rules_admin;
mod seam;
mod server;
mod sources_admin;
mod staff;
mod store;
mod ttlock;
