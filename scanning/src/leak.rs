//! What a verified leak report does to a key of ours, by the deployment's leak response
//! (`KEYSCOPE_ON_LEAK`): `revoke` (the default, as GitHub does with its own tokens) or `flag`
//! (mark it leaked, keep it working). Whether the key is revoked already, and when a revocation
//! takes effect, is policy-core's one revocation rule ([`Policy::plan_revoke_leaked`]).

use core::fmt;

use policy_core::{KeyRecord, Policy, Timestamp};

/// The deployment's answer to a leaked key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LeakResponse {
    /// Revoke the key at once (the default).
    #[default]
    Revoke,
    /// Mark the key as leaked, leave it working, and tell the SaaS.
    Flag,
}

/// The leak response setting holds something other than `revoke` or `flag`. The adapter refuses
/// to serve the endpoint rather than guess which the operator meant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeakResponseError;

impl fmt::Display for LeakResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KEYSCOPE_ON_LEAK must be revoke or flag")
    }
}

impl core::error::Error for LeakResponseError {}

/// The change one report makes to one key record. Applying the same report twice changes
/// nothing the second time: repeated reports are harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeakEffect {
    /// Write this `revokedAt` (the revocation plan's): the key was live, or only scheduled to be
    /// revoked later (a rotation's grace period), which a leak brings forward. Audit:
    /// `key.revoked`, cause leak report.
    Revoke {
        /// The new `revokedAt`.
        revoked_at: Timestamp,
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

impl LeakResponse {
    /// Parses the leak response setting, by one rule: unset or blank (whitespace only) is
    /// [`LeakResponse::Revoke`]; otherwise, once trimmed, `revoke` or `flag` (case-sensitive,
    /// like the other `KEYSCOPE_*` values); anything else is [`LeakResponseError`].
    pub fn parse(value: Option<&str>) -> Result<LeakResponse, LeakResponseError> {
        match value.map(str::trim) {
            None | Some("") | Some("revoke") => Ok(LeakResponse::Revoke),
            Some("flag") => Ok(LeakResponse::Flag),
            Some(_) => Err(LeakResponseError),
        }
    }

    /// `revoke` or `flag`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LeakResponse::Revoke => "revoke",
            LeakResponse::Flag => "flag",
        }
    }

    /// What a verified report of `record`'s key does at `now` under `policy`. `flagged_at` is
    /// when the key was first marked leaked, if it was (stored beside the record).
    ///
    /// The revocation is planned by [`Policy::plan_revoke_leaked`], in both modes: a key it finds
    /// revoked already (at or before `now`) is left alone; otherwise revoke mode writes the
    /// plan's `revokedAt` (a later, scheduled revocation brought forward, never pushed back) and
    /// flag mode marks the key once. Expiry does not matter: an expired key that leaked is still
    /// revoked, so its record says why.
    pub fn effect_on(
        self,
        policy: &Policy,
        record: &KeyRecord,
        flagged_at: Option<Timestamp>,
        now: Timestamp,
    ) -> LeakEffect {
        let plan = policy.plan_revoke_leaked(record, now);
        if !plan.changed {
            return LeakEffect::AlreadyRevoked;
        }
        match self {
            LeakResponse::Revoke => LeakEffect::Revoke {
                revoked_at: plan.revoked_at,
            },
            LeakResponse::Flag if flagged_at.is_some() => LeakEffect::AlreadyFlagged,
            LeakResponse::Flag => LeakEffect::Flag { at: now },
        }
    }
}

impl fmt::Display for LeakResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
