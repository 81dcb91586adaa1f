//! Decoding JSON with a JSON Pointer (RFC 6901) to the first field at fault, so that a
//! caller can answer a bad body with the field to fix (problem+json `pointer`).

use serde::de::DeserializeOwned;

/// A body that does not decode: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Invalid {
    /// JSON Pointer to the first offending field; empty for the body as a whole.
    pub pointer: String,
    /// What is wrong with it, naming the field: "`/data/check_in`: invalid type …".
    pub detail: String,
}

/// Decodes `body` as a `T`.
///
/// # Errors
/// [`Invalid`] with the pointer to the first offending field and serde's message.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Invalid> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let pointer = e
            .path()
            .iter()
            .filter_map(|seg| match seg {
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                serde_path_to_error::Segment::Map { key } => {
                    Some(key.replace('~', "~0").replace('/', "~1"))
                }
                _ => None,
            })
            .fold(String::new(), |acc, seg| format!("{acc}/{seg}"));
        let field = if pointer.is_empty() {
            "the body".to_owned()
        } else {
            format!("`{pointer}`")
        };
        Invalid {
            detail: format!("{field}: {}", e.inner()),
            pointer,
        }
    })
}
