//! Decoding JSON request bodies into the service's [`Error`], with a JSON Pointer
//! (RFC 6901) to the first field at fault (see [`latchkey_engine::json`]).

use serde::de::DeserializeOwned;

use crate::error::Error;

/// Decodes `body` as a `T`.
///
/// # Errors
/// [`Error::Invalid`] with the pointer to the first offending field (empty for the body
/// as a whole) and serde's message.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    latchkey_engine::json::decode(body).map_err(Error::from)
}
