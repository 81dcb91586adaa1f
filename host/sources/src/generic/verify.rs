//! How a `generic` source's deliveries are authenticated: Standard Webhooks, an HMAC
//! header, a secret in the URL path, or nothing.

use axum::http::HeaderMap;
use latchkey_engine::Timestamp;
use serde::Deserialize;

use crate::error::Error;
use crate::signature::{self, DigestEncoding, header};

/// The verification scheme (`[sources.generic.verify]`, tagged by `scheme`).
#[derive(Clone, Deserialize)]
#[serde(tag = "scheme", rename_all = "snake_case")]
pub enum Verification {
    /// Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), with a
    /// `whsec_…` secret; the `webhook-id` is the delivery id.
    StandardWebhooks {
        /// `whsec_` followed by base64.
        secret: String,
    },
    /// An HMAC-SHA256 in a header of the sender's choosing.
    Hmac(HmacScheme),
    /// `POST /v1/hooks/{source}/{secret}`: for senders that sign nothing (serve HTTPS
    /// only, and use 24 or more random characters).
    PathSecret {
        /// The path segment.
        secret: String,
    },
    /// No verification: anyone who knows the URL can post. Allowed, with a warning at
    /// start.
    None,
}

impl std::fmt::Debug for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verification::StandardWebhooks { .. } => "StandardWebhooks { secret: <redacted> }",
            Verification::Hmac(_) => "Hmac { secret: <redacted>, .. }",
            Verification::PathSecret { .. } => "PathSecret { secret: <redacted> }",
            Verification::None => "None",
        })
    }
}

/// An HMAC-SHA256 header. Stripe's `Stripe-Signature: t=…,v1=…` is
/// `header = "stripe-signature"`, `signature_part = "v1"`, `timestamp_part = "t"`,
/// `signed = "{timestamp}.{body}"`; GitHub's is `header = "x-hub-signature-256"`,
/// `prefix = "sha256="`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HmacScheme {
    /// The key, as text (its UTF-8 bytes key the HMAC).
    pub secret: String,
    /// The header carrying the signature.
    pub header: String,
    /// How the digest is written: `hex` (default) or `base64`.
    #[serde(default = "default_encoding")]
    pub encoding: DigestEncoding,
    /// Text before the digest, removed (e.g. `sha256=`).
    #[serde(default)]
    pub prefix: String,
    /// When the header is a comma-separated `key=value` list: the key of the signatures
    /// (every one is tried, which allows rotation).
    #[serde(default)]
    pub signature_part: Option<String>,
    /// The key of the signing timestamp (Unix seconds) in that list.
    #[serde(default)]
    pub timestamp_part: Option<String>,
    /// A header carrying the signing timestamp (Unix seconds) instead.
    #[serde(default)]
    pub timestamp_header: Option<String>,
    /// What is signed: `{body}` (default), or a template such as `{timestamp}.{body}`.
    #[serde(default = "default_signed")]
    pub signed: String,
    /// A header carrying the sender's delivery id, used to deduplicate; without it the
    /// body's digest is the id.
    #[serde(default)]
    pub id_header: Option<String>,
}

fn default_encoding() -> DigestEncoding {
    DigestEncoding::Hex
}

fn default_signed() -> String {
    "{body}".into()
}

/// Shortest secret accepted in a URL path, in characters.
pub const MIN_PATH_SECRET_LEN: usize = 24;

impl Verification {
    /// Checks the scheme's secrets: present, and long enough in a path.
    ///
    /// # Errors
    /// A message naming the key at fault.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Verification::StandardWebhooks { secret }
            | Verification::Hmac(HmacScheme { secret, .. })
                if secret.is_empty() =>
            {
                Err("`verify.secret` is empty".into())
            }
            Verification::PathSecret { secret } if secret.chars().count() < MIN_PATH_SECRET_LEN => {
                Err(format!(
                    "`verify.secret` must have {MIN_PATH_SECRET_LEN} or more characters: it is all that guards the URL"
                ))
            }
            _ => Ok(()),
        }
    }

    /// Whether deliveries come with the secret in the path.
    pub fn in_path(&self) -> bool {
        matches!(self, Verification::PathSecret { .. })
    }

    /// Authenticates a delivery at instant `now`; `path_secret` is the URL's last
    /// segment, if the delivery came on the secret route. Returns the sender's delivery
    /// id, when it gives one.
    ///
    /// # Errors
    /// [`Error::Unauthorized`] naming what is missing or does not match, or a timestamp
    /// out of tolerance; [`Error::Config`] for a malformed Standard Webhooks secret.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        path_secret: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<String>, Error> {
        match self {
            Verification::StandardWebhooks { secret } => {
                signature::verify(secret, headers, body, now).map(|v| Some(v.webhook_id))
            }
            Verification::Hmac(scheme) => scheme.verify(headers, body, now),
            Verification::PathSecret { secret } => {
                let given = path_secret.unwrap_or_default();
                if constant_time_eq::constant_time_eq(given.as_bytes(), secret.as_bytes()) {
                    Ok(None)
                } else {
                    Err(Error::Unauthorized(
                        "the path's secret does not match".into(),
                    ))
                }
            }
            Verification::None => Ok(None),
        }
    }
}

impl HmacScheme {
    fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: Timestamp,
    ) -> Result<Option<String>, Error> {
        let value = header(headers, &self.header)?;
        let (signatures, mut timestamp) = match &self.signature_part {
            Some(key) => {
                let pairs: Vec<(&str, &str)> = value
                    .split(',')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .collect();
                let timestamp = self
                    .timestamp_part
                    .as_deref()
                    .and_then(|t| pairs.iter().find(|(k, _)| *k == t).map(|(_, v)| *v));
                let signatures = pairs
                    .iter()
                    .filter(|(k, _)| k == key)
                    .map(|(_, v)| *v)
                    .collect::<Vec<_>>();
                (signatures, timestamp)
            }
            None => (vec![value], None),
        };
        if let Some(name) = &self.timestamp_header {
            timestamp = Some(header(headers, name)?);
        }
        let ts_text = match timestamp {
            Some(ts) => {
                let secs: i64 = ts.trim().parse().map_err(|_| {
                    Error::Unauthorized(format!("the signing timestamp `{ts}` is not Unix seconds"))
                })?;
                signature::check_timestamp("the signing timestamp", secs, now)?;
                Some(ts.trim())
            }
            None if self.signed.contains("{timestamp}") => {
                return Err(Error::Unauthorized(format!(
                    "`{}` carries no signing timestamp",
                    self.header
                )));
            }
            None => None,
        };
        let template = self
            .signed
            .replace("{timestamp}", ts_text.unwrap_or_default());
        let mut parts: Vec<&[u8]> = Vec::new();
        for (i, piece) in template.split("{body}").enumerate() {
            if i > 0 {
                parts.push(body);
            }
            parts.push(piece.as_bytes());
        }
        let matched = signatures.iter().any(|given| {
            let digest = given
                .trim()
                .strip_prefix(self.prefix.as_str())
                .unwrap_or(given.trim());
            self.encoding.decode(digest).is_some_and(|bytes| {
                signature::hmac_sha256_matches(self.secret.as_bytes(), &parts, &bytes)
            })
        });
        if !matched {
            return Err(Error::Unauthorized(format!(
                "`{}` matches no signature of this body",
                self.header
            )));
        }
        match &self.id_header {
            Some(name) => header(headers, name).map(|id| Some(id.to_owned())),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripe() -> Verification {
        toml::from_str::<Verification>(
            r#"scheme = "hmac"
               secret = "whsec_stripe_test"
               header = "stripe-signature"
               signature_part = "v1"
               timestamp_part = "t"
               signed = "{timestamp}.{body}""#,
        )
        .expect("settings")
    }

    fn with(name: &str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            value.parse().expect("value"),
        );
        h
    }

    #[test]
    fn stripe_signatures_with_their_timestamp() {
        let body = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;
        let t = 1_795_000_000;
        let mac = signature::hmac_sha256(b"whsec_stripe_test", &[format!("{t}.").as_bytes(), body]);
        let good = format!("t={t},v1=deadbeef,v1={}", hex::encode(mac));
        let now = Timestamp(t + 10);
        assert_eq!(
            stripe()
                .verify(&with("stripe-signature", &good), body, None, now)
                .ok(),
            Some(None)
        );
        assert!(
            stripe()
                .verify(&with("stripe-signature", &good), b"{}", None, now)
                .is_err()
        );
        let stale = stripe()
            .verify(
                &with("stripe-signature", &good),
                body,
                None,
                Timestamp(t + 301),
            )
            .expect_err("stale");
        assert!(stale.to_string().contains("old"), "{stale}");
        let no_t = format!("v1={}", hex::encode(signature::hmac_sha256(b"x", &[body])));
        assert!(
            stripe()
                .verify(&with("stripe-signature", &no_t), body, None, now)
                .is_err()
        );
        assert!(stripe().verify(&HeaderMap::new(), body, None, now).is_err());
    }

    #[test]
    fn a_base64_header_with_a_prefix_and_an_id() {
        let scheme: Verification = toml::from_str(
            r#"scheme = "hmac"
               secret = "s3cret"
               header = "x-signature"
               encoding = "base64"
               prefix = "sha256="
               id_header = "x-delivery""#,
        )
        .expect("settings");
        let body = br#"{"a":1}"#;
        let sig = format!(
            "sha256={}",
            DigestEncoding::Base64.encode(&signature::hmac_sha256(b"s3cret", &[body]))
        );
        let mut h = with("x-signature", &sig);
        h.insert("x-delivery", "d-42".parse().expect("value"));
        assert_eq!(
            scheme.verify(&h, body, None, Timestamp(0)).ok(),
            Some(Some("d-42".into()))
        );
        let hex_sig = format!(
            "sha256={}",
            hex::encode(signature::hmac_sha256(b"s3cret", &[body]))
        );
        h.insert("x-signature", hex_sig.parse().expect("value"));
        assert!(
            scheme.verify(&h, body, None, Timestamp(0)).is_err(),
            "base64 was configured"
        );
    }

    #[test]
    fn path_secret_and_none() {
        let path = Verification::PathSecret {
            secret: "k".repeat(32),
        };
        assert!(
            path.verify(
                &HeaderMap::new(),
                b"{}",
                Some(&"k".repeat(32)),
                Timestamp(0)
            )
            .is_ok()
        );
        assert!(
            path.verify(&HeaderMap::new(), b"{}", Some("guess"), Timestamp(0))
                .is_err()
        );
        assert!(
            path.verify(&HeaderMap::new(), b"{}", None, Timestamp(0))
                .is_err()
        );
        assert!(
            Verification::None
                .verify(&HeaderMap::new(), b"{}", None, Timestamp(0))
                .is_ok()
        );
        assert!(
            !format!("{path:?}").contains("kkkk"),
            "secrets are redacted"
        );
        assert!(path.check().is_ok());
        let short = Verification::PathSecret {
            secret: "hunter2".into(),
        };
        assert!(
            short.check().is_err(),
            "a short path secret is refused at load"
        );
    }
}
