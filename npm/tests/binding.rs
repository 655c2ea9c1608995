//! The binding layer under Node (`wasm-bindgen-test-runner`): JS values in, the engine's
//! answers out, and every malformed answer from a store failing closed.

#![cfg(target_arch = "wasm32")]

use js_sys::Reflect;
use keyscope_wasm::{generate_key, is_key_hash, parse_key, Decision, Engine, KeyRecord, Step};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

const NOW: f64 = 1_795_000_000_000.0;

fn key() -> Vec<String> {
    generate_key("live", &[7u8; 64]).expect("64 bytes are enough")
}

fn record_json(scope: &str, project: Option<&str>, revoked_at: Option<f64>) -> String {
    format!(
        r#"{{"id":"k1","name":"CI","hint":"abcd","organizationId":"org_a","createdBy":"u1","scope":"{scope}","scopedProjectId":{},"permissions":null,"createdAt":0,"revokedAt":{}}}"#,
        project.map_or("null".into(), |p| format!("\"{p}\"")),
        revoked_at.map_or("null".into(), |t| t.to_string()),
    )
}

fn start(engine: &Engine, method: &str, url: &str, secret: &str) -> Decision {
    engine.start(method, url, Some(secret.to_owned()), None, NOW)
}

fn prop(value: &JsValue, name: &str) -> Option<String> {
    Reflect::get(value, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
}

#[wasm_bindgen_test]
fn a_full_decision_through_every_lookup() {
    let engine = Engine::new(None, None).expect("Align compiles");
    let secret = &key()[0];
    let mut d = start(
        &engine,
        "PATCH",
        "https://api.example.com/api/v1/time-entries/te_1?x=1",
        secret,
    );
    assert_eq!(d.step(), Step::LookupKey);
    assert_eq!(d.lookup_hash().as_deref(), Some(key()[1].as_str()));
    assert_eq!(
        d.provide_key_json(&record_json("project", Some("p1"), None)),
        Step::LookupRole
    );
    assert_eq!(d.lookup_organization_id().as_deref(), Some("org_a"));
    assert_eq!(d.lookup_user_id().as_deref(), Some("u1"));
    assert_eq!(d.provide_role(Some("engineer".into())), Step::LookupResource);
    assert_eq!(d.lookup_kind().as_deref(), Some("time_entry"));
    assert_eq!(d.lookup_id().as_deref(), Some("te_1"));
    assert_eq!(
        d.provide_resource(Some("org_a".into()), Some("p1".into())),
        Step::Allow
    );
    let packed = d.allow_packed().expect("allowed");
    assert_eq!(packed, "k1\norg_a\nu1\nengineer\nproject\n\n0");
    assert_eq!(d.status(), 200);
    assert!(d.reason().is_none());
    let headers = d.identity_headers().expect("allowed");
    assert_eq!(&headers[..2], ["X-Keyscope-Key-Id", "k1"]);
}

#[wasm_bindgen_test]
fn another_projects_resource_is_not_found() {
    let engine = Engine::new(None, None).unwrap();
    let mut d = start(&engine, "PATCH", "/api/v1/time-entries/te_2", &key()[0]);
    d.provide_key_json(&record_json("project", Some("p1"), None));
    d.provide_role(Some("admin".into()));
    assert_eq!(
        d.provide_resource(Some("org_a".into()), Some("p2".into())),
        Step::Deny
    );
    assert_eq!(d.status(), 404);
    assert_eq!(d.reason().as_deref(), Some("not_found"));
    assert!(d.www_authenticate().is_none());
}

#[wasm_bindgen_test]
fn a_revoked_key_challenges() {
    let engine = Engine::new(None, None).unwrap();
    let mut d = start(&engine, "GET", "/api/v1/projects", &key()[0]);
    assert_eq!(
        d.provide_key_json(&record_json("organization", None, Some(1.0))),
        Step::Deny
    );
    assert_eq!(d.reason().as_deref(), Some("key_revoked"));
    assert_eq!(d.www_authenticate().as_deref(), Some("Bearer realm=\"keyscope\""));
    assert!(d
        .denial_json()
        .unwrap()
        .starts_with("{\"reason\":\"key_revoked\""));
}

#[wasm_bindgen_test]
fn a_record_the_engine_cannot_read_fails_closed() {
    let engine = Engine::new(None, None).unwrap();
    for bad in ["{", "{\"id\":1}", "[]", &record_json("galaxy", None, None)] {
        let mut d = start(&engine, "GET", "/api/v1/projects", &key()[0]);
        assert_eq!(d.provide_key_json(bad), Step::Deny, "{bad}");
        assert_eq!(d.status(), 503);
        assert_eq!(d.reason().as_deref(), Some("unavailable"));
    }
    let mut d = start(&engine, "GET", "/api/v1/projects", &key()[0]);
    assert_eq!(
        d.provide_key_object(JsValue::from_str("not an object")),
        Step::Deny
    );
    assert_eq!(d.status(), 503);
}

#[wasm_bindgen_test]
fn an_answer_out_of_order_fails_closed() {
    let engine = Engine::new(None, None).unwrap();
    let mut d = start(&engine, "GET", "/api/v1/projects", &key()[0]);
    assert_eq!(d.provide_role(Some("admin".into())), Step::Deny);
    assert_eq!(d.status(), 503);
}

#[wasm_bindgen_test]
fn prepared_records_and_objects_decide_like_json() {
    let engine = Engine::new(None, None).unwrap();
    let json = record_json("organization", None, None);
    let prepared = KeyRecord::from_json(&json).unwrap();
    let object = js_sys::JSON::parse(&json).unwrap();
    let mut a = start(&engine, "GET", "/api/v1/me", &key()[0]);
    let mut b = start(&engine, "GET", "/api/v1/me", &key()[0]);
    assert_eq!(a.provide_key(&prepared), Step::LookupRole);
    assert_eq!(b.provide_key_object(object), Step::LookupRole);
    a.provide_role(Some("member".into()));
    b.provide_role(Some("member".into()));
    assert_eq!(a.me_json(), b.me_json());
    assert!(a.me_json().unwrap().contains("\"apiKeyId\":\"k1\""));
    assert!(KeyRecord::from_json("{}").is_err());
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
}

#[wasm_bindgen_test]
fn key_helpers() {
    let [secret, hash, hint] = <[String; 3]>::try_from(key()).unwrap();
    assert!(secret.starts_with("ck_live_"));
    assert!(is_key_hash(&hash));
    assert!(!is_key_hash("xyz"));
    assert_eq!(
        parse_key(&secret, None).unwrap(),
        [secret.clone(), hash, hint, "live".into()]
    );
    let err = parse_key(&secret, Some("test".into())).unwrap_err();
    assert_eq!(prop(&err, "code").as_deref(), Some("wrong_environment"));
    let mut tampered = secret.clone();
    tampered.replace_range(10..11, if &secret[10..11] == "a" { "b" } else { "a" });
    let err = parse_key(&tampered, None).unwrap_err();
    assert_eq!(prop(&err, "code").as_deref(), Some("checksum_mismatch"));
    assert!(
        !prop(&err, "message").unwrap().contains(&secret[8..]),
        "never echoes the key"
    );
    assert!(generate_key("live", &[255u8; 64]).is_err(), "all-rejected bytes");
}
