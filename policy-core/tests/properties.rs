//! Property tests of the key format and the decision.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use policy_core::{
    ApiKey, Decision, Engine, Environment, KeyHeaders, KeyRecord, Policy, Request, Scope, Step, Timestamp,
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
        scoped_project_id: (scope == Scope::Project).then(|| "p1".into()),
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
        let engine = Engine::align();
        let rec = record(if project { Scope::Project } else { Scope::Organization }, None);
        let request = Request { method: &method, target: &target, headers: KeyHeaders { x_api_key: x.as_deref(), authorization: auth.as_deref() } };
        prop_assert!(drive(&engine, &request, &rec, &role).is_some());
    }

    #[test]
    fn decide_with_a_valid_key_never_panics_on_any_path(method in prop_oneof![Just("GET".to_string()), Just("POST".to_string()), Just("PATCH".to_string()), Just("HEAD".to_string()), ".{0,8}"], suffix in "(/[a-zA-Z0-9%._~:-]{0,70}){0,14}", query in proptest::option::of(".{0,20}"), role in prop_oneof![Just("member"), Just("engineer"), Just("manager"), Just("admin")], project in any::<bool>()) {
        let engine = Engine::align();
        let key = ApiKey::generate(Environment::Live, &[42u8; 64]).unwrap();
        let rec = record(if project { Scope::Project } else { Scope::Organization }, None);
        let target = match query { Some(q) => format!("/api/v1{suffix}?{q}"), None => format!("/api/v1{suffix}") };
        let request = Request { method: &method, target: &target, headers: KeyHeaders::from_strs(Some(key.expose_secret()), None) };
        let (status, allowed) = drive(&engine, &request, &rec, role).expect("finishes");
        prop_assert!(allowed == (status == 200));
        if allowed {
            prop_assert!(engine.policy().route(&method, &target).is_some());
        }
    }

    #[test]
    fn effective_permissions_never_exceed_the_role(role in prop_oneof![Just("member"), Just("engineer"), Just("manager"), Just("admin"), Just("nobody")], grants in proptest::option::of(proptest::collection::vec(prop_oneof![
        Just("read:project"), Just("approve:time_entry"), Just("invite:user"), Just("delete:project"), Just("search"), Just("write:time_entry"), Just("bogus"), Just("")], 0..8))) {
        let policy = Policy::align();
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
        let engine = Engine::align();
        let key = ApiKey::generate(Environment::Live, &[3u8; 64]).unwrap();
        let rec = record(Scope::Organization, grants.as_ref().map(|g| g.iter().map(|s| s.to_string()).collect()));
        let expected = engine.policy().effective_permissions(role, grants.as_ref().map(|g| g.iter().copied()));
        let bearer = format!("Bearer {}", key.expose_secret());
        for (method, path, permission) in [("GET", "/api/v1/users", "read:user"), ("POST", "/api/v1/users/invite", "invite:user"), ("DELETE", "/api/v1/projects/p9", "delete:project"), ("GET", "/api/v1/projects", "read:project")] {
            let request = Request { method, target: path, headers: KeyHeaders::from_strs(None, Some(&bearer)) };
            let (_, allowed) = drive(&engine, &request, &rec, role).unwrap();
            let index = engine.policy().permission_index(permission).unwrap();
            prop_assert_eq!(allowed, expected.contains(index), "{} {}", method, path);
        }
    }
}
