//! Permissions: one declared permission by position and name, and sets of them as bitsets over
//! a policy's declared permissions.

/// The most permissions one policy may declare.
pub const MAX_PERMISSIONS: usize = 64;

/// A set of a policy's permissions: bit `i` is the policy's `i`-th declared permission.
/// Intersection and membership are single instructions, so a decision allocates nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u64);

impl PermissionSet {
    /// The empty set.
    pub const EMPTY: PermissionSet = PermissionSet(0);

    /// Whether permission number `index` is in the set.
    pub const fn contains(self, index: usize) -> bool {
        index < MAX_PERMISSIONS && self.0 & (1 << index) != 0
    }

    /// Adds permission number `index` (ignored past [`MAX_PERMISSIONS`]).
    pub fn insert(&mut self, index: usize) {
        if index < MAX_PERMISSIONS {
            self.0 |= 1 << index;
        }
    }

    /// The permissions in both sets.
    pub const fn intersect(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 & other.0)
    }

    /// Whether every permission of `self` is in `other`.
    pub const fn is_subset_of(self, other: PermissionSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The indices in the set, lowest first.
    pub fn indices(self) -> impl Iterator<Item = usize> {
        (0..MAX_PERMISSIONS).filter(move |&i| self.contains(i))
    }

    /// How many permissions the set holds.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The permissions in `self` but not in `other`.
    pub const fn difference(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 & !other.0)
    }

    /// The set as a bit mask: bit `i` is the permission at index `i` in policy order.
    pub const fn bits(self) -> u64 {
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
