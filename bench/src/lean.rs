//! The lean hand-written peer: the Align rules as a careful engineer writes them by hand in an
//! hour, for speed. The path is split into borrowed segments on the stack and matched with one
//! `match` on the method and the segments; permissions are bits of a `u16`, the roles' sets are
//! constants, a key's explicit grants are compiled to bits when the key is loaded; an id is
//! borrowed unless it holds a `%` escape (then decoded into a stack buffer). Nothing allocates
//! per decision.

use policy_core::Scope;

use crate::{Sample, Verdict, World};

const READ_PROJECT: u16 = 1 << 0;
const WRITE_PROJECT: u16 = 1 << 1;
const DELETE_PROJECT: u16 = 1 << 2;
const READ_ENTRY: u16 = 1 << 3;
const WRITE_ENTRY: u16 = 1 << 4;
const READ_TIME_ENTRY: u16 = 1 << 5;
const WRITE_TIME_ENTRY: u16 = 1 << 6;
const APPROVE_TIME_ENTRY: u16 = 1 << 7;
const READ_USER: u16 = 1 << 8;
const INVITE_USER: u16 = 1 << 9;
const READ_WEBHOOK: u16 = 1 << 10;
const WRITE_WEBHOOK: u16 = 1 << 11;
const READ_INTEGRATION_LINK: u16 = 1 << 12;
const READ_AUDIT_EVENT: u16 = 1 << 13;
const SEARCH: u16 = 1 << 14;

const ADMIN: u16 = (1 << 15) - 1;
const MEMBER: u16 = ADMIN & !(APPROVE_TIME_ENTRY | INVITE_USER | DELETE_PROJECT);
const MANAGER: u16 = MEMBER | APPROVE_TIME_ENTRY;

/// The bit of a permission name (0 for a name the rules do not know: it grants nothing).
pub fn permission_bit(name: &str) -> u16 {
    match name {
        "read:project" => READ_PROJECT,
        "write:project" => WRITE_PROJECT,
        "delete:project" => DELETE_PROJECT,
        "read:entry" => READ_ENTRY,
        "write:entry" => WRITE_ENTRY,
        "read:time_entry" => READ_TIME_ENTRY,
        "write:time_entry" => WRITE_TIME_ENTRY,
        "approve:time_entry" => APPROVE_TIME_ENTRY,
        "read:user" => READ_USER,
        "invite:user" => INVITE_USER,
        "read:webhook" => READ_WEBHOOK,
        "write:webhook" => WRITE_WEBHOOK,
        "read:integration_link" => READ_INTEGRATION_LINK,
        "read:audit_event" => READ_AUDIT_EVENT,
        "search" => SEARCH,
        _ => 0,
    }
}

#[inline]
fn role_bits(role: &str) -> u16 {
    match role {
        "member" | "engineer" => MEMBER,
        "manager" => MANAGER,
        "admin" => ADMIN,
        _ => 0,
    }
}

/// What a project key may do on a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Anything.
    Allow,
    /// Allowed; the origin filters to the key's project.
    Filtered,
    /// The path's project must be the key's.
    OwnPath,
    /// The resource's project must be the key's.
    OwnResource,
    /// Never.
    Deny,
}

/// The endpoint rows: permission bit (0 = none), project-key rule, and the Cedar action name.
pub const ROWS: [(u16, Rule, &str); 20] = [
    (0, Rule::Allow, "me"),
    (READ_PROJECT, Rule::Filtered, "read:project"),
    (WRITE_PROJECT, Rule::Deny, "write:project"),
    (DELETE_PROJECT, Rule::Deny, "delete:project"),
    (READ_ENTRY, Rule::OwnPath, "read:entry"),
    (WRITE_ENTRY, Rule::OwnPath, "write:entry"),
    (READ_TIME_ENTRY, Rule::OwnPath, "read:time_entry"),
    (WRITE_TIME_ENTRY, Rule::OwnPath, "write:time_entry"),
    (READ_TIME_ENTRY, Rule::Deny, "read:time_entry"),
    (WRITE_TIME_ENTRY, Rule::OwnResource, "write:time_entry"),
    (APPROVE_TIME_ENTRY, Rule::OwnResource, "approve:time_entry"),
    (APPROVE_TIME_ENTRY, Rule::OwnResource, "approve:time_entry"),
    (APPROVE_TIME_ENTRY, Rule::OwnResource, "approve:time_entry"),
    (READ_USER, Rule::Deny, "read:user"),
    (INVITE_USER, Rule::Deny, "invite:user"),
    (READ_WEBHOOK, Rule::Deny, "read:webhook"),
    (WRITE_WEBHOOK, Rule::Deny, "write:webhook"),
    (READ_INTEGRATION_LINK, Rule::Filtered, "read:integration_link"),
    (READ_AUDIT_EVENT, Rule::Filtered, "read:audit_event"),
    (SEARCH, Rule::Filtered, "search"),
];

/// The roles with their permission bits (for the Cedar peer's policies).
pub const ROLES: [(&str, u16); 4] = [
    ("member", MEMBER),
    ("engineer", MEMBER),
    ("manager", MANAGER),
    ("admin", ADMIN),
];

/// A path id: borrowed when it holds no escape, else decoded on the stack.
pub enum Id<'a> {
    /// The segment itself.
    Borrowed(&'a str),
    /// The percent-decoded segment.
    Decoded(u8, [u8; 64]),
}

#[inline]
fn id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl<'a> Id<'a> {
    /// Checks (and if needed decodes) an id segment: 1–64 characters of `A-Za-z0-9_-`.
    #[inline]
    pub fn parse(seg: &'a str) -> Option<Id<'a>> {
        let bytes = seg.as_bytes();
        if !bytes.contains(&b'%') {
            return (bytes.len() <= 64 && bytes.iter().all(|&b| id_byte(b))).then_some(Id::Borrowed(seg));
        }
        let mut out = [0u8; 64];
        let mut len = 0usize;
        let mut i = 0;
        while i < bytes.len() {
            let mut b = bytes[i];
            // A `%` not followed by two hex digits stays a literal `%` (not an id byte).
            if b == b'%' {
                if let (Some(h), Some(l)) = (
                    bytes.get(i + 1).copied().and_then(hex),
                    bytes.get(i + 2).copied().and_then(hex),
                ) {
                    b = h << 4 | l;
                    i += 2;
                }
            }
            if !id_byte(b) || len == 64 {
                return None;
            }
            out[len] = b;
            len += 1;
            i += 1;
        }
        (len > 0).then_some(Id::Decoded(len as u8, out))
    }

    /// The id.
    #[inline]
    pub fn as_str(&self) -> &str {
        match self {
            Id::Borrowed(s) => s,
            // Only ASCII id bytes are ever stored.
            Id::Decoded(len, bytes) => std::str::from_utf8(&bytes[..*len as usize]).unwrap_or(""),
        }
    }
}

/// Matches a request: the row index and the id the row reads, or `None` (404).
#[inline]
pub fn route<'t>(method: &str, target: &'t str) -> Option<(usize, Option<Id<'t>>)> {
    let path = match target.find('?') {
        Some(q) => &target[..q],
        None => target,
    };
    let rest = path.strip_prefix("/api/v1/")?;
    let mut segs = [""; 4];
    let mut n = 0;
    for seg in rest.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." || n == segs.len() {
            return None;
        }
        segs[n] = seg;
        n += 1;
    }
    let method = if method == "HEAD" { "GET" } else { method };
    let (row, id) = match (method, &segs[..n]) {
        ("GET", ["me"]) => (0, None),
        ("GET", ["projects"]) => (1, None),
        ("POST", ["projects"]) => (2, None),
        ("DELETE", ["projects", id]) => (3, Some(*id)),
        ("GET", ["projects", id, "entries"]) => (4, Some(*id)),
        ("POST", ["projects", id, "entries"]) => (5, Some(*id)),
        ("GET", ["projects", id, "time-entries"]) => (6, Some(*id)),
        ("POST", ["projects", id, "time-entries"]) => (7, Some(*id)),
        ("GET", ["time-entries"]) => (8, None),
        ("PATCH", ["time-entries", id]) => (9, Some(*id)),
        ("POST", ["time-entries", id, "approve"]) => (10, Some(*id)),
        ("POST", ["time-entries", id, "reject"]) => (11, Some(*id)),
        ("POST", ["time-entries", id, "unlock"]) => (12, Some(*id)),
        ("GET", ["users"]) => (13, None),
        ("POST", ["users", "invite"]) => (14, None),
        ("GET", ["webhooks"]) => (15, None),
        ("POST", ["webhooks"]) => (16, None),
        ("GET", ["integration-links"]) => (17, None),
        ("GET", ["audit-events"]) => (18, None),
        ("GET", ["search"]) => (19, None),
        _ => return None,
    };
    match id {
        Some(raw) => Some((row, Some(Id::parse(raw)?))),
        None => Some((row, None)),
    }
}

/// A key as the lean peer holds it: loaded once.
pub struct LeanKey {
    organization: String,
    project: Option<String>,
    /// Explicit grants as bits (all bits when the key inherits).
    grants: u16,
    /// The creator's current role, as the membership store answers it.
    role: &'static str,
}

/// The lean hand-written implementation.
pub struct Lean {
    keys: Vec<LeanKey>,
}

/// A lean verdict: borrowed filter, static reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeanVerdict<'a> {
    /// Allowed, with the project to filter to on a filtered row.
    Allow(Option<&'a str>),
    /// Denied with this reason code.
    Deny(&'static str),
}

impl LeanVerdict<'_> {
    /// As an owned [`Verdict`].
    pub fn to_verdict(self) -> Verdict {
        match self {
            LeanVerdict::Allow(filter) => Verdict::Allow(filter.map(str::to_owned)),
            LeanVerdict::Deny(reason) => Verdict::Deny(reason),
        }
    }

    /// Whether allowed.
    pub fn allowed(self) -> bool {
        matches!(self, LeanVerdict::Allow(_))
    }
}

impl Lean {
    /// Loads the world's keys.
    pub fn new(world: &World) -> Lean {
        let keys = world
            .keys
            .iter()
            .map(|k| LeanKey {
                organization: k.record.organization_id.clone(),
                project: match k.record.scope {
                    Scope::Project => k.record.scoped_project_ids.single().map(str::to_owned),
                    Scope::Organization => None,
                },
                grants: match &k.record.permissions {
                    None => u16::MAX,
                    Some(names) => names.iter().fold(0, |bits, n| bits | permission_bit(n)),
                },
                role: k.role,
            })
            .collect();
        Lean { keys }
    }

    /// Path matching + decision for a key already found.
    #[inline]
    pub fn decide<'a>(&'a self, world: &World, sample: &Sample) -> LeanVerdict<'a> {
        let Some((row, id)) = route(sample.method, &sample.target) else {
            return LeanVerdict::Deny("not_found");
        };
        let key = &self.keys[sample.key];
        let (permission, rule, _) = ROWS[row];
        if let Some(project) = &key.project {
            match rule {
                Rule::Deny => return LeanVerdict::Deny("scope_violation"),
                Rule::OwnPath if id.as_ref().map(Id::as_str) != Some(project.as_str()) => {
                    return LeanVerdict::Deny("scope_violation")
                }
                _ => {}
            }
        }
        if permission != 0 && role_bits(key.role) & key.grants & permission == 0 {
            return LeanVerdict::Deny("forbidden");
        }
        match (&key.project, rule) {
            (Some(project), Rule::OwnResource) => {
                let visible = id
                    .and_then(|id| world.owner("time_entry", id.as_str()))
                    .is_some_and(|o| o.organization_id == key.organization && o.project_id == project);
                if visible {
                    LeanVerdict::Allow(None)
                } else {
                    LeanVerdict::Deny("not_found")
                }
            }
            (Some(project), Rule::Filtered) => LeanVerdict::Allow(Some(project)),
            _ => LeanVerdict::Allow(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(
            Id::parse("p%31").map(|i| i.as_str().to_owned()),
            Some("p1".into())
        );
        assert!(Id::parse("a%2Fb").is_none());
        assert!(Id::parse("%zz").is_none());
        assert!(Id::parse(&"a".repeat(65)).is_none());
        assert!(Id::parse("").is_none() || route("GET", "/api/v1/projects//entries").is_none());
    }

    #[test]
    fn every_row_is_reachable() {
        let _ = Verdict::Deny("x");
        assert_eq!(route("HEAD", "/api/v1/projects?x=/y").map(|r| r.0), Some(1));
        assert_eq!(
            route("POST", "/api/v1/time-entries/te%5F1/approve").map(|r| r.0),
            Some(10)
        );
        assert!(route("GET", "/api/v1/projects/").is_none());
    }
}
