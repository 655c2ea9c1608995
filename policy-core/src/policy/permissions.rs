//! Permissions: one declared permission by position and name, and sets of them as bitsets over
//! a policy's declared permissions.

/// The most permissions one policy may declare.
pub const MAX_PERMISSIONS: usize = 256;
/// How many 64-bit words a [`PermissionSet`] holds.
pub const WORDS: usize = MAX_PERMISSIONS / 64;

/// A set of a policy's permissions: bit `i` is the policy's `i`-th declared permission.
/// Four machine words, inline: intersection and membership allocate nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet([u64; WORDS]);

impl PermissionSet {
    /// The empty set.
    pub const EMPTY: PermissionSet = PermissionSet([0; WORDS]);

    const fn word_bit(index: usize) -> (usize, u64) {
        (index / 64, 1u64 << (index % 64))
    }

    /// Whether permission number `index` is in the set.
    pub fn contains(self, index: usize) -> bool {
        let (word, bit) = Self::word_bit(index);
        self.0.get(word).is_some_and(|w| w & bit != 0)
    }

    /// Adds permission number `index` (ignored past [`MAX_PERMISSIONS`]).
    pub fn insert(&mut self, index: usize) {
        let (word, bit) = Self::word_bit(index);
        if let Some(w) = self.0.get_mut(word) {
            *w |= bit;
        }
    }

    fn zip(self, other: PermissionSet, f: impl Fn(u64, u64) -> u64) -> PermissionSet {
        let mut out = [0u64; WORDS];
        for ((slot, a), b) in out.iter_mut().zip(self.0).zip(other.0) {
            *slot = f(a, b);
        }
        PermissionSet(out)
    }

    /// The permissions in both sets.
    pub fn intersect(self, other: PermissionSet) -> PermissionSet {
        self.zip(other, |a, b| a & b)
    }

    /// Whether every permission of `self` is in `other`.
    pub fn is_subset_of(self, other: PermissionSet) -> bool {
        self.difference(other).is_empty()
    }

    /// The indices in the set, lowest first.
    pub fn indices(self) -> impl Iterator<Item = usize> {
        (0..MAX_PERMISSIONS).filter(move |&i| self.contains(i))
    }

    /// How many permissions the set holds.
    pub fn len(self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// The permissions in `self` but not in `other`.
    pub fn difference(self, other: PermissionSet) -> PermissionSet {
        self.zip(other, |a, b| a & !b)
    }

    /// The set as words: bit `i % 64` of word `i / 64` is the permission at index `i` in
    /// policy order.
    pub const fn words(self) -> [u64; WORDS] {
        self.0
    }
}

/// One of a policy's declared permissions, as an endpoint row requires it and a denial names it:
/// its position (its bit in a [`PermissionSet`]) and its name. Two permissions of one policy are
/// the same permission exactly when their indices are equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Permission<'p> {
    index: usize,
    name: &'p str,
}

impl<'p> Permission<'p> {
    pub(crate) const fn new(index: usize, name: &'p str) -> Permission<'p> {
        Permission { index, name }
    }

    /// The permission's position in the policy's declaration order.
    pub const fn index(self) -> usize {
        self.index
    }

    /// The permission's name, e.g. `time_entries:write`.
    pub const fn name(self) -> &'p str {
        self.name
    }
}
