//! Policy as data: the JSON document an API ships, its validation, and the compiled form the
//! engine decides with.
//!
//! A document names the base path, the permissions, the roles and what each grants, who may
//! create which kind of key, the key presets, and one row per endpoint (method, path pattern,
//! permission, and what a project-scoped key may do there). [`Policy::from_json`] validates it
//! and compiles it once; deciding afterwards does no JSON work and no allocation.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::Deserialize;

use crate::permissions::{PermissionSet, MAX_PERMISSIONS};
use crate::record::Scope;
use crate::route::Router;
use crate::words::{word_at, PackedName};

/// The Align policy of SPEC, as shipped in `policies/align.json`.
pub const ALIGN_POLICY_JSON: &str = include_str!("../policies/align.json");

/// The most path segments an endpoint pattern may have.
pub const MAX_SEGMENTS: usize = 12;

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

/// A policy document as written in JSON. Unknown fields are an error.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyDocument {
    /// The prefix every endpoint path is relative to, e.g. `/api/v1`.
    pub base_path: String,
    /// Every permission the API knows, e.g. `read:project` (at most 64).
    pub permissions: Vec<String>,
    /// Role name → the permissions the role holds.
    pub roles: BTreeMap<String, Vec<String>>,
    /// Which roles may create keys of each scope.
    pub key_creators: KeyCreatorsDocument,
    /// Preset name → explicit grants (`null` = inherit everything the role allows).
    #[serde(default)]
    pub presets: BTreeMap<String, Option<Vec<String>>>,
    /// One row per endpoint.
    pub endpoints: Vec<EndpointDocument>,
}

/// Which roles may create keys of each scope.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyCreatorsDocument {
    /// Roles that may create organization-scoped keys.
    pub organization: Vec<String>,
    /// Roles that may create project-scoped keys.
    pub project: Vec<String>,
}

/// One endpoint row of a policy document.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EndpointDocument {
    /// Upper-case HTTP method (`HEAD` is matched as `GET` and may not be declared).
    pub method: String,
    /// Path pattern relative to the base path: `/`-separated static segments and `:name`
    /// parameters, e.g. `/projects/:id/entries`.
    pub path: String,
    /// The permission the endpoint needs, or `null` for none.
    #[serde(default)]
    pub permission: Option<String>,
    /// What a project-scoped key may do here.
    pub project_key: ProjectKeyRule,
    /// For `own_resource`: the kind of resource the parameter names (e.g. `time_entry`).
    #[serde(default)]
    pub resource_kind: Option<String>,
    /// For `own_path` / `own_resource`: which parameter holds the project / resource id. May be
    /// omitted when the pattern has exactly one parameter.
    #[serde(default)]
    pub param: Option<String>,
    /// Set to `me` for the endpoint the gateway answers itself with the key's `/me` view.
    #[serde(default)]
    pub serve: Option<Serve>,
}

/// What a project-scoped key may do on an endpoint (organization keys may do every row).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectKeyRule {
    /// Allowed, unrestricted (e.g. `GET /me`).
    Allow,
    /// Allowed; the origin is told to filter to the key's project.
    Filtered,
    /// Allowed only when the project id in the path is the key's project.
    OwnPath,
    /// Allowed only when the resource named in the path belongs to the key's project.
    OwnResource,
    /// Never: `403 scope_violation`.
    Deny,
}

/// An endpoint the gateway answers itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Serve {
    /// The key's `/me` view.
    Me,
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a policy document was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum PolicyError {
    /// The text is not JSON of the document's shape (serde's message names the field,
    /// line and column, including unknown fields).
    Syntax(serde_json::Error),
    /// The document parsed but a field's value is invalid.
    Invalid(InvalidField),
}

/// A field of a policy document with an invalid value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidField {
    field: String,
    problem: String,
}

impl InvalidField {
    fn error(field: impl Into<String>, problem: impl Into<String>) -> PolicyError {
        PolicyError::Invalid(InvalidField {
            field: field.into(),
            problem: problem.into(),
        })
    }

    /// The path of the bad field, e.g. `endpoints[3].permission`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl core::error::Error for PolicyError {}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Syntax(err) => write!(f, "policy document: {err}"),
            PolicyError::Invalid(bad) => write!(f, "policy document: {}: {}", bad.field, bad.problem),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The compiled policy
// ---------------------------------------------------------------------------------------------

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
            stamp: stamp_of(&[], &[]),
        }
    }

    /// Parses, validates and compiles a policy document.
    pub fn from_json(text: &str) -> Result<Policy, PolicyError> {
        let document: PolicyDocument = serde_json::from_str(text).map_err(PolicyError::Syntax)?;
        Policy::compile(&document)
    }

    /// Validates and compiles an already-parsed document.
    pub fn compile(doc: &PolicyDocument) -> Result<Policy, PolicyError> {
        let base_path = compile_base_path(&doc.base_path)?;

        if doc.permissions.len() > MAX_PERMISSIONS {
            return Err(InvalidField::error(
                "permissions",
                format!(
                    "at most {MAX_PERMISSIONS} permissions, found {}",
                    doc.permissions.len()
                ),
            ));
        }
        let mut permissions: Vec<Box<str>> = Vec::with_capacity(doc.permissions.len());
        for (i, name) in doc.permissions.iter().enumerate() {
            if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(InvalidField::error(
                    format!("permissions[{i}]"),
                    "a permission name is non-empty, without spaces",
                ));
            }
            if permissions.iter().any(|p| **p == **name) {
                return Err(InvalidField::error(
                    format!("permissions[{i}]"),
                    format!("duplicate permission \"{name}\""),
                ));
            }
            permissions.push(name.as_str().into());
        }
        let lookup = |field: &dyn Fn() -> String, name: &str| -> Result<usize, PolicyError> {
            permissions
                .iter()
                .position(|p| **p == *name)
                .ok_or_else(|| InvalidField::error(field(), format!("unknown permission \"{name}\"")))
        };
        let set_of = |field: &str, names: &[String]| -> Result<PermissionSet, PolicyError> {
            let mut set = PermissionSet::EMPTY;
            for (i, name) in names.iter().enumerate() {
                set.insert(lookup(&|| format!("{field}[{i}]"), name)?);
            }
            Ok(set)
        };

        if doc.roles.is_empty() {
            return Err(InvalidField::error("roles", "at least one role is needed"));
        }
        let mut roles = Vec::with_capacity(doc.roles.len());
        for (name, grants) in &doc.roles {
            if name.is_empty() {
                return Err(InvalidField::error("roles", "a role name is non-empty"));
            }
            roles.push(Role {
                name: PackedName::new(name),
                grants: set_of(&format!("roles.{name}"), grants)?,
            });
        }
        let role_index = |field: String, name: &str| -> Result<usize, PolicyError> {
            roles
                .iter()
                .position(|r| r.name.as_str() == name)
                .ok_or_else(|| InvalidField::error(field, format!("unknown role \"{name}\"")))
        };
        let creators = |field: &str, names: &[String]| -> Result<Vec<usize>, PolicyError> {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| role_index(format!("keyCreators.{field}[{i}]"), n))
                .collect()
        };
        let organization_key_creators = creators("organization", &doc.key_creators.organization)?;
        let project_key_creators = creators("project", &doc.key_creators.project)?;

        let mut presets = Vec::with_capacity(doc.presets.len());
        for (name, grants) in &doc.presets {
            let grants = match grants {
                None => None,
                Some(list) => Some(set_of(&format!("presets.{name}"), list)?),
            };
            presets.push(Preset {
                name: name.as_str().into(),
                grants,
            });
        }

        let mut endpoints: Vec<Endpoint> = Vec::with_capacity(doc.endpoints.len());
        for (i, row) in doc.endpoints.iter().enumerate() {
            let endpoint = compile_endpoint(i, row, &|field: String, name: &str| {
                lookup(&|| field.clone(), name)
            })?;
            if endpoints
                .iter()
                .any(|e| e.method == endpoint.method && same_shape(&e.segments, &endpoint.segments))
            {
                return Err(InvalidField::error(
                    format!("endpoints[{i}]"),
                    format!("{} {} overlaps an earlier row", row.method, row.path),
                ));
            }
            endpoints.push(endpoint);
        }

        let router = Router::new(&base_path, &endpoints);
        let mut sorted_permissions: Vec<(Box<str>, usize)> = permissions
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), i))
            .collect();
        sorted_permissions.sort();
        let stamp = stamp_of(&permissions, &roles);
        Ok(Policy {
            stamp,
            base_path,
            router,
            sorted_permissions,
            permissions,
            roles,
            presets,
            organization_key_creators,
            project_key_creators,
            endpoints,
        })
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

    /// The endpoint rows, in document order.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }
}

/// FNV-1a over the permission names and the role names, each followed by a 0xff byte (which
/// no UTF-8 text contains).
fn stamp_of(permissions: &[Box<str>], roles: &[Role]) -> u64 {
    let names = permissions
        .iter()
        .map(|p| &**p)
        .chain(core::iter::once(""))
        .chain(roles.iter().map(|r| r.name.as_str()));
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for name in names {
        for byte in name.bytes().chain(core::iter::once(0xff)) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

fn compile_base_path(base: &str) -> Result<Box<str>, PolicyError> {
    let ok = base.starts_with('/')
        && !base.ends_with('/')
        && base[1..]
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
        && !base.contains(['?', '#', '%']);
    if !ok {
        return Err(InvalidField::error(
            "basePath",
            "a base path starts with '/', has no empty, '.' or '..' segments, and no trailing '/'",
        ));
    }
    Ok(base.into())
}

fn same_shape(a: &[Segment], b: &[Segment]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|pair| match pair {
            (Segment::Static(x), Segment::Static(y)) => x == y,
            (Segment::Param, Segment::Param) => true,
            // A static segment beside a parameter is ambiguous for ids equal to the static text.
            _ => true,
        })
}

fn compile_endpoint(
    i: usize,
    row: &EndpointDocument,
    permission: &dyn Fn(String, &str) -> Result<usize, PolicyError>,
) -> Result<Endpoint, PolicyError> {
    let at = |field: &str| format!("endpoints[{i}].{field}");
    let method_ok = !row.method.is_empty() && row.method.bytes().all(|b| b.is_ascii_uppercase());
    if !method_ok {
        return Err(InvalidField::error(
            at("method"),
            format!("\"{}\" is not an upper-case HTTP method", row.method),
        ));
    }
    if row.method.len() > MAX_METHOD_LEN {
        return Err(InvalidField::error(
            at("method"),
            format!("at most {MAX_METHOD_LEN} characters"),
        ));
    }
    if row.method == "HEAD" {
        return Err(InvalidField::error(
            at("method"),
            "HEAD is matched as GET; declare the GET row",
        ));
    }

    let Some(rest) = row.path.strip_prefix('/') else {
        return Err(InvalidField::error(at("path"), "a path pattern starts with '/'"));
    };
    let mut segments = Vec::new();
    let mut params: Vec<(&str, usize)> = Vec::new();
    for (pos, seg) in rest.split('/').enumerate() {
        if let Some(name) = seg.strip_prefix(':') {
            if name.is_empty() || params.iter().any(|(n, _)| *n == name) {
                return Err(InvalidField::error(
                    at("path"),
                    format!("parameter \":{name}\" is empty or repeated"),
                ));
            }
            params.push((name, pos));
            segments.push(Segment::Param);
        } else {
            let valid = !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
            if !valid {
                return Err(InvalidField::error(
                    at("path"),
                    format!("segment \"{seg}\" is not a plain path segment"),
                ));
            }
            segments.push(Segment::Static(seg.into()));
        }
    }
    if segments.len() > MAX_SEGMENTS {
        return Err(InvalidField::error(
            at("path"),
            format!("at most {MAX_SEGMENTS} segments"),
        ));
    }

    let param_position = || -> Result<usize, PolicyError> {
        match (&row.param, params.as_slice()) {
            (Some(name), _) => params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, pos)| *pos)
                .ok_or_else(|| {
                    InvalidField::error(at("param"), format!("the pattern has no parameter \":{name}\""))
                }),
            (None, [(_, pos)]) => Ok(*pos),
            (None, []) => Err(InvalidField::error(
                at("path"),
                "this rule needs a path parameter",
            )),
            (None, _) => Err(InvalidField::error(
                at("param"),
                "the pattern has several parameters: name one",
            )),
        }
    };
    let project_key = match row.project_key {
        ProjectKeyRule::Allow => CompiledRule::Allow,
        ProjectKeyRule::Filtered => CompiledRule::Filtered,
        ProjectKeyRule::Deny => CompiledRule::Deny,
        ProjectKeyRule::OwnPath => CompiledRule::OwnPath {
            param: param_position()?,
        },
        ProjectKeyRule::OwnResource => {
            let Some(kind) = row.resource_kind.as_deref().filter(|k| !k.is_empty()) else {
                return Err(InvalidField::error(
                    at("resourceKind"),
                    "own_resource needs a resource kind",
                ));
            };
            CompiledRule::OwnResource {
                param: param_position()?,
                kind: kind.into(),
            }
        }
    };
    if row.resource_kind.is_some() && row.project_key != ProjectKeyRule::OwnResource {
        return Err(InvalidField::error(
            at("resourceKind"),
            "only an own_resource row names a resource kind",
        ));
    }
    if row.param.is_some() && project_key.param().is_none() {
        return Err(InvalidField::error(
            at("param"),
            "only own_path and own_resource rows name a parameter",
        ));
    }

    let permission = match &row.permission {
        None => None,
        Some(name) => Some(permission(at("permission"), name)?),
    };
    Ok(Endpoint {
        method: row.method.as_str().into(),
        pattern: row.path.as_str().into(),
        segments: segments.into_boxed_slice(),
        permission,
        project_key,
        serve_me: row.serve == Some(Serve::Me),
    })
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.pattern)
    }
}
