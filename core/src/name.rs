//! Segment names: what a user may pass, checked before anything touches the OS.

/// The longest name a user may give an object.
pub const MAX_NAME_LEN: usize = 200;

/// Why a name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`] bytes; carries its length.
    TooLong(usize),
    /// The name holds a byte outside `[A-Za-z0-9._-]`; carries the byte and its index.
    BadByte {
        /// The offending byte.
        byte: u8,
        /// Where it stands in the name.
        index: usize,
    },
    /// The name is `.` or `..`, which would read as a directory.
    DotName,
}

impl core::fmt::Display for NameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            NameError::Empty => f.write_str("expected 1 to 200 characters, found an empty name"),
            NameError::TooLong(len) => {
                write!(f, "expected at most {MAX_NAME_LEN} bytes, found {len}")
            }
            NameError::BadByte { byte, index } => write!(
                f,
                "expected only [A-Za-z0-9._-], found byte 0x{byte:02x} ({:?}) at index {index}",
                byte as char
            ),
            NameError::DotName => f.write_str("expected a name, found `.` or `..`"),
        }
    }
}

/// Checks that `name` is 1 to 200 bytes of `[A-Za-z0-9._-]` and not `.` or `..`.
///
/// Such a name can never be a path, so it is safe to paste after the fixed OS
/// prefix that marks shmipc's segments.
///
/// ```
/// use shmipc_core::name::{validate_name, NameError};
/// assert!(validate_name("orders.v2-eu_1").is_ok());
/// assert_eq!(validate_name(""), Err(NameError::Empty));
/// assert!(matches!(validate_name("a/b"), Err(NameError::BadByte { byte: b'/', index: 1 })));
/// ```
pub fn validate_name(name: &str) -> Result<(), NameError> {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return Err(NameError::Empty);
    }
    if bytes.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong(bytes.len()));
    }
    if name == "." || name == ".." {
        return Err(NameError::DotName);
    }
    for (index, &byte) in bytes.iter().enumerate() {
        let ok = byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-');
        if !ok {
            return Err(NameError::BadByte { byte, index });
        }
    }
    Ok(())
}
