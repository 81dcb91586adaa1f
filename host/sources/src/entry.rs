//! A webhook source as `property.toml` declares it (`[[sources]]`): its name, its form and
//! the form's settings.

use serde::Deserialize;

use crate::error::{Error, Result};

/// Which webhook form a source speaks (see [`crate::sources`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceForm {
    /// Latchkey's own form: Standard Webhooks around the full reservation state.
    #[default]
    Canonical,
    /// reenio's custom-message webhooks: ids only, the reservation fetched from its API.
    Reenio,
    /// Lodgify's booking webhooks, signed with `ms-signature`.
    Lodgify,
    /// Any JSON, mapped by field paths or a Rhai transform.
    Generic,
    /// A calendar feed polled on a schedule.
    Ical,
}

impl SourceForm {
    /// The name written in `property.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceForm::Canonical => "canonical",
            SourceForm::Reenio => "reenio",
            SourceForm::Lodgify => "lodgify",
            SourceForm::Generic => "generic",
            SourceForm::Ical => "ical",
        }
    }
}

/// A webhook source: where a platform posts (`POST /v1/hooks/{name}`), in which form, and
/// how its deliveries are authenticated. The form's own settings sit in the table named
/// after it (`[sources.reenio]`, ...).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceEntry {
    /// The `{source}` segment of `POST /v1/hooks/{source}`.
    pub name: String,
    /// The form; `canonical` when not given.
    #[serde(default)]
    pub form: SourceForm,
    /// Canonical form: the Standard Webhooks signing secret, `whsec_` followed by base64.
    #[serde(default)]
    pub secret: Option<String>,
    /// Settings of the `reenio` form.
    #[serde(default)]
    pub reenio: Option<super::reenio::ReenioSettings>,
    /// Settings of the `lodgify` form.
    #[serde(default)]
    pub lodgify: Option<super::lodgify::LodgifySettings>,
    /// Settings of the `generic` form.
    #[serde(default)]
    pub generic: Option<super::generic::GenericSettings>,
    /// Settings of the `ical` form.
    #[serde(default)]
    pub ical: Option<super::ical::IcalSettings>,
}

impl std::fmt::Debug for SourceEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Every form's settings redact their own secrets in Debug.
        f.debug_struct("SourceEntry")
            .field("name", &self.name)
            .field("form", &self.form)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("reenio", &self.reenio)
            .field("lodgify", &self.lodgify)
            .field("generic", &self.generic)
            .field("ical", &self.ical)
            .finish()
    }
}

impl SourceEntry {
    /// Checks that the source carries what its form needs.
    ///
    /// # Errors
    /// [`Error::Config`] naming the source and the missing key.
    pub fn check(&self) -> Result<()> {
        let missing = |key: &str| {
            Error::Config(format!(
                "source `{}` ({} form) needs `{key}`",
                self.name,
                self.form.as_str()
            ))
        };
        match self.form {
            SourceForm::Canonical if self.secret.is_none() => Err(missing("secret")),
            SourceForm::Reenio => match &self.reenio {
                Some(settings) => settings.check(&self.name),
                None => Err(missing("[sources.reenio]")),
            },
            SourceForm::Lodgify if self.lodgify.is_none() => Err(missing("[sources.lodgify]")),
            SourceForm::Generic if self.generic.is_none() => Err(missing("[sources.generic]")),
            SourceForm::Ical if self.ical.is_none() => Err(missing("[sources.ical]")),
            _ => self.check_settings(),
        }
    }

    /// Checks the form's own settings (paths, transform, URL).
    fn check_settings(&self) -> Result<()> {
        let at = |e: String| {
            Error::Config(format!(
                "source `{}`, [sources.{}]: {e}",
                self.name,
                self.form.as_str()
            ))
        };
        match (self.form, &self.generic, &self.ical) {
            (SourceForm::Generic, Some(generic), _) => generic.check(&self.name).map_err(at),
            (SourceForm::Ical, _, Some(ical)) => ical.check().map_err(at),
            (SourceForm::Lodgify, _, _)
                if self.lodgify.as_ref().is_some_and(|l| l.secret.is_empty()) =>
            {
                Err(at("`secret` is empty".into()))
            }
            _ => Ok(()),
        }
    }

    /// The canonical form's signing secret.
    ///
    /// # Errors
    /// [`Error::Config`] when the source has none (checked at load, so a bug here).
    pub fn canonical_secret(&self) -> Result<&str> {
        self.secret
            .as_deref()
            .ok_or_else(|| Error::Config(format!("source `{}` has no `secret`", self.name)))
    }
}
