//! Policy as data: the JSON document an API ships, its validation, and the compiled form the
//! engine decides with.
//!
//! A document names the base path, the permissions, the roles and what each grants, who may
//! create which kind of key, the key presets, and one row per endpoint (method, path pattern,
//! permission, and what a project-scoped key may do there). [`Policy::from_json`] validates it
//! and compiles it once; deciding afterwards does no JSON work and no allocation.
//!
//! - `document.rs`: the document as written (serde types).
//! - `error.rs`: why a document was refused.
//! - `compile.rs`: validation and compilation of a document into a [`Policy`].
//! - `permissions.rs`: permission sets as bitsets over the declared permissions.
//! - `routing.rs`: a request matched to its endpoint row (the path work is `crate::route`'s).
//! - this file: the compiled policy and what callers ask of it.

mod compile;
mod document;
mod error;
pub mod permissions;
mod routing;

pub use document::{EndpointDocument, KeyCreatorsDocument, PolicyDocument, ProjectKeyRule, Serve};
pub use error::{InvalidField, PolicyError};
pub use permissions::{Permission, PermissionSet};
pub use routing::RouteMatch;
pub(crate) use routing::Routed;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::key::record::Scope;
use crate::key::KeyPrefix;
pub use crate::route::MAX_SEGMENTS;
use crate::route::{word_at, PackedName, Router, Segment};

/// The Align policy of SPEC, as shipped in `policies/align.json`.
pub const ALIGN_POLICY_JSON: &str = include_str!("../../policies/align.json");

/// A validated, compiled policy. Cheap to share by reference; decisions borrow it.
#[derive(Clone, Debug)]
pub struct Policy {
    key_prefix: KeyPrefix,
    organization_param: Option<Box<str>>,
    user_param: Option<Box<str>>,
    base_path: Box<str>,
    permissions: Vec<Box<str>>,
    roles: Vec<Role>,
    presets: Vec<Preset>,
    organization_key_creators: Vec<usize>,
    project_key_creators: Vec<usize>,
    pub(crate) endpoints: Vec<Endpoint>,
    /// The endpoints indexed for matching (`route.rs`).
    pub(crate) router: Router,
    /// Permission names sorted, with their index, for binary search.
    sorted_permissions: Vec<(Box<str>, usize)>,
    /// What compiled keys and role ids depend on (see [`Policy::stamp`]).
    stamp: u64,
}

/// Whether `path` is `base` itself or lies below it (`base/…`): the one "under the base
/// path" rule (a policy's requests, the console's paths). A trailing `/` of `base` is ignored, so
/// every path is under `/`. The query string is not part of `path`.
pub fn path_is_under(path: &str, base: &str) -> bool {
    let base = base.trim_end_matches('/');
    path.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The longest method name a policy may declare.
pub const MAX_METHOD_LEN: usize = 16;

/// A role the policy defines: its name and what it grants.
#[derive(Clone, Debug)]
pub(crate) struct Role {
    name: PackedName,
    grants: PermissionSet,
}

impl Role {
    /// The role's name.
    pub(crate) fn name(&self) -> &str {
        self.name.as_str()
    }

    /// What the role grants.
    pub(crate) fn grants(&self) -> PermissionSet {
        self.grants
    }
}

#[derive(Clone, Debug)]
struct Preset {
    name: Box<str>,
    grants: Option<PermissionSet>,
}

/// One compiled endpoint row.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub(crate) method: Box<str>,
    pub(crate) pattern: Box<str>,
    pub(crate) segments: Box<[Segment]>,
    /// The permission the row requires: its index and its name.
    pub(crate) permission: Option<(usize, Box<str>)>,
    /// The permission a key needs, beyond `permission`, to name another user in the path.
    pub(crate) others_permission: Option<(usize, Box<str>)>,
    /// The segment position of the organization parameter, if the pattern holds it.
    pub(crate) organization_param: Option<usize>,
    /// The segment position of the user parameter, if the pattern holds it.
    pub(crate) user_param: Option<usize>,
    pub(crate) project_key: CompiledRule,
    pub(crate) serve_me: bool,
}

impl Endpoint {
    /// The row's method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The row's path pattern, relative to the base path.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the gateway answers this endpoint itself with the `/me` view.
    pub fn serves_me(&self) -> bool {
        self.serve_me
    }

    /// The permission the row requires, if any.
    pub fn permission(&self) -> Option<Permission<'_>> {
        self.permission
            .as_ref()
            .map(|(index, name)| Permission::new(*index, name))
    }

    /// The permission a key needs, beyond [`Endpoint::permission`], to name a user other than
    /// its creator; `None` on a row with the user parameter means "own user only".
    pub fn others_permission(&self) -> Option<Permission<'_>> {
        self.others_permission
            .as_ref()
            .map(|(index, name)| Permission::new(*index, name))
    }

    /// Whether the pattern holds the policy's organization parameter.
    pub fn names_organization(&self) -> bool {
        self.organization_param.is_some()
    }

    /// Whether the pattern holds the policy's user parameter.
    pub fn names_user(&self) -> bool {
        self.user_param.is_some()
    }

    /// The row's project-key rule as written (`allow`, `filtered`, `own_path`,
    /// `own_resource`, `deny`).
    pub fn project_key(&self) -> ProjectKeyRule {
        match self.project_key {
            CompiledRule::Allow => ProjectKeyRule::Allow,
            CompiledRule::Filtered => ProjectKeyRule::Filtered,
            CompiledRule::OwnPath { .. } => ProjectKeyRule::OwnPath,
            CompiledRule::OwnResource { .. } => ProjectKeyRule::OwnResource,
            CompiledRule::Deny => ProjectKeyRule::Deny,
        }
    }

    /// For an `own_resource` row, the resource kind it asks about.
    pub fn resource_kind(&self) -> Option<&str> {
        match &self.project_key {
            CompiledRule::OwnResource { kind, .. } => Some(kind),
            _ => None,
        }
    }

    /// The name of the parameter the project-key rule reads (`own_path` / `own_resource`).
    pub fn rule_param(&self) -> Option<&str> {
        let position = self.project_key.param()?;
        self.pattern
            .trim_start_matches('/')
            .split('/')
            .nth(position)
            .and_then(|seg| seg.strip_prefix(':'))
    }
}

/// A project-key rule with its parameter position resolved.
#[derive(Clone, Debug)]
pub(crate) enum CompiledRule {
    Allow,
    Filtered,
    OwnPath { param: usize },
    OwnResource { param: usize, kind: Box<str> },
    Deny,
}

impl CompiledRule {
    /// The segment index whose decoded value the decision needs, if any.
    pub(crate) fn param(&self) -> Option<usize> {
        match self {
            CompiledRule::OwnPath { param } | CompiledRule::OwnResource { param, .. } => Some(*param),
            _ => None,
        }
    }
}

impl Policy {
    /// The built-in Align policy (SPEC "The default policy"), compiled from
    /// [`ALIGN_POLICY_JSON`]. It is an `Err` only if that shipped document were invalid, which
    /// this crate's tests rule out (`docs/decisions/0050-align-policy-is-fallible.md`).
    pub fn align() -> Result<Policy, PolicyError> {
        Policy::from_json(ALIGN_POLICY_JSON)
    }

    /// A fingerprint of what a [`crate::PreparedKey`] or a [`crate::RoleId`] depends on: the
    /// permissions in order and the roles in order. Two policies with the same stamp read the
    /// same bitsets and role indices the same way.
    pub fn stamp(&self) -> u64 {
        self.stamp
    }

    /// The deployment's key prefix (`keyPrefix`, default `ck`).
    pub fn key_prefix(&self) -> &KeyPrefix {
        &self.key_prefix
    }

    /// The path parameter that names the organization (`organizationParam`), if any.
    pub fn organization_param(&self) -> Option<&str> {
        self.organization_param.as_deref()
    }

    /// The path parameter that names a user (`userParam`), if any.
    pub fn user_param(&self) -> Option<&str> {
        self.user_param.as_deref()
    }

    /// The base path every endpoint is relative to.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The declared permissions, in declaration order (bit `i` of a [`PermissionSet`]).
    pub fn permissions(&self) -> impl Iterator<Item = &str> {
        self.permissions.iter().map(|p| &**p)
    }

    /// The index of a permission by name.
    pub fn permission_index(&self, name: &str) -> Option<usize> {
        self.sorted_permissions
            .binary_search_by(|(p, _)| (**p).cmp(name))
            .ok()
            .and_then(|at| self.sorted_permissions.get(at))
            .map(|(_, i)| *i)
    }

    /// The name of permission number `index`.
    pub fn permission_name(&self, index: usize) -> Option<&str> {
        self.permissions.get(index).map(|p| &**p)
    }

    /// The names of the permissions in `set`, in declaration order.
    pub fn permission_names(&self, set: PermissionSet) -> impl Iterator<Item = &str> {
        set.indices().filter_map(|i| self.permission_name(i))
    }

    /// The set of the named permissions; names the policy does not declare are dropped, since
    /// an explicit grant can only narrow.
    pub fn permission_set<'n>(&self, names: impl IntoIterator<Item = &'n str>) -> PermissionSet {
        let mut set = PermissionSet::EMPTY;
        for name in names {
            if let Some(i) = self.permission_index(name) {
                set.insert(i);
            }
        }
        set
    }

    /// The role names.
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.roles.iter().map(|r| r.name.as_str())
    }

    /// The role named `name` and its position in [`Policy::roles`].
    #[inline]
    pub(crate) fn find_role(&self, name: &str) -> Option<(usize, &Role)> {
        let word = word_at(name.as_bytes(), 0);
        self.roles.iter().enumerate().find(|(_, r)| r.name.is(name, word))
    }

    /// The role at position `index` of [`Policy::roles`].
    #[inline]
    pub(crate) fn role_at(&self, index: usize) -> Option<&Role> {
        self.roles.get(index)
    }

    /// What a role holds, or `None` for a role the policy does not define.
    pub fn role_grants(&self, role: &str) -> Option<PermissionSet> {
        self.find_role(role).map(|(_, r)| r.grants)
    }

    /// A preset's grants: `Some(None)` means "inherit everything" (`full`), `None` means no
    /// such preset.
    pub fn preset(&self, name: &str) -> Option<Option<PermissionSet>> {
        self.presets.iter().find(|p| *p.name == *name).map(|p| p.grants)
    }

    /// The preset names.
    pub fn presets(&self) -> impl Iterator<Item = &str> {
        self.presets.iter().map(|p| &*p.name)
    }

    /// Whether a user of `role` may create a key of `scope`.
    pub fn may_create_key(&self, role: &str, scope: Scope) -> bool {
        let Some((index, _)) = self.find_role(role) else {
            return false;
        };
        match scope {
            Scope::Organization => self.organization_key_creators.contains(&index),
            Scope::Project => self.project_key_creators.contains(&index),
        }
    }

    /// The effective permissions of a key: its creator's role ∩ its explicit grants (when not
    /// null). A key never exceeds its creator; an unknown role holds nothing.
    pub fn effective_permissions<'n>(
        &self,
        role: &str,
        grants: Option<impl IntoIterator<Item = &'n str>>,
    ) -> PermissionSet {
        let role = self.role_grants(role).unwrap_or(PermissionSet::EMPTY);
        match grants {
            None => role,
            Some(names) => role.intersect(self.permission_set(names)),
        }
    }

    /// Whether a request for `url` (an absolute URL or a request target, taken as written)
    /// lies under the base path: the requests this policy decides ([`path_is_under`]).
    pub fn covers(&self, url: &str) -> bool {
        let target = crate::decision::target_of_url(url);
        let path = target.split(['?', '#']).next().unwrap_or(target);
        path_is_under(path, &self.base_path)
    }

    /// The path of the `/me` view, base path included (`/api/v1/me` for Align): the `GET` row
    /// the gateway answers itself, if the policy has one.
    pub fn me_path(&self) -> Option<String> {
        self.endpoints
            .iter()
            .find(|e| e.serve_me && &*e.method == "GET")
            .map(|e| alloc::format!("{}{}", self.base_path, e.pattern))
    }

    /// The endpoint rows, in document order.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_the_base_path_means_the_base_or_below_it() {
        assert!(path_is_under("/api/v1", "/api/v1"));
        assert!(path_is_under("/api/v1/", "/api/v1"));
        assert!(path_is_under("/api/v1/me", "/api/v1"));
        assert!(!path_is_under("/api/v10", "/api/v1"));
        assert!(!path_is_under("/api", "/api/v1"));
        assert!(!path_is_under("/other", "/api/v1"));
        assert!(path_is_under("/console/api/keys", "/console"));
        assert!(!path_is_under("/consoles", "/console"));
        assert!(path_is_under("/anything", "/"));
    }

    #[test]
    fn a_policy_covers_urls_under_its_base_path() {
        let policy = Policy::align().unwrap();
        assert!(policy.covers("/api/v1/projects?x=/y"));
        assert!(policy.covers("https://api.example.com/api/v1"));
        assert!(policy.covers("/api/v1#frag"));
        assert!(!policy.covers("https://api.example.com/api/v10/projects"));
        assert!(!policy.covers("/health"));
        assert!(!policy.covers("https://api.example.com?/api/v1"));
    }

    #[test]
    fn the_me_path_is_the_policys_own() {
        assert_eq!(Policy::align().unwrap().me_path().as_deref(), Some("/api/v1/me"));
    }
}
