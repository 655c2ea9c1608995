//! A draft policy from a document's operations, by the rules of
//! docs/decisions/0101-from-openapi-permissions.md: one row per operation, the base path, a
//! permission per tag and method kind, one role `owner` holding everything, project keys denied
//! (or `own_path` on rows holding `--project-param`). An operation the draft cannot hold is
//! skipped, and said so.

use std::collections::HashMap;

use indexmap::IndexMap;
use policy_core::policy::MAX_SEGMENTS;
use policy_core::KeyPrefix;
use serde::Serialize;

use super::document::{Document, Operation};
use super::path::{is_static, pattern, segments, slug, Segment};

/// The most permissions a policy may declare (SPEC "Policy documents").
pub const MAX_PERMISSIONS: usize = 256;

/// What the command line asked of the draft.
#[derive(Debug, Default)]
pub struct Options<'a> {
    /// `organizationParam`.
    pub organization_param: Option<&'a str>,
    /// `userParam`.
    pub user_param: Option<&'a str>,
    /// The parameter naming a project: its rows become `own_path`.
    pub project_param: Option<&'a str>,
    /// `keyPrefix`.
    pub prefix: Option<&'a str>,
    /// The base path, instead of the one the document implies.
    pub base_path: Option<&'a str>,
}

/// An operation left out of the draft, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its method.
    pub method: String,
    /// Its path as the document writes it.
    pub path: String,
    /// Why.
    pub why: String,
}

/// The draft and what was said while making it.
#[derive(Debug)]
pub struct Draft {
    /// The policy document.
    pub policy: PolicyDraft,
    /// Operations left out.
    pub skipped: Vec<Skipped>,
    /// Everything else worth knowing (renamed parameters, folded permissions, …).
    pub warnings: Vec<String>,
}

/// A policy document as the draft writes it, fields in the order a person reads them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyDraft {
    #[serde(skip_serializing_if = "Option::is_none")]
    key_prefix: Option<String>,
    /// The base path.
    pub base_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization_param: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_param: Option<String>,
    /// The permissions, tag by tag.
    pub permissions: Vec<String>,
    roles: IndexMap<String, Vec<String>>,
    key_creators: KeyCreators,
    presets: IndexMap<String, Option<Vec<String>>>,
    /// The rows, in document order.
    pub endpoints: Vec<Row>,
}

#[derive(Debug, Serialize)]
struct KeyCreators {
    organization: Vec<String>,
    project: Vec<String>,
}

/// One endpoint row of the draft.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// The method.
    pub method: String,
    /// The pattern, relative to the base path.
    pub path: String,
    /// The permission.
    pub permission: String,
    project_key: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    param: Option<String>,
}

/// An operation on its way to a row.
struct Candidate<'d> {
    operation: &'d Operation,
    /// The whole request path: the server's path and the document's.
    full: Vec<Segment>,
}

/// The draft of `document`; an error when no usable draft can be made (no operation left, a
/// named parameter that no path holds, an invalid prefix or base path).
pub fn build(document: &Document, options: &Options<'_>) -> Result<Draft, String> {
    let mut warnings = document.warnings.clone();
    let mut skipped = Vec::new();
    let mut skip = |operation: &Operation, why: String| {
        skipped.push(Skipped {
            method: operation.method.to_owned(),
            path: operation.path.clone(),
            why,
        });
    };
    if let Some(prefix) = options.prefix {
        KeyPrefix::parse(prefix).map_err(|why| format!("--prefix \"{prefix}\": {why}"))?;
    }
    let names = [
        ("--organization-param", options.organization_param),
        ("--user-param", options.user_param),
        ("--project-param", options.project_param),
    ];
    for (i, (flag, name)) in names.iter().enumerate() {
        let Some(name) = name else { continue };
        if !super::path::is_param_name(name) {
            return Err(format!(
                "{flag} \"{name}\": a parameter name is A-Za-z0-9_- (without '{{' '}}' or ':')"
            ));
        }
        if let Some((other, _)) = names.iter().skip(i + 1).find(|(_, n)| n == &Some(*name)) {
            return Err(format!("{flag} and {other} both name \"{name}\""));
        }
    }

    let server: Vec<Segment> = match &document.server_path {
        None => Vec::new(),
        Some(path) => match segments(path, &mut warnings) {
            Ok(s) if s.iter().all(|s| matches!(s, Segment::Static(_))) => s,
            _ => {
                warnings.push(format!(
                    "servers[0].url's path {path} is not a plain path; it is not used"
                ));
                Vec::new()
            }
        },
    };

    // Each operation's whole path; HEAD and unconvertible paths are skipped here.
    let has_get = |path: &str| {
        document
            .operations
            .iter()
            .any(|o| o.method == "GET" && o.path == path)
    };
    let mut candidates = Vec::new();
    for operation in &document.operations {
        if operation.method == "HEAD" {
            let why = if has_get(&operation.path) {
                "HEAD is matched as GET: the GET row covers it"
            } else {
                "HEAD is matched as GET, and this path has no GET operation: HEAD requests to it answer not_found"
            };
            skip(operation, why.to_owned());
            continue;
        }
        match segments(&operation.path, &mut warnings) {
            Ok(own) => candidates.push(Candidate {
                operation,
                full: server.iter().cloned().chain(own).collect(),
            }),
            Err(why) => skip(operation, why),
        }
    }

    let (base, base_len) = base_path(&candidates, options.base_path, &mut warnings)?;

    // Rows: relative to the base path, within the segment limit, one per method and shape.
    let mut shapes: HashMap<(&str, Vec<Option<String>>), &Operation> = HashMap::new();
    let mut placed: Vec<(&Operation, Vec<Segment>)> = Vec::new();
    for candidate in &candidates {
        let operation = candidate.operation;
        let row: Vec<Segment> = match base_len {
            Some(n) if candidate.full.starts_with(&base) => candidate.full.iter().skip(n).cloned().collect(),
            Some(_) => {
                skip(operation, format!("not under the base path {}", pattern(&base)));
                continue;
            }
            None => candidate.full.clone(),
        };
        if row.is_empty() {
            skip(operation, "the base path itself cannot be a row".to_owned());
            continue;
        }
        if row.len() > MAX_SEGMENTS {
            skip(
                operation,
                format!(
                    "{} segments below the base path: a row has at most {MAX_SEGMENTS}",
                    row.len()
                ),
            );
            continue;
        }
        let shape: Vec<Option<String>> = row
            .iter()
            .map(|s| match s {
                Segment::Static(text) => Some(text.clone()),
                Segment::Param(_) => None,
            })
            .collect();
        if let Some(first) = shapes.get(&(operation.method, shape.clone())) {
            skip(
                operation,
                format!(
                    "same method and path shape as {} {} (policy rows may not overlap)",
                    first.method, first.path
                ),
            );
            continue;
        }
        shapes.insert((operation.method, shape), operation);
        placed.push((operation, row));
    }

    // Permissions: the first tag (else the first static segment of the row), read or write.
    let base_word = base.iter().rev().find_map(|s| match s {
        Segment::Static(text) => Some(slug(text)).filter(|w| !w.is_empty()),
        Segment::Param(_) => None,
    });
    let word_of = |operation: &Operation, row: &[Segment]| -> String {
        operation
            .tag
            .as_deref()
            .map(slug)
            .filter(|w| !w.is_empty())
            .or_else(|| {
                row.iter().find_map(|s| match s {
                    Segment::Static(text) => Some(slug(text)).filter(|w| !w.is_empty()),
                    Segment::Param(_) => None,
                })
            })
            .or_else(|| base_word.clone())
            .unwrap_or_else(|| "api".to_owned())
    };
    let words: Vec<String> = placed.iter().map(|(o, row)| word_of(o, row)).collect();
    let mut tags: IndexMap<&str, (bool, bool)> = IndexMap::new();
    for ((operation, _), word) in placed.iter().zip(&words) {
        let uses = tags.entry(word.as_str()).or_insert((false, false));
        if operation.method == "GET" {
            uses.0 = true;
        } else {
            uses.1 = true;
        }
    }
    let split: usize = tags
        .values()
        .map(|(r, w)| usize::from(*r) + usize::from(*w))
        .sum();
    let folded = split > MAX_PERMISSIONS;
    if folded {
        warnings.push(format!(
            "read:/write: per tag would be {split} permissions (at most {MAX_PERMISSIONS}): folded to one access:<tag> per tag"
        ));
    }
    let permission_of = |method: &str, word: &str| -> String {
        if folded {
            format!("access:{word}")
        } else if method == "GET" {
            format!("read:{word}")
        } else {
            format!("write:{word}")
        }
    };
    let mut permissions: Vec<String> = Vec::new();
    for (word, (read, write)) in &tags {
        if folded {
            permissions.push(format!("access:{word}"));
        } else {
            if *read {
                permissions.push(format!("read:{word}"));
            }
            if *write {
                permissions.push(format!("write:{word}"));
            }
        }
    }
    permissions.truncate(MAX_PERMISSIONS);

    let mut endpoints = Vec::new();
    for ((operation, row), word) in placed.iter().zip(&words) {
        let permission = permission_of(operation.method, word);
        if !permissions.contains(&permission) {
            skip(
                operation,
                format!("its tag \"{word}\" comes after the first {MAX_PERMISSIONS} tags (at most {MAX_PERMISSIONS} permissions)"),
            );
            continue;
        }
        let holds = |name: &str| row.contains(&Segment::Param(name.to_owned()));
        let own_path = options.project_param.filter(|p| holds(p));
        endpoints.push(Row {
            method: operation.method.to_owned(),
            path: pattern(row),
            permission,
            project_key: if own_path.is_some() { "own_path" } else { "deny" },
            param: own_path.map(str::to_owned),
        });
    }
    if endpoints.is_empty() {
        return Err("no operation of the document can be a row (see the warnings)".to_owned());
    }
    for (flag, name) in names {
        let Some(name) = name else { continue };
        let needle = format!(":{name}");
        let held = endpoints.iter().any(|e| e.path.split('/').any(|s| s == needle));
        if !held {
            let mut seen: Vec<&str> = Vec::new();
            for (_, row) in &placed {
                for segment in row {
                    if let Segment::Param(p) = segment {
                        if !seen.contains(&p.as_str()) {
                            seen.push(p);
                        }
                    }
                }
            }
            return Err(format!(
                "{flag} {name}: no path holds {{{name}}} (the paths' parameters: {})",
                if seen.is_empty() {
                    "none".to_owned()
                } else {
                    seen.join(", ")
                }
            ));
        }
    }

    if let Some(user) = options.user_param {
        let needle = format!(":{user}");
        let rows = endpoints
            .iter()
            .filter(|e| e.path.split('/').any(|s| s == needle))
            .count();
        warnings.push(format!(
            "{rows} rows hold :{user}: a key names only its own user there until the row gets an othersPermission"
        ));
    }
    let reads: Vec<String> = permissions
        .iter()
        .filter(|p| p.starts_with("read:"))
        .cloned()
        .collect();
    let mut presets = IndexMap::new();
    presets.insert("full".to_owned(), None);
    if reads.is_empty() {
        warnings.push("no read:* permission: no `read` preset".to_owned());
    } else {
        presets.insert("read".to_owned(), Some(reads));
    }
    let mut roles = IndexMap::new();
    roles.insert("owner".to_owned(), permissions.clone());
    let policy = PolicyDraft {
        key_prefix: options.prefix.map(str::to_owned),
        base_path: pattern(&base),
        organization_param: options.organization_param.map(str::to_owned),
        user_param: options.user_param.map(str::to_owned),
        permissions,
        roles,
        key_creators: KeyCreators {
            organization: vec!["owner".to_owned()],
            project: vec!["owner".to_owned()],
        },
        presets,
        endpoints,
    };
    Ok(Draft {
        policy,
        skipped,
        warnings,
    })
}

/// The base path's segments, and how many leading segments of a whole path it is (`None`: the
/// document's paths are served below it as they are).
fn base_path(
    candidates: &[Candidate<'_>],
    given: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<(Vec<Segment>, Option<usize>), String> {
    if let Some(text) = given {
        let parts: Option<Vec<Segment>> = text
            .strip_prefix('/')
            .filter(|rest| !rest.is_empty())
            .map(|rest| rest.split('/'))
            .and_then(|parts| {
                parts
                    .map(|p| is_static(p).then(|| Segment::Static(p.to_owned())))
                    .collect()
            });
        let Some(base) = parts else {
            return Err(format!(
                "--base-path \"{text}\": a base path is '/' and static segments (A-Za-z0-9-_.~), no trailing '/'"
            ));
        };
        let under = candidates
            .iter()
            .any(|c| c.full.len() > base.len() && c.full.starts_with(&base));
        if under {
            let n = base.len();
            return Ok((base, Some(n)));
        }
        warnings.push(format!(
            "no path lies under --base-path {text}: the document's paths are taken as served below it"
        ));
        return Ok((base, None));
    }
    // The longest run of static segments every path starts with, leaving each at least one.
    let mut common: Option<Vec<Segment>> = None;
    for candidate in candidates {
        let room = candidate.full.len().saturating_sub(1);
        let own: Vec<Segment> = candidate
            .full
            .iter()
            .take(room)
            .take_while(|s| matches!(s, Segment::Static(_)))
            .cloned()
            .collect();
        common = Some(match common {
            None => own,
            Some(prefix) => prefix
                .into_iter()
                .zip(own)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    let common = common.unwrap_or_default();
    if common.is_empty() {
        return Err(
            "the paths share no leading static segment and servers[0].url gives no path: \
             pass --base-path /PREFIX, the path the gateway serves this API under"
                .to_owned(),
        );
    }
    let n = common.len();
    Ok((common, Some(n)))
}
