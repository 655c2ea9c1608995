//! Path parameters: what an id in a path may be, and its decoded form.

use core::fmt;
use core::num::NonZeroU8;

use percent_encoding::percent_decode;

use super::words::word_at;

/// The longest id a path parameter may hold.
pub const MAX_ID_LEN: usize = 64;

/// Whether each byte value may appear in an id (`A-Za-z0-9_-`).
const ID_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0u8;
    while b < 128 {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            // Evaluated at compile time: an out-of-range index would fail the build.
            #[allow(clippy::indexing_slicing)]
            {
                table[b as usize] = true;
            }
        }
        b += 1;
    }
    table
};

/// Whether an id may hold `byte`: `A-Za-z0-9_-`.
#[inline]
pub(crate) fn is_id_byte(byte: u8) -> bool {
    ID_BYTES.get(usize::from(byte)).copied().unwrap_or(false)
}

/// Whether `raw` (no `%` in it) is an id as it stands.
#[inline]
fn is_plain_id(raw: &[u8]) -> bool {
    !raw.is_empty() && raw.len() <= MAX_ID_LEN && raw.iter().all(|&b| is_id_byte(b))
}

/// A decoded path parameter, stored inline (no allocation). The bytes come first and the
/// length (never 0) last, so that an `Option<PathId>` is 65 bytes and copies in whole words.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct PathId {
    bytes: [u8; MAX_ID_LEN],
    len: NonZeroU8,
}

impl PathId {
    /// Whether `text`, taken as it is (not percent-decoded), is an id a path can name: 1–64
    /// characters of `A-Za-z0-9_-`. Stores use it to refuse ids no request could reach.
    pub fn is_valid(text: &str) -> bool {
        is_plain_id(text.as_bytes())
    }

    /// Percent-decodes `raw` and checks it is 1–64 characters of `A-Za-z0-9_-`.
    pub fn decode(raw: &str) -> Option<PathId> {
        let raw = raw.as_bytes();
        if !raw.contains(&b'%') {
            return if is_plain_id(raw) {
                PathId::plain(raw, 0, raw.len())
            } else {
                None
            };
        }
        let mut bytes = [0; MAX_ID_LEN];
        let mut len = 0;
        for byte in percent_decode(raw) {
            let slot = bytes.get_mut(len)?;
            if !is_id_byte(byte) {
                return None;
            }
            *slot = byte;
            len += 1;
        }
        Some(PathId {
            bytes,
            len: NonZeroU8::new(u8::try_from(len).ok()?)?,
        })
    }

    /// The id at `bytes[start..end]`, already checked to be plain (1–64 id bytes, no `%`),
    /// copied eight bytes at a time (an id is short: this beats a call to `memcpy`); `None`
    /// when the range is not 1–64 bytes.
    #[inline]
    pub(crate) fn plain(bytes: &[u8], start: usize, end: usize) -> Option<PathId> {
        let len = end.checked_sub(start).filter(|&n| n <= MAX_ID_LEN)?;
        let mut id = PathId {
            bytes: [0; MAX_ID_LEN],
            len: NonZeroU8::new(u8::try_from(len).ok()?)?,
        };
        for (i, dest) in id.bytes.chunks_exact_mut(8).enumerate().take(len.div_ceil(8)) {
            let held = len - 8 * i;
            let mask = if held >= 8 {
                u64::MAX
            } else {
                (1u64 << (8 * held)) - 1
            };
            dest.copy_from_slice(&(word_at(bytes, start + 8 * i) & mask).to_le_bytes());
        }
        Some(id)
    }

    /// Whether `raw` percent-decodes to a valid id (what [`PathId::decode`] checks, without
    /// keeping the id).
    pub(crate) fn check(raw: &str) -> bool {
        PathId::decode(raw).is_some()
    }

    /// The decoded id.
    pub fn as_str(&self) -> &str {
        // INVARIANT: only ASCII alphanumerics, `_` and `-` are ever stored.
        let bytes = self.bytes.get(..usize::from(self.len.get())).unwrap_or_default();
        core::str::from_utf8(bytes).unwrap_or("")
    }
}

impl fmt::Debug for PathId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PathId({:?})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_decoded_and_checked() {
        assert_eq!(PathId::decode("p1").map(|p| p.as_str().len()), Some(2));
        assert_eq!(PathId::decode("p%31").as_ref().map(PathId::as_str), Some("p1"));
        assert!(PathId::decode("").is_none());
        assert!(PathId::decode("a%2Fb").is_none());
        assert!(PathId::decode("a.b").is_none());
        assert!(PathId::decode("%zz").is_none());
        assert!(PathId::decode(&"a".repeat(64)).is_some());
        assert!(PathId::is_valid(&"a".repeat(64)) && PathId::is_valid("te_1-x"));
        assert!(!PathId::is_valid(&"a".repeat(65)) && !PathId::is_valid("") && !PathId::is_valid("a%31"));
        assert!(PathId::decode(&"a".repeat(65)).is_none());
        assert!(PathId::decode("é").is_none());
        for len in 1..=64 {
            let text = "abcdefghij".repeat(7);
            let id = PathId::plain(text.as_bytes(), 3, 3 + len).expect("an id");
            assert_eq!(id.as_str(), &text[3..3 + len]);
            assert_eq!(Some(id), PathId::decode(&text[3..3 + len]));
        }
        assert!(PathId::plain(b"x", 0, 65).is_none() && PathId::plain(b"x", 0, 0).is_none());
        assert!((0..=255u8).all(|b| is_id_byte(b) == (b.is_ascii_alphanumeric() || b == b'_' || b == b'-')));
    }
}
