//! A hash index over a trie node's static children, for nodes with many of them (a 2,000-row
//! policy puts hundreds of resources side by side): the request's segment is cut out once and
//! found in about one probe, so the walk's cost does not grow with the number of siblings.

use alloc::vec;
use alloc::vec::Vec;

use super::words::{order_key_at, StaticText};

/// Open addressing over `(first word, second word, length)` keys; slots hold a child's position
/// plus one (0 is empty). At most half full, so a probe sequence is short and always ends.
#[derive(Clone, Debug)]
pub(crate) struct StaticIndex {
    slots: Vec<u32>,
    shift: u32,
}

fn hash((w0, w1, len): (u64, u64, usize), shift: u32) -> usize {
    let mixed = (w0 ^ w1.rotate_left(29) ^ (len as u64).rotate_left(47)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> shift) as usize
}

impl StaticIndex {
    /// Indexes `texts` (distinct).
    pub(crate) fn new<'t>(texts: impl ExactSizeIterator<Item = &'t StaticText>) -> StaticIndex {
        let size = (texts.len() * 2).next_power_of_two().max(2);
        let mut index = StaticIndex {
            slots: vec![0; size],
            shift: 64 - size.trailing_zeros(),
        };
        let mask = size - 1;
        for (i, text) in texts.enumerate() {
            let mut at = hash(text.order_key(), index.shift);
            while index.slots.get(at).is_some_and(|&s| s != 0) {
                at = (at + 1) & mask;
            }
            if let Some(slot) = index.slots.get_mut(at) {
                *slot = u32::try_from(i + 1).unwrap_or(u32::MAX);
            }
        }
        index
    }

    /// The position of the child whose text is exactly the segment of `path` at `at` (up to the
    /// next `/`, `?` or the end); `text(i)` gives child `i`'s text.
    #[inline]
    pub(crate) fn find<'t>(
        &self,
        path: &[u8],
        at: usize,
        text: impl Fn(usize) -> Option<&'t StaticText>,
    ) -> Option<usize> {
        let rest = path.get(at..)?;
        let len = rest
            .iter()
            .position(|&b| b == b'/' || b == b'?')
            .unwrap_or(rest.len());
        let key = order_key_at(path, at, len);
        let mask = self.slots.len() - 1;
        let mut probe = hash(key, self.shift);
        loop {
            let child = (*self.slots.get(probe)? as usize).checked_sub(1)?;
            let candidate = text(child)?;
            if candidate.order_key() == key && (len <= 16 || candidate.text() == rest.get(..len)?) {
                return Some(child);
            }
            probe = (probe + 1) & mask;
        }
    }
}
