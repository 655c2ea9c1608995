//! The deployment's key prefix (`keyPrefix` in a policy document): 2–12 characters `a-z0-9`,
//! the first a letter. Keys are `<prefix>_live_…` / `<prefix>_test_…`.

use core::fmt;

/// The longest key prefix a policy may name.
pub const MAX_PREFIX_LEN: usize = 12;
/// The shortest key prefix a policy may name.
pub const MIN_PREFIX_LEN: usize = 2;

/// A validated key prefix, stored inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyPrefix {
    bytes: [u8; MAX_PREFIX_LEN],
    len: u8,
}

/// Why a string is not a key prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidPrefix {
    /// Shorter than 2 or longer than 12 characters.
    Length,
    /// The first character is not a letter `a-z`.
    FirstNotLetter,
    /// A character outside `a-z0-9`.
    Character,
}

impl fmt::Display for InvalidPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidPrefix::Length => "a key prefix is 2 to 12 characters long",
            InvalidPrefix::FirstNotLetter => "a key prefix starts with a letter a-z",
            InvalidPrefix::Character => "a key prefix holds only the characters a-z and 0-9",
        })
    }
}

impl core::error::Error for InvalidPrefix {}

impl KeyPrefix {
    /// `ck`, the prefix of a policy that names none.
    pub const DEFAULT: KeyPrefix = KeyPrefix {
        bytes: *b"ck\0\0\0\0\0\0\0\0\0\0",
        len: 2,
    };

    /// Validates a prefix.
    pub fn parse(text: &str) -> Result<KeyPrefix, InvalidPrefix> {
        let source = text.as_bytes();
        if !(MIN_PREFIX_LEN..=MAX_PREFIX_LEN).contains(&source.len()) {
            return Err(InvalidPrefix::Length);
        }
        if !source.first().is_some_and(u8::is_ascii_lowercase) {
            return Err(InvalidPrefix::FirstNotLetter);
        }
        if !source
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(InvalidPrefix::Character);
        }
        let mut bytes = [0u8; MAX_PREFIX_LEN];
        for (slot, byte) in bytes.iter_mut().zip(source) {
            *slot = *byte;
        }
        Ok(KeyPrefix {
            bytes,
            len: source.len() as u8,
        })
    }

    /// The prefix as written in the policy (`ck`, `acme`).
    pub fn as_str(&self) -> &str {
        // INVARIANT: filled from a validated ASCII string.
        self.bytes
            .get(..usize::from(self.len))
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// The prefix's length in bytes.
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Never true: a prefix has at least two characters (for clippy's `len_without_is_empty`).
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Default for KeyPrefix {
    fn default() -> Self {
        KeyPrefix::DEFAULT
    }
}

impl fmt::Debug for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPrefix({})", self.as_str())
    }
}

impl fmt::Display for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_shapes() {
        for ok in ["ck", "clk", "acme", "a1", "abcdefghijkl"] {
            assert_eq!(KeyPrefix::parse(ok).map(|p| p.len()), Ok(ok.len()), "{ok}");
        }
        assert_eq!(KeyPrefix::parse("ck"), Ok(KeyPrefix::DEFAULT));
    }

    #[test]
    fn refuses_the_rest() {
        assert_eq!(KeyPrefix::parse("c"), Err(InvalidPrefix::Length));
        assert_eq!(KeyPrefix::parse("abcdefghijklm"), Err(InvalidPrefix::Length));
        assert_eq!(KeyPrefix::parse("1ck"), Err(InvalidPrefix::FirstNotLetter));
        assert_eq!(KeyPrefix::parse("Ck"), Err(InvalidPrefix::FirstNotLetter));
        assert_eq!(KeyPrefix::parse("cK"), Err(InvalidPrefix::Character));
        assert_eq!(KeyPrefix::parse("c_k"), Err(InvalidPrefix::Character));
        assert_eq!(KeyPrefix::parse("cé"), Err(InvalidPrefix::Character));
    }
}
