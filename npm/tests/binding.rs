//! The binding layer under Node (`wasm-bindgen-test-runner`): JS values in, the engine's
//! answers out, and every malformed answer from a store failing closed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![cfg(target_arch = "wasm32")]

use js_sys::Reflect;
use keyscope_wasm::{codec, generate_key, is_key_hash, methods, parse_key, Engine, KeyRecord, Step};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

const NOW: f64 = 1_795_000_000_000.0;

fn key() -> Vec<String> {
    generate_key("live", &[7u8; 64], None).expect("64 bytes are enough")
}

/// The number of `GET` in `methods()`.
fn get() -> u32 {
    methods().iter().position(|m| m == "GET").unwrap() as u32
}

/// An outcome's step and payload (the radix from `codec`).
fn split(outcome: f64) -> (u8, f64) {
    let radix = f64::from(codec()[0]);
    let step = outcome % radix;
    (step as u8, (outcome - step) / radix)
}

/// A narrow allow's payload → (filtered, role index, permission set).
fn allow_parts(payload: f64) -> (bool, u32, u64) {
    let roles = f64::from(codec()[1]);
    let filtered = payload % 2.0;
    let rest = (payload - filtered) / 2.0;
    let role = rest % roles;
    (filtered == 1.0, role as u32, ((rest - role) / roles) as u64)
}

fn step(outcome: f64) -> u8 {
    split(outcome).0
}

const ALLOW: u8 = Step::Allow as u8;
const DENY: u8 = Step::Deny as u8;
const LOOKUP_KEY: u8 = Step::LookupKey as u8;
const LOOKUP_ROLE: u8 = Step::LookupRole as u8;
const LOOKUP_RESOURCE: u8 = Step::LookupResource as u8;
const ALLOW_ME: u8 = Step::AllowMe as u8;

/// Answers `LookupKey` with a record of this scope/project, revoked at `revoked_at`.
fn give_record(
    engine: &mut Engine,
    slot: u32,
    scope: &str,
    project: Option<&str>,
    revoked_at: Option<f64>,
) -> f64 {
    engine.provide_key_fields(
        slot,
        "k1".into(),
        "CI".into(),
        "abcd".into(),
        "org_a".into(),
        "u1".into(),
        scope,
        project.map(str::to_owned),
        None,
        None,
        0.0,
        None,
        revoked_at,
        None,
    )
}

/// Starts a decision in a fresh slot: (slot, first outcome).
fn start(engine: &mut Engine, method: &str, url: &str, secret: &str) -> (u32, f64) {
    let slot = engine.reserve();
    (
        slot,
        engine.start(
            slot,
            method,
            url.to_owned(),
            Some(secret.to_owned()),
            None,
            None,
            NOW,
        ),
    )
}

fn prop(value: &JsValue, name: &str) -> Option<String> {
    Reflect::get(value, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
}

fn denial_of(engine: &Engine, outcome: f64) -> String {
    let (step, payload) = split(outcome);
    assert_eq!(step, DENY, "expected a denial");
    engine.denial(payload as u32)
}

#[wasm_bindgen_test]
fn a_full_decision_through_every_lookup() {
    let mut engine = Engine::new(None, None).expect("Align compiles");
    let secret = &key()[0];
    let url = "https://api.example.com/api/v1/time-entries/te_1?x=1";
    let (slot, first) = start(&mut engine, "PATCH", url, secret);
    assert_eq!(first, f64::from(LOOKUP_KEY));
    assert_eq!(engine.lookup_hash(slot).as_deref(), Some(key()[1].as_str()));
    assert_eq!(
        step(give_record(&mut engine, slot, "project", Some("p1"), None)),
        LOOKUP_ROLE
    );
    assert_eq!(
        step(engine.provide_role(slot, Some("engineer".into()))),
        LOOKUP_RESOURCE
    );
    assert_eq!(engine.lookup_resource(slot).as_deref(), Some("time_entry\nte_1"));
    assert_eq!(engine.pending(), 1);
    let owner = (Some("org_a".into()), Some("p1".into()));
    let (step, payload) = split(engine.provide_resource(slot, owner.0, owner.1));
    assert_eq!(step, ALLOW);
    let (filtered, role, set) = allow_parts(payload);
    assert!(!filtered, "no project filter on a single resource");
    assert_eq!(
        engine.roles()[role as usize],
        "engineer",
        "the role the engine decided with"
    );
    let names = engine.permissions();
    let at = |p: &str| names.iter().position(|n| n == p).unwrap();
    assert_eq!(
        set >> at("write:time_entry") & 1,
        1,
        "engineers write time entries"
    );
    assert_eq!(set >> at("approve:time_entry") & 1, 0, "engineers do not approve");
    assert_eq!(engine.pending(), 0, "a final outcome releases the slot");
    assert_eq!(engine.reserve(), slot, "and the slot is reused");
}

#[wasm_bindgen_test]
fn known_hashes_skip_the_offline_checks_only() {
    let mut engine = Engine::new(None, None).unwrap();
    let (slot, _) = start(&mut engine, "GET", "/api/v1/projects", &key()[0]);
    assert!(engine.remember_hash(slot, 0));
    assert!(!engine.remember_hash(slot, 5), "indices grow one at a time");
    engine.store_failed(slot);
    let slot = engine.reserve();
    assert_eq!(
        step(engine.start_known(slot, get(), "/api/v1/projects".to_owned(), 0, None, NOW)),
        LOOKUP_KEY
    );
    assert_eq!(engine.lookup_hash(slot).as_deref(), Some(key()[1].as_str()));
    let revoked = give_record(&mut engine, slot, "organization", None, Some(1.0));
    assert!(
        denial_of(&engine, revoked).starts_with("401\nkey_revoked\n"),
        "revocation is still checked"
    );
    let slot = engine.reserve();
    let unknown = engine.start_known(slot, get(), "/api/v1/projects".to_owned(), 7, None, NOW);
    assert!(
        denial_of(&engine, unknown).starts_with("503\n"),
        "an unknown index fails closed"
    );
}

#[wasm_bindgen_test]
fn roles_by_number_decide_like_roles_by_name() {
    let mut engine = Engine::new(None, None).unwrap();
    let roles = engine.roles();
    for (index, role) in roles.iter().enumerate() {
        let (a, _) = start(&mut engine, "POST", "/api/v1/users/invite", &key()[0]);
        give_record(&mut engine, a, "organization", None, None);
        let by_number = engine.provide_role_index(a, index as u32);
        let (b, _) = start(&mut engine, "POST", "/api/v1/users/invite", &key()[0]);
        give_record(&mut engine, b, "organization", None, None);
        let by_name = engine.provide_role(b, Some(role.clone()));
        assert_eq!(step(by_number), step(by_name), "{role}");
    }
    let (slot, _) = start(&mut engine, "GET", "/api/v1/projects", &key()[0]);
    give_record(&mut engine, slot, "organization", None, None);
    let outcome = engine.provide_role_index(slot, roles.len() as u32);
    assert!(
        denial_of(&engine, outcome).starts_with("503\n"),
        "a role number out of range"
    );
}

#[wasm_bindgen_test]
fn a_project_key_listing_is_filtered_and_me_is_served() {
    let mut engine = Engine::new(None, None).unwrap();
    let (slot, _) = start(&mut engine, "GET", "/api/v1/projects", &key()[0]);
    give_record(&mut engine, slot, "project", Some("p1"), None);
    let (step, payload) = split(engine.provide_role(slot, Some("member".into())));
    assert_eq!(
        (step, payload % 2.0),
        (ALLOW, 1.0),
        "filtered to the key's project"
    );
    let (slot, _) = start(&mut engine, "GET", "/api/v1/me", &key()[0]);
    give_record(&mut engine, slot, "organization", None, None);
    assert_eq!(
        engine.provide_role(slot, Some("member".into())),
        f64::from(ALLOW_ME)
    );
    assert!(engine.finish_me(slot).unwrap().contains("\"apiKeyId\":\"k1\""));
    let wide = engine.finish_allow_wide(slot).unwrap();
    assert_eq!(wide[0], 0);
    assert_eq!(engine.roles()[wide[1] as usize], "member");
    assert_eq!(engine.pending(), 0);
}

#[wasm_bindgen_test]
fn another_projects_resource_is_not_found() {
    let mut engine = Engine::new(None, None).unwrap();
    let (slot, _) = start(&mut engine, "PATCH", "/api/v1/time-entries/te_2", &key()[0]);
    give_record(&mut engine, slot, "project", Some("p1"), None);
    engine.provide_role(slot, Some("admin".into()));
    let outcome = engine.provide_resource(slot, Some("org_a".into()), Some("p2".into()));
    assert_eq!(denial_of(&engine, outcome), "404\nnot_found\nNot found.\n");
    assert!(
        engine.finish_allow_wide(slot).is_none(),
        "a denial never reads as an allow"
    );
    assert_eq!(engine.pending(), 0);
}

#[wasm_bindgen_test]
fn a_revoked_key_challenges_and_denials_are_numbered_once() {
    let mut engine = Engine::new(None, None).unwrap();
    let mut numbers = Vec::new();
    for _ in 0..2 {
        let (slot, _) = start(&mut engine, "GET", "/api/v1/projects", &key()[0]);
        let outcome = give_record(&mut engine, slot, "organization", None, Some(1.0));
        let packed = denial_of(&engine, outcome);
        assert!(packed.starts_with("401\nkey_revoked\n"), "{packed}");
        assert!(packed.ends_with("\nBearer realm=\"keyscope\""), "{packed}");
        numbers.push(split(outcome).1);
    }
    assert_eq!(numbers[0], numbers[1], "the same denial has the same number");
}

#[wasm_bindgen_test]
fn a_record_the_engine_cannot_use_fails_closed() {
    let mut engine = Engine::new(None, None).unwrap();
    let (slot, _) = start(&mut engine, "GET", "/api/v1/projects", &key()[0]);
    let outcome = give_record(&mut engine, slot, "galaxy", None, None);
    assert!(denial_of(&engine, outcome).starts_with("503\nunavailable\n"));
    let (slot, _) = start(&mut engine, "GET", "/api/v1/projects", &key()[0]);
    let outcome = give_record(&mut engine, slot, "organization", None, Some(f64::NAN));
    assert!(denial_of(&engine, outcome).starts_with("503\n"));
    let (slot, _) = start(&mut engine, "GET", "/api/v1/projects", &key()[0]);
    let outcome = give_record(&mut engine, slot, "project", None, None);
    assert!(
        denial_of(&engine, outcome).starts_with("503\n"),
        "a project key without a project"
    );
}

#[wasm_bindgen_test]
fn an_answer_out_of_order_or_to_no_decision_fails_closed() {
    let mut engine = Engine::new(None, None).unwrap();
    let (slot, _) = start(&mut engine, "GET", "/api/v1/projects", &key()[0]);
    let outcome = engine.provide_role(slot, Some("admin".into()));
    assert!(denial_of(&engine, outcome).starts_with("503\n"));
    assert_eq!(step(engine.provide_no_key(slot)), DENY, "a released slot");
    assert_eq!(step(engine.provide_no_key(999)), DENY, "a slot never reserved");
    assert_eq!(
        step(engine.start(999, "GET", "/".to_owned(), None, None, None, NOW)),
        DENY
    );
    assert_eq!(engine.pending(), 0);
}

#[wasm_bindgen_test]
fn prepared_records_decide_like_fields() {
    let mut engine = Engine::new(None, None).unwrap();
    let mut prepared = KeyRecord::new(
        "k1".into(),
        "CI".into(),
        "abcd".into(),
        "org_a".into(),
        "u1".into(),
        "organization",
        None,
        Some(vec!["read:project".into()]),
        None,
        0.0,
        None,
        None,
        None,
    )
    .unwrap();
    let (slot, _) = start(&mut engine, "POST", "/api/v1/projects", &key()[0]);
    engine.provide_key(slot, &mut prepared);
    let outcome = engine.provide_role(slot, Some("admin".into()));
    assert!(
        denial_of(&engine, outcome).starts_with("403\nforbidden\n"),
        "grants narrow the role"
    );
    let bad = KeyRecord::new(
        "k".into(),
        "n".into(),
        "h".into(),
        "o".into(),
        "u".into(),
        "nowhere",
        None,
        None,
        None,
        0.0,
        None,
        None,
        None,
    );
    let bad = bad.err().unwrap();
    assert_eq!(prop(&bad, "name").as_deref(), Some("RecordError"));
    assert_eq!(prop(&bad, "field").as_deref(), Some("scope"));
}

/// A handle with an explicit grant list (one name the policy does not declare), revoked at
/// `revoked_at`.
fn handle(revoked_at: Option<f64>) -> KeyRecord {
    KeyRecord::new(
        "k1".into(),
        "CI".into(),
        "abcd".into(),
        "org_a".into(),
        "u1".into(),
        "organization",
        None,
        Some(vec!["read:project".into(), "no:such_permission".into()]),
        None,
        0.0,
        None,
        revoked_at,
        None,
    )
    .unwrap()
}

/// Decides `method url` for an admin key held by `record`: the outcome.
fn decide_handle(engine: &mut Engine, record: &mut KeyRecord, method: &str, url: &str) -> f64 {
    let (slot, _) = start(engine, method, url, &key()[0]);
    assert_eq!(step(engine.provide_key(slot, record)), LOOKUP_ROLE);
    let admin = engine.roles().iter().position(|r| r == "admin").unwrap();
    engine.provide_role_index(slot, admin as u32)
}

#[wasm_bindgen_test]
fn a_handle_is_compiled_for_each_policy_it_serves() {
    // The same permissions in another order: another policy stamp, other bit positions.
    let mut doc: serde_json::Value = serde_json::from_str(policy_core::ALIGN_POLICY_JSON).unwrap();
    doc["permissions"].as_array_mut().unwrap().reverse();
    let mut engines = [
        Engine::new(None, None).unwrap(),
        Engine::new(Some(doc.to_string()), None).unwrap(),
    ];
    let mut record = handle(None);
    // Alternating engines: each decision uses the grants compiled for its own policy.
    for which in [0, 1, 1, 0] {
        let engine = &mut engines[which];
        let (step, payload) = split(decide_handle(engine, &mut record, "GET", "/api/v1/projects"));
        assert_eq!(step, ALLOW);
        let (_, _, set) = allow_parts(payload);
        let names = engine.permissions();
        let read = names.iter().position(|n| n == "read:project").unwrap();
        assert_eq!(
            set,
            1 << read,
            "the unknown grant grants nothing; the role is narrowed"
        );
        let outcome = decide_handle(engine, &mut record, "POST", "/api/v1/projects");
        assert!(denial_of(engine, outcome).starts_with("403\nforbidden\n"));
    }
    // The handle's own state decides: a revoked handle is refused before any role lookup.
    let [align, _] = &mut engines;
    let mut revoked = handle(Some(1.0));
    let (slot, _) = start(align, "GET", "/api/v1/projects", &key()[0]);
    let outcome = align.provide_key(slot, &mut revoked);
    assert!(denial_of(align, outcome).starts_with("401\nkey_revoked\n"));
    assert_eq!(revoked.identity()[0], "k1", "the identity survives compilation");
    assert_eq!(align.pending(), 0);
}

#[wasm_bindgen_test]
fn policy_errors_name_the_field() {
    let mut doc: serde_json::Value = serde_json::from_str(policy_core::ALIGN_POLICY_JSON).unwrap();
    doc["endpoints"][2]["permission"] = "nope".into();
    let err = Engine::new(Some(doc.to_string()), None).err().expect("refused");
    assert_eq!(prop(&err, "name").as_deref(), Some("PolicyError"));
    assert_eq!(prop(&err, "field").as_deref(), Some("endpoints[2].permission"));
    let err = Engine::new(None, Some("prod".into())).err().expect("refused");
    assert_eq!(prop(&err, "name").as_deref(), Some("TypeError"));
    // A value of the wrong type names its field too; text that is not JSON names the document.
    doc["endpoints"][2]["permission"] = 5.into();
    let err = Engine::new(Some(doc.to_string()), None).err().expect("refused");
    assert_eq!(prop(&err, "field").as_deref(), Some("endpoints[2].permission"));
    let err = Engine::new(Some("{".into()), None).err().expect("refused");
    assert_eq!(prop(&err, "field").as_deref(), Some("document"));
}

#[wasm_bindgen_test]
fn a_record_problem_is_kept_for_the_report() {
    let mut engine = Engine::new(None, None).unwrap();
    let (slot, _) = start(&mut engine, "GET", "/api/v1/projects", &key()[0]);
    let outcome = give_record(&mut engine, slot, "project", None, None);
    assert_eq!(step(outcome), DENY);
    assert!(denial_of(&engine, outcome).starts_with("503\nunavailable\n"));
    assert_eq!(
        engine.take_record_problem().as_deref(),
        Some("scopedProjectId\nis required when scope is \"project\"")
    );
    assert_eq!(engine.take_record_problem(), None, "read once");
    assert!(engine.covers("/api/v1/projects?x=1"));
    assert!(engine.covers("https://h.example/api/v1"));
    assert!(!engine.covers("/api/v1x/projects"));
    assert!(!engine.covers("/health"));
}

#[wasm_bindgen_test]
fn key_helpers() {
    let [secret, hash, hint] = <[String; 3]>::try_from(key()).unwrap();
    assert!(secret.starts_with("ck_live_"));
    assert!(is_key_hash(&hash));
    assert!(!is_key_hash("xyz"));
    assert_eq!(
        parse_key(&secret, None, None).unwrap(),
        [secret.clone(), hash, hint, "live".into()]
    );
    let err = parse_key(&secret, Some("test".into()), None).unwrap_err();
    assert_eq!(prop(&err, "code").as_deref(), Some("wrong_environment"));
    let mut tampered = secret.clone();
    tampered.replace_range(10..11, if &secret[10..11] == "a" { "b" } else { "a" });
    let err = parse_key(&tampered, None, None).unwrap_err();
    assert_eq!(prop(&err, "code").as_deref(), Some("checksum_mismatch"));
    assert!(
        !prop(&err, "message").unwrap().contains(&secret[8..]),
        "never echoes the key"
    );
    assert!(
        generate_key("live", &[255u8; 64], None).is_err(),
        "all-rejected bytes"
    );
    // A deployment prefix: generated and parsed under it, refused under the default.
    let [own, ..] =
        <[String; 3]>::try_from(generate_key("live", &[7u8; 64], Some("acme".into())).unwrap()).unwrap();
    assert!(own.starts_with("acme_live_"));
    assert!(parse_key(&own, Some("live".into()), Some("acme".into())).is_ok());
    let err = parse_key(&own, None, None).unwrap_err();
    assert_eq!(prop(&err, "code").as_deref(), Some("wrong_length"));
    let err = generate_key("live", &[7u8; 64], Some("ACME".into())).unwrap_err();
    assert_eq!(prop(&err, "name").as_deref(), Some("TypeError"));
}
