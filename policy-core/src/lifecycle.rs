//! The rules of a key's life outside a request: who may create which key with which grants,
//! and who may revoke or rotate it (SPEC "Keys"). Callers (the admin API) do the I/O.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

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

/// Why a key may not be created as asked (or revoked, or rotated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LifecycleError {
    /// The acting user is not a member of the organization.
    NotAMember,
    /// The acting user's role may not create keys of this scope.
    MayNotCreate {
        /// The acting user's role.
        role: String,
        /// The scope asked for.
        scope: Scope,
    },
    /// A project key needs a project.
    ProjectRequired,
    /// An organization key cannot name a project.
    ProjectNotAllowed,
    /// The preset does not exist.
    UnknownPreset {
        /// The preset asked for.
        preset: String,
        /// The presets the policy defines.
        known: Vec<String>,
    },
    /// Permissions the policy does not define.
    UnknownPermissions(Vec<String>),
    /// Permissions beyond the acting user's role: a key never exceeds its creator.
    BeyondRole {
        /// The acting user's role.
        role: String,
        /// The permissions the role does not hold.
        permissions: Vec<String>,
    },
    /// Only the key's creator or an organization admin (a role that may create organization
    /// keys) may revoke or rotate it.
    NotYours,
}

impl LifecycleError {
    /// Whether the request is refused for who is asking (`403`) rather than for what it asks
    /// (`400`).
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            LifecycleError::NotAMember
                | LifecycleError::MayNotCreate { .. }
                | LifecycleError::BeyondRole { .. }
                | LifecycleError::NotYours
        )
    }
}

impl fmt::Display for LifecycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LifecycleError::NotAMember => f.write_str("the acting user is not a member of the organization"),
            LifecycleError::MayNotCreate { role, scope } => {
                write!(f, "a user with role {role} may not create {scope}-scoped keys")
            }
            LifecycleError::ProjectRequired => f.write_str("a project-scoped key needs scopedProjectId"),
            LifecycleError::ProjectNotAllowed => {
                f.write_str("an organization-scoped key cannot name a scopedProjectId")
            }
            LifecycleError::UnknownPreset { preset, known } => {
                write!(f, "unknown preset {preset:?}; presets: {}", known.join(", "))
            }
            LifecycleError::UnknownPermissions(names) => {
                write!(f, "unknown permissions: {}", names.join(", "))
            }
            LifecycleError::BeyondRole { role, permissions } => write!(
                f,
                "permissions beyond the acting user's role ({role}): {}",
                permissions.join(", ")
            ),
            LifecycleError::NotYours => {
                f.write_str("only the key's creator or an organization admin may change this key")
            }
        }
    }
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
    /// revoke or rotate `key`: its creator may, and so may a role that may create organization
    /// keys (an admin).
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
        if key.created_by == acting_user || self.may_create_key(role, Scope::Organization) {
            Ok(())
        } else {
            Err(LifecycleError::NotYours)
        }
    }
}
