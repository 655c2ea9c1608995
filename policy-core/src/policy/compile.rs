//! Validating a policy document and compiling it into a [`Policy`].

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::permissions::{PermissionSet, MAX_PERMISSIONS};
use super::{
    CompiledRule, Endpoint, EndpointDocument, InvalidField, Policy, PolicyDocument, PolicyError, Preset,
    ProjectKeyRule, Role, Serve, MAX_METHOD_LEN, MAX_SEGMENTS,
};
use crate::route::{PackedName, Router, Row, Segment};

impl Policy {
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

        let router = Router::new(
            &base_path,
            endpoints.iter().map(|e| Row {
                method: &e.method,
                segments: &e.segments,
                wanted: e.project_key.param(),
            }),
        );
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
        Some(name) => Some((permission(at("permission"), name)?, name.as_str().into())),
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
