//! The `generic` form: any JSON payload, mapped to the canonical event per source, either
//! by field paths ([`FieldPaths`]) or by a small Rhai transform run in the rules' sandbox
//! ([`latchkey_engine::rules::transform`]), and authenticated by the scheme the source
//! chooses ([`Verification`]).
//!
//! The reservation id is the mapped id as the payload has it. The version is Latchkey's
//! (see [`crate::mapped`]); a `version` path makes out-of-order deliveries
//! recognisable.

mod fields;
mod verify;

use std::sync::OnceLock;

use latchkey_engine::Property;
use latchkey_engine::rules::RuleLimits;
use latchkey_engine::rules::transform::Transform;
use serde::Deserialize;
use serde_json::Value;

pub use fields::FieldPaths;
pub use verify::{HmacScheme, Verification};

use super::mapped::MappedEvent;
use crate::error::Error;

/// Settings of a `generic` source (`[sources.generic]` in `property.toml`): a
/// verification scheme and exactly one of `fields` and `transform`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericSettings {
    /// How deliveries are authenticated.
    pub verify: Verification,
    /// Where the canonical fields sit in the payload.
    #[serde(default)]
    pub fields: Option<FieldPaths>,
    /// A Rhai script defining `fn transform(payload)`, which returns the canonical event as
    /// a map (`type`, `id`, `status`, `resources`, `check_in`, `check_out`, `guest`,
    /// optionally `version`) or `()` to ignore the payload.
    #[serde(default)]
    pub transform: Option<String>,
    /// The transform, compiled once under the rule limits.
    #[serde(skip)]
    compiled: OnceLock<Result<Transform, String>>,
}

impl GenericSettings {
    /// Checks the settings, compiling the transform: exactly one of `fields` and
    /// `transform`, paths that are JSON Pointers. Logs a warning for an unverified source.
    ///
    /// # Errors
    /// A message naming the key at fault.
    pub fn check(&self, source: &str) -> Result<(), String> {
        match (&self.fields, &self.transform) {
            (Some(fields), None) => fields.check()?,
            (None, Some(_)) => {
                self.compiled()?;
            }
            _ => return Err("give exactly one of `fields` and `transform`".into()),
        }
        self.verify.check()?;
        if matches!(self.verify, Verification::None) {
            tracing::warn!(
                source,
                "generic source `{source}` verifies nothing: anyone who knows its URL can change reservations"
            );
        }
        Ok(())
    }

    fn compiled(&self) -> Result<&Transform, String> {
        self.compiled
            .get_or_init(|| {
                let source = self.transform.as_deref().unwrap_or_default();
                Transform::compile(source, RuleLimits::default())
                    .map_err(|e| format!("`transform`: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Maps a verified body to a canonical state, or `None` when the transform ignored
    /// it.
    ///
    /// # Errors
    /// [`Error::Invalid`] with a pointer into the payload (or, for a transform, into what
    /// it returned, or `""` when it failed).
    pub fn map(&self, body: &[u8], property: &Property) -> Result<Option<MappedEvent>, Error> {
        let payload: Value = crate::error::decode(body)?;
        if let Some(fields) = &self.fields {
            return fields.map(&payload, property).map(Some);
        }
        let transform = self.compiled().map_err(Error::Config)?;
        let output = transform.run(&payload).map_err(|e| Error::Invalid {
            pointer: String::new(),
            detail: format!("the source's transform refused the payload: {e}"),
        })?;
        let Some(output) = output else {
            return Ok(None);
        };
        FieldPaths::canonical()
            .map(&output, property)
            .map(Some)
            .map_err(|e| match e {
                Error::Invalid { pointer, detail } => Error::Invalid {
                    detail: format!("the transform's output: {detail}"),
                    pointer,
                },
                other => other,
            })
    }
}

#[cfg(test)]
mod tests;
