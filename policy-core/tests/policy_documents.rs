//! Policy documents: the shipped Align document, and clear errors for invalid ones.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use policy_core::{Policy, PolicyError, Scope, ALIGN_POLICY_JSON};

fn invalid(doc: &str) -> (String, String) {
    match Policy::from_json(doc) {
        Err(PolicyError::Invalid(bad)) => (bad.field().to_owned(), bad.problem().to_owned()),
        Err(other) => panic!("expected an invalid field, got {other}"),
        Ok(_) => panic!("expected an error"),
    }
}

fn align_with(edit: impl Fn(&mut serde_json::Value)) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(ALIGN_POLICY_JSON).unwrap();
    edit(&mut doc);
    doc.to_string()
}

#[test]
fn the_shipped_align_document_compiles() {
    let policy = Policy::from_json(ALIGN_POLICY_JSON).expect("align.json is valid");
    // `Policy::align` is this document compiled: it is `Ok` exactly because this test passes.
    assert_eq!(
        Policy::align().expect("align.json is valid").stamp(),
        policy.stamp()
    );
    assert_eq!(policy.endpoints().len(), 20);
    assert_eq!(policy.base_path(), "/api/v1");
    assert_eq!(
        policy.roles().collect::<Vec<_>>(),
        ["admin", "engineer", "manager", "member"]
    );
    assert!(policy.may_create_key("admin", Scope::Organization));
    assert!(!policy.may_create_key("engineer", Scope::Organization));
    assert!(policy.may_create_key("engineer", Scope::Project));
    assert!(!policy.may_create_key("manager", Scope::Project));
    assert_eq!(policy.preset("full"), Some(None));
    let read = policy.preset("read").flatten().unwrap();
    assert_eq!(
        policy.permission_names(read).collect::<Vec<_>>(),
        [
            "read:project",
            "read:entry",
            "read:time_entry",
            "read:user",
            "read:webhook",
            "read:integration_link",
            "read:audit_event",
            "search"
        ]
    );
    // member and engineer differ only in key creation
    assert_eq!(policy.role_grants("member"), policy.role_grants("engineer"));
    let manager = policy.role_grants("manager").unwrap();
    let member = policy.role_grants("member").unwrap();
    assert_eq!(manager.len(), member.len() + 1);
    assert_eq!(policy.role_grants("admin").unwrap().len(), 15);
}

#[test]
fn syntax_errors_and_unknown_fields_name_the_field() {
    let err = Policy::from_json("{").unwrap_err();
    assert!(matches!(err, PolicyError::Syntax(_)));
    let typo = align_with(|d| d["endpoints"][0]["permision"] = serde_json::Value::Null);
    let err = Policy::from_json(&typo).unwrap_err().to_string();
    assert!(err.contains("permision"), "{err}");
    let missing = align_with(|d| {
        d.as_object_mut().unwrap().remove("basePath");
    });
    assert!(Policy::from_json(&missing)
        .unwrap_err()
        .to_string()
        .contains("basePath"));
}

#[test]
fn invalid_values_name_the_field() {
    let cases: Vec<(String, &str, &str)> = vec![
        (
            align_with(|d| d["roles"]["member"][0] = "reed:project".into()),
            "roles.member[0]",
            "reed:project",
        ),
        (
            align_with(|d| d["endpoints"][3]["permission"] = "nope".into()),
            "endpoints[3].permission",
            "nope",
        ),
        (
            align_with(|d| d["endpoints"][3]["method"] = "delete".into()),
            "endpoints[3].method",
            "upper-case",
        ),
        (
            align_with(|d| d["endpoints"][1]["method"] = "HEAD".into()),
            "endpoints[1].method",
            "HEAD",
        ),
        (
            align_with(|d| d["endpoints"][3]["path"] = "projects/:id".into()),
            "endpoints[3].path",
            "starts with",
        ),
        (
            align_with(|d| d["endpoints"][3]["path"] = "/projects//x".into()),
            "endpoints[3].path",
            "segment",
        ),
        (
            align_with(|d| d["endpoints"][9]["resourceKind"] = serde_json::Value::Null),
            "endpoints[9].resourceKind",
            "resource kind",
        ),
        (
            align_with(|d| d["endpoints"][5]["method"] = "GET".into()),
            "endpoints[5]",
            "overlaps",
        ),
        (
            align_with(|d| d["endpoints"][1]["projectKey"] = "own_path".into()),
            "endpoints[1].path",
            "parameter",
        ),
        (
            align_with(|d| d["endpoints"][4]["param"] = "project".into()),
            "endpoints[4].param",
            ":project",
        ),
        (
            align_with(|d| d["endpoints"][2] = d["endpoints"][1].clone()),
            "endpoints[2]",
            "overlaps",
        ),
        (
            align_with(|d| d["permissions"][1] = "read:project".into()),
            "permissions[1]",
            "duplicate",
        ),
        (
            align_with(|d| d["keyCreators"]["project"][0] = "boss".into()),
            "keyCreators.project[0]",
            "boss",
        ),
        (
            align_with(|d| d["presets"]["read"][0] = "read:everything".into()),
            "presets.read[0]",
            "read:everything",
        ),
        (
            align_with(|d| d["basePath"] = "/api/v1/".into()),
            "basePath",
            "trailing",
        ),
        (
            // The root is no base path: every row lies under a named one.
            align_with(|d| d["basePath"] = "/".into()),
            "basePath",
            "trailing",
        ),
        (
            align_with(|d| d["basePath"] = "api".into()),
            "basePath",
            "starts with",
        ),
        (
            align_with(|d| d["roles"] = serde_json::json!({})),
            "roles",
            "at least one",
        ),
    ];
    for (doc, field, problem) in cases {
        let (got_field, got_problem) = invalid(&doc);
        assert_eq!(got_field, field, "{got_problem}");
        assert!(got_problem.contains(problem), "{field}: {got_problem}");
    }
}

#[test]
fn too_many_permissions_is_an_error() {
    let doc = align_with(|d| {
        d["permissions"] = (0..65)
            .map(|i| serde_json::Value::from(format!("p{i}")))
            .collect();
    });
    assert_eq!(invalid(&doc).0, "permissions");
}

#[test]
fn another_api_can_ship_its_own_policy() {
    let doc = r#"{
      "basePath": "/v2",
      "permissions": ["read:invoice", "pay:invoice"],
      "roles": {"viewer": ["read:invoice"], "owner": ["read:invoice", "pay:invoice"]},
      "keyCreators": {"organization": ["owner"], "project": ["owner", "viewer"]},
      "endpoints": [
        {"method": "GET", "path": "/whoami", "projectKey": "allow", "serve": "me"},
        {"method": "GET", "path": "/accounts/:account/invoices/:invoice", "permission": "read:invoice",
         "projectKey": "own_path", "param": "account"},
        {"method": "POST", "path": "/invoices/:invoice/pay", "permission": "pay:invoice",
         "projectKey": "own_resource", "resourceKind": "invoice"}
      ]
    }"#;
    let policy = Policy::from_json(doc).expect("valid");
    let m = policy
        .route("GET", "/v2/accounts/acc_1/invoices/inv_9")
        .expect("matches");
    assert_eq!(m.param.unwrap().as_str(), "acc_1");
    assert!(policy.route("GET", "/v2/accounts/acc_1/invoices").is_none());
    assert!(policy.route("GET", "/v2/whoami").unwrap().endpoint.serves_me());
    let both = invalid(&doc.replace(r#", "param": "account""#, ""));
    assert_eq!(both.0, "endpoints[1].param");
}
