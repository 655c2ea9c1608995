//! The benchmark world: the Align rules decided by several peers on one request mix.
//!
//! - [`KeyscopePeer`]: `policy-core`, driven with keys from memory (key lookup excluded), either
//!   as [`policy_core::PreparedKey`]s compiled once or as raw [`policy_core::KeyRecord`]s.
//! - [`Lean`]: what a careful engineer writes by hand in an hour for these rules: a `match` on
//!   the method and borrowed path segments, permissions as bitsets, no allocation.
//! - [`CedarPeer`]: `cedar-policy` with the smallest entity model that decides every request:
//!   one principal entity (the key, child of its creator's role); routed by the lean router.
//! - [`Naive`]: the first hand-written peer (a `Vec` of segments, `HashSet` permissions, `String`
//!   ids), kept as a labelled "naive" row.
//!
//! [`verify_agreement`] checks that all of them agree on every request before anything is timed.

use std::collections::HashMap;

use policy_core::{ApiKey, Environment, KeyHash, KeyRecord, ProjectIds, ResourceOwner, Scope, Timestamp};

mod cedar;
mod keyscope;
mod lean;
mod naive;

pub use cedar::CedarPeer;
pub use keyscope::KeyscopePeer;
pub use lean::{route as lean_route, Lean, LeanVerdict};
pub use naive::Naive;

/// How many requests the mix holds.
pub const MIX_LEN: usize = 2_000;

/// What a peer decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed, with the project filter if any.
    Allow(Option<String>),
    /// Denied with this reason code.
    Deny(&'static str),
}

/// A key of the world: its stored record, its secret, and its creator's current role.
pub struct WorldKey {
    /// The stored record.
    pub record: KeyRecord,
    /// The key string (for the full-pipeline benchmark).
    pub secret: String,
    /// Its hash.
    pub hash: KeyHash,
    /// The creator's current role.
    pub role: &'static str,
}

/// One request of the mix.
pub struct Sample {
    /// Method.
    pub method: &'static str,
    /// Request target.
    pub target: String,
    /// Index into [`World::keys`].
    pub key: usize,
}

/// The world and the request mix.
pub struct World {
    /// Keys of several roles, scopes and grants.
    pub keys: Vec<WorldKey>,
    /// id → (organization, project) of the world's time entries.
    pub resources: HashMap<String, (String, String)>,
    /// The same time entries as a list: (id, organization, project), the in-memory store the
    /// peers' resource lookups read.
    pub resource_list: Vec<(String, String, String)>,
    /// The mix.
    pub samples: Vec<Sample>,
}

const READ: &[&str] = &[
    "read:project",
    "read:entry",
    "read:time_entry",
    "read:user",
    "read:webhook",
    "read:integration_link",
    "read:audit_event",
    "search",
];

/// A write preset plus a name the policy does not declare (it grants nothing).
const WRITE: &[&str] = &[
    "read:project",
    "read:entry",
    "read:time_entry",
    "write:entry",
    "write:time_entry",
    "approve:time_entry",
    "read:user",
    "search",
    "export:everything",
];

/// How the world's keys carry explicit grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantMix {
    /// Eight keys inherit their creator's role; two carry explicit grants (a read-only list on
    /// a project key of an admin, two names on an organization key of a manager).
    Standard,
    /// Every key inherits (`permissions: null`).
    Inherit,
    /// Every key carries explicit grants: the two above, and on the others alternately a
    /// read-only list and a write list holding one name the policy does not declare.
    Explicit,
}

impl World {
    /// The owner of a time entry, looked up without allocating (a scan of three entries: the
    /// store is not what is measured).
    #[inline]
    pub fn owner(&self, kind: &str, id: &str) -> Option<ResourceOwner<'_>> {
        if kind != "time_entry" {
            return None;
        }
        self.resource_list
            .iter()
            .find(|(i, _, _)| i == id)
            .map(|(_, o, p)| ResourceOwner {
                organization_id: o,
                project_id: p,
            })
    }

    /// The world and its mix as JSON, for peers in other languages (the Node benchmark):
    /// `{"keys": [{record, secret, hash, role}], "resources": {id: [org, project]},
    /// "samples": [{method, target, key}]}`.
    pub fn to_json(&self) -> String {
        let keys: Vec<_> = self
            .keys
            .iter()
            .map(|k| {
                serde_json::json!({
                    "record": k.record, "secret": k.secret, "hash": k.hash.to_hex().as_str(), "role": k.role,
                })
            })
            .collect();
        let samples: Vec<_> = self
            .samples
            .iter()
            .map(|s| serde_json::json!({"method": s.method, "target": s.target, "key": s.key}))
            .collect();
        serde_json::json!({"keys": keys, "resources": self.resources, "samples": samples}).to_string()
    }

    /// Builds the deterministic Align world and a 2,000-request mix over every endpoint row,
    /// allowed and denied (scope, permission, unknown route, hidden resource): 10 keys, two of
    /// them with explicit grants ([`GrantMix::Standard`]).
    pub fn align() -> World {
        World::with_grants(GrantMix::Standard)
    }

    /// The same world and mix with the keys' explicit grants set by `mix`.
    pub fn with_grants(mix: GrantMix) -> World {
        let mut keys = Vec::new();
        let mut seed = 7u8;
        let mut add = |role: &'static str, scope: Scope, grants: Option<&[&str]>| {
            let grants = match mix {
                GrantMix::Standard => grants,
                GrantMix::Inherit => None,
                GrantMix::Explicit => Some(grants.unwrap_or(if keys.len() % 2 == 0 { READ } else { WRITE })),
            };
            seed = seed.wrapping_add(13);
            let key = ApiKey::generate(Environment::Live, &[seed; 64]).unwrap_or_else(|_| unreachable!());
            let n = keys.len();
            keys.push(WorldKey {
                record: KeyRecord {
                    id: format!("key_{n}"),
                    name: format!("bench {n}"),
                    hint: key.hint().into(),
                    organization_id: "org_a".into(),
                    created_by: format!("u_{role}"),
                    scope,
                    scoped_project_ids: if scope == Scope::Project {
                        ProjectIds::one("p1")
                    } else {
                        ProjectIds::none()
                    },
                    allowed_cidrs: None,
                    rate_limit: None,
                    quota: None,
                    permissions: grants.map(|g| g.iter().map(|s| s.to_string()).collect()),
                    created_at: Timestamp(0),
                    last_used_at: None,
                    revoked_at: None,
                    expires_at: None,
                },
                secret: key.expose_secret().into(),
                hash: key.hash(),
                role,
            });
        };
        for role in ["member", "engineer", "manager", "admin"] {
            add(role, Scope::Organization, None);
            add(role, Scope::Project, None);
        }
        add("admin", Scope::Project, Some(READ));
        add(
            "manager",
            Scope::Organization,
            Some(&["read:entry", "approve:time_entry"]),
        );

        let mut resources = HashMap::new();
        let mut resource_list = Vec::new();
        for (id, project) in [("te_1", "p1"), ("te_2", "p2"), ("te_3", "p1")] {
            resources.insert(id.into(), ("org_a".into(), project.into()));
            resource_list.push((id.into(), "org_a".into(), project.into()));
        }

        let routes: &[(&str, &str)] = &[
            ("GET", "/api/v1/me"),
            ("GET", "/api/v1/projects"),
            ("GET", "/api/v1/projects?page=2"),
            ("POST", "/api/v1/projects"),
            ("DELETE", "/api/v1/projects/p1"),
            ("GET", "/api/v1/projects/p1/entries"),
            ("GET", "/api/v1/projects/p2/entries"),
            ("POST", "/api/v1/projects/p1/entries"),
            ("GET", "/api/v1/projects/p1/time-entries"),
            ("POST", "/api/v1/projects/p%31/time-entries"),
            ("GET", "/api/v1/time-entries"),
            ("PATCH", "/api/v1/time-entries/te_1"),
            ("PATCH", "/api/v1/time-entries/te_2"),
            ("POST", "/api/v1/time-entries/te_1/approve"),
            ("POST", "/api/v1/time-entries/te_3/reject"),
            ("POST", "/api/v1/time-entries/te_9/unlock"),
            ("GET", "/api/v1/users"),
            ("POST", "/api/v1/users/invite"),
            ("GET", "/api/v1/webhooks"),
            ("POST", "/api/v1/webhooks"),
            ("GET", "/api/v1/integration-links"),
            ("GET", "/api/v1/audit-events"),
            ("GET", "/api/v1/search?q=x"),
            ("HEAD", "/api/v1/projects"),
            ("GET", "/api/v1/projects/"),
            ("GET", "/api/v1/nothing-here"),
            ("PUT", "/api/v1/projects"),
        ];
        // A fixed pseudo-random walk so every run times the same mix.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let samples = (0..MIX_LEN)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let (method, target) = routes[(state % routes.len() as u64) as usize];
                Sample {
                    method,
                    target: target.into(),
                    key: ((state >> 32) % keys.len() as u64) as usize,
                }
            })
            .collect();
        World {
            keys,
            resources,
            resource_list,
            samples,
        }
    }
}

/// Checks that keyscope (prepared, raw and from the header), the lean and naive hand-written
/// peers and Cedar (both variants) agree on every request of `world`'s mix: keyscope and the
/// hand-written peers on the exact verdict (reason and filter), Cedar on allow/deny (it has no
/// reason codes). Returns the verdict counts.
pub fn verify_agreement(world: &World) -> Result<HashMap<String, usize>, String> {
    let keyscope = KeyscopePeer::new(world);
    let lean = Lean::new(world);
    let naive = Naive::new(world);
    let cedar = CedarPeer::new(world);
    let mut counts = HashMap::new();
    for (i, sample) in world.samples.iter().enumerate() {
        let ks = keyscope.verdict(sample);
        let allowed = matches!(ks, Verdict::Allow(_));
        let disagree = |who: &str, got: String| {
            Err(format!(
                "request {i} ({} {}, key {}): keyscope {ks:?}, {who} {got}",
                sample.method, sample.target, sample.key
            ))
        };
        let raw = keyscope.verdict_raw(sample);
        if raw != ks {
            return disagree("keyscope from the raw record", format!("{raw:?}"));
        }
        let lv = lean.decide(world, sample).to_verdict();
        if lv != ks {
            return disagree("lean", format!("{lv:?}"));
        }
        let nv = naive.decide(sample);
        if nv != ks {
            return disagree("naive", format!("{nv:?}"));
        }
        for prebuilt in [false, true] {
            if cedar.decide(world, sample, prebuilt) != allowed {
                return disagree("cedar", format!("allow={} (prebuilt={prebuilt})", !allowed));
            }
        }
        if keyscope.decide(sample) != allowed
            || keyscope.decide_raw(sample) != allowed
            || keyscope.decide_from_header(sample) != allowed
        {
            return disagree("keyscope's own fast paths", "differ".into());
        }
        let label = match &ks {
            Verdict::Allow(_) => "allow".to_string(),
            Verdict::Deny(reason) => reason.to_string(),
        };
        *counts.entry(label).or_insert(0) += 1;
    }
    Ok(counts)
}
