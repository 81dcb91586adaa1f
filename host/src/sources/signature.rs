//! Standard Webhooks verification (<https://www.standardwebhooks.com/>, spec
//! `standard-webhooks.md` §Verifying): HMAC-SHA256 over `{id}.{timestamp}.{body}` with the
//! source's secret, compared in constant time against every `v1,` entry of
//! `webhook-signature` (several entries allow secret rotation), and a timestamp within
//! [`TOLERANCE_SECS`] of our clock. The `standardwebhooks` crate computes the signature; the
//! clock is ours, so replays and tests can run in simulated time.

use axum::http::HeaderMap;
use latchkey_engine::Timestamp;

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

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, Error> {
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
    let id = header(headers, "webhook-id")?;
    let ts_text = header(headers, "webhook-timestamp")?;
    let signatures = header(headers, "webhook-signature")?;
    let ts: i64 = ts_text.trim().parse().map_err(|_| {
        Error::Unauthorized(format!("webhook-timestamp `{ts_text}` is not Unix seconds"))
    })?;
    let skew = now.unix() - ts;
    if skew > TOLERANCE_SECS {
        return Err(Error::Unauthorized(format!(
            "webhook-timestamp is {skew} s old; at most {TOLERANCE_SECS} s is accepted"
        )));
    }
    if -skew > TOLERANCE_SECS {
        return Err(Error::Unauthorized(format!(
            "webhook-timestamp is {} s in the future; at most {TOLERANCE_SECS} s is accepted",
            -skew
        )));
    }
    let key = standardwebhooks::Webhook::new(secret)
        .map_err(|e| Error::Config(format!("webhook secret: {e}")))?;
    let expected = key.sign(id, ts, body).map_err(|_| {
        Error::Unauthorized("the body is not UTF-8, so it cannot match a signature".into())
    })?;
    let expected = expected.split_once(',').map_or("", |(_, sig)| sig);
    let matched = signatures
        .split_whitespace()
        .filter_map(|entry| entry.split_once(','))
        .any(|(version, sig)| {
            version == "v1"
                && constant_time_eq::constant_time_eq(sig.as_bytes(), expected.as_bytes())
        });
    if !matched {
        return Err(Error::Unauthorized(
            "webhook-signature matches no v1 signature of this body".into(),
        ));
    }
    Ok(Verified {
        webhook_id: id.to_owned(),
        timestamp: Timestamp(ts),
    })
}

/// Signs `body` the way a sender does: returns the three headers' values
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature`). Used by `replay` and tests.
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
    fn names_the_missing_header() {
        let err =
            verify(SECRET, &HeaderMap::new(), b"{}", Timestamp(0)).expect_err("must be refused");
        assert!(err.to_string().contains("webhook-id"), "{err}");
    }
}
