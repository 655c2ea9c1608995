//! Rotating a key: a new key with the old one's settings, and when the old one stops.

use super::{
    check_hint, check_id, Actor, GracePeriod, Grants, KeyMaterial, KeyStatus, LifecycleError, NewKey,
};
use crate::key::record::{KeyRecord, Timestamp};
use crate::policy::Policy;

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
    /// The grace period asked for (what the audit facts record).
    pub grace: Option<GracePeriod>,
}

impl Policy {
    /// Plans the rotation of `old` by `actor`.
    ///
    /// Checks, first failure wins (the grace period's own rule is [`GracePeriod`]'s, applied
    /// where the request is read): the new id and hint, that `actor` may change `old`
    /// ([`Policy::check_key_change`]), that `old` is not revoked (`409`; a revocation merely
    /// scheduled, e.g. by an earlier rotation, does not stop a rotation) nor expired (`409`: the
    /// copied expiry would be past) — [`KeyStatus::of_state`] at `now` — then the copied
    /// settings against the actor's role ([`Policy::check_new_key`]) — an admin rotating an
    /// engineer's key makes an admin's key with the same grants; an engineer cannot rotate an
    /// organization key into being.
    pub fn plan_rotate(
        &self,
        actor: Actor<'_>,
        old: &KeyRecord,
        grace: Option<GracePeriod>,
        material: KeyMaterial<'_>,
        now: Timestamp,
    ) -> Result<RotationPlan, LifecycleError> {
        check_id("actingUserId", actor.user_id)?;
        check_id("id", material.id)?;
        check_hint(material.hint)?;
        self.check_key_change(old, actor.user_id, actor.role)?;
        match KeyStatus::of_state(old.revoked_at, old.expires_at, now) {
            KeyStatus::Revoked => return Err(LifecycleError::KeyRevoked),
            KeyStatus::Expired => return Err(LifecycleError::KeyExpired),
            KeyStatus::Active | KeyStatus::CreatorLeft => {}
        }
        let grants = match &old.permissions {
            None => Grants::Inherit,
            Some(list) => Grants::Explicit(list),
        };
        let permissions = self.check_new_key(&NewKey {
            acting_role: actor.role,
            scope: old.scope,
            projects: &old.scoped_project_ids,
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
        let old_revoked_at = grace.map(|period| {
            let end = Timestamp(now.0.saturating_add(period.millis()));
            old.revoked_at.map_or(end, |at| at.min(end))
        });
        Ok(RotationPlan {
            new,
            old_revoked_at,
            grace,
        })
    }
}
