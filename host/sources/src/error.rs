//! What can be wrong with a delivery or with a source's settings.

use latchkey_engine::json::Invalid;

/// A delivery refused, or a source misconfigured. The service answers the first two
/// (problem+json 401 and 422) and refuses to start on the third.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The delivery is not authentic: a bad or missing signature or secret, or a timestamp
    /// out of range.
    #[error("{0}")]
    Unauthorized(String),
    /// The body parsed but does not match the form.
    #[error("{detail}")]
    Invalid {
        /// JSON Pointer (RFC 6901) to the offending field, e.g. `/data/check_in`; empty for
        /// the body as a whole.
        pointer: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The source's settings in `property.toml` are wrong; the message names the key.
    #[error("{0}")]
    Config(String),
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Error {
        Error::Invalid {
            pointer: e.pointer,
            detail: e.detail,
        }
    }
}

/// A source's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Decodes `body` as a `T`.
///
/// # Errors
/// [`Error::Invalid`] with the pointer to the first offending field (empty for the body
/// as a whole) and serde's message.
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    latchkey_engine::json::decode(body).map_err(Error::from)
}
