//! Contract fakes of the services guests are told through, served on loopback for tests:
//! a Twilio-compatible Messages API.

pub mod twilio;
