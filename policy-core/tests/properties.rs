//! Property tests of the key format and the decision.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use policy_core::{
    ApiKey, Decision, Engine, Environment, KeyHeaders, KeyRecord, Policy, ProjectIds, Request, Scope, Step,
    Timestamp,
};
use proptest::prelude::*;

fn record(scope: Scope, permissions: Option<Vec<String>>) -> KeyRecord {
    KeyRecord {
        id: "key_1".into(),
        name: "prop".into(),
        hint: "abcd".into(),
        organization_id: "org_a".into(),
        created_by: "u_1".into(),
        scope,
        scoped_project_ids: if scope == Scope::Project {
            ProjectIds::one("p1")
        } else {
            ProjectIds::none()
        },
        allowed_cidrs: None,
        rate_limit: None,
        quota: None,
        permissions,
        created_at: Timestamp(0),
        last_used_at: None,
        revoked_at: None,
        expires_at: None,
    }
}

/// Drives a decision to the end, answering every lookup with the given world.
fn drive(engine: &Engine, request: &Request<'_>, record: &KeyRecord, role: &str) -> Option<(u16, bool)> {
    let mut auth = engine.authorize::<&KeyRecord>(request, Timestamp(1));
    for _ in 0..4 {
        match auth.next() {
            Step::LookupKey(_) => auth.provide_key(Some(record)).ok()?,
            Step::LookupMembership { .. } => auth.provide_membership(Some(role)).ok()?,
            Step::LookupResource { .. } => auth
                .provide_resource(Some(policy_core::ResourceOwner {
                    organization_id: "org_a",
                    project_id: "p1",
                }))
                .ok()?,
            Step::Done(Decision::Allow(_)) => return Some((200, true)),
            Step::Done(Decision::Deny(d)) => {
                // Every denial body is valid JSON naming its reason.
                let body: serde_json::Value = serde_json::from_str(&d.to_json()).ok()?;
                assert_eq!(body["reason"], d.reason().code());
                return Some((d.status(), false));
            }
        }
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generate_then_parse_round_trips(random in proptest::collection::vec(any::<u8>(), 64..96), live in any::<bool>()) {
        let env = if live { Environment::Live } else { Environment::Test };
        if let Ok(key) = ApiKey::generate(env, &random) {
            let text = key.expose_secret().to_owned();
            prop_assert_eq!(text.len(), 44);
            let parsed = ApiKey::parse_for(&text, env).expect("a generated key parses");
            prop_assert_eq!(parsed.hash(), key.hash());
            prop_assert_eq!(parsed.hint(), &text[40..]);
        }
    }

    #[test]
    fn every_single_character_change_fails(random in proptest::collection::vec(any::<u8>(), 64), pos in 0usize..44, replacement in any::<char>()) {
        let key = ApiKey::generate(Environment::Live, &random);
        prop_assume!(key.is_ok());
        let text = key.unwrap().expose_secret().to_owned();
        let original = text.as_bytes()[pos] as char;
        prop_assume!(replacement != original);
        let mut changed = String::with_capacity(48);
        changed.push_str(&text[..pos]);
        changed.push(replacement);
        changed.push_str(&text[pos + 1..]);
        prop_assert!(ApiKey::parse(&changed).is_err(), "{} accepted", pos);
    }

    #[test]
    fn decide_never_panics(method in ".{0,12}", target in ".{0,200}", x in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..80)), auth in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..80)), role in "[a-z]{0,10}", project in any::<bool>()) {
        let engine = Engine::align().unwrap();
        let rec = record(if project { Scope::Project } else { Scope::Organization }, None);
        let request = Request { method: &method, target: &target, headers: KeyHeaders { x_api_key: x.as_deref(), authorization: auth.as_deref() }, client: None };
        prop_assert!(drive(&engine, &request, &rec, &role).is_some());
    }

    #[test]
    fn decide_with_a_valid_key_never_panics_on_any_path(method in prop_oneof![Just("GET".to_string()), Just("POST".to_string()), Just("PATCH".to_string()), Just("HEAD".to_string()), ".{0,8}"], suffix in "(/[a-zA-Z0-9%._~:-]{0,70}){0,14}", query in proptest::option::of(".{0,20}"), role in prop_oneof![Just("member"), Just("engineer"), Just("manager"), Just("admin")], project in any::<bool>()) {
        let engine = Engine::align().unwrap();
        let key = ApiKey::generate(Environment::Live, &[42u8; 64]).unwrap();
        let rec = record(if project { Scope::Project } else { Scope::Organization }, None);
        let target = match query { Some(q) => format!("/api/v1{suffix}?{q}"), None => format!("/api/v1{suffix}") };
        let request = Request { method: &method, target: &target, headers: KeyHeaders::from_strs(Some(key.expose_secret()), None), client: None };
        let (status, allowed) = drive(&engine, &request, &rec, role).expect("finishes");
        prop_assert!(allowed == (status == 200));
        if allowed {
            prop_assert!(engine.policy().route(&method, &target).is_some());
        }
    }

    #[test]
    fn effective_permissions_never_exceed_the_role(role in prop_oneof![Just("member"), Just("engineer"), Just("manager"), Just("admin"), Just("nobody")], grants in proptest::option::of(proptest::collection::vec(prop_oneof![
        Just("read:project"), Just("approve:time_entry"), Just("invite:user"), Just("delete:project"), Just("search"), Just("write:time_entry"), Just("bogus"), Just("")], 0..8))) {
        let policy = Policy::align().unwrap();
        let role_set = policy.role_grants(role).unwrap_or_default();
        let effective = policy.effective_permissions(role, grants.as_ref().map(|g| g.iter().copied()));
        prop_assert!(effective.is_subset_of(role_set));
        if let Some(g) = &grants {
            let granted = policy.permission_set(g.iter().copied());
            prop_assert!(effective.is_subset_of(granted));
        } else {
            prop_assert_eq!(effective, role_set);
        }
    }

    #[test]
    fn the_decision_uses_the_same_effective_permissions(role in prop_oneof![Just("member"), Just("manager"), Just("admin")], grants in proptest::option::of(proptest::sample::subsequence(vec!["read:project", "read:user", "invite:user", "approve:time_entry", "delete:project"], 0..5))) {
        let engine = Engine::align().unwrap();
        let key = ApiKey::generate(Environment::Live, &[3u8; 64]).unwrap();
        let rec = record(Scope::Organization, grants.as_ref().map(|g| g.iter().map(|s| s.to_string()).collect()));
        let expected = engine.policy().effective_permissions(role, grants.as_ref().map(|g| g.iter().copied()));
        let bearer = format!("Bearer {}", key.expose_secret());
        for (method, path, permission) in [("GET", "/api/v1/users", "read:user"), ("POST", "/api/v1/users/invite", "invite:user"), ("DELETE", "/api/v1/projects/p9", "delete:project"), ("GET", "/api/v1/projects", "read:project")] {
            let request = Request { method, target: path, headers: KeyHeaders::from_strs(None, Some(&bearer)), client: None };
            let (_, allowed) = drive(&engine, &request, &rec, role).unwrap();
            let index = engine.policy().permission_index(permission).unwrap();
            prop_assert_eq!(allowed, expected.contains(index), "{} {}", method, path);
        }
    }
}

/// The matching rules of SPEC "Matching a request", written as plainly as possible: the first
/// row (document order) of the method (`HEAD` as `GET`) whose static segments equal the path's
/// and whose parameters are valid ids; any empty, `.` or `..` segment matches nothing.
fn reference_route(policy: &Policy, method: &str, target: &str) -> Option<String> {
    let path = target.split('?').next().unwrap_or("");
    let rest = path.strip_prefix(policy.base_path())?.strip_prefix('/')?;
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.iter().any(|s| s.is_empty() || *s == "." || *s == "..") {
        return None;
    }
    let method = if method == "HEAD" { "GET" } else { method };
    policy
        .endpoints()
        .iter()
        .find(|e| {
            let pattern: Vec<&str> = e.pattern()[1..].split('/').collect();
            e.method() == method
                && pattern.len() == segments.len()
                && pattern.iter().zip(&segments).all(|(p, s)| {
                    if p.starts_with(':') {
                        policy_core::PathId::decode(s).is_some()
                    } else {
                        p == s
                    }
                })
        })
        .map(|e| format!("{} {}", e.method(), e.pattern()))
}

/// Drives a decision whose key was provided to the end; its outcome as text.
fn finish<R: policy_core::KeySource>(auth: &mut policy_core::Authorization<'_, R>, role: &str) -> String {
    loop {
        match auth.next() {
            Step::LookupMembership { .. } => auth.provide_membership(Some(role)).unwrap(),
            Step::LookupResource { .. } => auth
                .provide_resource(Some(policy_core::ResourceOwner {
                    organization_id: "org_a",
                    project_id: "p1",
                }))
                .unwrap(),
            Step::Done(d) => {
                break format!(
                    "{:?}",
                    d.denied()
                        .map(|d| d.reason())
                        .ok_or(d.allowed().map(|a| (a.effective_permissions, a.project_filter)))
                )
            }
            Step::LookupKey(_) => unreachable!(),
        }
    }
}

/// A policy whose rows share prefixes, mix a parameter and a static segment at one position
/// across methods and lengths, and start with a parameter.
const TANGLED_POLICY: &str = r#"{
  "basePath": "/v2", "permissions": ["p"], "roles": {"r": ["p"]},
  "keyCreators": {"organization": ["r"], "project": ["r"]},
  "endpoints": [
    {"method": "GET", "path": "/a/:id", "permission": "p", "projectKey": "own_path"},
    {"method": "GET", "path": "/a/b/c", "permission": "p", "projectKey": "allow"},
    {"method": "GET", "path": "/a/:id/x", "permission": "p", "projectKey": "own_path"},
    {"method": "GET", "path": "/a/b/y", "permission": "p", "projectKey": "allow"},
    {"method": "POST", "path": "/a/b", "permission": "p", "projectKey": "allow"},
    {"method": "GET", "path": "/:org/list/all", "permission": "p", "projectKey": "own_path"},
    {"method": "PROPPATCH", "path": "/a", "permission": "p", "projectKey": "allow"},
    {"method": "PROPFIND", "path": "/a", "permission": "p", "projectKey": "deny"}
  ]
}"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn the_router_follows_the_plain_matching_rules(
        method in prop_oneof![Just("GET"), Just("HEAD"), Just("POST"), Just("PATCH"), Just("DELETE"), Just("PUT"), Just("get"), Just("PROPFIND"), Just("PROPPATCH"), Just("PROPFINDX")],
        segments in proptest::collection::vec(prop_oneof![
            Just("projects".to_string()), Just("time-entries".to_string()), Just("entries".to_string()), Just("me".to_string()),
            Just("a".to_string()), Just("b".to_string()), Just("c".to_string()), Just("x".to_string()), Just("y".to_string()), Just("list".to_string()), Just("all".to_string()),
            Just("approve".to_string()), Just("users".to_string()), Just("invite".to_string()), Just("p%31".to_string()), Just("te_1".to_string()),
            Just(".".to_string()), Just("..".to_string()), Just(String::new()), Just("%zz".to_string()), "[a-zA-Z0-9%._~-]{0,8}",
        ], 0..5),
        base in prop_oneof![Just("/api/v1"), Just("/v2"), Just("/api/v1x"), Just("")],
        query in proptest::option::of("[a-z=/]{0,6}"),
    ) {
        let target = match query {
            Some(q) => format!("{base}/{}?{q}", segments.join("/")),
            None => format!("{base}/{}", segments.join("/")),
        };
        for policy in [Policy::align().unwrap(), Policy::from_json(TANGLED_POLICY).unwrap()] {
            let got = policy.route(method, &target).map(|m| format!("{} {}", m.endpoint.method(), m.endpoint.pattern()));
            prop_assert_eq!(got, reference_route(&policy, method, &target), "{} {}", method, target);
        }
    }

    #[test]
    fn a_prepared_key_decides_as_its_raw_record(
        grants in proptest::option::of(proptest::collection::vec(prop_oneof![
            Just("read:project"), Just("read:entry"), Just("approve:time_entry"), Just("invite:user"), Just("write:time_entry"), Just("search"), Just("bogus"), Just("")], 0..6)),
        project in any::<bool>(),
        role in prop_oneof![Just("member"), Just("engineer"), Just("manager"), Just("admin"), Just("nobody")],
        route in 0usize..10,
        revoked in proptest::option::of(0i64..3),
        expires in proptest::option::of(0i64..3),
    ) {
        let routes = [("GET", "/api/v1/projects"), ("GET", "/api/v1/users"), ("POST", "/api/v1/users/invite"), ("GET", "/api/v1/projects/p1/entries"),
            ("GET", "/api/v1/projects/p2/entries"), ("PATCH", "/api/v1/time-entries/te_1"), ("POST", "/api/v1/time-entries/te_1/approve"),
            ("GET", "/api/v1/me"), ("DELETE", "/api/v1/projects/p1"), ("GET", "/api/v1/nope")];
        let (method, target) = routes[route];
        let engine = Engine::align().unwrap();
        let mut raw = record(if project { Scope::Project } else { Scope::Organization }, grants.map(|g| g.iter().map(|s| s.to_string()).collect()));
        let prepared = engine.prepare(raw.clone());
        raw.revoked_at = revoked.map(Timestamp);
        raw.expires_at = expires.map(Timestamp);
        let state = policy_core::KeyState { revoked_at: raw.revoked_at, expires_at: raw.expires_at };
        let request = Request { method, target, headers: KeyHeaders::from_strs(None, None), client: None };
        let hash = ApiKey::generate(Environment::Live, &[5u8; 64]).unwrap().hash();
        let mut by_raw = engine.authorize_hash::<&KeyRecord>(hash, request.method, request.target, None, Timestamp(1));
        by_raw.provide_key(Some(&raw)).unwrap();
        let mut by_prepared = engine.authorize_hash::<&policy_core::PreparedKey>(hash, request.method, request.target, None, Timestamp(1));
        by_prepared.provide_prepared(&prepared, state).unwrap();
        prop_assert_eq!(finish(&mut by_raw, role), finish(&mut by_prepared, role));
        // A role resolved once decides as its name does.
        let mut by_role = engine.authorize_hash::<&policy_core::PreparedKey>(hash, request.method, request.target, None, Timestamp(1));
        by_role.provide_prepared(&prepared, state).unwrap();
        if matches!(by_role.next(), Step::LookupMembership { .. }) {
            by_role.provide_role(engine.policy().role_id(role)).unwrap();
            let mut by_name = engine.authorize_hash::<&policy_core::PreparedKey>(hash, request.method, request.target, None, Timestamp(1));
            by_name.provide_prepared(&prepared, state).unwrap();
            let expected = if engine.policy().role_id(role).is_some() { finish(&mut by_name, role) } else {
                by_name.provide_membership(None).unwrap();
                finish(&mut by_name, role)
            };
            prop_assert_eq!(finish(&mut by_role, role), expected);
        }
    }
}

#[test]
fn a_key_prepared_for_another_policy_is_recompiled_and_a_foreign_role_is_refused() {
    let engine = Engine::align().unwrap();
    let other = Policy::from_json(TANGLED_POLICY).unwrap();
    assert_ne!(other.stamp(), engine.policy().stamp());
    // Compiled against a policy where "read:user" is unknown: the Align engine recompiles it.
    let stale = other.prepare(record(Scope::Organization, Some(vec!["read:user".into()])));
    assert_eq!(stale.grants(), Some(policy_core::PermissionSet::EMPTY));
    let hash = ApiKey::generate(Environment::Live, &[6u8; 64]).unwrap().hash();
    let mut auth =
        engine.authorize_hash::<&policy_core::PreparedKey>(hash, "GET", "/api/v1/users", None, Timestamp(1));
    auth.provide_prepared(&stale, policy_core::KeyState::default())
        .unwrap();
    auth.provide_membership(Some("member")).unwrap();
    assert!(auth.decision().unwrap().allowed().is_some());
    let mut auth =
        engine.authorize_hash::<&policy_core::PreparedKey>(hash, "GET", "/api/v1/users", None, Timestamp(1));
    auth.provide_prepared(&stale, policy_core::KeyState::default())
        .unwrap();
    auth.provide_role(other.role_id("r")).unwrap();
    let denial = auth.decision().unwrap().denied().unwrap();
    assert_eq!(denial.reason(), policy_core::Reason::Unavailable);
}
