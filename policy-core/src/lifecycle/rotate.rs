//! Rotating a key: a new key with the old one's settings, and when the old one stops.

use super::{
    check_hint, check_id, revoked_by, Actor, Grants, KeyMaterial, LifecycleError, NewKey, MAX_GRACE_SECONDS,
};
use crate::policy::Policy;
use crate::record::{KeyRecord, Timestamp};

/// What rotating a key writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationPlan {
    /// The new key: the acting user's, with the old key's name, scope, project, grants and
    /// expiry.
    pub new: KeyRecord,
    /// The old key's `revokedAt` after the rotation, when a grace period was given: `now` +
    /// the grace period, or the old key's own revocation if that comes sooner. `None` when no
    /// grace period was given: the old key keeps working until it is revoked (SPEC: "create new
    /// → switch → confirm → revoke old; both work meanwhile") and its revocation is left as it is.
    pub old_revoked_at: Option<Timestamp>,
}

impl Policy {
    /// Plans the rotation of `old` by `actor`.
    ///
    /// Checks, first failure wins: the grace period (≤ [`MAX_GRACE_SECONDS`], 30 days), the new
    /// id and hint, that `actor` may change `old` ([`Policy::check_key_change`]), that `old` is
    /// not revoked (`409`; a revocation merely scheduled, e.g. by an earlier rotation, does not
    /// stop a rotation) nor expired (`409`: the copied expiry would be past), then the copied
    /// settings against the actor's role ([`Policy::check_new_key`]) — an admin rotating an
    /// engineer's key makes an admin's key with the same grants; an engineer cannot rotate an
    /// organization key into being.
    pub fn plan_rotate(
        &self,
        actor: Actor<'_>,
        old: &KeyRecord,
        grace_seconds: Option<u32>,
        material: KeyMaterial<'_>,
        now: Timestamp,
    ) -> Result<RotationPlan, LifecycleError> {
        if let Some(seconds) = grace_seconds.filter(|s| *s > MAX_GRACE_SECONDS) {
            return Err(LifecycleError::GraceTooLong { seconds });
        }
        check_id("actingUserId", actor.user_id)?;
        check_id("id", material.id)?;
        check_hint(material.hint)?;
        self.check_key_change(old, actor.user_id, actor.role)?;
        if revoked_by(old.revoked_at, now) {
            return Err(LifecycleError::KeyRevoked);
        }
        if old.expires_at.is_some_and(|t| t <= now) {
            return Err(LifecycleError::KeyExpired);
        }
        let grants = match &old.permissions {
            None => Grants::Inherit,
            Some(list) => Grants::Explicit(list),
        };
        let permissions = self.check_new_key(&NewKey {
            acting_role: actor.role,
            scope: old.scope,
            project_id: old.scoped_project_id.as_deref(),
            grants,
        })?;
        let new = KeyRecord {
            id: material.id.into(),
            hint: material.hint.into(),
            created_by: actor.user_id.into(),
            permissions,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
            ..old.clone()
        };
        let old_revoked_at = grace_seconds.map(|seconds| {
            let end = Timestamp(now.0.saturating_add(i64::from(seconds) * 1000));
            old.revoked_at.map_or(end, |at| at.min(end))
        });
        Ok(RotationPlan { new, old_revoked_at })
    }
}
