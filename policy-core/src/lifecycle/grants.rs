//! Who may create which key with which grants, and who may revoke or rotate it (SPEC "Keys"),
//! and who counts as a member at all. The plans build on these checks.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Serialize;

use super::LifecycleError;
use crate::key::projects::ProjectIds;
use crate::key::record::{KeyRecord, Scope};
use crate::policy::Policy;

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

impl<'a> Grants<'a> {
    /// The grants a request asks for with its `preset` and `permissions` fields: one or the
    /// other ([`LifecycleError::PresetAndPermissions`] when both are given), neither to inherit
    /// the creator's role.
    pub fn from_request(
        preset: Option<&'a str>,
        permissions: Option<&'a [String]>,
    ) -> Result<Grants<'a>, LifecycleError> {
        match (preset, permissions) {
            (Some(_), Some(_)) => Err(LifecycleError::PresetAndPermissions),
            (Some(preset), None) => Ok(Grants::Preset(preset)),
            (None, Some(list)) => Ok(Grants::Explicit(list)),
            (None, None) => Ok(Grants::Inherit),
        }
    }
}

/// What a member of a role may do with keys, as a key list or a console shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyAbilities {
    /// They may create organization-scoped keys.
    pub create_organization_keys: bool,
    /// They may create project-scoped keys.
    pub create_project_keys: bool,
    /// They may revoke and rotate every key of the organization, not only their own
    /// ([`Policy::may_manage_every_key`]).
    pub manage_every_key: bool,
}

/// A request to create a key, on behalf of a member of the key's organization.
#[derive(Clone, Copy, Debug)]
pub struct NewKey<'a> {
    /// The acting user's current role in the organization (`None` if not a member).
    pub acting_role: Option<&'a str>,
    /// The key's scope.
    pub scope: Scope,
    /// The key's projects (required for project keys, refused for organization keys).
    pub projects: &'a ProjectIds,
    /// What the key may do.
    pub grants: Grants<'a>,
}

/// A key names projects exactly when it is project-scoped.
pub fn check_scope_project(scope: Scope, projects: &ProjectIds) -> Result<(), LifecycleError> {
    match (scope, projects.is_empty()) {
        (Scope::Project, true) => Err(LifecycleError::ProjectRequired),
        (Scope::Organization, false) => Err(LifecycleError::ProjectNotAllowed),
        _ => Ok(()),
    }
}

impl Policy {
    /// The role of a member, from the role the store holds for them (`None`: no membership).
    /// A role the policy does not define is no membership at all: such a user acts as no one
    /// and their keys stop (SPEC: a key acts with its creator's *current* role).
    pub fn member_role<'r>(&self, role: Option<&'r str>) -> Option<&'r str> {
        role.filter(|name| self.role_grants(name).is_some())
    }

    /// What a member holding `role` may do with keys (nothing, when `role` is no membership).
    pub fn key_abilities(&self, role: Option<&str>) -> KeyAbilities {
        match self.member_role(role) {
            None => KeyAbilities::default(),
            Some(role) => KeyAbilities {
                create_organization_keys: self.may_create_key(role, Scope::Organization),
                create_project_keys: self.may_create_key(role, Scope::Project),
                manage_every_key: self.may_manage_every_key(role),
            },
        }
    }

    /// The preset a key's grants amount to: the first preset that inherits (`full` for Align)
    /// when `permissions` is `None`, else the first whose grants are exactly these (every name
    /// known); `None` when no preset matches.
    pub fn preset_of(&self, permissions: Option<&[String]>) -> Option<&str> {
        self.presets()
            .find(|name| match (self.preset(name), permissions) {
                (Some(None), None) => true,
                (Some(Some(set)), Some(list)) => {
                    list.iter().all(|p| self.permission_index(p).is_some())
                        && self.permission_set(list.iter().map(String::as_str)) == set
                }
                _ => false,
            })
    }

    /// Checks a request to create a key and resolves its grants: `Ok(None)` inherits the
    /// creator's role, `Ok(Some(names))` are explicit grants in policy order. Checks run in
    /// this order: membership, who may create the scope, the project, then the grants.
    pub fn check_new_key(&self, new: &NewKey<'_>) -> Result<Option<Vec<String>>, LifecycleError> {
        let role = self
            .member_role(new.acting_role)
            .ok_or(LifecycleError::NotAMember)?;
        let held = self.role_grants(role).ok_or(LifecycleError::NotAMember)?;
        if !self.may_create_key(role, new.scope) {
            return Err(LifecycleError::MayNotCreate {
                role: role.to_string(),
                scope: new.scope,
            });
        }
        check_scope_project(new.scope, new.projects)?;
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
        let role = self.member_role(acting_role).ok_or(LifecycleError::NotAMember)?;
        if key.created_by == acting_user || self.may_manage_every_key(role) {
            Ok(())
        } else {
            Err(LifecycleError::NotYours)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_come_from_a_preset_or_permissions_not_both() {
        let list = [String::from("read:project")];
        assert_eq!(Grants::from_request(None, None), Ok(Grants::Inherit));
        assert_eq!(
            Grants::from_request(Some("read"), None),
            Ok(Grants::Preset("read"))
        );
        assert_eq!(
            Grants::from_request(None, Some(&list)),
            Ok(Grants::Explicit(&list))
        );
        let both = Grants::from_request(Some("read"), Some(&list)).unwrap_err();
        assert_eq!(both, LifecycleError::PresetAndPermissions);
        assert_eq!(
            (both.code(), both.kind().status(), both.field()),
            ("preset_and_permissions", 400, Some("preset"))
        );
    }

    #[test]
    fn a_role_the_policy_does_not_define_is_no_membership() {
        let policy = Policy::align().unwrap();
        assert_eq!(policy.member_role(Some("engineer")), Some("engineer"));
        assert_eq!(policy.member_role(Some("intern")), None);
        assert_eq!(policy.member_role(Some("")), None);
        assert_eq!(policy.member_role(None), None);
    }

    #[test]
    fn abilities_follow_the_key_creators() {
        let policy = Policy::align().unwrap();
        let can = |role| policy.key_abilities(role);
        assert_eq!(
            can(Some("admin")),
            KeyAbilities {
                create_organization_keys: true,
                create_project_keys: true,
                manage_every_key: true
            }
        );
        assert_eq!(
            can(Some("engineer")),
            KeyAbilities {
                create_organization_keys: false,
                create_project_keys: true,
                manage_every_key: false
            }
        );
        assert_eq!(can(Some("member")), KeyAbilities::default());
        assert_eq!(can(Some("intern")), KeyAbilities::default());
        assert_eq!(can(None), KeyAbilities::default());
        assert_eq!(
            serde_json::to_value(can(Some("engineer"))).unwrap(),
            serde_json::json!({"createOrganizationKeys": false, "createProjectKeys": true, "manageEveryKey": false})
        );
    }

    #[test]
    fn a_preset_is_found_by_the_grants_it_gives() {
        let policy = Policy::align().unwrap();
        let names = |preset: &str| -> Vec<String> {
            let set = policy.preset(preset).unwrap().unwrap();
            policy.permission_names(set).map(ToString::to_string).collect()
        };
        assert_eq!(policy.preset_of(None), Some("full"));
        assert_eq!(policy.preset_of(Some(&names("read"))), Some("read"));
        assert_eq!(policy.preset_of(Some(&names("write"))), Some("write"));
        let mut reordered = names("read");
        reordered.reverse();
        assert_eq!(
            policy.preset_of(Some(&reordered)),
            Some("read"),
            "order does not matter"
        );
        let mut stray = names("read");
        stray.push("read:nothing".into());
        assert_eq!(
            policy.preset_of(Some(&stray)),
            None,
            "an unknown name is no preset"
        );
        assert_eq!(policy.preset_of(Some(&[String::from("read:project")])), None);
        assert_eq!(policy.preset_of(Some(&[])), None);
    }
}
