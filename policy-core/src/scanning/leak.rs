//! What a verified leak report does to a key of ours: `KEYSCOPE_ON_LEAK` = `revoke` (the
//! default, as GitHub does with its own tokens) or `flag` (mark it leaked, keep it working).

use core::fmt;

use crate::record::{KeyRecord, Timestamp};

/// The deployment's answer to a leaked key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LeakAction {
    /// Revoke the key at once (the default).
    #[default]
    Revoke,
    /// Mark the key as leaked, leave it working, and tell the SaaS.
    Flag,
}

/// `KEYSCOPE_ON_LEAK` holds something other than `revoke` or `flag`. The adapter refuses to
/// serve the endpoint (`503`) rather than guess which the operator meant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeakActionError;

impl fmt::Display for LeakActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KEYSCOPE_ON_LEAK must be revoke or flag")
    }
}

impl core::error::Error for LeakActionError {}

/// The change one report makes to one key record. Applying the same report twice changes
/// nothing the second time: repeated reports are harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeakEffect {
    /// Set `revokedAt` to `at` (now): the key was live, or only scheduled to be revoked later
    /// (a rotation's grace period), which a leak brings forward. Audit: `key.revoked`, cause
    /// leak report.
    Revoke {
        /// The new `revokedAt`.
        at: Timestamp,
    },
    /// Mark the key leaked at `at` (now); it keeps working. Audit: `key.leak_flagged`.
    Flag {
        /// When the leak was recorded.
        at: Timestamp,
    },
    /// The key is already revoked (at or before now): nothing to change.
    AlreadyRevoked,
    /// Flag mode, and the key is already marked leaked: nothing to change.
    AlreadyFlagged,
}

impl LeakEffect {
    /// Whether the effect writes anything (and so records an audit event and a webhook).
    pub const fn changes_anything(self) -> bool {
        matches!(self, LeakEffect::Revoke { .. } | LeakEffect::Flag { .. })
    }
}

impl LeakAction {
    /// Parses `KEYSCOPE_ON_LEAK`; unset or blank means [`LeakAction::Revoke`]. Case-sensitive,
    /// like the other `KEYSCOPE_*` values.
    pub fn from_config(value: Option<&str>) -> Result<LeakAction, LeakActionError> {
        match value.map(str::trim) {
            None | Some("") | Some("revoke") => Ok(LeakAction::Revoke),
            Some("flag") => Ok(LeakAction::Flag),
            Some(_) => Err(LeakActionError),
        }
    }

    /// `revoke` or `flag`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LeakAction::Revoke => "revoke",
            LeakAction::Flag => "flag",
        }
    }

    /// What a verified report of `record`'s key does at `now`. `flagged_at` is when the key was
    /// first marked leaked, if it was (stored beside the record).
    ///
    /// A key revoked at or before `now` is left alone in both modes; a revocation scheduled
    /// after `now` is brought forward to `now` in revoke mode (never pushed back). Expiry does not
    /// matter: an expired key that leaked is still revoked, so its record says why.
    pub fn effect_on(self, record: &KeyRecord, flagged_at: Option<Timestamp>, now: Timestamp) -> LeakEffect {
        if crate::lifecycle::revoked_by(record.revoked_at, now) {
            return LeakEffect::AlreadyRevoked;
        }
        match self {
            LeakAction::Revoke => LeakEffect::Revoke { at: now },
            LeakAction::Flag if flagged_at.is_some() => LeakEffect::AlreadyFlagged,
            LeakAction::Flag => LeakEffect::Flag { at: now },
        }
    }
}

impl fmt::Display for LeakAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
