//! Message texts from minijinja templates, per locale: English, Czech, Spanish and
//! Portuguese are built in (`host/service/templates/notify/{locale}/`), and a workspace may
//! override any of them, or add a locale, from a directory laid out the same way.
//!
//! Each locale has three templates: `subject.j2` (the e-mail subject), `email.j2` (the
//! e-mail body) and `sms.j2` (a text message). They see `kind` (`issued`, `changed` or
//! `revoked`), `guest_name`, `property`, `timezone` and `doors`, each with `name`, `pin`,
//! `starts` and `ends` (the property's wall clock, `YYYY-MM-DD HH:MM`), `offline`,
//! `use_by` (for offline PINs: the first use must come before it) and `instructions`.
//! Undefined variables are errors, and every template is rendered once against a sample
//! when loaded, so a broken override stops `serve` at start rather than a guest's message.

use std::path::Path;

use chrono::TimeZone;
use chrono_tz::Tz;
use latchkey_engine::Timestamp;
use latchkey_store::notifications::Door;
use latchkey_store::notifications::NoticeKind;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::{Error, Result};

/// The locales shipped with Latchkey.
pub const BUILT_IN_LOCALES: [&str; 4] = ["en", "cs", "es", "pt"];

/// The template names each locale provides.
const NAMES: [&str; 3] = ["subject", "email", "sms"];

/// Seconds after an offline PIN's start by which it must first be used (igloohome
/// algoPINs, TTLock gateway-less codes: lock-providers.md).
pub const OFFLINE_FIRST_USE_SECS: i64 = 24 * 3600;

fn built_in(locale: &str, name: &str) -> Option<&'static str> {
    macro_rules! locale {
        ($l:literal) => {
            match name {
                "subject" => Some(include_str!(concat!(
                    "../../templates/notify/",
                    $l,
                    "/subject.j2"
                ))),
                "email" => Some(include_str!(concat!(
                    "../../templates/notify/",
                    $l,
                    "/email.j2"
                ))),
                "sms" => Some(include_str!(concat!(
                    "../../templates/notify/",
                    $l,
                    "/sms.j2"
                ))),
                _ => None,
            }
        };
    }
    match locale {
        "en" => locale!("en"),
        "cs" => locale!("cs"),
        "es" => locale!("es"),
        "pt" => locale!("pt"),
        _ => None,
    }
}

/// A message's texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    /// E-mail subject.
    pub subject: String,
    /// E-mail body, plain text.
    pub email: String,
    /// Text message.
    pub sms: String,
}

/// What a message is about, as the templates see it.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// Which message.
    pub kind: NoticeKind,
    /// The guest's name.
    pub guest_name: &'a str,
    /// The property's name.
    pub property: &'a str,
    /// The property's zone, in which times are shown.
    pub timezone: Tz,
    /// The doors concerned.
    pub doors: &'a [Door],
    /// The guest's own page (`GET /g/{token}`), when `[guest_page] base_url` is set.
    pub page_url: Option<&'a str>,
}

#[derive(Serialize)]
struct View<'a> {
    kind: &'static str,
    guest_name: &'a str,
    property: &'a str,
    timezone: &'a str,
    doors: Vec<DoorView<'a>>,
    page_url: Option<&'a str>,
}

#[derive(Serialize)]
struct DoorView<'a> {
    name: &'a str,
    pin: &'a str,
    starts: String,
    ends: String,
    offline: bool,
    use_by: String,
    instructions: Option<&'a str>,
}

/// The loaded templates.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    locales: Vec<String>,
    default_locale: String,
}

impl Templates {
    /// The built-in templates, with the overrides in `overrides` (if given) on top;
    /// `default_locale` is used when a guest's locale has no templates.
    ///
    /// # Errors
    /// [`Error::Config`] naming the template that does not parse or render, an override
    /// directory that cannot be read, a locale missing one of the three templates, or a
    /// default locale with no templates.
    pub fn load(overrides: Option<&Path>, default_locale: &str) -> Result<Templates> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()
                .map_err(|e| Error::internal_from("template syntax", e))?,
        );
        let mut locales: Vec<String> = BUILT_IN_LOCALES.iter().map(|l| (*l).to_owned()).collect();
        for locale in BUILT_IN_LOCALES {
            for name in NAMES {
                let source = built_in(locale, name).unwrap_or_default();
                add(&mut env, locale, name, source.to_owned(), "built-in")?;
            }
        }
        if let Some(dir) = overrides {
            for locale in override_locales(dir)? {
                for name in NAMES {
                    let path = dir.join(&locale).join(format!("{name}.j2"));
                    match std::fs::read_to_string(&path) {
                        Ok(source) => {
                            add(&mut env, &locale, name, source, &path.display().to_string())?
                        }
                        Err(e)
                            if e.kind() == std::io::ErrorKind::NotFound
                                && locales.contains(&locale) => {}
                        Err(e) => {
                            return Err(Error::config_from(
                                format!("template {}", path.display()),
                                e,
                            ));
                        }
                    }
                }
                if !locales.contains(&locale) {
                    locales.push(locale);
                }
            }
        }
        if !locales.iter().any(|l| l == default_locale) {
            return Err(Error::config(format!(
                "[notifications] locale `{default_locale}` has no templates (have: {})",
                locales.join(", ")
            )));
        }
        let templates = Templates {
            env,
            locales,
            default_locale: default_locale.to_owned(),
        };
        templates.check()?;
        Ok(templates)
    }

    /// The locale to write in for a guest who prefers `preferred` (BCP 47, e.g. `pt-PT`):
    /// its language if we have templates for it, else the default.
    pub fn locale_for(&self, preferred: Option<&str>) -> String {
        let language = preferred
            .and_then(|p| p.split(['-', '_']).next())
            .map(str::to_ascii_lowercase);
        match language {
            Some(l) if self.locales.contains(&l) => l,
            _ => self.default_locale.clone(),
        }
    }

    /// Renders the three texts of a message in `locale`.
    ///
    /// # Errors
    /// [`Error::Internal`] when a template fails (checked at load, so only an unforeseen
    /// input reaches this).
    pub fn render(&self, locale: &str, subject: &Subject<'_>) -> Result<Rendered> {
        let locale = if self.locales.iter().any(|l| l == locale) {
            locale
        } else {
            &self.default_locale
        };
        let tz = subject.timezone;
        let view = View {
            kind: subject.kind.as_str(),
            guest_name: subject.guest_name,
            property: subject.property,
            timezone: tz.name(),
            doors: subject
                .doors
                .iter()
                .map(|d| DoorView {
                    name: &d.name,
                    pin: &d.pin,
                    starts: local_time(d.window.starts_at, tz),
                    ends: local_time(d.window.ends_at, tz),
                    offline: d.offline,
                    use_by: local_time(d.window.starts_at.plus(OFFLINE_FIRST_USE_SECS), tz),
                    instructions: d.instructions.as_deref(),
                })
                .collect(),
            page_url: subject.page_url,
        };
        let one = |name: &str| -> Result<String> {
            let key = format!("{locale}/{name}");
            self.env
                .get_template(&key)
                .and_then(|t| t.render(Serde(&view)))
                .map(|s| s.trim().to_owned())
                .map_err(|e| Error::internal_from(format!("template {key}"), e))
        };
        Ok(Rendered {
            subject: one("subject")?,
            email: one("email")?,
            sms: one("sms")?,
        })
    }

    /// Renders every template of every locale against a sample of each kind.
    fn check(&self) -> Result<()> {
        let door = Door {
            lock: latchkey_engine::LockId::parse("sample").map_err(Error::internal)?,
            name: "Room 101".into(),
            pin: "583941".into(),
            window: latchkey_engine::Window {
                starts_at: latchkey_engine::Timestamp(1_795_532_400),
                ends_at: latchkey_engine::Timestamp(1_795_691_700),
            },
            offline: true,
            instructions: Some("Press the key symbol after the code.".into()),
        };
        let pages = [None, Some("https://resort.example/g/sample")];
        for locale in &self.locales {
            for (kind, page_url) in NoticeKind::ALL
                .into_iter()
                .flat_map(|k| pages.map(|p| (k, p)))
            {
                let subject = Subject {
                    kind,
                    guest_name: "Ana Silva",
                    property: "Resort Hotel",
                    timezone: chrono_tz::Europe::Lisbon,
                    doors: std::slice::from_ref(&door),
                    page_url,
                };
                self.render(locale, &subject).map_err(|e| match e {
                    // At load, a template that fails is the property's configuration.
                    Error::Internal { context, source } => Error::Config { context, source },
                    other => other,
                })?;
            }
        }
        Ok(())
    }
}

fn add(
    env: &mut Environment<'static>,
    locale: &str,
    name: &str,
    source: String,
    origin: &str,
) -> Result<()> {
    env.add_template_owned(format!("{locale}/{name}"), source)
        .map_err(|e| Error::config_from(format!("template {origin} ({locale}/{name})"), e))
}

/// The locale folders of an override directory.
fn override_locales(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::config_from(format!("templates directory {}", dir.display()), e))?;
    let mut locales = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::config_from(format!("{}", dir.display()), e))?;
        if entry.path().is_dir()
            && let Some(name) = entry.file_name().to_str()
        {
            locales.push(name.to_owned());
        }
    }
    locales.sort();
    Ok(locales)
}

/// `at` as the property's wall clock, `YYYY-MM-DD HH:MM` (ISO 8601 order, which every
/// shipped language reads).
pub fn local_time(at: Timestamp, tz: Tz) -> String {
    match tz.timestamp_opt(at.unix(), 0) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.format("%Y-%m-%d %H:%M").to_string()
        }
        chrono::LocalResult::None => at.to_rfc3339(),
    }
}

#[cfg(test)]
mod tests;
