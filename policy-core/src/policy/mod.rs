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
//! - this file: the compiled policy and what callers ask of it.

mod compile;
mod document;
mod error;

pub use document::{EndpointDocument, KeyCreatorsDocument, PolicyDocument, ProjectKeyRule, Serve};
pub use error::{InvalidField, PolicyError};

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::permissions::PermissionSet;
use crate::record::Scope;
use crate::route::Router;
use crate::words::{word_at, PackedName};

/// The Align policy of SPEC, as shipped in `policies/align.json`.
pub const ALIGN_POLICY_JSON: &str = include_str!("../../policies/align.json");

/// The most path segments an endpoint pattern may have.
pub const MAX_SEGMENTS: usize = 12;

/// A validated, compiled policy. Cheap to share by reference; decisions borrow it.
#[derive(Clone, Debug)]
pub struct Policy {
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

#[derive(Clone, Debug)]
struct Role {
    name: PackedName,
    grants: PermissionSet,
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
    pub(crate) permission: Option<usize>,
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
}

#[derive(Clone, Debug)]
pub(crate) enum Segment {
    Static(Box<str>),
    Param,
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
    /// The built-in Align policy (SPEC "The default policy").
    pub fn align() -> Policy {
        match Policy::from_json(ALIGN_POLICY_JSON) {
            Ok(policy) => policy,
            // INVARIANT: the shipped document is validated by this crate's tests.
            Err(_) => Policy::empty(),
        }
    }

    fn empty() -> Policy {
        Policy {
            base_path: "/".into(),
            permissions: Vec::new(),
            roles: Vec::new(),
            presets: Vec::new(),
            organization_key_creators: Vec::new(),
            project_key_creators: Vec::new(),
            endpoints: Vec::new(),
            router: Router::default(),
            sorted_permissions: Vec::new(),
            stamp: compile::stamp_of(&[], &[]),
        }
    }

    /// A fingerprint of what a [`crate::PreparedKey`] or a [`crate::RoleId`] depends on: the
    /// permissions in order and the roles in order. Two policies with the same stamp read the
    /// same bitsets and role indices the same way.
    pub fn stamp(&self) -> u64 {
        self.stamp
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

    /// The index of a role by name.
    #[inline]
    pub(crate) fn role_index(&self, name: &str) -> Option<usize> {
        let word = word_at(name.as_bytes(), 0);
        self.roles.iter().position(|r| r.name.is(name, word))
    }

    pub(crate) fn role_name(&self, index: usize) -> &str {
        self.roles.get(index).map_or("", |r| r.name.as_str())
    }

    pub(crate) fn role_grants_at(&self, index: usize) -> PermissionSet {
        self.roles.get(index).map_or(PermissionSet::EMPTY, |r| r.grants)
    }

    /// What a role holds, or `None` for a role the policy does not define.
    pub fn role_grants(&self, role: &str) -> Option<PermissionSet> {
        self.role_index(role).map(|i| self.role_grants_at(i))
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
        let Some(index) = self.role_index(role) else {
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
        let target = crate::decide::target_of_url(url);
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
        let policy = Policy::align();
        assert!(policy.covers("/api/v1/projects?x=/y"));
        assert!(policy.covers("https://api.example.com/api/v1"));
        assert!(policy.covers("/api/v1#frag"));
        assert!(!policy.covers("https://api.example.com/api/v10/projects"));
        assert!(!policy.covers("/health"));
        assert!(!policy.covers("https://api.example.com?/api/v1"));
    }

    #[test]
    fn the_me_path_is_the_policys_own() {
        assert_eq!(Policy::align().me_path().as_deref(), Some("/api/v1/me"));
    }
}
