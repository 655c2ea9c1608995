//! The benchmark world: the Align rules decided three ways on one request mix.
//!
//! - [`KeyscopePeer`]: `policy-core`, driven with in-memory records (key lookup excluded).
//! - [`Handwritten`]: what a competent engineer writes in an hour instead of adopting keyscope:
//!   split the path, look up a static table, `HashSet` permissions.
//! - [`CedarPeer`]: `cedar-policy` with the Align rules written as Cedar policies and entities;
//!   routing (which Cedar does not do) is the hand-written router's.
//!
//! [`verify_agreement`] checks that all three agree on every request before anything is timed.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{Authorizer, Context, Entities, Entity, EntityUid, PolicySet, RestrictedExpression};
use percent_encoding::percent_decode_str;
use policy_core::{
    ApiKey, Decision, Engine, Environment, KeyHash, KeyRecord, ResourceOwner, Scope, Step, Timestamp,
};

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

impl World {
    /// The owner of a time entry, looked up without allocating.
    pub fn owner(&self, kind: &str, id: &str) -> Option<ResourceOwner<'_>> {
        if kind != "time_entry" {
            return None;
        }
        self.resources.get(id).map(|(o, p)| ResourceOwner {
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
    /// allowed and denied (scope, permission, unknown route, hidden resource).
    pub fn align() -> World {
        let mut keys = Vec::new();
        let mut seed = 7u8;
        let mut add = |role: &'static str, scope: Scope, grants: Option<&[&str]>| {
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
                    scoped_project_id: (scope == Scope::Project).then(|| "p1".into()),
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
        for (id, project) in [("te_1", "p1"), ("te_2", "p2"), ("te_3", "p1")] {
            resources.insert(id.into(), ("org_a".into(), project.into()));
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
            samples,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// keyscope
// ---------------------------------------------------------------------------------------------

/// policy-core with in-memory records.
pub struct KeyscopePeer<'w> {
    engine: Engine,
    world: &'w World,
    now: Timestamp,
}

impl<'w> KeyscopePeer<'w> {
    /// The Align engine over `world`.
    pub fn new(world: &'w World) -> Self {
        KeyscopePeer {
            engine: Engine::align(),
            world,
            now: Timestamp(1),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Path matching + decision for a sample whose key was already found (key lookup excluded,
    /// like the peers). Returns whether it was allowed.
    #[inline]
    pub fn decide(&self, sample: &Sample) -> bool {
        let key = &self.world.keys[sample.key];
        let auth =
            self.engine
                .authorize_hash::<&KeyRecord>(key.hash, sample.method, &sample.target, self.now);
        self.finish(auth, key)
    }

    /// The whole pipeline from the raw `X-Api-Key` header: presence, checksum, environment,
    /// SHA-256, then the decision.
    #[inline]
    pub fn decide_from_header(&self, sample: &Sample) -> bool {
        let key = &self.world.keys[sample.key];
        let request = policy_core::Request {
            method: sample.method,
            target: &sample.target,
            headers: policy_core::KeyHeaders::from_strs(Some(&key.secret), None),
        };
        let auth = self.engine.authorize::<&KeyRecord>(&request, self.now);
        self.finish(auth, key)
    }

    fn finish(&self, mut auth: policy_core::Authorization<'_, &'w KeyRecord>, key: &'w WorldKey) -> bool {
        self.answer(&mut auth, key);
        matches!(auth.decision(), Some(Decision::Allow(_)))
    }

    /// Answers the decision's lookups from memory until it is made.
    fn answer(&self, auth: &mut policy_core::Authorization<'_, &'w KeyRecord>, key: &'w WorldKey) {
        loop {
            let answered = match auth.next() {
                Step::LookupKey(_) => auth.provide_key(Some(&key.record)),
                Step::LookupMembership { .. } => auth.provide_membership(Some(key.role)),
                Step::LookupResource { kind, id } => auth.provide_resource(self.world.owner(kind, id)),
                Step::Done(_) => return,
            };
            if answered.is_err() {
                auth.store_failed();
            }
        }
    }

    /// The full verdict (for agreement checks).
    pub fn verdict(&self, sample: &Sample) -> Verdict {
        let key = &self.world.keys[sample.key];
        let mut auth =
            self.engine
                .authorize_hash::<&KeyRecord>(key.hash, sample.method, &sample.target, self.now);
        self.answer(&mut auth, key);
        match auth.decision() {
            Some(Decision::Allow(a)) => Verdict::Allow(a.project_filter.map(str::to_owned)),
            Some(Decision::Deny(d)) => Verdict::Deny(d.reason().code()),
            None => Verdict::Deny("unfinished"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The hand-written peer
// ---------------------------------------------------------------------------------------------

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

/// The static table of the hand-written peer: method, pattern, permission, project-key rule.
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

/// A key as the hand-written peer holds it.
pub struct HandKey {
    organization: String,
    project: Option<String>,
    grants: Option<HashSet<String>>,
    role: &'static str,
}

/// The hand-written implementation.
pub struct Handwritten {
    patterns: Vec<Vec<&'static str>>,
    roles: HashMap<&'static str, HashSet<&'static str>>,
    keys: Vec<HandKey>,
    resources: HashMap<String, (String, String)>,
}

impl Handwritten {
    /// Builds the tables for `world`.
    pub fn new(world: &World) -> Handwritten {
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
                    Scope::Project => k.record.scoped_project_id.clone(),
                    Scope::Organization => None,
                },
                grants: k.record.permissions.as_ref().map(|g| g.iter().cloned().collect()),
                role: k.role,
            })
            .collect();
        let resources = world.resources.clone();
        Handwritten {
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

// ---------------------------------------------------------------------------------------------
// Cedar
// ---------------------------------------------------------------------------------------------

/// The Align rules as Cedar policies.
pub const CEDAR_POLICIES: &str = r#"
@id("member")
permit(principal in Role::"member", action in [Action::"read:project", Action::"write:project",
  Action::"read:entry", Action::"write:entry", Action::"read:time_entry", Action::"write:time_entry",
  Action::"read:user", Action::"read:webhook", Action::"write:webhook", Action::"read:integration_link",
  Action::"read:audit_event", Action::"search"], resource);
@id("engineer")
permit(principal in Role::"engineer", action in [Action::"read:project", Action::"write:project",
  Action::"read:entry", Action::"write:entry", Action::"read:time_entry", Action::"write:time_entry",
  Action::"read:user", Action::"read:webhook", Action::"write:webhook", Action::"read:integration_link",
  Action::"read:audit_event", Action::"search"], resource);
@id("manager")
permit(principal in Role::"manager", action in [Action::"read:project", Action::"write:project",
  Action::"read:entry", Action::"write:entry", Action::"read:time_entry", Action::"write:time_entry",
  Action::"approve:time_entry", Action::"read:user", Action::"read:webhook", Action::"write:webhook",
  Action::"read:integration_link", Action::"read:audit_event", Action::"search"], resource);
@id("admin")
permit(principal in Role::"admin", action, resource);
@id("me")
permit(principal, action == Action::"me", resource);
@id("grants")
forbid(principal, action, resource) when {
  action != Action::"me" && principal.hasGrants && !(principal.grants.contains(context.permission))
};
@id("scope_deny")
forbid(principal, action, resource) when { principal.scope == "project" && resource.projectKey == "deny" };
@id("scope_path")
forbid(principal, action, resource) when {
  principal.scope == "project" && resource.projectKey == "own_path" && context.pathProject != principal.project
};
@id("resource")
forbid(principal, action, resource) when {
  principal.scope == "project" && resource.projectKey == "own_resource" && !context.resourceVisible
};
"#;

/// cedar-policy over the same world, routed by the hand-written router.
pub struct CedarPeer<'h> {
    router: &'h Handwritten,
    policies: PolicySet,
    authorizer: Authorizer,
    prebuilt: Vec<Entities>,
    endpoint_uids: Vec<EntityUid>,
    action_uids: Vec<EntityUid>,
}

fn uid(text: &str) -> EntityUid {
    EntityUid::from_str(text).unwrap_or_else(|e| panic!("bad uid {text}: {e}"))
}

impl<'h> CedarPeer<'h> {
    /// Parses the policies once and pre-builds entities for the prebuilt variant.
    pub fn new(router: &'h Handwritten) -> CedarPeer<'h> {
        let policies = PolicySet::from_str(CEDAR_POLICIES).unwrap_or_else(|e| panic!("cedar policies: {e}"));
        let endpoint_uids = (0..TABLE.len())
            .map(|i| uid(&format!("Endpoint::\"{i}\"")))
            .collect();
        let action_uids = TABLE
            .iter()
            .map(|row| uid(&format!("Action::\"{}\"", row.2.unwrap_or("me"))))
            .collect();
        let mut peer = CedarPeer {
            router,
            policies,
            authorizer: Authorizer::new(),
            prebuilt: Vec::new(),
            endpoint_uids,
            action_uids,
        };
        peer.prebuilt = (0..router.keys.len()).map(|k| peer.entities(k, None)).collect();
        peer
    }

    /// The entities of one decision: the key (child of its creator's role), the role, and the
    /// endpoint(s).
    fn entities(&self, key: usize, row: Option<usize>) -> Entities {
        let k = &self.router.keys[key];
        let role = uid(&format!("Role::\"{}\"", k.role));
        let grants = k
            .grants
            .iter()
            .flatten()
            .map(|g| RestrictedExpression::new_string(g.clone()));
        let attrs = HashMap::from([
            (
                "scope".to_string(),
                RestrictedExpression::new_string(
                    if k.project.is_some() {
                        "project"
                    } else {
                        "organization"
                    }
                    .into(),
                ),
            ),
            (
                "project".to_string(),
                RestrictedExpression::new_string(k.project.clone().unwrap_or_default()),
            ),
            (
                "hasGrants".to_string(),
                RestrictedExpression::new_bool(k.grants.is_some()),
            ),
            ("grants".to_string(), RestrictedExpression::new_set(grants)),
        ]);
        let principal = Entity::new(
            uid(&format!("Key::\"{key}\"")),
            attrs,
            HashSet::from([role.clone()]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let rows: Vec<usize> = match row {
            Some(r) => vec![r],
            None => (0..TABLE.len()).collect(),
        };
        let mut entities = vec![principal, Entity::with_uid(role)];
        for r in rows {
            let rule = match TABLE[r].3 {
                Rule::Allow => "allow",
                Rule::Filtered => "filtered",
                Rule::OwnPath => "own_path",
                Rule::OwnResource => "own_resource",
                Rule::Deny => "deny",
            };
            let attrs = HashMap::from([(
                "projectKey".to_string(),
                RestrictedExpression::new_string(rule.into()),
            )]);
            entities.push(
                Entity::new(self.endpoint_uids[r].clone(), attrs, HashSet::new())
                    .unwrap_or_else(|e| panic!("{e}")),
            );
        }
        Entities::from_entities(entities, None).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Path matching + decision. `prebuilt` reuses entities made once per key.
    #[inline]
    pub fn decide(&self, sample: &Sample, prebuilt: bool) -> bool {
        let Some((row, id)) = self.router.route(sample.method, &sample.target) else {
            return false;
        };
        let k = &self.router.keys[sample.key];
        let visible = match (&k.project, TABLE[row].3, &id) {
            (Some(project), Rule::OwnResource, Some(id)) => self
                .router
                .resources
                .get(id)
                .is_some_and(|(org, p)| *org == k.organization && p == project),
            _ => false,
        };
        let context = Context::from_pairs([
            (
                "permission".to_string(),
                RestrictedExpression::new_string(TABLE[row].2.unwrap_or("me").into()),
            ),
            (
                "pathProject".to_string(),
                RestrictedExpression::new_string(id.unwrap_or_default()),
            ),
            (
                "resourceVisible".to_string(),
                RestrictedExpression::new_bool(visible),
            ),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let request = cedar_policy::Request::new(
            uid(&format!("Key::\"{}\"", sample.key)),
            self.action_uids[row].clone(),
            self.endpoint_uids[row].clone(),
            context,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let fresh;
        let entities = if prebuilt {
            &self.prebuilt[sample.key]
        } else {
            fresh = self.entities(sample.key, Some(row));
            &fresh
        };
        self.authorizer
            .is_authorized(&request, &self.policies, entities)
            .decision()
            == cedar_policy::Decision::Allow
    }
}

/// Checks that keyscope, the hand-written peer and Cedar (both variants) agree on every
/// request of the mix: keyscope and the hand-written peer on the exact verdict (reason and
/// filter), Cedar on allow/deny (it has no reason codes). Returns the verdict counts.
pub fn verify_agreement(world: &World) -> Result<HashMap<String, usize>, String> {
    let keyscope = KeyscopePeer::new(world);
    let hand = Handwritten::new(world);
    let cedar = CedarPeer::new(&hand);
    let mut counts = HashMap::new();
    for (i, sample) in world.samples.iter().enumerate() {
        let ks = keyscope.verdict(sample);
        let hw = hand.decide(sample);
        let allowed = matches!(ks, Verdict::Allow(_));
        let disagree = |who: &str, got: String| {
            Err(format!(
                "request {i} ({} {}, key {}): keyscope {ks:?}, {who} {got}",
                sample.method, sample.target, sample.key
            ))
        };
        if hw != ks {
            return disagree("hand-written", format!("{hw:?}"));
        }
        for prebuilt in [false, true] {
            if cedar.decide(sample, prebuilt) != allowed {
                return disagree("cedar", format!("allow={}", !allowed));
            }
        }
        if keyscope.decide(sample) != allowed || keyscope.decide_from_header(sample) != allowed {
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
