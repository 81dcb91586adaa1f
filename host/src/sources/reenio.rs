//! The `reenio` webhook form. Not implemented yet: a source of this form is refused with a
//! clear error.

use serde::Deserialize;

/// Settings of a `reenio` source (`[sources.reenio]` in `property.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReenioSettings {}
