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
use crate::key::KeyPrefix;
use crate::route::{PackedName, Router, Row, Segment, Wanted};

impl Policy {
    /// Parses, validates and compiles a policy document.
    pub fn from_json(text: &str) -> Result<Policy, PolicyError> {
        let document: PolicyDocument = serde_json::from_str(text).map_err(PolicyError::Syntax)?;
        Policy::compile(&document)
    }

    /// Validates and compiles an already-parsed document.
    pub fn compile(doc: &PolicyDocument) -> Result<Policy, PolicyError> {
        let base_path = compile_base_path(&doc.base_path)?;
        let key_prefix = match &doc.key_prefix {
            None => KeyPrefix::DEFAULT,
            Some(text) => KeyPrefix::parse(text)
                .map_err(|why| InvalidField::error("keyPrefix", format!("\"{text}\": {why}")))?,
        };
        let names = PathNames::of(doc)?;

        if doc.permissions.is_empty() {
            return Err(InvalidField::error(
                "permissions",
                "at least one permission is needed",
            ));
        }
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
            let endpoint = compile_endpoint(i, row, &names, &|field: String, name: &str| {
                lookup(&|| field.clone(), name)
            })?;
            if let Some(j) = endpoints
                .iter()
                .position(|e| e.method == endpoint.method && e.segments == endpoint.segments)
            {
                return Err(InvalidField::error(
                    format!("endpoints[{i}]"),
                    format!(
                        "{} {} has the same method and path shape as endpoints[{j}]",
                        row.method, row.path
                    ),
                ));
            }
            endpoints.push(endpoint);
        }
        for (field, name) in [
            ("organizationParam", names.organization),
            ("userParam", names.user),
        ] {
            let Some(name) = name else { continue };
            let used = doc
                .endpoints
                .iter()
                .any(|row| row.path.split('/').any(|seg| seg.strip_prefix(':') == Some(name)));
            if !used {
                return Err(InvalidField::error(
                    field,
                    format!("no endpoint's pattern holds \":{name}\""),
                ));
            }
        }

        let router = Router::new(
            &base_path,
            endpoints.iter().map(|e| Row {
                method: &e.method,
                segments: &e.segments,
                wanted: Wanted {
                    rule: e.project_key.param(),
                    organization: e.organization_param,
                    user: e.user_param,
                },
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
            key_prefix,
            organization_param: names.organization.map(Into::into),
            user_param: names.user.map(Into::into),
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

/// The names of the organization and user parameters a document declares.
#[derive(Clone, Copy)]
struct PathNames<'d> {
    organization: Option<&'d str>,
    user: Option<&'d str>,
}

impl<'d> PathNames<'d> {
    fn of(doc: &'d PolicyDocument) -> Result<PathNames<'d>, PolicyError> {
        let check = |field: &str, name: &'d Option<String>| -> Result<Option<&'d str>, PolicyError> {
            match name.as_deref() {
                None => Ok(None),
                Some(n) if is_param_name(n) => Ok(Some(n)),
                Some(n) => Err(InvalidField::error(
                    field,
                    format!("\"{n}\" is not a parameter name (letters, digits, _ and -; without the ':')"),
                )),
            }
        };
        let names = PathNames {
            organization: check("organizationParam", &doc.organization_param)?,
            user: check("userParam", &doc.user_param)?,
        };
        if names.organization.is_some() && names.organization == names.user {
            return Err(InvalidField::error(
                "userParam",
                "the user parameter cannot also be the organization parameter",
            ));
        }
        Ok(names)
    }

    /// Whether `name` is the organization or the user parameter.
    fn is_identity(&self, name: &str) -> bool {
        self.organization == Some(name) || self.user == Some(name)
    }
}

/// A parameter name as a pattern writes it after `:`.
fn is_param_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn compile_endpoint(
    i: usize,
    row: &EndpointDocument,
    names: &PathNames<'_>,
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
            if !is_param_name(name) || params.iter().any(|(n, _)| *n == name) {
                return Err(InvalidField::error(
                    at("path"),
                    format!("parameter \":{name}\" is empty, repeated or not a plain name"),
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

    let position_of = |name: Option<&str>| {
        name.and_then(|name| params.iter().find(|(n, _)| *n == name).map(|(_, pos)| *pos))
    };
    let organization_param = position_of(names.organization);
    let user_param = position_of(names.user);
    let param_position = || -> Result<usize, PolicyError> {
        let candidates: Vec<&(&str, usize)> = params.iter().filter(|(n, _)| !names.is_identity(n)).collect();
        match (&row.param, candidates.as_slice()) {
            (Some(name), _) if names.is_identity(name) => Err(InvalidField::error(
                at("param"),
                format!("\"{name}\" is the organization or user parameter, not a project or resource id"),
            )),
            (Some(name), _) => position_of(Some(name)).ok_or_else(|| {
                InvalidField::error(at("param"), format!("the pattern has no parameter \":{name}\""))
            }),
            (None, [(_, pos)]) => Ok(*pos),
            (None, []) => Err(InvalidField::error(
                at("path"),
                "this rule needs a path parameter other than the organization and user parameters",
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

    let permission_of =
        |field: &str, name: &Option<String>| -> Result<Option<(usize, Box<str>)>, PolicyError> {
            match name {
                None => Ok(None),
                Some(name) => Ok(Some((permission(at(field), name)?, name.as_str().into()))),
            }
        };
    let others_permission = permission_of("othersPermission", &row.others_permission)?;
    if others_permission.is_some() && user_param.is_none() {
        return Err(InvalidField::error(
            at("othersPermission"),
            match names.user {
                Some(user) => format!("only a row whose pattern holds \":{user}\" names othersPermission"),
                None => "othersPermission needs the document's userParam".into(),
            },
        ));
    }
    let permission = permission_of("permission", &row.permission)?;
    Ok(Endpoint {
        method: row.method.as_str().into(),
        pattern: row.path.as_str().into(),
        segments: segments.into_boxed_slice(),
        permission,
        others_permission,
        organization_param,
        user_param,
        project_key,
        serve_me: row.serve == Some(Serve::Me),
    })
}
