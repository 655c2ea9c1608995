//! Where a path parameter is in the request target, found once by the trie and read only by the
//! check that needs it: a plain id is compared in place, an escaped one decoded on demand.

use super::id::PathId;

/// Where a parameter is in the target: its byte range, and whether it holds a `%` escape. The
/// trie records a span only for a segment it checked to be an id (1–64 id bytes, or escapes that
/// decode to one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
    escaped: bool,
}

impl Span {
    /// The span `start..end`; `None` past `u32::MAX` (a target no request can have).
    #[inline]
    pub(crate) fn new(start: usize, end: usize, escaped: bool) -> Option<Span> {
        Some(Span {
            start: u32::try_from(start).ok()?,
            end: u32::try_from(end).ok()?,
            escaped,
        })
    }

    /// The decoded id this span holds in `target`.
    #[inline]
    pub(crate) fn decode(self, target: &str) -> Option<PathId> {
        let (start, end) = (self.start as usize, self.end as usize);
        if self.escaped {
            PathId::decode(target.get(start..end)?)
        } else {
            PathId::plain(target.as_bytes(), start, end)
        }
    }

    /// Whether the id this span holds in `target` is `expected`: a plain id is compared where it
    /// stands (no copy), an escaped one after decoding.
    #[inline]
    pub(crate) fn names(self, target: &str, expected: &str) -> bool {
        if self.escaped {
            return self.decode(target).is_some_and(|id| id.as_str() == expected);
        }
        target.as_bytes().get(self.start as usize..self.end as usize) == Some(expected.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_escaped_spans_name_the_decoded_id() {
        let target = "/a/te_1/te%5F1?x";
        let plain = Span::new(3, 7, false).unwrap();
        let escaped = Span::new(8, 14, true).unwrap();
        for span in [plain, escaped] {
            assert!(span.names(target, "te_1"));
            assert!(!span.names(target, "te_2"));
            assert!(!span.names(target, "te_"));
            assert_eq!(span.decode(target).unwrap().as_str(), "te_1");
        }
        // A span outside the target names nothing.
        assert!(!Span::new(10, 40, false).unwrap().names(target, "te_1"));
        assert!(Span::new(10, 40, true).unwrap().decode(target).is_none());
    }
}
