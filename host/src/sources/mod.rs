//! Webhook forms a source can send. Only the canonical Standard Webhooks form exists so
//! far; platform-specific forms (reenio, Lodgify, generic) will sit beside it.

pub mod canonical;
pub mod signature;
