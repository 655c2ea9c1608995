//! A key compiled once: what never changes about a key, in the form a decision reads without any
//! string work.
//!
//! A key record holds its explicit grants as permission names. Turning those names into a
//! [`PermissionSet`] costs a binary search and string comparisons per name; a raw
//! [`KeyRecord`] pays it on every decision. A [`PreparedKey`] pays it once, when the record is
//! loaded, and is then cached by the caller (an isolate's key cache, a binding's record handle,
//! a map). What may change between requests is not in it: the key's revocation and expiry
//! ([`KeyState`], read from the authoritative store per request) and the creator's current role
//! (still asked for by [`crate::Step::LookupMembership`]; a caller that caches role lookups can
//! answer with a [`RoleId`]).
//!
//! A prepared key remembers which policy compiled it ([`Policy::stamp`]): decided under another
//! policy whose permissions differ, its grants are recompiled from the names it holds, so a
//! stale cache entry can be slow but never wrong.

use alloc::rc::Rc;
#[cfg(target_has_atomic = "ptr")]
use alloc::sync::Arc;
use core::borrow::Borrow;

use crate::key::record::{KeyRecord, Scope, Timestamp};
use crate::policy::{PermissionSet, Policy};

/// A key record compiled against a policy: the record itself (its immutable fields are what
/// allowed requests and `/me` report) and its explicit grants as a permission bitset.
///
/// Build it with [`Policy::prepare`] (or [`crate::Engine::prepare`]) when the record is loaded
/// and hand it to [`crate::Authorization::provide_prepared`] with the key's current
/// [`KeyState`] on every decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedKey {
    record: KeyRecord,
    grants: Option<PermissionSet>,
    stamp: u64,
}

/// What may change about a key between two requests, read per request from the authoritative
/// store: when it was (or will be) revoked and when it expires.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyState {
    /// When the key was (or will be) revoked.
    pub revoked_at: Option<Timestamp>,
    /// When the key expires, if ever.
    pub expires_at: Option<Timestamp>,
}

impl KeyState {
    /// The state a record carries itself.
    pub fn of(record: &KeyRecord) -> KeyState {
        KeyState {
            revoked_at: record.revoked_at,
            expires_at: record.expires_at,
        }
    }
}

/// A role of one policy, by index: the answer to [`crate::Step::LookupMembership`] for a caller
/// that resolved the role name once ([`Policy::role_id`]). Like a prepared key it remembers its
/// policy; given to a decision under another policy it denies `503 unavailable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RoleId {
    pub(crate) index: usize,
    pub(crate) stamp: u64,
}

impl RoleId {
    /// The role's position in [`Policy::roles`].
    pub fn index(self) -> usize {
        self.index
    }
}

impl Policy {
    /// Compiles `record` against this policy. Grant names the policy does not declare grant
    /// nothing, as on the raw-record path.
    pub fn prepare(&self, record: KeyRecord) -> PreparedKey {
        let grants = record
            .permissions
            .as_ref()
            .map(|names| self.permission_set(names.iter().map(|n| n.as_str())));
        PreparedKey {
            record,
            grants,
            stamp: self.stamp(),
        }
    }

    /// The role named `name`, or `None` for a role the policy does not define.
    pub fn role_id(&self, name: &str) -> Option<RoleId> {
        self.find_role(name).map(|(index, _)| RoleId {
            index,
            stamp: self.stamp(),
        })
    }
}

impl PreparedKey {
    /// The record this key was compiled from.
    pub fn record(&self) -> &KeyRecord {
        &self.record
    }

    /// The record back.
    pub fn into_record(self) -> KeyRecord {
        self.record
    }

    /// The key's explicit grants as compiled (`None`: the key inherits its creator's role).
    pub fn grants(&self) -> Option<PermissionSet> {
        self.grants
    }

    /// The key's scope.
    pub fn scope(&self) -> Scope {
        self.record.scope
    }

    /// The [`Policy::stamp`] of the policy that compiled it.
    pub fn stamp(&self) -> u64 {
        self.stamp
    }
}

/// How a decision holds the key it was given: a raw record (any type that borrows as a
/// [`KeyRecord`]: `KeyRecord`, `&KeyRecord`, `Rc<KeyRecord>`, …) or a prepared key
/// (`PreparedKey`, `&PreparedKey`, `Rc<PreparedKey>`, `Arc<PreparedKey>`).
pub trait KeySource {
    /// The key's record.
    fn key_record(&self) -> &KeyRecord;
    /// The compiled form, when the key was prepared.
    fn prepared(&self) -> Option<&PreparedKey>;
}

impl<T: Borrow<KeyRecord>> KeySource for T {
    fn key_record(&self) -> &KeyRecord {
        self.borrow()
    }
    fn prepared(&self) -> Option<&PreparedKey> {
        None
    }
}

impl KeySource for PreparedKey {
    fn key_record(&self) -> &KeyRecord {
        &self.record
    }
    fn prepared(&self) -> Option<&PreparedKey> {
        Some(self)
    }
}

impl KeySource for &PreparedKey {
    fn key_record(&self) -> &KeyRecord {
        &self.record
    }
    fn prepared(&self) -> Option<&PreparedKey> {
        Some(self)
    }
}

impl KeySource for Rc<PreparedKey> {
    fn key_record(&self) -> &KeyRecord {
        &self.record
    }
    fn prepared(&self) -> Option<&PreparedKey> {
        Some(self)
    }
}

#[cfg(target_has_atomic = "ptr")]
impl KeySource for Arc<PreparedKey> {
    fn key_record(&self) -> &KeyRecord {
        &self.record
    }
    fn prepared(&self) -> Option<&PreparedKey> {
        Some(self)
    }
}
