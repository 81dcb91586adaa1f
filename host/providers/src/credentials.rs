//! Lock-cloud credentials: what each provider kind needs to connect an account, typed, with
//! every secret wrapped so that it never reaches a log or a `Debug` output.
//!
//! Credentials are given as JSON (to `latchkey credentials set` and to
//! `PUT /v1/accounts/{key}/credentials`), one shape per kind:
//!
//! - `{"kind":"nuki","api_token":"…"}` (Nuki Web API token, lock-providers.md §1.1)
//! - `{"kind":"ttlock","client_id":"…","client_secret":"…","username":"…","password":"…"}`
//!   (TTLock Open Platform application + the app account administering the locks, §2.1)
//! - `{"kind":"igloohome","client_id":"…","client_secret":"…"}` (iglooaccess OAuth2
//!   client, §3.1)
//! - `{"kind":"seam","api_key":"…"}` (Seam workspace API key, §4.1)
//!
//! The service stores them per workspace and account, sealed (an AEAD keyed from the
//! environment: `latchkey_service::credentials::cipher`).

use latchkey_engine::json::{self, Invalid};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Which lock cloud an account belongs to (`kind` in property.toml's `[[accounts]]` and in
/// the credentials JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Nuki Web API.
    Nuki,
    /// TTLock Open Platform v3.
    Ttlock,
    /// igloohome iglooaccess (algoPIN).
    Igloohome,
    /// Seam.
    Seam,
}

impl Kind {
    /// The name used in property.toml and JSON (`nuki`, `ttlock`, `igloohome`, `seam`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Nuki => "nuki",
            Kind::Ttlock => "ttlock",
            Kind::Igloohome => "igloohome",
            Kind::Seam => "seam",
        }
    }

    /// The kind named `name`, as [`Kind::as_str`] spells it.
    pub fn parse(name: &str) -> Option<Kind> {
        [Kind::Nuki, Kind::Ttlock, Kind::Igloohome, Kind::Seam]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad` honours width, so kinds line up in the CLI's tables.
        f.pad(self.as_str())
    }
}

/// A secret string: `Debug` and `Display` print `<redacted>`, and the memory is wiped on
/// drop. Read it with [`Secret::expose`], only where it is handed to a client.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(Zeroizing::new(value.into()))
    }

    /// The secret in clear.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        let value = String::deserialize(d)?;
        if value.trim().is_empty() {
            return Err(serde::de::Error::custom("must not be empty"));
        }
        Ok(Secret::new(value))
    }
}

/// An account's credentials, by kind. `Debug` shows identifiers (client ids, user names)
/// and redacts every secret. There is deliberately no `Serialize`: the only way out in
/// clear is [`Credentials::to_plaintext`], for sealing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Nuki Web API token (Nuki Web > API, lock-providers.md §1.1).
    Nuki {
        /// The API token, sent as `Authorization: Bearer`.
        api_token: Secret,
    },
    /// TTLock Open Platform (§2.1).
    Ttlock {
        /// The application's `clientId`.
        client_id: String,
        /// The application's `clientSecret`.
        client_secret: Secret,
        /// The TTLock app account that administers the locks.
        username: String,
        /// That account's password in clear (the client sends only its MD5).
        password: Secret,
    },
    /// iglooaccess OAuth2 client credentials (§3.1).
    Igloohome {
        /// OAuth2 client id.
        client_id: String,
        /// OAuth2 client secret.
        client_secret: Secret,
    },
    /// Seam API key (§4.1).
    Seam {
        /// The workspace's API key, sent as `Authorization: Bearer`.
        api_key: Secret,
    },
}

/// The `kind` of a credentials body, read first so that the variant's own fields are then
/// decoded with a pointer to the one at fault (an internally tagged enum would lose it).
#[derive(Deserialize)]
struct Tag {
    kind: Kind,
}

/// The fields of each kind; `kind` is read by [`Tag`] and only accepted here.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NukiForm {
    #[serde(rename = "kind")]
    _kind: Kind,
    api_token: Secret,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TtlockForm {
    #[serde(rename = "kind")]
    _kind: Kind,
    client_id: NonEmpty,
    client_secret: Secret,
    username: NonEmpty,
    password: Secret,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgloohomeForm {
    #[serde(rename = "kind")]
    _kind: Kind,
    client_id: NonEmpty,
    client_secret: Secret,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeamForm {
    #[serde(rename = "kind")]
    _kind: Kind,
    api_key: Secret,
}

/// A non-empty identifier (client id, user name): not secret, but required.
struct NonEmpty(String);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<NonEmpty, D::Error> {
        let value = String::deserialize(d)?;
        if value.trim().is_empty() {
            return Err(serde::de::Error::custom("must not be empty"));
        }
        Ok(NonEmpty(value))
    }
}

/// The JSON form of [`Credentials`], borrowed, only for sealing.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Plain<'a> {
    Nuki {
        api_token: &'a str,
    },
    Ttlock {
        client_id: &'a str,
        client_secret: &'a str,
        username: &'a str,
        password: &'a str,
    },
    Igloohome {
        client_id: &'a str,
        client_secret: &'a str,
    },
    Seam {
        api_key: &'a str,
    },
}

impl Credentials {
    /// Which cloud these credentials are for.
    pub fn kind(&self) -> Kind {
        match self {
            Credentials::Nuki { .. } => Kind::Nuki,
            Credentials::Ttlock { .. } => Kind::Ttlock,
            Credentials::Igloohome { .. } => Kind::Igloohome,
            Credentials::Seam { .. } => Kind::Seam,
        }
    }

    /// Parses the JSON shapes of the module documentation.
    ///
    /// # Errors
    /// [`Invalid`] with a JSON pointer to the field at fault: not JSON, an unknown
    /// `kind`, a missing, empty or unknown field. The message never quotes a value.
    pub fn from_json(bytes: &[u8]) -> Result<Credentials, Invalid> {
        let Tag { kind } = json::decode(bytes)?;
        Ok(match kind {
            Kind::Nuki => {
                let form: NukiForm = json::decode(bytes)?;
                Credentials::Nuki {
                    api_token: form.api_token,
                }
            }
            Kind::Ttlock => {
                let form: TtlockForm = json::decode(bytes)?;
                Credentials::Ttlock {
                    client_id: form.client_id.0,
                    client_secret: form.client_secret,
                    username: form.username.0,
                    password: form.password,
                }
            }
            Kind::Igloohome => {
                let form: IgloohomeForm = json::decode(bytes)?;
                Credentials::Igloohome {
                    client_id: form.client_id.0,
                    client_secret: form.client_secret,
                }
            }
            Kind::Seam => {
                let form: SeamForm = json::decode(bytes)?;
                Credentials::Seam {
                    api_key: form.api_key,
                }
            }
        })
    }

    /// The JSON form, in memory wiped on drop: what [`cipher::Key::seal`] encrypts.
    pub fn to_plaintext(&self) -> Zeroizing<Vec<u8>> {
        let plain = match self {
            Credentials::Nuki { api_token } => Plain::Nuki {
                api_token: api_token.expose(),
            },
            Credentials::Ttlock {
                client_id,
                client_secret,
                username,
                password,
            } => Plain::Ttlock {
                client_id,
                client_secret: client_secret.expose(),
                username,
                password: password.expose(),
            },
            Credentials::Igloohome {
                client_id,
                client_secret,
            } => Plain::Igloohome {
                client_id,
                client_secret: client_secret.expose(),
            },
            Credentials::Seam { api_key } => Plain::Seam {
                api_key: api_key.expose(),
            },
        };
        // Serialising borrowed strings into a Vec cannot fail.
        Zeroizing::new(serde_json::to_vec(&plain).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_and_round_trips_through_plaintext() {
        let inputs = [
            r#"{"kind":"nuki","api_token":"tok-123"}"#,
            r#"{"kind":"ttlock","client_id":"cid","client_secret":"cs","username":"u","password":"p"}"#,
            r#"{"kind":"igloohome","client_id":"cid","client_secret":"cs"}"#,
            r#"{"kind":"seam","api_key":"seam_abc"}"#,
        ];
        let kinds = [Kind::Nuki, Kind::Ttlock, Kind::Igloohome, Kind::Seam];
        for (input, kind) in inputs.iter().zip(kinds) {
            let creds = Credentials::from_json(input.as_bytes()).expect("parses");
            assert_eq!(creds.kind(), kind);
            let again = Credentials::from_json(&creds.to_plaintext()).expect("round trip");
            assert_eq!(again, creds);
        }
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let creds = Credentials::from_json(
            br#"{"kind":"ttlock","client_id":"cid","client_secret":"S3CRET-A","username":"front-desk","password":"S3CRET-B"}"#,
        )
        .expect("parses");
        let shown = format!("{creds:?}");
        assert!(!shown.contains("S3CRET"), "{shown}");
        assert!(shown.contains("front-desk") && shown.contains("<redacted>"));
    }

    #[test]
    fn bad_shapes_are_refused_with_a_pointer() {
        for (input, pointer) in [
            (r#"{"kind":"nuki"}"#, ""),
            (r#"{"kind":"nuki","api_token":"  "}"#, "/api_token"),
            (r#"{"kind":"nuki","api_token":7}"#, "/api_token"),
            (
                r#"{"kind":"ttlock","client_id":"","client_secret":"S3CRET","username":"u","password":"p"}"#,
                "/client_id",
            ),
            (r#"{"kind":"august","api_key":"S3CRET"}"#, "/kind"),
            (r#"{"api_key":"S3CRET"}"#, ""),
            (r#"{"kind":"seam","api_key":"S3CRET","extra":1}"#, "/extra"),
            ("not json", ""),
        ] {
            match Credentials::from_json(input.as_bytes()) {
                Err(Invalid { pointer: p, detail }) => {
                    assert_eq!(p, pointer, "{input}: {detail}");
                    assert!(!detail.contains("S3CRET"), "{detail}");
                }
                other => panic!("{input}: {other:?}"),
            }
        }
    }
}
