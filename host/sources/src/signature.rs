//! Standard Webhooks verification (<https://www.standardwebhooks.com/>, spec
//! `standard-webhooks.md` §Verifying): HMAC-SHA256 over `{id}.{timestamp}.{body}` with the
//! source's secret (or any of its live secrets while one is being rotated out), compared in
//! constant time against every `v1,` entry of `webhook-signature` (several entries allow
//! the sender to rotate too), and a timestamp within
//! [`TOLERANCE_SECS`] of our clock. The `standardwebhooks` crate computes the signature; the
//! clock is ours, so replays and tests can run in simulated time.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use latchkey_engine::Timestamp;
use sha2::Sha256;

use crate::error::Error;

/// Largest accepted distance between `webhook-timestamp` and our clock, in seconds.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// A verified delivery's headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// `webhook-id`: the sender's unique id for the event, stable across retries.
    pub webhook_id: String,
    /// `webhook-timestamp`, when the sender signed it.
    pub timestamp: Timestamp,
}

/// The names of the three headers a delivery carries: Standard Webhooks' `webhook-*`, or
/// Svix's `svix-*` (Seam, lock-providers.md §4.5), which sign the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderNames {
    /// The event id header.
    pub id: &'static str,
    /// The signing-time header (Unix seconds).
    pub timestamp: &'static str,
    /// The space-separated `v1,<base64>` signatures header.
    pub signature: &'static str,
}

/// `webhook-id`, `webhook-timestamp`, `webhook-signature`.
pub const STANDARD_HEADERS: HeaderNames = HeaderNames {
    id: "webhook-id",
    timestamp: "webhook-timestamp",
    signature: "webhook-signature",
};

/// `svix-id`, `svix-timestamp`, `svix-signature` (docs.svix.com, verifying payloads).
pub const SVIX_HEADERS: HeaderNames = HeaderNames {
    id: "svix-id",
    timestamp: "svix-timestamp",
    signature: "svix-signature",
};

/// Header `name` as text.
///
/// # Errors
/// [`Error::Unauthorized`] when it is missing or not visible ASCII.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, Error> {
    headers
        .get(name)
        .ok_or_else(|| Error::Unauthorized(format!("missing header `{name}`")))?
        .to_str()
        .map_err(|_| Error::Unauthorized(format!("header `{name}` is not visible ASCII")))
}

/// Verifies `body` against `headers` with `secret` (`whsec_…`) at instant `now`.
///
/// # Errors
/// [`Error::Unauthorized`] naming the missing header, the stale or future timestamp, or a
/// signature that matches no entry; [`Error::Config`] for a malformed secret.
pub fn verify(
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
) -> Result<Verified, Error> {
    verify_with(&STANDARD_HEADERS, secret, headers, body, now)
}

/// [`verify`] with the headers called `names` (e.g. [`SVIX_HEADERS`]).
///
/// # Errors
/// As [`verify`].
pub fn verify_with(
    names: &HeaderNames,
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
) -> Result<Verified, Error> {
    verify_any_with(names, &[secret], headers, body, now)
}

/// [`verify`] accepting a signature made with any of `secrets`: a source whose secret is
/// being rotated verifies with the new one and the previous ones until they expire.
///
/// # Errors
/// As [`verify`]; also [`Error::Unauthorized`] when `secrets` is empty.
pub fn verify_any(
    secrets: &[&str],
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
) -> Result<Verified, Error> {
    verify_any_with(&STANDARD_HEADERS, secrets, headers, body, now)
}

/// [`verify_any`] with the headers called `names`.
///
/// # Errors
/// As [`verify_any`].
pub fn verify_any_with(
    names: &HeaderNames,
    secrets: &[&str],
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
) -> Result<Verified, Error> {
    let id = header(headers, names.id)?;
    let ts_text = header(headers, names.timestamp)?;
    let signatures = header(headers, names.signature)?;
    let ts_name = names.timestamp;
    let ts: i64 = ts_text
        .trim()
        .parse()
        .map_err(|_| Error::Unauthorized(format!("{ts_name} `{ts_text}` is not Unix seconds")))?;
    check_timestamp(ts_name, ts, now)?;
    let mut matched = false;
    // Every secret is tried (no early exit), so the time taken does not tell which of
    // them matched.
    for secret in secrets {
        let key = standardwebhooks::Webhook::new(secret)
            .map_err(|e| Error::Config(format!("webhook secret: {e}")))?;
        let expected = key.sign(id, ts, body).map_err(|_| {
            Error::Unauthorized("the body is not UTF-8, so it cannot match a signature".into())
        })?;
        let expected = expected.split_once(',').map_or("", |(_, sig)| sig);
        matched |= signatures
            .split_whitespace()
            .filter_map(|entry| entry.split_once(','))
            .any(|(version, sig)| {
                version == "v1"
                    && constant_time_eq::constant_time_eq(sig.as_bytes(), expected.as_bytes())
            });
    }
    if !matched {
        return Err(Error::Unauthorized(format!(
            "{} matches no v1 signature of this body",
            names.signature
        )));
    }
    Ok(Verified {
        webhook_id: id.to_owned(),
        timestamp: Timestamp(ts),
    })
}

/// The lowercase hex HMAC-SHA256 of `body` keyed with `secret`: Nuki's
/// `X-Nuki-Signature-SHA256` (lock-providers.md §1.8, NUKI-DOCS central-decentral). Used
/// by tests and tools that play the sender.
///
/// # Errors
/// [`Error::Config`] if the key is refused (HMAC takes any length, so in practice never).
pub fn hmac_sha256_hex(secret: &str, body: &[u8]) -> Result<String, Error> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| Error::Config(format!("webhook secret: {e}")))?;
    mac.update(body);
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// Checks `given` (hex, either case) against the HMAC-SHA256 of `body` keyed with `secret`,
/// in constant time. `header` names the header for the error.
///
/// # Errors
/// [`Error::Unauthorized`] when `given` is not hex or does not match.
pub fn verify_hmac_sha256_hex(
    secret: &str,
    header: &str,
    given: &str,
    body: &[u8],
) -> Result<(), Error> {
    let given = hex::decode(given.trim())
        .map_err(|_| Error::Unauthorized(format!("header `{header}` is not a hex digest")))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| Error::Config(format!("webhook secret: {e}")))?;
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| Error::Unauthorized(format!("`{header}` does not match this body")))
}

/// How a digest is written in a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestEncoding {
    /// Hexadecimal, either case.
    Hex,
    /// Standard base64 with padding.
    Base64,
}

impl DigestEncoding {
    /// Decodes `text`; `None` when it is not in this encoding.
    pub fn decode(self, text: &str) -> Option<Vec<u8>> {
        use base64::Engine as _;
        match self {
            DigestEncoding::Hex => hex::decode(text.trim()).ok(),
            DigestEncoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .ok(),
        }
    }

    /// Encodes `digest` (hex in lowercase).
    pub fn encode(self, digest: &[u8]) -> String {
        use base64::Engine as _;
        match self {
            DigestEncoding::Hex => hex::encode(digest),
            DigestEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode(digest),
        }
    }
}

/// The HMAC-SHA256 of the concatenation of `parts`, keyed with the bytes of `secret`.
/// Senders sign strings such as `{timestamp}.{body}`; passing the pieces spares a copy of
/// the body.
pub fn hmac_sha256(secret: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length; were it ever to refuse one, an empty digest matches
    // no signature, which fails closed.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return Vec::new();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Whether `given` is the HMAC-SHA256 of `parts` keyed with `secret`, compared in
/// constant time.
pub fn hmac_sha256_matches(secret: &[u8], parts: &[&[u8]], given: &[u8]) -> bool {
    constant_time_eq::constant_time_eq(&hmac_sha256(secret, parts), given)
}

/// Checks a signing timestamp (Unix seconds) against `now`, within [`TOLERANCE_SECS`];
/// `name` names where it came from, for the error.
///
/// # Errors
/// [`Error::Unauthorized`] for a stale or future timestamp.
pub fn check_timestamp(name: &str, ts: i64, now: Timestamp) -> Result<(), Error> {
    let skew = now.unix() - ts;
    if skew > TOLERANCE_SECS {
        return Err(Error::Unauthorized(format!(
            "{name} is {skew} s old; at most {TOLERANCE_SECS} s is accepted"
        )));
    }
    if -skew > TOLERANCE_SECS {
        return Err(Error::Unauthorized(format!(
            "{name} is {} s in the future; at most {TOLERANCE_SECS} s is accepted",
            -skew
        )));
    }
    Ok(())
}

/// Signs `body` sent as `webhook_id` at `at` the way a sender does, and returns the
/// `webhook-signature` value (`v1,<base64>`). Used by the callback channel, `replay` and
/// tests.
///
/// # Errors
/// [`Error::Config`] for a malformed secret or a body that is not UTF-8.
pub fn sign(secret: &str, webhook_id: &str, at: Timestamp, body: &[u8]) -> Result<String, Error> {
    standardwebhooks::Webhook::new(secret)
        .and_then(|k| k.sign(webhook_id, at.unix(), body))
        .map_err(|e| Error::Config(format!("cannot sign: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn headers(id: &str, ts: i64, sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("webhook-id", id.parse().expect("header"));
        h.insert("webhook-timestamp", ts.to_string().parse().expect("header"));
        h.insert("webhook-signature", sig.parse().expect("header"));
        h
    }

    #[test]
    fn accepts_any_matching_entry_and_rejects_tampering() {
        let body = br#"{"a":1}"#;
        let sig = sign(SECRET, "msg_1", Timestamp(1000), body).expect("signed");
        let rotated = format!("v1,bm90IGl0 {sig} v2,whatever");
        assert!(
            verify(
                SECRET,
                &headers("msg_1", 1000, &rotated),
                body,
                Timestamp(1100)
            )
            .is_ok()
        );
        assert!(
            verify(
                SECRET,
                &headers("msg_1", 1000, &sig),
                br#"{"a":2}"#,
                Timestamp(1100)
            )
            .is_err()
        );
        assert!(
            verify(SECRET, &headers("msg_2", 1000, &sig), body, Timestamp(1100)).is_err(),
            "id is signed"
        );
    }

    #[test]
    fn any_live_secret_verifies() {
        const OTHER: &str = "whsec_zNLR+bTPxvKLHY4iLDOs2bkgI3WOytRw";
        let body = br#"{"a":1}"#;
        let old = sign(SECRET, "m", Timestamp(1000), body).expect("signed");
        let new = sign(OTHER, "m", Timestamp(1000), body).expect("signed");
        for sig in [&old, &new] {
            let h = headers("m", 1000, sig);
            assert!(verify_any(&[OTHER, SECRET], &h, body, Timestamp(1000)).is_ok());
        }
        assert!(verify_any(&[OTHER], &headers("m", 1000, &old), body, Timestamp(1000)).is_err());
        assert!(verify_any(&[], &headers("m", 1000, &old), body, Timestamp(1000)).is_err());
    }

    #[test]
    fn rejects_stale_and_future_timestamps() {
        let body = b"{}";
        let sig = sign(SECRET, "m", Timestamp(1000), body).expect("signed");
        let old = verify(
            SECRET,
            &headers("m", 1000, &sig),
            body,
            Timestamp(1000 + TOLERANCE_SECS + 1),
        )
        .expect_err("must be refused");
        assert!(old.to_string().contains("old"), "{old}");
        let future = verify(
            SECRET,
            &headers("m", 1000, &sig),
            body,
            Timestamp(1000 - TOLERANCE_SECS - 1),
        )
        .expect_err("must be refused");
        assert!(future.to_string().contains("future"), "{future}");
        assert!(
            verify(
                SECRET,
                &headers("m", 1000, &sig),
                body,
                Timestamp(1000 + TOLERANCE_SECS)
            )
            .is_ok()
        );
    }

    #[test]
    fn hmac_hex_matches_rfc_4231_and_rejects_tampering() {
        // RFC 4231 test case 2.
        let digest = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(
            hmac_sha256_hex("Jefe", b"what do ya want for nothing?").expect("hmac"),
            digest
        );
        let ok = verify_hmac_sha256_hex(
            "Jefe",
            "h",
            &digest.to_uppercase(),
            b"what do ya want for nothing?",
        );
        assert!(ok.is_ok());
        assert!(
            verify_hmac_sha256_hex("Jefe", "h", digest, b"what do ya want for nothing!").is_err()
        );
        assert!(verify_hmac_sha256_hex("Jefe", "h", "zz", b"").is_err());
    }

    #[test]
    fn verifies_svix_published_example() {
        // docs.svix.com, verifying payloads manually: the published example delivery.
        let mut h = HeaderMap::new();
        h.insert(
            "svix-id",
            "msg_p5jXN8AQM9LWM0D4loKWxJek".parse().expect("header"),
        );
        h.insert("svix-timestamp", "1614265330".parse().expect("header"));
        h.insert(
            "svix-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
                .parse()
                .expect("header"),
        );
        let body = br#"{"test": 2432232314}"#;
        assert!(verify_with(&SVIX_HEADERS, SECRET, &h, body, Timestamp(1614265330)).is_ok());
    }

    #[test]
    fn svix_names_carry_the_same_signature() {
        let body = br#"{"event_type":"device.low_battery"}"#;
        let sig = sign(SECRET, "msg_9", Timestamp(1000), body).expect("signed");
        let mut h = HeaderMap::new();
        h.insert("svix-id", "msg_9".parse().expect("header"));
        h.insert("svix-timestamp", "1000".parse().expect("header"));
        h.insert("svix-signature", sig.parse().expect("header"));
        assert!(verify_with(&SVIX_HEADERS, SECRET, &h, body, Timestamp(1000)).is_ok());
        let err = verify(SECRET, &h, body, Timestamp(1000)).expect_err("no webhook-* headers");
        assert!(err.to_string().contains("webhook-id"), "{err}");
        let stale =
            verify_with(&SVIX_HEADERS, SECRET, &h, body, Timestamp(1000 + 301)).expect_err("stale");
        assert!(stale.to_string().contains("svix-timestamp"), "{stale}");
    }

    #[test]
    fn names_the_missing_header() {
        let err =
            verify(SECRET, &HeaderMap::new(), b"{}", Timestamp(0)).expect_err("must be refused");
        assert!(err.to_string().contains("webhook-id"), "{err}");
    }
}
