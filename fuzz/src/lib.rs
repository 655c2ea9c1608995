//! What the fuzz targets share: fuzzer-chosen requests, store answers and policy mutations, and
//! the properties every decision must keep whatever the input.
//!
//! Each target (in `fuzz_targets/`) turns libFuzzer's bytes into one of these inputs with
//! `arbitrary`, runs policy-core on it and asserts the properties below. A property that fails
//! panics, which libFuzzer reports as a crash (and `scripts/fuzz` as a failure).

use arbitrary::Arbitrary;
use policy_core::{ProjectIds, 
    is_identity_header, ApiKey, Decision, Engine, Environment, KeyHeaders, KeyRecord, Policy, Reason,
    Request, ResourceOwner, Scope, Step, Timestamp,
};

/// Methods worth trying besides raw bytes (the policy's own, other verbs, other cases).
pub const METHODS: &[&str] = &[
    "GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS", "QUERY", "get", "Get", "",
];

/// Request targets shaped like the Align policy's rows; `{}` is replaced by a fuzzed id.
pub const TARGETS: &[&str] = &[
    "/api/v1/me",
    "/api/v1/projects",
    "/api/v1/projects/{}",
    "/api/v1/projects/{}/entries",
    "/api/v1/projects/{}/time-entries",
    "/api/v1/time-entries",
    "/api/v1/time-entries/{}",
    "/api/v1/time-entries/{}/approve",
    "/api/v1/time-entries/{}/reject",
    "/api/v1/time-entries/{}/unlock",
    "/api/v1/users",
    "/api/v1/users/invite",
    "/api/v1/webhooks",
    "/api/v1/integration-links",
    "/api/v1/audit-events",
    "/api/v1/search",
    "/api/v1/search?q={}",
    "/api/v1//projects",
    "/api/v1/projects/./{}/entries",
    "/api/v1/projects/%2e%2e/{}",
    "/api/v2/me",
    "/",
];

/// Organization, user, project and role names the fixed world uses; fuzzed answers pick from
/// these (so that matches happen) or bring their own bytes.
pub const NAMES: &[&str] = &[
    "org_a", "org_b", "u_1", "u_2", "p1", "p2", "te_1", "", "admin", "manager", "engineer", "member",
];

/// A text the fuzzer picks: one of a list, or its own.
#[derive(Arbitrary, Debug)]
pub enum Text<'a> {
    /// `NAMES[i % len]` (or the list the caller passes).
    Known(u8),
    /// Any UTF-8.
    Raw(&'a str),
}

impl<'a> Text<'a> {
    /// The text, picking known ones from `list`.
    pub fn get(&self, list: &[&'static str]) -> &'a str {
        match self {
            Text::Known(i) => list
                .get(usize::from(*i) % list.len().max(1))
                .copied()
                .unwrap_or(""),
            Text::Raw(s) => s,
        }
    }
}

/// The keys the fuzzed requests can present: two live, one test (a live engine refuses it).
pub fn fixed_keys() -> Vec<ApiKey> {
    [
        (Environment::Live, 1u8),
        (Environment::Live, 2),
        (Environment::Test, 3),
    ]
    .iter()
    .map(|&(env, seed)| {
        let random: Vec<u8> = (0..200u16)
            .map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed))
            .collect();
        ApiKey::generate(env, &random).unwrap()
    })
    .collect()
}

/// A key-carrying header value.
#[derive(Arbitrary, Debug)]
pub enum HeaderValue<'a> {
    /// Any bytes.
    Raw(&'a [u8]),
    /// One of [`fixed_keys`], as the bare value (`X-Api-Key`) or as `Bearer <key>`, with the
    /// scheme's case, padding, and perhaps one byte changed.
    Key {
        /// Which fixed key.
        which: u8,
        /// `Bearer ` in front (for `Authorization`).
        bearer: bool,
        /// Scheme spelt in lower case.
        lower: bool,
        /// Spaces and tabs around.
        pad: u8,
        /// One byte of the key replaced: (position, byte).
        flip: Option<(u8, u8)>,
    },
}

impl HeaderValue<'_> {
    /// The header's bytes.
    pub fn bytes(&self, keys: &[ApiKey]) -> Vec<u8> {
        match self {
            HeaderValue::Raw(raw) => raw.to_vec(),
            HeaderValue::Key {
                which,
                bearer,
                lower,
                pad,
                flip,
            } => {
                let key = &keys[usize::from(*which) % keys.len()];
                let mut secret = key.expose_secret().as_bytes().to_vec();
                if let Some((at, byte)) = flip {
                    let at = usize::from(*at) % secret.len();
                    secret[at] = *byte;
                }
                let pad: &[u8] = match pad % 4 {
                    0 => b"",
                    1 => b" ",
                    2 => b"\t ",
                    _ => b" \t\t",
                };
                let mut out = Vec::new();
                if *bearer {
                    out.extend_from_slice(if *lower { b"bearer" } else { b"Bearer" });
                    out.push(b' ');
                }
                out.extend_from_slice(pad);
                out.extend_from_slice(&secret);
                out.extend_from_slice(pad);
                out
            }
        }
    }
}

/// A key record the store answers with.
#[derive(Arbitrary, Debug)]
pub struct RecordSpec<'a> {
    /// Key id.
    pub id: Text<'a>,
    /// Organization.
    pub organization_id: Text<'a>,
    /// Creator.
    pub created_by: Text<'a>,
    /// Project-scoped?
    pub project: bool,
    /// Scoped project (may be absent even for a project key: an inconsistent store).
    pub scoped_project_id: Option<Text<'a>>,
    /// Explicit grants, by name.
    pub permissions: Option<Vec<Text<'a>>>,
    /// Revocation time.
    pub revoked_at: Option<i64>,
    /// Expiry time.
    pub expires_at: Option<i64>,
}

/// Permission names of the Align policy, for fuzzed grants.
pub const PERMISSIONS: &[&str] = &[
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
    "nonsense",
];

impl RecordSpec<'_> {
    /// The record.
    pub fn record(&self, hint: &str) -> KeyRecord {
        KeyRecord {
            id: self.id.get(NAMES).into(),
            name: "fuzz".into(),
            hint: hint.into(),
            organization_id: self.organization_id.get(NAMES).into(),
            created_by: self.created_by.get(NAMES).into(),
            scope: if self.project {
                Scope::Project
            } else {
                Scope::Organization
            },
            scoped_project_ids: self
                .scoped_project_id
                .as_ref()
                .map_or_else(ProjectIds::none, |t| ProjectIds::one(t.get(NAMES))),
            allowed_cidrs: None,
            rate_limit: None,
            quota: None,
            permissions: self
                .permissions
                .as_ref()
                .map(|ps| ps.iter().map(|p| p.get(PERMISSIONS).into()).collect()),
            created_at: Timestamp(0),
            last_used_at: None,
            revoked_at: self.revoked_at.map(Timestamp),
            expires_at: self.expires_at.map(Timestamp),
        }
    }
}

/// One request and every answer the store will give, plus where the store fails.
#[derive(Arbitrary, Debug)]
pub struct DecisionInput<'a> {
    /// Method: a known one or raw.
    pub method: Text<'a>,
    /// Target: a template index and the id spliced into it, or raw.
    pub target: Target<'a>,
    /// `X-Api-Key`.
    pub x_api_key: Option<HeaderValue<'a>>,
    /// `Authorization`.
    pub authorization: Option<HeaderValue<'a>>,
    /// The record stored under the presented hash (`None`: unknown key).
    pub record: Option<RecordSpec<'a>>,
    /// The creator's role (`None`: not a member).
    pub role: Option<Text<'a>>,
    /// The resource's owner (`None`: unknown).
    pub owner: Option<(Text<'a>, Text<'a>)>,
    /// The clock.
    pub now: i64,
    /// The lookup (0, 1, 2) at which the store fails, if any.
    pub fail_at: Option<u8>,
    /// Answers given out of turn before each real one (must be refused, change nothing).
    pub noise: Vec<u8>,
}

/// A request target.
#[derive(Arbitrary, Debug)]
pub enum Target<'a> {
    /// `TARGETS[i]` with `{}` replaced.
    Template(u8, Text<'a>),
    /// Any UTF-8.
    Raw(&'a str),
}

impl Target<'_> {
    /// The target string.
    pub fn build(&self) -> String {
        match self {
            Target::Template(i, id) => {
                let template = TARGETS[usize::from(*i) % TARGETS.len()];
                template.replace("{}", id.get(NAMES))
            }
            Target::Raw(s) => (*s).to_string(),
        }
    }
}

/// What a driven decision ended with, for comparing two ways of driving it.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Allowed: key id, role, project filter.
    Allow(String, String, Option<String>),
    /// Denied: status and reason code.
    Deny(u16, &'static str),
}

/// Drives one decision step by step with the fuzzed answers and checks every property; returns
/// the outcome.
pub fn drive(engine: &Engine, keys: &[ApiKey], input: &DecisionInput<'_>) -> Outcome {
    let method = input.method.get(METHODS);
    let target = input.target.build();
    let x = input.x_api_key.as_ref().map(|h| h.bytes(keys));
    let auth_header = input.authorization.as_ref().map(|h| h.bytes(keys));
    let headers = KeyHeaders {
        x_api_key: x.as_deref(),
        authorization: auth_header.as_deref(),
    };
    let request = Request {
        method,
        target: &target,
        headers,
        client: None,
    };
    let now = Timestamp(input.now);
    let hint = "hint";
    let record = input.record.as_ref().map(|r| r.record(hint));
    let mut auth = engine.authorize::<&KeyRecord>(&request, now);
    let mut lookups = 0u8;
    let mut failed = false;
    let mut noise = input.noise.iter();
    let mut role_given = None;
    let outcome = loop {
        assert!(lookups <= 3, "a decision asks at most three questions");
        // Out-of-turn answers are refused and change nothing.
        if let Some(n) = noise.next() {
            let before = format!("{:?}", auth.next());
            let refused = match (n % 3, auth.next()) {
                (0, Step::LookupKey(_))
                | (1, Step::LookupMembership { .. })
                | (2, Step::LookupResource { .. }) => true,
                (0, _) => auth.provide_key(record.as_ref()).is_err(),
                (1, _) => auth.provide_membership(Some("admin")).is_err(),
                _ => auth.provide_resource(None).is_err(),
            };
            assert!(refused, "an answer out of turn must be refused");
            assert_eq!(
                before,
                format!("{:?}", auth.next()),
                "a refused answer changed the decision"
            );
        }
        if input.fail_at == Some(lookups) && !matches!(auth.next(), Step::Done(_)) {
            auth.store_failed();
            failed = true;
        }
        match auth.next() {
            Step::LookupKey(hash) => {
                // The hash asked for is the presented key's.
                let presented = engine
                    .presented_key(&headers)
                    .expect("a lookup means the key passed");
                assert_eq!(presented, hash);
                auth.provide_key(record.as_ref()).unwrap();
            }
            Step::LookupMembership {
                organization_id,
                user_id,
            } => {
                let r = record.as_ref().expect("membership is asked after a record");
                assert_eq!((organization_id, user_id), (&*r.organization_id, &*r.created_by));
                let role = input.role.as_ref().map(|t| t.get(NAMES));
                role_given = role;
                auth.provide_membership(role).unwrap();
            }
            Step::LookupResource { kind, id } => {
                assert!(!kind.is_empty() && !id.is_empty());
                let owner = input.owner.as_ref().map(|(o, p)| ResourceOwner {
                    organization_id: o.get(NAMES),
                    project_id: p.get(NAMES),
                });
                auth.provide_resource(owner).unwrap();
            }
            Step::Done(decision) => {
                break check_decision(
                    engine,
                    &request,
                    record.as_ref(),
                    role_given,
                    now,
                    failed,
                    decision,
                    &auth,
                )
            }
        }
        lookups += 1;
    };
    outcome
}

/// The properties of a finished decision.
#[allow(clippy::too_many_arguments)]
fn check_decision(
    engine: &Engine,
    request: &Request<'_>,
    record: Option<&KeyRecord>,
    role: Option<&str>,
    now: Timestamp,
    failed: bool,
    decision: Decision<'_>,
    auth: &policy_core::Authorization<'_, &KeyRecord>,
) -> Outcome {
    let secrets: Vec<&[u8]> = [request.headers.x_api_key, request.headers.authorization]
        .into_iter()
        .flatten()
        .collect();
    match decision {
        Decision::Allow(allow) => {
            assert!(!failed, "a failed store never allows");
            let r = record.expect("allowed without a record");
            assert!(r.revoked_at.is_none_or(|t| t > now), "revoked key allowed");
            assert!(r.expires_at.is_none_or(|t| t > now), "expired key allowed");
            let role = role.expect("allowed without a membership");
            assert_eq!(allow.role, role);
            assert!(
                engine.policy().role_grants(role).is_some(),
                "unknown role allowed"
            );
            let route = engine
                .policy()
                .route(request.method, request.target)
                .expect("allowed on no endpoint");
            // HEAD is matched as GET (SPEC).
            let method = if request.method == "HEAD" {
                "GET"
            } else {
                request.method
            };
            assert_eq!(route.endpoint.method(), method);
            assert_eq!(allow.key_id, r.id);
            assert_eq!(allow.organization_id, r.organization_id);
            assert_eq!(allow.user_id, r.created_by);
            // Explicit grants only narrow the role.
            let grants = engine.policy().role_grants(role).unwrap();
            assert_eq!(
                allow.effective_permissions.intersect(grants),
                allow.effective_permissions
            );
            if r.scope == Scope::Project {
                assert!(!r.scoped_project_ids.is_empty());
                if let Some(filter) = allow.project_filter {
                    assert_eq!(filter.ids(), r.scoped_project_ids.as_slice());
                }
            } else {
                assert!(allow.project_filter.is_none());
            }
            for (name, _) in allow.identity_headers() {
                assert!(is_identity_header(name));
            }
            if allow.serves_me() {
                let me = auth.me().expect("an allowed /me has a view").to_json();
                assert!(serde_json::from_str::<serde_json::Value>(&me).is_ok());
                // The view shows the stored record's fields: text the store itself holds is
                // not an echo of the request.
                let stored = serde_json::to_string(r).expect("a record serializes");
                assert_no_secret(&me, &secrets, &stored);
            }
            Outcome::Allow(r.id.clone(), role.into(), allow.project_filter.map(|f| f.to_string()))
        }
        Decision::Deny(denial) => {
            if failed {
                assert_eq!(denial.reason(), Reason::Unavailable, "a failed store denies 503");
            }
            let json = denial.to_json();
            let value: serde_json::Value = serde_json::from_str(&json).expect("denial JSON");
            assert_eq!(value["reason"].as_str(), Some(denial.reason().code()));
            assert!(value["message"].as_str().is_some_and(|m| !m.is_empty()));
            assert!(
                matches!(denial.status(), 401 | 403 | 404 | 429 | 503),
                "{}",
                denial.status()
            );
            assert_eq!(denial.www_authenticate().is_some(), denial.status() == 401);
            assert_no_secret(&json, &secrets, "");
            Outcome::Deny(denial.status(), denial.reason().code())
        }
    }
}

/// A body never carries a presented key (nor a long part of one) unless the store holds that
/// text itself (`stored`: the record the body may show).
fn assert_no_secret(body: &str, headers: &[&[u8]], stored: &str) {
    for header in headers {
        // Any 20-byte window of a presented value that looks like key material.
        for window in header.windows(20) {
            if window.iter().all(u8::is_ascii_alphanumeric) {
                let text = core::str::from_utf8(window).unwrap();
                assert!(
                    !body.contains(text) || stored.contains(text),
                    "a body echoes the presented key"
                );
            }
        }
    }
}

/// Exercises a compiled policy: naming round trips and a decision on every endpoint row with a
/// key of every role. Nothing here may panic whatever the policy says.
pub fn exercise_policy(policy: &Policy) {
    for (i, name) in policy.permissions().enumerate() {
        assert_eq!(policy.permission_index(name), Some(i), "permission {name:?}");
        assert_eq!(policy.permission_name(i), Some(name));
    }
    let all = policy.permission_set(policy.permissions());
    assert_eq!(policy.permission_names(all).count(), policy.permissions().count());
    let roles: Vec<String> = policy.roles().map(Into::into).collect();
    for role in &roles {
        assert!(policy.role_grants(role).is_some());
        for scope in [Scope::Organization, Scope::Project] {
            let _ = policy.may_create_key(role, scope);
        }
    }
    for preset in policy.presets().map(String::from).collect::<Vec<_>>() {
        assert!(policy.preset(&preset).is_some());
    }
    let engine = Engine::new(policy.clone(), Environment::Live);
    let rows: Vec<(String, String)> = policy
        .endpoints()
        .iter()
        .map(|e| (e.method().into(), e.pattern().into()))
        .collect();
    for (method, pattern) in rows {
        let target = format!(
            "{}{}",
            policy.base_path().trim_end_matches('/'),
            pattern
                .split('/')
                .map(|s| if s.starts_with(':') { "p1" } else { s })
                .collect::<Vec<_>>()
                .join("/")
        );
        for role in &roles {
            for scope in [Scope::Organization, Scope::Project] {
                let record = KeyRecord {
                    id: "key_1".into(),
                    name: "k".into(),
                    hint: "hint".into(),
                    organization_id: "org_a".into(),
                    created_by: "u_1".into(),
                    scope,
                    scoped_project_ids: if scope == Scope::Project { ProjectIds::one("p1") } else { ProjectIds::none() }, allowed_cidrs: None, rate_limit: None, quota: None,
                    permissions: None,
                    created_at: Timestamp(0),
                    last_used_at: None,
                    revoked_at: None,
                    expires_at: None,
                };
                // The offline key checks are the decision target's business: start after them.
                let hash = policy_core::KeyHash::from_bytes([7; 32]);
                let mut auth = engine.authorize_hash::<&KeyRecord>(hash, &method, &target, None, Timestamp(1));
                for _ in 0..4 {
                    match auth.next() {
                        Step::LookupKey(_) => auth.provide_key(Some(&record)).unwrap(),
                        Step::LookupMembership { .. } => auth.provide_membership(Some(role)).unwrap(),
                        Step::LookupResource { .. } => auth
                            .provide_resource(Some(ResourceOwner {
                                organization_id: "org_a",
                                project_id: "p1",
                            }))
                            .unwrap(),
                        Step::Done(decision) => {
                            match decision {
                                Decision::Deny(denial) => assert!(!denial.to_json().is_empty()),
                                Decision::Allow(allow) if allow.serves_me() => {
                                    assert!(auth.me().is_some_and(|me| !me.to_json().is_empty()));
                                }
                                Decision::Allow(_) => {}
                            }
                            break;
                        }
                    }
                }
                assert!(matches!(auth.next(), Step::Done(_)), "a decision ends");
            }
        }
    }
}
