//! Who may create which key with which grants, and who may revoke or rotate it (SPEC "Keys").
//! The plans build on these checks.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::LifecycleError;
use crate::policy::Policy;
use crate::record::{KeyRecord, Scope};

/// What a new key may do, as asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grants<'a> {
    /// Everything the creator's role allows (`permissions: null`).
    Inherit,
    /// A named preset of the policy (`read`, `write`, `full` for Align).
    Preset(&'a str),
    /// Explicit permissions (only ever narrow the creator's role).
    Explicit(&'a [String]),
}

/// A request to create a key, on behalf of a member of the key's organization.
#[derive(Clone, Copy, Debug)]
pub struct NewKey<'a> {
    /// The acting user's current role in the organization (`None` if not a member).
    pub acting_role: Option<&'a str>,
    /// The key's scope.
    pub scope: Scope,
    /// The key's project (required for project keys, refused for organization keys).
    pub project_id: Option<&'a str>,
    /// What the key may do.
    pub grants: Grants<'a>,
}

/// A key names a project exactly when it is project-scoped.
pub fn check_scope_project(scope: Scope, project_id: Option<&str>) -> Result<(), LifecycleError> {
    match (scope, project_id) {
        (Scope::Project, None) => Err(LifecycleError::ProjectRequired),
        (Scope::Organization, Some(_)) => Err(LifecycleError::ProjectNotAllowed),
        _ => Ok(()),
    }
}

impl Policy {
    /// Checks a request to create a key and resolves its grants: `Ok(None)` inherits the
    /// creator's role, `Ok(Some(names))` are explicit grants in policy order. Checks run in
    /// this order: membership, who may create the scope, the project, then the grants.
    pub fn check_new_key(&self, new: &NewKey<'_>) -> Result<Option<Vec<String>>, LifecycleError> {
        let role = new.acting_role.ok_or(LifecycleError::NotAMember)?;
        let held = self.role_grants(role).ok_or(LifecycleError::NotAMember)?;
        if !self.may_create_key(role, new.scope) {
            return Err(LifecycleError::MayNotCreate {
                role: role.to_string(),
                scope: new.scope,
            });
        }
        check_scope_project(new.scope, new.project_id)?;
        let asked = match new.grants {
            Grants::Inherit => return Ok(None),
            Grants::Preset(name) => match self.preset(name) {
                None => {
                    return Err(LifecycleError::UnknownPreset {
                        preset: name.to_string(),
                        known: self.presets().map(ToString::to_string).collect(),
                    })
                }
                Some(None) => return Ok(None),
                Some(Some(set)) => set,
            },
            Grants::Explicit(names) => {
                let unknown: Vec<String> = names
                    .iter()
                    .filter(|n| self.permission_index(n).is_none())
                    .cloned()
                    .collect();
                if !unknown.is_empty() {
                    return Err(LifecycleError::UnknownPermissions(unknown));
                }
                self.permission_set(names.iter().map(String::as_str))
            }
        };
        if !asked.is_subset_of(held) {
            let beyond = asked.difference(held);
            return Err(LifecycleError::BeyondRole {
                role: role.to_string(),
                permissions: self.permission_names(beyond).map(ToString::to_string).collect(),
            });
        }
        Ok(Some(
            self.permission_names(asked).map(ToString::to_string).collect(),
        ))
    }

    /// Whether a member with `acting_role` (`None`: not a member) acting as `acting_user` may
    /// revoke or rotate `key`: its creator may, and so may a role that
    /// [may manage every key](Policy::may_manage_every_key) (an admin).
    pub fn check_key_change(
        &self,
        key: &KeyRecord,
        acting_user: &str,
        acting_role: Option<&str>,
    ) -> Result<(), LifecycleError> {
        let role = acting_role.ok_or(LifecycleError::NotAMember)?;
        if self.role_grants(role).is_none() {
            return Err(LifecycleError::NotAMember);
        }
        if key.created_by == acting_user || self.may_manage_every_key(role) {
            Ok(())
        } else {
            Err(LifecycleError::NotYours)
        }
    }
}
