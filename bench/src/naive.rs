//! The naive hand-written peer (the project's first): split the path into a `Vec`, scan a
//! static table, `HashSet` role and grant permissions, `String` ids, the project cloned on every
//! allow. Kept as a labelled "naive" row: what an hour's work costs when speed is not the aim.

use std::collections::{HashMap, HashSet};

use percent_encoding::percent_decode_str;
use policy_core::Scope;

use crate::{Sample, Verdict, World};

/// What a project key may do on a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Anything.
    Allow,
    /// Allowed, filtered.
    Filtered,
    /// The path's project must be the key's.
    OwnPath,
    /// The resource's project must be the key's.
    OwnResource,
    /// Never.
    Deny,
}

/// The static table of the naive peer: method, pattern, permission, project-key rule.
pub const TABLE: &[(&str, &str, Option<&str>, Rule)] = &[
    ("GET", "me", None, Rule::Allow),
    ("GET", "projects", Some("read:project"), Rule::Filtered),
    ("POST", "projects", Some("write:project"), Rule::Deny),
    ("DELETE", "projects/:id", Some("delete:project"), Rule::Deny),
    ("GET", "projects/:id/entries", Some("read:entry"), Rule::OwnPath),
    ("POST", "projects/:id/entries", Some("write:entry"), Rule::OwnPath),
    (
        "GET",
        "projects/:id/time-entries",
        Some("read:time_entry"),
        Rule::OwnPath,
    ),
    (
        "POST",
        "projects/:id/time-entries",
        Some("write:time_entry"),
        Rule::OwnPath,
    ),
    ("GET", "time-entries", Some("read:time_entry"), Rule::Deny),
    (
        "PATCH",
        "time-entries/:id",
        Some("write:time_entry"),
        Rule::OwnResource,
    ),
    (
        "POST",
        "time-entries/:id/approve",
        Some("approve:time_entry"),
        Rule::OwnResource,
    ),
    (
        "POST",
        "time-entries/:id/reject",
        Some("approve:time_entry"),
        Rule::OwnResource,
    ),
    (
        "POST",
        "time-entries/:id/unlock",
        Some("approve:time_entry"),
        Rule::OwnResource,
    ),
    ("GET", "users", Some("read:user"), Rule::Deny),
    ("POST", "users/invite", Some("invite:user"), Rule::Deny),
    ("GET", "webhooks", Some("read:webhook"), Rule::Deny),
    ("POST", "webhooks", Some("write:webhook"), Rule::Deny),
    (
        "GET",
        "integration-links",
        Some("read:integration_link"),
        Rule::Filtered,
    ),
    ("GET", "audit-events", Some("read:audit_event"), Rule::Filtered),
    ("GET", "search", Some("search"), Rule::Filtered),
];

/// A key as the naive peer holds it.
pub struct HandKey {
    organization: String,
    project: Option<String>,
    grants: Option<HashSet<String>>,
    role: &'static str,
}

/// The naive hand-written implementation.
pub struct Naive {
    patterns: Vec<Vec<&'static str>>,
    roles: HashMap<&'static str, HashSet<&'static str>>,
    keys: Vec<HandKey>,
    resources: HashMap<String, (String, String)>,
}

impl Naive {
    /// Builds the tables for `world`.
    pub fn new(world: &World) -> Naive {
        let all: Vec<&'static str> = vec![
            "read:project",
            "write:project",
            "delete:project",
            "read:entry",
            "write:entry",
            "read:time_entry",
            "write:time_entry",
            "approve:time_entry",
            "read:user",
            "invite:user",
            "read:webhook",
            "write:webhook",
            "read:integration_link",
            "read:audit_event",
            "search",
        ];
        let member: HashSet<&str> = all
            .iter()
            .copied()
            .filter(|p| !["approve:time_entry", "invite:user", "delete:project"].contains(p))
            .collect();
        let mut manager = member.clone();
        manager.insert("approve:time_entry");
        let roles = HashMap::from([
            ("member", member.clone()),
            ("engineer", member),
            ("manager", manager),
            ("admin", all.iter().copied().collect()),
        ]);
        let keys = world
            .keys
            .iter()
            .map(|k| HandKey {
                organization: k.record.organization_id.clone(),
                project: match k.record.scope {
                    Scope::Project => k.record.scoped_project_ids.single().map(str::to_owned),
                    Scope::Organization => None,
                },
                grants: k.record.permissions.as_ref().map(|g| g.iter().cloned().collect()),
                role: k.role,
            })
            .collect();
        let resources = world.resources.clone();
        Naive {
            patterns: TABLE.iter().map(|row| row.1.split('/').collect()).collect(),
            roles,
            keys,
            resources,
        }
    }

    /// Routing: the table row and the decoded id, or `None` (404).
    #[inline]
    pub fn route(&self, method: &str, target: &str) -> Option<(usize, Option<String>)> {
        let path = target.split('?').next().unwrap_or("");
        let rest = path.strip_prefix("/api/v1/")?;
        let segments: Vec<&str> = rest.split('/').collect();
        if segments.iter().any(|s| s.is_empty() || *s == "." || *s == "..") {
            return None;
        }
        let method = if method == "HEAD" { "GET" } else { method };
        'rows: for (i, pattern) in self.patterns.iter().enumerate() {
            if TABLE[i].0 != method || pattern.len() != segments.len() {
                continue;
            }
            let mut id = None;
            for (p, s) in pattern.iter().zip(&segments) {
                if *p == ":id" {
                    let decoded = percent_decode_str(s).decode_utf8().ok()?;
                    let ok = !decoded.is_empty()
                        && decoded.len() <= 64
                        && decoded
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                    if !ok {
                        continue 'rows;
                    }
                    id = Some(decoded.into_owned());
                } else if p != s {
                    continue 'rows;
                }
            }
            return Some((i, id));
        }
        None
    }

    /// Path matching + decision for a known key.
    #[inline]
    pub fn decide(&self, sample: &Sample) -> Verdict {
        let Some((row, id)) = self.route(sample.method, &sample.target) else {
            return Verdict::Deny("not_found");
        };
        let key = &self.keys[sample.key];
        let (_, _, permission, rule) = TABLE[row];
        if let Some(project) = &key.project {
            match rule {
                Rule::Deny => return Verdict::Deny("scope_violation"),
                Rule::OwnPath if id.as_deref() != Some(project) => return Verdict::Deny("scope_violation"),
                _ => {}
            }
        }
        if let Some(permission) = permission {
            let in_role = self.roles.get(key.role).is_some_and(|r| r.contains(permission));
            let granted = key.grants.as_ref().is_none_or(|g| g.contains(permission));
            if !in_role || !granted {
                return Verdict::Deny("forbidden");
            }
        }
        if let (Some(project), Rule::OwnResource) = (&key.project, rule) {
            let visible = id
                .and_then(|id| self.resources.get(&id))
                .is_some_and(|(org, p)| *org == key.organization && p == project);
            if !visible {
                return Verdict::Deny("not_found");
            }
        }
        match (rule, &key.project) {
            (Rule::Filtered, Some(project)) => Verdict::Allow(Some(project.clone())),
            _ => Verdict::Allow(None),
        }
    }
}
