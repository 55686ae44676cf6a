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
    /// The name holds a character outside `[A-Za-z0-9._-]`; carries the
    /// character and the byte index where it starts.
    BadChar {
        /// The offending character.
        ch: char,
        /// The byte index where it starts in the name.
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
            NameError::BadChar { ch, index } => write!(
                f,
                "expected only [A-Za-z0-9._-], found {ch:?} (U+{:04X}) at byte {index}",
                ch as u32
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
/// assert!(matches!(validate_name("a/b"), Err(NameError::BadChar { ch: '/', index: 1 })));
/// // A character is shown as itself, not as its first byte.
/// let e = validate_name("caf\u{e9}").unwrap_err();
/// assert_eq!(e, NameError::BadChar { ch: '\u{e9}', index: 3 });
/// assert!(e.to_string().contains("'\u{e9}'"));
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
    for (index, ch) in name.char_indices() {
        let ok = ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-');
        if !ok {
            return Err(NameError::BadChar { ch, index });
        }
    }
    Ok(())
}
