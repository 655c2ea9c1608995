//! `keyscope policy from-openapi`: a hand-written OpenAPI 3.1 YAML document (every case the
//! draft cannot hold, skipped and said so), GitHub's real description of the 373 operations
//! under `/orgs/{org}` (every one a row), the permission fold past 256, and the errors. Every
//! draft must compile with policy-core and pass `policy check`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;

use common::{keyscope, scratch, write};
use policy_core::Policy;
use policy_core::ProjectIds;
use serde_json::{json, Value};

const TASKS: &str = "cli/tests/fixtures/tasks-3.1.yaml";
const GITHUB: &str = "cli/tests/fixtures/github/orgs.json";

/// Runs from-openapi to a file; returns the draft (compiled, and checked by `policy check`), the
/// draft's JSON and stderr.
fn draft(name: &str, args: &[&str]) -> (Policy, Value, String) {
    let out = scratch(name).join("draft.json");
    let out = out.to_str().unwrap();
    let mut all = vec!["policy", "from-openapi"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", out]);
    let run = keyscope(&all, "");
    assert!(run.ok(), "{}", run.said());
    assert!(run.stdout.is_empty(), "the draft goes to -o");
    let text = std::fs::read_to_string(out).unwrap();
    let policy =
        Policy::from_json(&text).unwrap_or_else(|e| panic!("the draft does not compile: {e}\n{text}"));
    let check = keyscope(&["policy", "check", out], "");
    assert!(check.ok(), "{}", check.said());
    (policy, serde_json::from_str(&text).unwrap(), run.stderr)
}

/// The `warning: skipped METHOD PATH: why` lines, as (method, path, why).
fn skipped(stderr: &str) -> Vec<(String, String, String)> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("warning: skipped "))
        .map(|l| {
            let (method, rest) = l.split_once(' ').unwrap();
            let (path, why) = rest.split_once(": ").unwrap();
            (method.to_owned(), path.to_owned(), why.to_owned())
        })
        .collect()
}

#[test]
fn a_small_yaml_document_becomes_a_draft() {
    let (policy, doc, stderr) = draft(
        "tasks",
        &[
            TASKS,
            "--organization-param",
            "teamId",
            "--user-param",
            "memberId",
            "--project-param",
            "projectId",
            "--prefix",
            "tsk",
        ],
    );
    assert_eq!(policy.key_prefix().as_str(), "tsk");
    assert_eq!(policy.base_path(), "/v2", "from servers[0].url");
    assert_eq!(policy.organization_param(), Some("teamId"));
    assert_eq!(policy.user_param(), Some("memberId"));
    let rows: Vec<(&str, &str, Option<&str>, Option<&str>)> = policy
        .endpoints()
        .iter()
        .map(|e| {
            (
                e.method(),
                e.pattern(),
                e.permission().map(|p| p.name()),
                e.rule_param(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("GET", "/teams", Some("read:teams"), None),
            ("GET", "/teams/:teamId", Some("read:teams"), None),
            ("DELETE", "/teams/:teamId", Some("write:teams"), None),
            (
                "GET",
                "/teams/:teamId/projects/:projectId/tasks",
                Some("read:task_items"),
                Some("projectId")
            ),
            (
                "POST",
                "/teams/:teamId/projects/:projectId/tasks",
                Some("write:task_items"),
                Some("projectId")
            ),
            (
                "PATCH",
                "/teams/:teamId/projects/:projectId/tasks/:taskId",
                Some("write:task_items"),
                Some("projectId")
            ),
            // No tag: the first static segment names the permission.
            (
                "GET",
                "/teams/:teamId/members/:memberId/timers",
                Some("read:teams"),
                None
            ),
            (
                "PUT",
                "/teams/:teamId/members/:memberId/timers",
                Some("write:teams"),
                None
            ),
        ]
    );
    let rules: Vec<&str> = doc["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["projectKey"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["deny", "deny", "deny", "own_path", "own_path", "own_path", "deny", "deny"]
    );
    assert!(policy.endpoints().iter().skip(1).all(|e| e.names_organization()));
    assert_eq!(policy.endpoints().iter().filter(|e| e.names_user()).count(), 2);
    assert_eq!(
        policy.permissions().collect::<Vec<_>>(),
        ["read:teams", "write:teams", "read:task_items", "write:task_items"]
    );
    assert_eq!(policy.roles().collect::<Vec<_>>(), ["owner"]);
    assert!(policy.may_create_key("owner", policy_core::Scope::Organization));
    assert!(policy.may_create_key("owner", policy_core::Scope::Project));
    assert_eq!(
        doc["presets"],
        json!({"full": null, "read": ["read:teams", "read:task_items"]})
    );

    // Exactly these were skipped, each for its reason.
    let skips = skipped(&stderr);
    let expected: [(&str, &str, &str); 6] = [
        (
            "HEAD",
            "/teams/{teamId}",
            "HEAD is matched as GET: the GET row covers it",
        ),
        (
            "GET",
            "/teams/{teamId}/exports/{name}.json",
            "holds a parameter inside it",
        ),
        (
            "GET",
            "/teams/{teamId}/reports/r{reportId}",
            "holds a parameter inside it",
        ),
        ("HEAD", "/teams/{teamId}/status", "this path has no GET operation"),
        (
            "GET",
            "/teams/{teamId}/a/b/c/d/e/f/g/h/i/j/k",
            "a row has at most 12",
        ),
        (
            "GET",
            "/teams/{team}/projects/{project}/tasks",
            "same method and path shape as GET /teams/{teamId}/projects/{projectId}/tasks",
        ),
    ];
    assert_eq!(skips.len(), expected.len(), "{stderr}");
    for (method, path, why) in expected {
        assert!(
            skips
                .iter()
                .any(|(m, p, w)| m == method && p == path && w.contains(why)),
            "{method} {path} ({why}) not skipped: {stderr}"
        );
    }
    assert!(stderr.contains("14 operations: 8 rows, 6 skipped"), "{stderr}");
    assert!(stderr.contains("2 rows hold :memberId"), "{stderr}");

    // To stdout without -o; and an explicit base path the paths lie under.
    let run = keyscope(&["policy", "from-openapi", TASKS, "--base-path", "/v2/teams"], "");
    assert!(run.ok(), "{}", run.said());
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["basePath"], "/v2/teams");
    assert!(doc.get("keyPrefix").is_none(), "no --prefix: the default");
    assert_eq!(
        doc["endpoints"][0]["path"], "/:teamId",
        "GET /teams is the base path itself: skipped"
    );
    assert!(
        run.stderr
            .contains("skipped GET /teams: the base path itself cannot be a row"),
        "{}",
        run.stderr
    );
    Policy::from_json(&run.stdout).unwrap();
}

/// `(METHOD, pattern below /orgs)` for every operation of the GitHub fixture but HEAD, read
/// straight from the document.
fn github_operations() -> BTreeSet<(String, String)> {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(common::root().join(GITHUB)).unwrap()).unwrap();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "put", "post", "delete", "options", "patch", "trace"] {
            if item.get(method).is_some() {
                let pattern = path
                    .strip_prefix("/orgs")
                    .unwrap()
                    .replace('{', ":")
                    .replace('}', "");
                assert!(out.insert((method.to_uppercase(), pattern)));
            }
        }
        assert!(item.get("head").is_none());
    }
    out
}

#[test]
fn githubs_org_operations_each_become_a_row() {
    let operations = github_operations();
    assert_eq!(operations.len(), 373);
    let (policy, _, stderr) = draft(
        "github",
        &[GITHUB, "--organization-param", "org", "--prefix", "ghx"],
    );
    assert!(skipped(&stderr).is_empty(), "nothing is skipped: {stderr}");
    assert!(
        stderr.contains("OpenAPI 3.0.3, 373 operations: 373 rows, 0 skipped"),
        "{stderr}"
    );
    assert_eq!(
        policy.base_path(),
        "/orgs",
        "the common static prefix (servers[0].url has no path)"
    );
    let rows: BTreeSet<(String, String)> = policy
        .endpoints()
        .iter()
        .map(|e| (e.method().to_owned(), e.pattern().to_owned()))
        .collect();
    assert_eq!(
        rows, operations,
        "one row per operation, paths as the document writes them"
    );
    assert!(
        policy.endpoints().iter().all(|e| e.names_organization()),
        "every row holds the tenant"
    );
    let permissions: Vec<&str> = policy.permissions().collect();
    assert!(permissions.contains(&"read:actions") && permissions.contains(&"write:actions"));
    assert!(
        permissions.contains(&"read:code_scanning"),
        "tags are slugged: {permissions:?}"
    );
    let hooks = policy
        .endpoints()
        .iter()
        .find(|e| e.method() == "DELETE" && e.pattern() == "/:org/hooks/:hook_id")
        .unwrap();
    assert_eq!(hooks.permission().unwrap().name(), "write:orgs");

    // The draft decides: another organization is refused by the tenant check.
    let engine = policy_core::Engine::new(policy, policy_core::Environment::Live);
    let record = policy_core::KeyRecord {
        id: "k".into(),
        name: "n".into(),
        hint: "h".into(),
        organization_id: "acme".into(),
        created_by: "u".into(),
        scope: policy_core::Scope::Organization,
        scoped_project_ids: ProjectIds::none(),
        allowed_cidrs: None,
        rate_limit: None,
        quota: None,
        permissions: Some(vec!["read:teams".into()]),
        created_at: policy_core::Timestamp(0),
        last_used_at: None,
        revoked_at: None,
        expires_at: None,
    };
    let other = engine.explain(
        &record,
        Some("owner"),
        "GET",
        "/orgs/globex/teams",
        None,
        policy_core::Timestamp(1),
        None,
    );
    assert_eq!(other.check, policy_core::Check::Organization);
    let own = engine.explain(
        &record,
        Some("owner"),
        "GET",
        "/orgs/acme/teams",
        None,
        policy_core::Timestamp(1),
        None,
    );
    assert_eq!(own.check, policy_core::Check::Allowed);
    let write = engine.explain(
        &record,
        Some("owner"),
        "POST",
        "/orgs/acme/teams",
        None,
        policy_core::Timestamp(1),
        None,
    );
    assert_eq!(write.check, policy_core::Check::Permission);
}

#[test]
fn past_256_permissions_fold_to_one_per_tag() {
    let dir = scratch("fold");
    let paths = |tags: usize| {
        let mut paths = serde_json::Map::new();
        for i in 0..tags {
            paths.insert(
                format!("/api/t{i:03}/{{id}}"),
                json!({"get": {"tags": [format!("Tag {i}")]}, "post": {"tags": [format!("Tag {i}")]}}),
            );
        }
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths}).to_string()
    };
    // 130 tags × read and write = 260 permissions: folded to 130 access:<tag>.
    let doc = write(&dir, "many.json", &paths(130));
    let (policy, json, stderr) = draft("fold-130", &[&doc]);
    assert!(stderr.contains("folded to one access:<tag> per tag"), "{stderr}");
    assert_eq!(policy.permissions().count(), 130);
    assert_eq!(policy.endpoints().len(), 260);
    assert_eq!(policy.endpoints()[1].permission().unwrap().name(), "access:tag_0");
    assert_eq!(policy.endpoints()[1].pattern(), "/t000/:id");
    assert_eq!(
        json["presets"],
        json!({"full": null}),
        "no read:* permission, no read preset"
    );
    // 300 tags: the operations of tags past the 256th are skipped, each said.
    let doc = write(&dir, "more.json", &paths(300));
    let (policy, _, stderr) = draft("fold-300", &[&doc]);
    assert_eq!(policy.permissions().count(), 256);
    assert_eq!(policy.endpoints().len(), 512);
    let skips = skipped(&stderr);
    assert_eq!(skips.len(), 88, "{stderr}");
    assert!(
        skips
            .iter()
            .all(|(_, p, w)| w.contains("at most 256 permissions") && p.as_str() >= "/api/t256"),
        "{skips:?}"
    );
}

#[test]
fn what_cannot_be_drafted_is_a_clear_error() {
    let dir = scratch("openapi-errors");
    let fails = |args: &[&str], says: &str| {
        let mut all = vec!["policy", "from-openapi"];
        all.extend_from_slice(args);
        let run = keyscope(&all, "");
        assert_eq!(run.code, Some(1), "{args:?}: {}", run.said());
        assert!(run.stdout.is_empty(), "{args:?}: no draft");
        assert!(
            run.stderr.contains(says),
            "{args:?}: wanted {says:?}: {}",
            run.said()
        );
    };
    fails(
        &[TASKS, "--organization-param", "workspaceId"],
        "--organization-param workspaceId: no path holds {workspaceId}",
    );
    fails(&[TASKS, "--user-param", "userId"], "no path holds {userId}");
    fails(
        &[TASKS, "--organization-param", "teamId", "--user-param", "teamId"],
        "both name \"teamId\"",
    );
    fails(&[TASKS, "--prefix", "Bad"], "--prefix \"Bad\"");
    fails(&[TASKS, "--base-path", "/v2/"], "--base-path \"/v2/\"");
    let swagger = write(
        &dir,
        "swagger.yaml",
        "swagger: \"2.0\"\ninfo: {title: t, version: \"1\"}\npaths: {}\n",
    );
    fails(&[&swagger], "Swagger 2.0");
    let v32 = write(&dir, "v32.yaml", "openapi: 3.2.0\npaths: {}\n");
    fails(&[&v32], "only 3.0 and 3.1");
    let broken = write(&dir, "broken.yaml", "openapi: 3.1.0\npaths: [\n");
    fails(&[&broken], "not an OpenAPI document (YAML)");
    // Paths at the root with nothing in common: the base path must be given.
    let root = write(
        &dir,
        "root.yaml",
        "openapi: 3.1.0\npaths:\n  /a: {get: {}}\n  /b/{id}: {delete: {}}\n",
    );
    fails(&[&root], "pass --base-path");
    let (policy, _, stderr) = draft("root-base", &[&root, "--base-path", "/gw"]);
    assert_eq!(policy.base_path(), "/gw");
    assert_eq!(policy.endpoints()[1].pattern(), "/b/:id");
    assert_eq!(policy.endpoints()[1].permission().unwrap().name(), "write:b");
    assert!(stderr.contains("taken as served below it"), "{stderr}");
}
