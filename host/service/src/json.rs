//! Decoding JSON request bodies with a JSON Pointer (RFC 6901) to the first field at
//! fault, for problem+json answers.

use serde::de::DeserializeOwned;

use crate::error::Error;

/// Decodes `body` as a `T`.
///
/// # Errors
/// [`Error::Invalid`] with the pointer to the first offending field (empty for the body
/// as a whole) and serde's message.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
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
        Error::Invalid {
            detail: format!("{field}: {}", e.inner()),
            pointer,
        }
    })
}
