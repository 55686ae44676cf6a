//! Values to messages and back: postcard, behind the `serde` feature.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{RecvError, SendError};

/// `value` as a message.
pub(super) fn encode<T: Serialize + ?Sized>(
    name: &Arc<str>,
    value: &T,
) -> Result<Vec<u8>, SendError> {
    postcard::to_allocvec(value).map_err(|e| SendError::Encode {
        name: name.clone(),
        type_name: std::any::type_name::<T>(),
        detail: e.to_string(),
    })
}

/// `message` as a `T`: all of it, or an error naming the type.
pub(super) fn decode<T: DeserializeOwned>(name: &Arc<str>, message: &[u8]) -> Result<T, RecvError> {
    let fail = |detail: String| RecvError::Decode {
        name: name.clone(),
        type_name: std::any::type_name::<T>(),
        detail,
    };
    match postcard::take_from_bytes(message) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(fail(format!(
            "{} bytes left over after the value",
            rest.len()
        ))),
        Err(e) => Err(fail(e.to_string())),
    }
}
