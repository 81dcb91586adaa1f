//! Webhook forms a source can send, one module each: [`canonical`] (Standard Webhooks
//! around the full reservation state), [`reenio`], [`lodgify`], [`generic`] and [`ical`].
//! Each turns what its platform sends into canonical reservation states for the
//! [`crate::inbox`]; [`signature`] holds the verifiers they share.

pub mod canonical;
pub mod generic;
pub mod ical;
pub mod lodgify;
pub mod reenio;
pub mod signature;
