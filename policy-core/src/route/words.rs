//! Short byte strings as integers: static path text and names compared eight bytes at a time.
//!
//! A router compares the request's bytes against the static segments of its rows. Rather than
//! finding each segment's end first and then comparing it, it compares the text in place: the
//! eight bytes at the current position are loaded once as an integer, and each candidate
//! segment is one masked comparison against its own first eight bytes (then its next eight,
//! and byte by byte past sixteen). Only the byte after a match is looked at to see that the
//! segment ends there.

use alloc::boxed::Box;

/// The eight bytes of `bytes` from `at`, little-endian, with zeros past the end.
#[inline]
pub(crate) fn word_at(bytes: &[u8], at: usize) -> u64 {
    let rest = bytes.get(at..).unwrap_or_default();
    if let Some(chunk) = rest.first_chunk::<8>() {
        return u64::from_le_bytes(*chunk);
    }
    // Fewer than eight bytes: two overlapping loads, the first and the last bytes (the bytes
    // both hold are the same, so or-ing them is exact).
    let n = rest.len();
    match (rest.first_chunk::<4>(), rest.last_chunk::<4>()) {
        (Some(lo), Some(hi)) => {
            u64::from(u32::from_le_bytes(*lo)) | u64::from(u32::from_le_bytes(*hi)) << (8 * (n - 4))
        }
        _ => match (rest.first_chunk::<2>(), rest.last_chunk::<2>()) {
            (Some(lo), Some(hi)) => {
                u64::from(u16::from_le_bytes(*lo)) | u64::from(u16::from_le_bytes(*hi)) << (8 * (n - 2))
            }
            _ => rest.first().map_or(0, |&b| u64::from(b)),
        },
    }
}

/// A name (a method, a role) with its first eight bytes packed, so that looking it up among a
/// few others costs an integer comparison each rather than a call to `memcmp`.
#[derive(Clone, Debug)]
pub(crate) struct PackedName {
    word: u64,
    name: Box<str>,
}

impl PackedName {
    /// Packs `name`.
    pub(crate) fn new(name: &str) -> PackedName {
        PackedName {
            word: word_at(name.as_bytes(), 0),
            name: name.into(),
        }
    }

    /// The name.
    pub(crate) fn as_str(&self) -> &str {
        &self.name
    }

    /// Whether this is `other`, whose packed first eight bytes are `word`.
    #[inline]
    pub(crate) fn is(&self, other: &str, word: u64) -> bool {
        self.word == word && self.name.len() == other.len() && (other.len() <= 8 || *self.name == *other)
    }
}

/// The packed form of up to eight bytes of `text` from `at`, and the mask of the bytes it holds.
fn packed(text: &[u8], at: usize) -> (u64, u64) {
    let chunk = text.get(at..).unwrap_or_default();
    let held = chunk.len().min(8);
    let mask = match held {
        8 => u64::MAX,
        n => (1u64 << (8 * n)) - 1,
    };
    (word_at(text, at) & mask, mask)
}

/// The [`StaticText::order_key`] of `bytes[at..at + len]`, read in place.
#[inline]
pub(crate) fn order_key_at(bytes: &[u8], at: usize, len: usize) -> (u64, u64, usize) {
    let mask = |n: usize| if n >= 8 { u64::MAX } else { (1u64 << (8 * n)) - 1 };
    let second = if len > 8 {
        word_at(bytes, at + 8) & mask(len - 8)
    } else {
        0
    };
    (word_at(bytes, at) & mask(len), second, len)
}

/// A piece of static path text (a segment, or the base path with its closing `/`), compiled
/// for comparison in place. The text never holds a zero byte, so zeros past the end of a
/// request never compare equal to it.
#[derive(Clone, Debug)]
pub(crate) struct StaticText {
    words: [u64; 2],
    masks: [u64; 2],
    text: Box<[u8]>,
}

impl StaticText {
    /// Compiles `text`.
    pub(crate) fn new(text: &[u8]) -> StaticText {
        let (w0, m0) = packed(text, 0);
        let (w1, m1) = packed(text, 8);
        StaticText {
            words: [w0, w1],
            masks: [m0, m1],
            text: text.into(),
        }
    }

    /// The text's length in bytes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.text.len()
    }

    /// The text.
    pub(crate) fn text(&self) -> &[u8] {
        &self.text
    }

    /// An order of texts by integers: the first two packed words and the length (texts longer
    /// than sixteen bytes that agree on all three are ordered by the rest). [`order_key_at`]
    /// gives a request segment the same key.
    pub(crate) fn order_key(&self) -> (u64, u64, usize) {
        (self.words[0], self.words[1], self.text.len())
    }

    /// Whether `bytes[at..]` starts with the text; `first` is `word_at(bytes, at)`, loaded once
    /// by the caller for every candidate at that position.
    #[inline]
    pub(crate) fn starts(&self, bytes: &[u8], at: usize, first: u64) -> bool {
        let [w0, w1] = self.words;
        let [m0, m1] = self.masks;
        if first & m0 != w0 {
            return false;
        }
        let len = self.text.len();
        if len <= 8 {
            return true;
        }
        if word_at(bytes, at + 8) & m1 != w1 {
            return false;
        }
        len <= 16 || bytes.get(at + 16..at + len) == self.text.get(16..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_zero_padded_at_the_end() {
        let bytes = b"/api/v1/me";
        assert_eq!(word_at(bytes, 0), u64::from_le_bytes(*b"/api/v1/"));
        assert_eq!(word_at(bytes, 8), u64::from(b'm') | u64::from(b'e') << 8);
        assert_eq!(word_at(bytes, 10), 0);
        assert_eq!(word_at(bytes, 11), 0);
        assert_eq!(word_at(b"abc", 1), u64::from(b'b') | u64::from(b'c') << 8);
        assert_eq!(word_at(b"", 0), 0);
        let text = b"abcdefghijklmnop";
        for at in 0..=text.len() {
            for end in at..=text.len() {
                let mut want = [0u8; 8];
                let n = (end - at).min(8);
                want[..n].copy_from_slice(&text[at..at + n]);
                assert_eq!(word_at(&text[..end], at), u64::from_le_bytes(want), "{at}..{end}");
            }
        }
    }

    #[test]
    fn packed_names_compare_whole_names() {
        let names = [
            "GET",
            "POST",
            "PROPFIND",
            "PROPPATCH",
            "PROPFINDX",
            "admin",
            "a",
            "",
        ];
        for a in names {
            for b in names {
                assert_eq!(
                    PackedName::new(a).is(b, word_at(b.as_bytes(), 0)),
                    a == b,
                    "{a} {b}"
                );
            }
        }
    }

    #[test]
    fn static_text_matches_prefixes_of_every_length() {
        let texts: [&[u8]; 6] = [
            b"a",
            b"me",
            b"projects",
            b"time-entries",
            b"integration-links",
            b"x",
        ];
        let paths: [&[u8]; 8] = [
            b"a",
            b"me/x",
            b"projects",
            b"projects?q",
            b"time-entries/te_1",
            b"time-entrie",
            b"integration-links?x",
            b"integration-linkz",
        ];
        for text in texts {
            let compiled = StaticText::new(text);
            for path in paths {
                for at in 0..=path.len() {
                    let want = path.get(at..).is_some_and(|rest| rest.starts_with(text));
                    let got = compiled.starts(path, at, word_at(path, at));
                    assert_eq!(got, want, "{:?} at {at} of {:?}", text, path);
                }
            }
        }
    }
}
