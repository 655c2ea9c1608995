//! Revoking a key: a revocation is permanent and never moved later.

use super::{revoked_by, Actor, LifecycleError};
use crate::policy::Policy;
use crate::record::{KeyRecord, Timestamp};

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
        Ok(match key.revoked_at {
            Some(at) if revoked_by(Some(at), now) => RevocationPlan {
                revoked_at: at,
                changed: false,
            },
            _ => RevocationPlan {
                revoked_at: now,
                changed: true,
            },
        })
    }
}
