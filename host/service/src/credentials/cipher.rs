//! Credentials at rest: ChaCha20-Poly1305 (RFC 8439, RustCrypto's `chacha20poly1305`)
//! under a 32-byte key from the environment (`LATCHKEY_CREDENTIALS_KEY`, base64).
//!
//! Each seal draws a fresh random 96-bit nonce from the operating system. The associated
//! data binds the ciphertext to its workspace and account key, so a row copied to another
//! account (or workspace) fails to open instead of connecting the wrong account.
//! The key is read only when credentials are sealed or opened: a service with no
//! `[[accounts]]` never needs it.

use std::sync::OnceLock;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use latchkey_engine::WorkspaceId;
use latchkey_store::credentials::Sealed;
use rand::TryRngCore as _;
use zeroize::Zeroizing;

/// The environment variable holding the key: 32 random bytes in base64 (standard alphabet,
/// padded or not), e.g. from `openssl rand -base64 32`.
pub const KEY_ENV: &str = "LATCHKEY_CREDENTIALS_KEY";

/// Length of a nonce, in bytes.
pub const NONCE_LEN: usize = 12;

/// Versions the associated data, so a future scheme cannot open an old row by mistake.
const AAD_CONTEXT: &[u8] = b"latchkey/provider-credentials/v1";

/// Why the key is not usable. The messages never quote the variable's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The variable is not set.
    #[error(
        "{KEY_ENV} is not set: provider credentials are encrypted with it; set it to 32 random bytes in base64 (e.g. `openssl rand -base64 32`) and keep it safe"
    )]
    Missing,
    /// The variable is set but is not 32 bytes of base64.
    #[error("{KEY_ENV} must be 32 bytes in base64: {0}")]
    Invalid(String),
}

/// Why sealing or opening failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// The operating system gave no randomness for the nonce.
    #[error("no randomness for a nonce: {0}")]
    Randomness(String),
    /// Encryption failed (a plaintext beyond the AEAD's limits).
    #[error("cannot encrypt the credentials")]
    Seal,
    /// Authentication failed: another key, an altered row, or a row moved to another
    /// account or workspace.
    #[error(
        "cannot decrypt the stored credentials: {KEY_ENV} is not the key they were stored with, or the row was altered or moved to another account"
    )]
    Open,
}

/// The credentials key. `Debug` prints `<redacted>`; the bytes are wiped on drop.
#[derive(Clone)]
pub struct Key(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

/// A key installed for this process, taking the place of the environment (embedding and
/// tests, which may not change the environment of a running process).
static INSTALLED: OnceLock<Key> = OnceLock::new();

impl Key {
    /// The key from its base64 text (surrounding whitespace ignored).
    ///
    /// # Errors
    /// [`KeyError::Invalid`] when the text is not base64 or not 32 bytes.
    pub fn parse(text: &str) -> Result<Key, KeyError> {
        let text = text.trim();
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
                .map_err(|_| KeyError::Invalid("not base64".into()))?,
        );
        let array: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            KeyError::Invalid(format!("{} bytes after decoding, not 32", bytes.len()))
        })?;
        Ok(Key(Zeroizing::new(array)))
    }

    /// The key from [`KEY_ENV`].
    ///
    /// # Errors
    /// [`KeyError::Missing`] when unset (or not Unicode), [`KeyError::Invalid`] when
    /// malformed.
    pub fn from_env() -> Result<Key, KeyError> {
        let text = Zeroizing::new(std::env::var(KEY_ENV).map_err(|_| KeyError::Missing)?);
        if text.trim().is_empty() {
            return Err(KeyError::Missing);
        }
        Key::parse(&text)
    }

    /// The process's key: the one [`install`]ed, else [`Key::from_env`].
    ///
    /// # Errors
    /// As [`Key::from_env`].
    pub fn current() -> Result<Key, KeyError> {
        match INSTALLED.get() {
            Some(key) => Ok(key.clone()),
            None => Key::from_env(),
        }
    }

    /// Encrypts `plaintext` for account `account` of `workspace`.
    ///
    /// # Errors
    /// [`CipherError::Randomness`] when the OS gives no nonce; [`CipherError::Seal`].
    pub fn seal(
        &self,
        workspace: &WorkspaceId,
        account: &str,
        plaintext: &[u8],
    ) -> Result<Sealed, CipherError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|e| CipherError::Randomness(e.to_string()))?;
        let aad = associated_data(workspace, account);
        let ciphertext = self
            .aead()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| CipherError::Seal)?;
        Ok(Sealed {
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Decrypts what [`Key::seal`] made for the same workspace and account.
    ///
    /// # Errors
    /// [`CipherError::Open`] for another key, an altered nonce or ciphertext, or another
    /// workspace or account.
    pub fn open(
        &self,
        workspace: &WorkspaceId,
        account: &str,
        sealed: &Sealed,
    ) -> Result<Zeroizing<Vec<u8>>, CipherError> {
        if sealed.nonce.len() != NONCE_LEN {
            return Err(CipherError::Open);
        }
        let aad = associated_data(workspace, account);
        self.aead()
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CipherError::Open)
    }

    fn aead(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(self.0.as_slice()))
    }
}

/// Makes `key` the process's credentials key in place of [`KEY_ENV`]; the first install
/// wins. Returns whether this call installed it.
pub fn install(key: Key) -> bool {
    INSTALLED.set(key).is_ok()
}

/// Context, then each part length-prefixed, so (`ab`, `c`) and (`a`, `bc`) differ.
fn associated_data(workspace: &WorkspaceId, account: &str) -> Vec<u8> {
    let mut aad = AAD_CONTEXT.to_vec();
    for part in [workspace.as_str().as_bytes(), account.as_bytes()] {
        aad.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        aad.extend_from_slice(part);
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const KEY_B: &str = "HxwdHhscGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=";

    fn ws(name: &str) -> WorkspaceId {
        WorkspaceId::parse(name).expect("workspace id")
    }

    #[test]
    fn round_trip() {
        let key = Key::parse(KEY_A).expect("key");
        let sealed = key.seal(&ws("demo"), "nuki-main", b"secret").expect("seal");
        assert_eq!(sealed.nonce.len(), NONCE_LEN);
        assert!(!sealed.ciphertext.windows(6).any(|w| w == b"secret"));
        let opened = key.open(&ws("demo"), "nuki-main", &sealed).expect("open");
        assert_eq!(opened.as_slice(), b"secret");
    }

    #[test]
    fn each_seal_draws_a_new_nonce() {
        let key = Key::parse(KEY_A).expect("key");
        let a = key.seal(&ws("demo"), "k", b"same").expect("seal");
        let b = key.seal(&ws("demo"), "k", b"same").expect("seal");
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn a_wrong_key_fails() {
        let sealed = Key::parse(KEY_A)
            .expect("key")
            .seal(&ws("demo"), "nuki-main", b"secret")
            .expect("seal");
        let other = Key::parse(KEY_B).expect("key");
        assert_eq!(
            other.open(&ws("demo"), "nuki-main", &sealed),
            Err(CipherError::Open)
        );
    }

    #[test]
    fn a_tampered_row_fails() {
        let key = Key::parse(KEY_A).expect("key");
        let sealed = key.seal(&ws("demo"), "nuki-main", b"secret").expect("seal");
        for i in 0..sealed.ciphertext.len() {
            let mut bad = sealed.clone();
            bad.ciphertext[i] ^= 0x01;
            assert_eq!(
                key.open(&ws("demo"), "nuki-main", &bad),
                Err(CipherError::Open)
            );
        }
        let mut bad = sealed.clone();
        bad.nonce[0] ^= 0x80;
        assert_eq!(
            key.open(&ws("demo"), "nuki-main", &bad),
            Err(CipherError::Open)
        );
        let mut short = sealed;
        short.nonce.pop();
        assert_eq!(
            key.open(&ws("demo"), "nuki-main", &short),
            Err(CipherError::Open)
        );
    }

    #[test]
    fn a_row_moved_to_another_account_or_workspace_fails() {
        let key = Key::parse(KEY_A).expect("key");
        let sealed = key.seal(&ws("demo"), "nuki-main", b"secret").expect("seal");
        for (w, account) in [
            ("demo", "nuki-annex"),
            ("other", "nuki-main"),
            ("demon", "uki-main"),
        ] {
            assert_eq!(
                key.open(&ws(w), account, &sealed),
                Err(CipherError::Open),
                "{w}/{account}"
            );
        }
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(Key::parse(KEY_A).is_ok());
        assert!(Key::parse(KEY_A.trim_end_matches('=')).is_ok());
        assert!(matches!(
            Key::parse("not base64 at all!"),
            Err(KeyError::Invalid(_))
        ));
        assert!(matches!(Key::parse("AAECAwQF"), Err(KeyError::Invalid(_))));
        let error = Key::parse("AAECAwQF").expect_err("short").to_string();
        assert!(!error.contains("AAECAwQF"), "{error}");
        assert_eq!(
            format!("{:?}", Key::parse(KEY_A).expect("key")),
            "Key(<redacted>)"
        );
    }
}
