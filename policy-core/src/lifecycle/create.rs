//! Creating a key: the plan is the record to store.

use alloc::string::ToString;

use super::{
    check_hint, check_id, check_name, check_time, Actor, ControlsAsk, Grants, KeyMaterial, LifecycleError,
    NewKey,
};
use crate::key::record::{KeyRecord, Scope, Timestamp};
use crate::policy::Policy;

/// A request to create a key, as the acting user asked for it.
#[derive(Clone, Copy, Debug)]
pub struct CreateKey<'a> {
    /// The key's name (1–100 characters, not blank).
    pub name: &'a str,
    /// The key's scope.
    pub scope: Scope,
    /// The key's controls: its projects (required for project keys, refused for organization
    /// keys), address allow-list and limits.
    pub controls: ControlsAsk<'a>,
    /// What the key may do.
    pub grants: Grants<'a>,
    /// When the key expires (must be in the future), or `None` for never.
    pub expires_at: Option<Timestamp>,
}

impl Policy {
    /// Plans a new key of `organization_id` for `actor`: the record to store (with
    /// `material`'s id and hint, created `now`, never used, not revoked).
    ///
    /// Checks, first failure wins: the ids (`organizationId`, `actingUserId`, the new `id`),
    /// the controls ([`ControlsAsk::check`]), the name, the hint, the expiry (after `now`, before the year 10000),
    /// then [`Policy::check_new_key`]: membership, who may create the scope, scope/project, grants
    /// (known, within the actor's role). Grants resolve to `None` (inherit the role) or explicit
    /// names in policy order.
    pub fn plan_create(
        &self,
        organization_id: &str,
        actor: Actor<'_>,
        ask: &CreateKey<'_>,
        material: KeyMaterial<'_>,
        now: Timestamp,
    ) -> Result<KeyRecord, LifecycleError> {
        check_id("organizationId", organization_id)?;
        check_id("actingUserId", actor.user_id)?;
        check_id("id", material.id)?;
        let controls = ask.controls.check()?;
        check_name(ask.name)?;
        check_hint(material.hint)?;
        if let Some(at) = ask.expires_at {
            if at <= now {
                return Err(LifecycleError::ExpiryNotInFuture);
            }
            check_time("expiresAt", Some(at))?;
        }
        let permissions = self.check_new_key(&NewKey {
            acting_role: actor.role,
            scope: ask.scope,
            projects: &controls.projects,
            grants: ask.grants,
        })?;
        Ok(KeyRecord {
            id: material.id.to_string(),
            name: ask.name.to_string(),
            hint: material.hint.to_string(),
            organization_id: organization_id.to_string(),
            created_by: actor.user_id.to_string(),
            scope: ask.scope,
            scoped_project_ids: controls.projects,
            permissions,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
            expires_at: ask.expires_at,
            allowed_cidrs: controls.allowed_cidrs,
            rate_limit: controls.rate_limit,
            quota: controls.quota,
        })
    }
}
