//! The `lodgify` webhook form. Not implemented yet: a source of this form is refused with a
//! clear error.

use serde::Deserialize;

/// Settings of a `lodgify` source (`[sources.lodgify]` in `property.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LodgifySettings {}
