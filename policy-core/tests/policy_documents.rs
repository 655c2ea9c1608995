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
        Ok(_) => panic!("expected an error for {}", &doc[..doc.len().min(300)]),
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
            "same method and path shape as endpoints[4]",
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
            "same method and path shape as endpoints[1]",
        ),
        (
            // Another parameter name is the same shape.
            align_with(|d| d["endpoints"][4]["path"] = "/projects/:project/time-entries".into()),
            "endpoints[6]",
            "same method and path shape as endpoints[4]",
        ),
        (
            align_with(|d| d["keyPrefix"] = "CK".into()),
            "keyPrefix",
            "starts with a letter",
        ),
        (
            align_with(|d| d["keyPrefix"] = "a".into()),
            "keyPrefix",
            "2 to 12",
        ),
        (
            align_with(|d| d["keyPrefix"] = "ck_x".into()),
            "keyPrefix",
            "a-z and 0-9",
        ),
        (
            align_with(|d| d["permissions"] = serde_json::json!([])),
            "permissions",
            "at least one",
        ),
        (
            align_with(|d| d["organizationParam"] = "tenant".into()),
            "organizationParam",
            ":tenant",
        ),
        (
            align_with(|d| d["organizationParam"] = ":id".into()),
            "organizationParam",
            "not a parameter name",
        ),
        (
            align_with(|d| {
                d["organizationParam"] = "id".into();
                d["userParam"] = "id".into();
            }),
            "userParam",
            "organization parameter",
        ),
        (
            align_with(|d| d["endpoints"][1]["othersPermission"] = "read:user".into()),
            "endpoints[1].othersPermission",
            "userParam",
        ),
        (
            align_with(|d| {
                d["userParam"] = "id".into();
                d["endpoints"][1]["othersPermission"] = "read:user".into();
            }),
            "endpoints[1].othersPermission",
            ":id",
        ),
        (
            align_with(|d| {
                d["userParam"] = "id".into();
                d["endpoints"][3]["othersPermission"] = "read:everyone".into();
            }),
            "endpoints[3].othersPermission",
            "read:everyone",
        ),
        (
            // The only parameter is the organization's: an own_path row has nothing to read.
            align_with(|d| d["organizationParam"] = "id".into()),
            "endpoints[4].path",
            "other than the organization and user parameters",
        ),
        (
            align_with(|d| {
                d["organizationParam"] = "id".into();
                d["endpoints"][4]["param"] = "id".into();
            }),
            "endpoints[4].param",
            "organization or user parameter",
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
        d["permissions"] = (0..257)
            .map(|i| serde_json::Value::from(format!("p{i}")))
            .collect();
    });
    assert_eq!(invalid(&doc).0, "permissions");
    let fits = align_with(|d| {
        let mut names: Vec<serde_json::Value> = d["permissions"].as_array().unwrap().clone();
        names.extend((names.len()..256).map(|i| serde_json::Value::from(format!("p{i}"))));
        d["permissions"] = names.into();
        d["roles"]["admin"] = d["permissions"].clone();
    });
    let policy = Policy::from_json(&fits).expect("256 permissions fit");
    let admin = policy.role_grants("admin").unwrap();
    assert_eq!(admin.len(), 256);
    assert!(admin.contains(255));
    assert_eq!(policy.permission_index("p255"), Some(255));
}

#[test]
fn the_tenant_and_the_user_sit_in_the_path() {
    let doc = r#"{
      "keyPrefix": "clk",
      "basePath": "/api/v1",
      "organizationParam": "workspaceId",
      "userParam": "userId",
      "permissions": ["read:entry", "read:others", "read:expense"],
      "roles": {"member": ["read:entry", "read:expense"]},
      "keyCreators": {"organization": ["member"], "project": ["member"]},
      "endpoints": [
        {"method": "GET", "path": "/workspaces/:workspaceId/user/:userId/entries/:entryId",
         "permission": "read:entry", "othersPermission": "read:others", "projectKey": "own_resource",
         "resourceKind": "entry"},
        {"method": "GET", "path": "/workspaces/:workspaceId/expenses/categories",
         "permission": "read:expense", "projectKey": "allow"},
        {"method": "GET", "path": "/workspaces/:workspaceId/expenses/:expenseId",
         "permission": "read:expense", "projectKey": "own_resource", "resourceKind": "expense"}
      ]
    }"#;
    let policy = Policy::from_json(doc).expect("valid");
    assert_eq!(policy.key_prefix().as_str(), "clk");
    assert_eq!(policy.organization_param(), Some("workspaceId"));
    let m = policy
        .route("GET", "/api/v1/workspaces/ws%5F1/user/u_2/entries/e_3")
        .expect("matches");
    assert_eq!(m.param.unwrap().as_str(), "e_3");
    assert_eq!(m.organization.unwrap().as_str(), "ws_1");
    assert_eq!(m.user.unwrap().as_str(), "u_2");
    let row = m.endpoint;
    assert!(row.names_organization() && row.names_user());
    assert_eq!(row.others_permission().unwrap().name(), "read:others");
    assert_eq!(row.rule_param(), Some("entryId"));
    assert_eq!(row.resource_kind(), Some("entry"));
    // The static segment wins beside the parameter, whatever the order of the rows.
    let categories = |policy: &Policy| {
        policy
            .route("GET", "/api/v1/workspaces/w/expenses/categories")
            .unwrap()
            .endpoint
            .pattern()
            .to_owned()
    };
    assert_eq!(
        categories(&policy),
        "/workspaces/:workspaceId/expenses/categories"
    );
    let mut swapped: serde_json::Value = serde_json::from_str(doc).unwrap();
    swapped["endpoints"].as_array_mut().unwrap().swap(1, 2);
    let swapped = Policy::from_json(&swapped.to_string()).unwrap();
    assert_eq!(
        categories(&swapped),
        "/workspaces/:workspaceId/expenses/categories"
    );
    assert!(policy
        .route("GET", "/api/v1/workspaces/w/expenses/ex_1")
        .is_some());
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

#[test]
fn a_node_with_many_static_children_finds_each_and_falls_back_to_the_parameter() {
    // More children than are compared one by one: the sorted search must find exactly the
    // segment (not a prefix of it), and a segment matching none goes to the parameter.
    let mut names: Vec<String> = (0..30).map(|i| format!("k{i}")).collect();
    names.extend(["a", "ab", "abc", "abcdefghijklmnopqrstuvwxyz", "z-z.z~z_z"].map(String::from));
    let mut endpoints: Vec<serde_json::Value> = names
        .iter()
        .map(|n| serde_json::json!({"method": "GET", "path": format!("/t/{n}"), "projectKey": "allow"}))
        .collect();
    endpoints.push(serde_json::json!({"method": "GET", "path": "/t/:id", "projectKey": "allow"}));
    endpoints.push(serde_json::json!({"method": "GET", "path": "/t/:id/x", "projectKey": "allow"}));
    endpoints.push(serde_json::json!({"method": "GET", "path": "/t/ab/y", "projectKey": "allow"}));
    let doc = serde_json::json!({
        "basePath": "/v", "permissions": ["p"], "roles": {"r": ["p"]},
        "keyCreators": {"organization": ["r"], "project": ["r"]}, "endpoints": endpoints,
    });
    let policy = Policy::from_json(&doc.to_string()).unwrap();
    let pattern = |target: &str| {
        policy
            .route("GET", target)
            .map(|m| m.endpoint.pattern().to_owned())
    };
    for n in &names {
        assert_eq!(
            pattern(&format!("/v/t/{n}")).as_deref(),
            Some(format!("/t/{n}").as_str())
        );
        assert_eq!(
            pattern(&format!("/v/t/{n}?q=1")).as_deref(),
            Some(format!("/t/{n}").as_str())
        );
    }
    assert_eq!(pattern("/v/t/abcd").as_deref(), Some("/t/:id"));
    assert_eq!(pattern("/v/t/k300").as_deref(), Some("/t/:id"));
    // Under a static child the rest fails, so the parameter is tried.
    assert_eq!(pattern("/v/t/ab/x").as_deref(), Some("/t/:id/x"));
    assert_eq!(pattern("/v/t/ab/y").as_deref(), Some("/t/ab/y"));
    assert_eq!(pattern("/v/t/k3/x").as_deref(), Some("/t/:id/x"));
    assert_eq!(
        pattern("/v/t/z-z.z~z_z/x"),
        None,
        "not an id, and no static row below it"
    );
    assert_eq!(pattern("/v/t/"), None);
}
