//! API keys: `lk_` followed by 43 characters of unpadded base64url, 256 random bits.
//!
//! Only the key's SHA-256 is stored (see the `api_keys` migration): with 256 bits of
//! entropy a fast hash is enough, and it is what a request's key is looked up by. The
//! key itself is shown once, when created.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_engine::{Timestamp, WorkspaceId};
use latchkey_store::Conn;
use latchkey_store::access::{self, KeyRow};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

use super::Role;
use crate::error::{Error, Result};

/// Every key starts with this, so secret scanners and people can tell one.
pub const KEY_PREFIX: &str = "lk_";

/// Characters of the key kept in the clear to tell keys apart in lists.
const SHOWN_PREFIX_CHARS: usize = 10;

/// Longest key name, in bytes.
const MAX_NAME_BYTES: usize = 64;

/// A key just created: its record and, this once, the key itself.
#[derive(Debug)]
pub struct NewKey {
    /// The record, as listed from now on.
    pub row: KeyRow,
    /// The key: give it to its holder now; it cannot be shown again.
    pub key: String,
}

/// The SHA-256 of `secret`, in lowercase hex: how keys and session tokens are stored.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// `bytes` random bytes from the operating system, as unpadded base64url.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // ChaCha12 seeded from the OS: a CSPRNG, so the tokens are as good as the OS's bytes.
    StdRng::from_os_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Creates a key named `name` with `role`, recorded as made by `created_by`.
///
/// # Errors
/// [`Error::Invalid`] for an empty or over-long name or one with control characters;
/// [`Error::Conflict`] when a live key already has the name; database errors.
pub async fn create(
    conn: &mut Conn,
    ws: &WorkspaceId,
    name: &str,
    role: Role,
    created_by: &str,
    now: Timestamp,
) -> Result<NewKey> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_NAME_BYTES || name.chars().any(char::is_control) {
        return Err(Error::Invalid {
            pointer: "/name".into(),
            detail: format!(
                "a key's name is 1 to {MAX_NAME_BYTES} bytes of printable text, e.g. `front-desk-pc`"
            ),
        });
    }
    let key = format!("{KEY_PREFIX}{}", random_token(32));
    let prefix: String = key.chars().take(SHOWN_PREFIX_CHARS).collect();
    let record = access::NewKeyRow {
        name,
        role,
        prefix: &prefix,
        secret_sha256: &digest(&key),
        created_by,
    };
    let row = access::insert_key(conn, ws, &record, now).await?;
    Ok(NewKey { row, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_url_safe() {
        let a = format!("{KEY_PREFIX}{}", random_token(32));
        let b = format!("{KEY_PREFIX}{}", random_token(32));
        assert_ne!(a, b);
        assert_eq!(a.len(), 3 + 43);
        assert!(
            a[3..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
