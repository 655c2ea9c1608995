//! Driving a decision by hand: store failures, out-of-order answers, identity headers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use policy_core::{
    is_identity_header, ApiKey, Cause, Decision, Engine, Environment, KeyHeaders, KeyRecord, ProjectIds,
    Reason, Request, Scope, Step, StepError, Timestamp,
};

fn project_key_record(key: &ApiKey) -> KeyRecord {
    KeyRecord {
        id: "key_9".into(),
        name: "CI".into(),
        hint: key.hint().into(),
        organization_id: "org_a".into(),
        created_by: "u_1".into(),
        scope: Scope::Project,
        scoped_project_ids: ProjectIds::one("p1"),
        allowed_cidrs: None,
        rate_limit: None,
        quota: None,
        permissions: None,
        created_at: Timestamp(0),
        last_used_at: None,
        revoked_at: None,
        expires_at: None,
    }
}

#[test]
fn a_failed_lookup_denies_with_unavailable_at_every_step() {
    let engine = Engine::align().unwrap();
    let key = ApiKey::generate(Environment::Live, &[1u8; 64]).unwrap();
    let record = project_key_record(&key);
    let request = Request {
        method: "PATCH",
        target: "/api/v1/time-entries/te_1",
        headers: KeyHeaders::from_strs(Some(key.expose_secret()), None),
        client: None,
    };
    for fail_at in 0..3 {
        let mut auth = engine.authorize::<&KeyRecord>(&request, Timestamp(5));
        let mut step = 0;
        loop {
            if step == fail_at && !matches!(auth.next(), Step::Done(_)) {
                auth.store_failed();
            }
            match auth.next() {
                Step::LookupKey(_) => auth.provide_key(Some(&record)).unwrap(),
                Step::LookupMembership { .. } => auth.provide_membership(Some("member")).unwrap(),
                Step::LookupResource { kind, id } => {
                    assert_eq!((kind, id), ("time_entry", "te_1"));
                    auth.provide_resource(None).unwrap()
                }
                Step::Done(Decision::Deny(denial)) => {
                    assert_eq!(denial.reason(), Reason::Unavailable, "failing at step {fail_at}");
                    assert_eq!(denial.status(), 503);
                    break;
                }
                Step::Done(Decision::Allow(_)) => panic!("a failed store must never allow"),
            }
            step += 1;
        }
    }
}

#[test]
fn answers_out_of_order_are_refused_not_panics() {
    let engine = Engine::align().unwrap();
    let key = ApiKey::generate(Environment::Live, &[2u8; 64]).unwrap();
    let record = project_key_record(&key);
    let request = Request {
        method: "GET",
        target: "/api/v1/projects",
        headers: KeyHeaders::from_strs(Some(key.expose_secret()), None),
        client: None,
    };
    let mut auth = engine.authorize::<&KeyRecord>(&request, Timestamp(5));
    assert_eq!(
        auth.provide_membership(Some("admin")),
        Err(StepError::NotAwaitingMembership)
    );
    assert_eq!(auth.provide_resource(None), Err(StepError::NotAwaitingResource));
    auth.provide_key(Some(&record)).unwrap();
    assert_eq!(auth.provide_key(Some(&record)), Err(StepError::NotAwaitingKey));
    auth.provide_membership(Some("engineer")).unwrap();
    let Some(Decision::Allow(allow)) = auth.decision() else {
        panic!("allowed")
    };
    let headers: Vec<(&str, String)> = allow
        .identity_headers()
        .map(|(n, v)| (n, v.into_owned()))
        .collect();
    assert_eq!(
        headers,
        [
            ("X-Keyscope-Key-Id", "key_9"),
            ("X-Keyscope-Organization-Id", "org_a"),
            ("X-Keyscope-User-Id", "u_1"),
            ("X-Keyscope-Role", "engineer"),
            ("X-Keyscope-Scope", "project"),
            ("X-Keyscope-Project-Filter", "p1"),
        ]
        .map(|(n, v)| (n, v.to_string()))
    );
    assert!(!allow.serves_me());
}

#[test]
fn a_role_the_policy_does_not_define_fails_closed() {
    let engine = Engine::align().unwrap();
    let key = ApiKey::generate(Environment::Live, &[3u8; 64]).unwrap();
    let record = project_key_record(&key);
    let bearer = format!("Bearer {}", key.expose_secret());
    let request = Request {
        method: "GET",
        target: "/api/v1/me",
        headers: KeyHeaders::from_strs(None, Some(&bearer)),
        client: None,
    };
    let mut auth = engine.authorize::<KeyRecord>(&request, Timestamp(5));
    auth.provide_key(Some(record)).unwrap();
    auth.provide_membership(Some("superuser")).unwrap();
    let denial = auth.decision().and_then(Decision::denied).expect("denied");
    assert_eq!(denial.cause(), Cause::StoreInconsistent);
    assert!(auth.me().is_none());
}

#[test]
fn messages_never_echo_the_key() {
    let engine = Engine::align().unwrap();
    let key = ApiKey::generate(Environment::Test, &[4u8; 64]).unwrap();
    let text = key.expose_secret();
    let request = Request {
        method: "GET",
        target: "/api/v1/me",
        headers: KeyHeaders::from_strs(Some(text), None),
        client: None,
    };
    let auth = engine.authorize::<KeyRecord>(&request, Timestamp(5));
    let denial = auth
        .decision()
        .and_then(Decision::denied)
        .expect("a test key on a live engine");
    assert_eq!(denial.reason(), Reason::InvalidKey);
    assert!(!denial.to_json().contains(&text[8..]));
    assert!(denial.challenges());
    let rate = policy_core::Denial::rate_limited(1, policy_core::Exceeded::Rate { per_second: 10 });
    assert_eq!((rate.status(), rate.retry_after()), (429, Some(1)));
    assert_eq!(
        rate.to_json(),
        r#"{"reason":"rate_limited","message":"Too many requests for this key: its rate limit is 10 per second; retry after 1 second(s)."}"#
    );
    let quota = policy_core::Quota::new(1000, policy_core::QuotaPeriod::Day).unwrap();
    let spent = policy_core::Denial::rate_limited(
        3600,
        policy_core::Exceeded::Quota {
            limit: quota.limit,
            period: quota.period,
        },
    );
    assert_eq!(
        spent.message(),
        "This key's quota of 1000 requests per day is used up; retry after 3600 second(s)."
    );
}

#[test]
fn identity_headers_are_recognised_in_any_case() {
    assert!(is_identity_header("X-Keyscope-Role"));
    assert!(is_identity_header("x-keyscope-anything"));
    assert!(is_identity_header("X-KEYSCOPE-KEY-ID"));
    assert!(!is_identity_header("X-Keyscop"));
    assert!(!is_identity_header("X-Api-Key"));
}

#[test]
fn targets_are_taken_from_urls_verbatim() {
    use policy_core::target_of_url;
    assert_eq!(
        target_of_url("https://api.example.com/api/v1/me?x=1"),
        "/api/v1/me?x=1"
    );
    assert_eq!(
        target_of_url("http://127.0.0.1:8787/api/v1/projects/../users"),
        "/api/v1/projects/../users"
    );
    assert_eq!(target_of_url("http://h/a/%2e%2e/b"), "/a/%2e%2e/b");
    assert_eq!(target_of_url("http://h"), "/");
    assert_eq!(target_of_url("http://h?q=/x"), "/");
    assert_eq!(target_of_url("/already/a/path"), "/already/a/path");
    assert_eq!(
        target_of_url("/api/v1/search?q=https://x.example/y"),
        "/api/v1/search?q=https://x.example/y",
        "a target whose query holds a URL is still a target"
    );
    assert_eq!(target_of_url("https://h/s?q=http://x/y"), "/s?q=http://x/y");
}

#[test]
fn a_gateway_knows_when_authorization_carries_the_key() {
    assert!(KeyHeaders::from_strs(None, Some("Bearer abc")).authorization_carries_key());
    assert!(KeyHeaders::from_strs(None, Some(" bearer abc ")).authorization_carries_key());
    assert!(!KeyHeaders::from_strs(None, Some("Basic abc")).authorization_carries_key());
    assert!(!KeyHeaders::from_strs(Some("k"), None).authorization_carries_key());
}
