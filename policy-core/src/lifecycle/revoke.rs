//! Revoking a key: a revocation is permanent and never moved later.

use super::{revoked_by, Actor, LifecycleError};
use crate::key::record::{KeyRecord, Timestamp};
use crate::policy::Policy;

/// What revoking a key writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevocationPlan {
    /// The key's `revokedAt` after the revocation.
    pub revoked_at: Timestamp,
    /// Whether that differs from what the store holds (`false`: nothing to write).
    pub changed: bool,
}

impl Policy {
    /// Plans the revocation of `key` by `actor` (its creator, or a role that
    /// [may manage every key](Policy::may_manage_every_key)).
    ///
    /// A key already revoked (`revokedAt <= now`) stays as it is (`changed: false`); a
    /// revocation scheduled later (a rotation's grace period) is brought forward to `now`; any
    /// other key is revoked `now`. So a revocation is never moved later.
    pub fn plan_revoke(
        &self,
        actor: Actor<'_>,
        key: &KeyRecord,
        now: Timestamp,
    ) -> Result<RevocationPlan, LifecycleError> {
        self.check_key_change(key, actor.user_id, actor.role)?;
        Ok(revocation(key, now))
    }

    /// Plans the revocation of a key that a verified secret-scanning report found leaked. No
    /// user acts (the scanner does), so no role is checked; the timing rule is
    /// [`Policy::plan_revoke`]'s: already revoked stays, a later revocation is brought forward,
    /// never moved later.
    pub fn plan_revoke_leaked(&self, key: &KeyRecord, now: Timestamp) -> RevocationPlan {
        revocation(key, now)
    }
}

/// The one timing rule of a revocation: a key revoked at or before `now` stays as it is; any
/// other key (live, or scheduled to be revoked later) is revoked `now`.
fn revocation(key: &KeyRecord, now: Timestamp) -> RevocationPlan {
    match key.revoked_at {
        Some(at) if revoked_by(Some(at), now) => RevocationPlan {
            revoked_at: at,
            changed: false,
        },
        _ => RevocationPlan {
            revoked_at: now,
            changed: true,
        },
    }
}
