//! Webhook forms a source can send, one module each: [`canonical`] (Standard Webhooks
//! around the full reservation state), [`reenio`], [`lodgify`], [`generic`] and [`ical`].
//! Each turns what its platform sends into canonical reservation states for the
//! [`crate::inbox`]; [`signature`] holds the verifiers they share, [`mapped`] the
//! versions of states mapped from a platform's own payload, and [`stay_times`] the
//! reading of arrival and departure dates.

pub mod canonical;
pub mod generic;
pub mod ical;
pub mod lodgify;
pub mod mapped;
pub mod reenio;
pub mod signature;
pub mod stay_times;
