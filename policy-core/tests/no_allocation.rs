//! The allow path allocates nothing: header parsing, key checks, hashing, matching and the
//! decision all work on the stack and on borrowed records.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use policy_core::{
    ApiKey, Decision, Engine, Environment, KeyHeaders, KeyRecord, ProjectIds, Request, Scope, Step, Timestamp,
};

#[test]
fn an_allowed_decision_does_not_allocate() {
    let engine = Engine::align().unwrap();
    let key = ApiKey::generate(Environment::Live, &[11u8; 64]).unwrap();
    let record = KeyRecord {
        id: "key_1".into(),
        name: "CI".into(),
        hint: key.hint().into(),
        organization_id: "org_a".into(),
        created_by: "u_1".into(),
        scope: Scope::Project,
        scoped_project_ids: ProjectIds::one("p1"),
        allowed_cidrs: None,
        rate_limit: None,
        quota: None,
        permissions: Some(vec!["read:entry".into(), "write:time_entry".into()]),
        created_at: Timestamp(0),
        last_used_at: None,
        revoked_at: None,
        expires_at: None,
    };
    let bearer = format!("Bearer {}", key.expose_secret());
    let targets = [
        "/api/v1/projects/p1/entries?limit=5",
        "/api/v1/time-entries/te%5F1",
    ];
    let methods = ["GET", "PATCH"];
    for (method, target) in methods.into_iter().zip(targets) {
        let request = Request {
            method,
            target,
            headers: KeyHeaders::from_strs(None, Some(&bearer)),
            client: None,
        };
        let mut allowed = false;
        let counts = allocation_counter::measure(|| {
            let mut auth = engine.authorize::<&KeyRecord>(&request, Timestamp(1));
            loop {
                match auth.next() {
                    Step::LookupKey(_) => auth.provide_key(Some(&record)).unwrap(),
                    Step::LookupMembership { .. } => auth.provide_membership(Some("manager")).unwrap(),
                    Step::LookupResource { .. } => auth
                        .provide_resource(Some(policy_core::ResourceOwner {
                            organization_id: "org_a",
                            project_id: "p1",
                        }))
                        .unwrap(),
                    Step::Done(decision) => {
                        allowed = matches!(decision, Decision::Allow(_));
                        break;
                    }
                }
            }
        });
        assert!(allowed, "{method} {target} must be allowed");
        assert_eq!(
            counts.count_total, 0,
            "{method} {target} allocated {} times",
            counts.count_total
        );
    }
}

#[test]
fn a_decision_on_a_prepared_key_does_not_allocate() {
    let engine = Engine::align().unwrap();
    let key = ApiKey::generate(Environment::Live, &[12u8; 64]).unwrap();
    let prepared = engine.prepare(KeyRecord {
        id: "key_2".into(),
        name: "CI".into(),
        hint: key.hint().into(),
        organization_id: "org_a".into(),
        created_by: "u_1".into(),
        scope: Scope::Project,
        scoped_project_ids: ProjectIds::one("p1"),
        allowed_cidrs: None,
        rate_limit: None,
        quota: None,
        permissions: Some(vec![
            "read:entry".into(),
            "write:time_entry".into(),
            "unknown:grant".into(),
        ]),
        created_at: Timestamp(0),
        last_used_at: None,
        revoked_at: None,
        expires_at: None,
    });
    let role = engine.policy().role_id("manager");
    let state = policy_core::KeyState {
        revoked_at: Some(Timestamp(1_000)),
        expires_at: None,
    };
    let bearer = format!("Bearer {}", key.expose_secret());
    for (method, target, by_id) in [
        ("GET", "/api/v1/projects/p%31/entries?limit=5", false),
        ("PATCH", "/api/v1/time-entries/te_1", true),
    ] {
        let request = Request {
            method,
            target,
            headers: KeyHeaders::from_strs(None, Some(&bearer)),
            client: None,
        };
        let mut allowed = false;
        let counts = allocation_counter::measure(|| {
            let mut auth = engine.authorize::<&policy_core::PreparedKey>(&request, Timestamp(1));
            loop {
                match auth.next() {
                    Step::LookupKey(_) => auth.provide_prepared(&prepared, state).unwrap(),
                    Step::LookupMembership { .. } if by_id => auth.provide_role(role).unwrap(),
                    Step::LookupMembership { .. } => auth.provide_membership(Some("manager")).unwrap(),
                    Step::LookupResource { .. } => auth
                        .provide_resource(Some(policy_core::ResourceOwner {
                            organization_id: "org_a",
                            project_id: "p1",
                        }))
                        .unwrap(),
                    Step::Done(decision) => {
                        allowed = matches!(decision, Decision::Allow(_));
                        break;
                    }
                }
            }
        });
        assert!(allowed, "{method} {target} must be allowed");
        assert_eq!(
            counts.count_total, 0,
            "{method} {target} allocated {} times",
            counts.count_total
        );
    }
}
