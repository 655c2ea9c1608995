//! `keyscope policy check / explain / test` on the vectors' workspaces policy: the endpoint
//! table, errors naming the field, decisions explained by the check that made them, the access
//! table, and vector files run under a policy (and failing under a mutated one).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{keyscope, scratch, workspaces_policy, write, WORKSPACES_POLICY};
use serde_json::Value;

/// The cells of the table line whose method and path are these.
fn row<'a>(table: &'a str, method: &str, path: &str) -> Vec<&'a str> {
    table
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|cells| cells.len() > 2 && cells[0] == method && cells[1] == path)
        .unwrap_or_else(|| panic!("no row {method} {path} in\n{table}"))
}

#[test]
fn check_prints_the_endpoint_table() {
    let run = keyscope(&["policy", "check", WORKSPACES_POLICY], "");
    assert!(run.ok(), "{}", run.said());
    let out = &run.stdout;
    assert!(
        out.contains("valid policy: 16 endpoints, 12 permissions, 3 roles"),
        "{out}"
    );
    assert!(out.contains("keys clk_live_…"), "{out}");
    // METHOD PATH PERMISSION OTHERS PROJECT-KEY… TENANT USER SERVED-BY
    assert_eq!(
        row(
            out,
            "GET",
            "/api/v1/workspaces/:workspaceId/user/:userId/time-entries"
        ),
        [
            "GET",
            "/api/v1/workspaces/:workspaceId/user/:userId/time-entries",
            "read:time_entry",
            "read:others_time_entry",
            "filtered",
            ":workspaceId",
            ":userId",
            "origin"
        ]
    );
    assert_eq!(
        row(out, "PATCH", "/api/v1/workspaces/:workspaceId/time-entries/:id"),
        [
            "PATCH",
            "/api/v1/workspaces/:workspaceId/time-entries/:id",
            "write:time_entry",
            "-",
            "own_resource",
            "time_entry",
            ":id",
            ":workspaceId",
            "-",
            "origin"
        ]
    );
    assert_eq!(
        row(
            out,
            "GET",
            "/api/v1/workspaces/:workspaceId/projects/:projectId/tasks/:taskId"
        )[4..7],
        ["own_path", ":projectId", ":workspaceId"]
    );
    assert_eq!(
        row(out, "GET", "/api/v1/workspaces")[4..],
        ["allow", "-", "-", "origin"]
    );
    assert_eq!(
        row(out, "GET", "/api/v1/me")[2..],
        ["-", "-", "allow", "-", "-", "gateway", "(/me)"]
    );
    assert_eq!(
        out.lines().count(),
        2 + 16,
        "a summary, a header and one line per row"
    );

    let run = keyscope(&["policy", "check", "--json", WORKSPACES_POLICY], "");
    assert!(run.ok(), "{}", run.said());
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["keyPrefix"], "clk");
    assert_eq!(json["organizationParam"], "workspaceId");
    let rows = json["endpoints"].as_array().unwrap();
    assert_eq!(rows.len(), 16);
    let delete = rows.iter().find(|r| r["method"] == "DELETE").unwrap();
    assert_eq!(delete["path"], "/api/v1/workspaces/:workspaceId/users/:userId");
    assert_eq!(delete["userParam"], "userId");
    assert_eq!(delete["othersPermission"], "manage:user");
    assert_eq!(rows[0]["servesMe"], true);
}

#[test]
fn a_broken_document_names_the_field() {
    let dir = scratch("broken");
    let policy = workspaces_policy();
    // endpoints[6] is GET …/tasks/:taskId with "param": "projectId".
    let doc: Value = serde_json::from_str(&policy).unwrap();
    assert_eq!(doc["endpoints"][6]["param"], "projectId");
    let mut bad = doc.clone();
    bad["endpoints"][6]["param"] = "nope".into();
    let file = write(&dir, "param.json", &bad.to_string());
    let run = keyscope(&["policy", "check", &file], "");
    assert_eq!(run.code, Some(1), "{}", run.said());
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr
            .contains("endpoints[6].param: the pattern has no parameter \":nope\""),
        "{}",
        run.said()
    );

    // A shape error (not just a bad value) names its field too.
    let mut bad = doc.clone();
    bad["endpoints"][3]["projectKey"] = "sometimes".into();
    let file = write(&dir, "rule.json", &bad.to_string());
    let run = keyscope(&["policy", "check", &file], "");
    assert_eq!(run.code, Some(1), "{}", run.said());
    assert!(
        run.stderr
            .contains("endpoints[3].projectKey: unknown variant `sometimes`"),
        "{}",
        run.said()
    );

    let mut bad = doc.clone();
    bad["endpoints"][12]["colour"] = "red".into();
    let file = write(&dir, "unknown.json", &bad.to_string());
    let run = keyscope(&["policy", "check", "--json", &file], "");
    assert_eq!(run.code, Some(1), "{}", run.said());
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["valid"], false);
    assert_eq!(json["field"], "endpoints[12].colour");
    assert!(
        json["problem"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`"),
        "{json}"
    );

    let file = write(&dir, "trailing.json", &format!("{policy} {{}}"));
    assert_eq!(
        keyscope(&["policy", "check", &file], "").code,
        Some(1),
        "nothing may follow the document"
    );
    assert_eq!(keyscope(&["policy", "check", "no/such.json"], "").code, Some(1));
}

/// A key record as the admin API returns it.
fn record(dir: &std::path::Path, name: &str, fields: &[(&str, Value)]) -> String {
    let mut record = serde_json::json!({
        "id": "key_1", "name": "CI", "hint": "abcd", "organizationId": "ws_a", "createdBy": "u_member",
        "scope": "organization", "scopedProjectId": null, "permissions": null,
        "createdAt": "2026-10-01T09:00:00.000Z", "lastUsedAt": null, "revokedAt": null, "expiresAt": null,
        "leakedAt": "2026-10-02T09:00:00.000Z",
    });
    for (field, value) in fields {
        record[*field] = value.clone();
    }
    write(dir, name, &record.to_string())
}

fn explain(key: &str, more: &[&str]) -> common::Run {
    let mut args = vec![
        "policy",
        "explain",
        "--policy",
        WORKSPACES_POLICY,
        "--key",
        key,
        "--now",
        "2026-11-23T12:00:00Z",
    ];
    args.extend_from_slice(more);
    keyscope(&args, "")
}

#[test]
fn explain_names_the_check_that_decided() {
    let dir = scratch("explain");
    let org_key = record(&dir, "org.json", &[]);
    let run = explain(
        &org_key,
        &["--role", "member", "GET", "/api/v1/workspaces/ws_b/projects"],
    );
    assert!(run.ok(), "{}", run.said());
    let first = run.stdout.lines().next().unwrap();
    assert_eq!(
        first,
        "denied 403 scope_violation: This key belongs to another organization. (check: organization; row GET /workspaces/:workspaceId/projects)"
    );
    assert!(
        run.stdout.contains("/api/v1/workspaces/:workspaceId/projects"),
        "the matched row: {}",
        run.said()
    );

    let run = explain(
        &org_key,
        &[
            "--role",
            "member",
            "--json",
            "GET",
            "/api/v1/workspaces/ws_b/projects",
        ],
    );
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["verdict"], "denied");
    assert_eq!(json["status"], 403);
    assert_eq!(json["reason"], "scope_violation");
    assert_eq!(json["check"], "organization");
    assert_eq!(
        json["endpoint"]["path"],
        "/api/v1/workspaces/:workspaceId/projects"
    );

    // Another user's time entries need othersPermission: a member lacks it.
    let run = explain(
        &org_key,
        &[
            "--role",
            "member",
            "GET",
            "https://api.example.com/api/v1/workspaces/ws_a/user/u_other/time-entries?x=1",
        ],
    );
    assert!(
        run.stdout
            .starts_with("denied 403 forbidden: Missing read:others_time_entry permission."),
        "{}",
        run.said()
    );
    assert!(
        run.stdout
            .contains("(check: permission; row GET /workspaces/:workspaceId/user/:userId/time-entries)"),
        "{}",
        run.said()
    );
    // A row without othersPermission is the key's own user's only: the user check.
    let run = explain(
        &org_key,
        &[
            "--role",
            "owner",
            "POST",
            "/api/v1/workspaces/ws_a/user/u_other/time-entries",
        ],
    );
    assert!(run.stdout.starts_with("denied 403 forbidden: "), "{}", run.said());
    assert!(
        run.stdout
            .contains("(check: user; row POST /workspaces/:workspaceId/user/:userId/time-entries)"),
        "{}",
        run.said()
    );
    let run = explain(
        &org_key,
        &[
            "--role",
            "manager",
            "GET",
            "/api/v1/workspaces/ws_a/user/u_other/time-entries",
        ],
    );
    assert!(
        run.stdout.starts_with("allowed (check: allowed; row GET"),
        "{}",
        run.said()
    );

    // The creator left; the key expired; an unknown endpoint.
    let run = explain(
        &org_key,
        &["--no-member", "GET", "/api/v1/workspaces/ws_a/projects"],
    );
    assert!(
        run.stdout.starts_with("denied 401 key_revoked:") && run.stdout.contains("check: key;"),
        "{}",
        run.said()
    );
    let expired = record(
        &dir,
        "expired.json",
        &[("expiresAt", "2026-11-01T00:00:00Z".into())],
    );
    let run = explain(
        &expired,
        &["--role", "owner", "GET", "/api/v1/workspaces/ws_a/projects"],
    );
    assert!(
        run.stdout.starts_with("denied 401 key_revoked:"),
        "{}",
        run.said()
    );
    let run = explain(&org_key, &["--role", "owner", "GET", "/api/v1/nothing/here"]);
    assert!(
        run.stdout.starts_with("denied 404 not_found:") && run.stdout.contains("(check: endpoint; no row)"),
        "{}",
        run.said()
    );

    // A project key on an own_resource row: it depends on the resource, unless told.
    let project_key = record(
        &dir,
        "project.json",
        &[("scope", "project".into()), ("scopedProjectId", "p1".into())],
    );
    let target = "/api/v1/workspaces/ws_a/expenses/ex_9";
    let run = explain(&project_key, &["--role", "member", "GET", target]);
    assert!(
        run.stdout
            .starts_with("depends on whether resource expense ex_9 belongs to project p1"),
        "{}",
        run.said()
    );
    assert!(run.stdout.contains("check: resource;"), "{}", run.said());
    let run = explain(
        &project_key,
        &["--role", "member", "--resource-project", "p1", "GET", target],
    );
    assert!(
        run.stdout.starts_with("allowed (check: allowed;"),
        "{}",
        run.said()
    );
    let run = explain(
        &project_key,
        &["--role", "member", "--resource-project", "p2", "GET", target],
    );
    assert!(
        run.stdout.starts_with("denied 404 not_found:") && run.stdout.contains("check: resource;"),
        "{}",
        run.said()
    );
    let run = explain(&project_key, &["--role", "member", "--json", "GET", target]);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["verdict"], "needs_resource");
    assert_eq!(
        json["resource"],
        serde_json::json!({"kind": "expense", "id": "ex_9"})
    );
    let run = explain(
        &project_key,
        &["--role", "member", "GET", "/api/v1/workspaces/ws_a/projects"],
    );
    assert!(
        run.stdout
            .starts_with("allowed, the origin told X-Keyscope-Project-Filter: p1"),
        "{}",
        run.said()
    );

    // A create answer's `key` is read too, and times may be Unix milliseconds.
    let wrapped = write(
        &dir,
        "created.json",
        &serde_json::json!({"secret": "clk_live_…", "key": {"id": "key_2", "name": "CI", "hint": "abcd", "organizationId": "ws_a", "createdBy": "u_owner", "scope": "organization", "createdAt": 1_790_000_000_000_i64}}).to_string(),
    );
    let run = explain(
        &wrapped,
        &[
            "--role",
            "owner",
            "DELETE",
            "/api/v1/workspaces/ws_a/users/u_member",
        ],
    );
    assert!(run.stdout.starts_with("allowed"), "{}", run.said());
}

#[test]
fn explain_refuses_what_it_cannot_read() {
    let dir = scratch("explain-bad");
    let bad_time = record(&dir, "time.json", &[("createdAt", "yesterday".into())]);
    let run = explain(&bad_time, &["--role", "member", "GET", "/api/v1/workspaces"]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("createdAt"), "{}", run.said());
    let bad_scope = record(&dir, "scope.json", &[("scope", "galaxy".into())]);
    let run = explain(&bad_scope, &["--role", "member", "GET", "/api/v1/workspaces"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("scope: unknown variant `galaxy`"),
        "{}",
        run.said()
    );
    let ok = record(&dir, "ok.json", &[]);
    assert_eq!(
        explain(&ok, &["GET", "/api/v1/workspaces"]).code,
        Some(2),
        "--role or --no-member is needed"
    );
    assert_eq!(
        explain(&ok, &["--role", "member"]).code,
        Some(2),
        "METHOD PATH or --table is needed"
    );
    assert_eq!(
        explain(&ok, &["--role", "member", "--no-member", "GET", "/x"]).code,
        Some(2)
    );
    let run = keyscope(
        &[
            "policy",
            "explain",
            "--policy",
            WORKSPACES_POLICY,
            "--key",
            &ok,
            "--role",
            "member",
            "--now",
            "soon",
            "GET",
            "/api/v1/workspaces",
        ],
        "",
    );
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("--now"), "{}", run.said());
}

#[test]
fn the_access_table_lists_every_row() {
    let dir = scratch("access");
    let key = record(
        &dir,
        "project.json",
        &[
            ("scope", "project".into()),
            ("scopedProjectId", "p1".into()),
            (
                "permissions",
                serde_json::json!(["read:project", "read:time_entry", "read:expense"]),
            ),
        ],
    );
    let run = explain(&key, &["--role", "member", "--table"]);
    assert!(run.ok(), "{}", run.said());
    let out = &run.stdout;
    assert!(
        out.starts_with(
            "key key_1 (project key (project p1)) of organization ws_a, created by u_member (role member)"
        ),
        "{out}"
    );
    assert_eq!(out.lines().count(), 2 + 16, "who, a header and one line per row");
    let line = |method: &str, path: &str| {
        out.lines()
            .find(|l| l.split_whitespace().take(2).eq([method, path]))
            .unwrap_or_else(|| panic!("no {method} {path} in\n{out}"))
    };
    let projects = line("GET", "/api/v1/workspaces/:workspaceId/projects");
    assert!(
        projects.contains("allowed, the origin told X-Keyscope-Project-Filter: p1"),
        "{projects}"
    );
    assert!(
        projects.contains(":workspaceId = ws_a; filtered to project p1"),
        "{projects}"
    );
    let own = line("GET", "/api/v1/workspaces/:workspaceId/projects/:projectId");
    assert!(own.contains(":projectId = p1"), "{own}");
    let entries = line("GET", "/api/v1/workspaces/:workspaceId/user/:userId/time-entries");
    assert!(
        entries.contains(":userId = u_member (others with read:others_time_entry)"),
        "{entries}"
    );
    let expense = line("GET", "/api/v1/workspaces/:workspaceId/expenses/:expenseId");
    assert!(expense.contains("expense :expenseId of project p1"), "{expense}");
    let create = line("POST", "/api/v1/workspaces/:workspaceId/projects");
    assert!(
        create.contains("denied 403 scope_violation:") && create.contains("project_scope"),
        "{create}"
    );
    let users = line("GET", "/api/v1/workspaces/:workspaceId/users");
    assert!(users.contains("denied 403 scope_violation"), "{users}");
    let tasks = line(
        "PUT",
        "/api/v1/workspaces/:workspaceId/projects/:projectId/tasks/:taskId",
    );
    assert!(
        tasks.contains("denied 403 forbidden: ") && tasks.contains("permission"),
        "{tasks}"
    );

    let run = explain(&key, &["--role", "member", "--table", "--json"]);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 16);
    let allowed = rows.iter().filter(|r| r["verdict"] == "allowed").count();
    assert!(allowed >= 4, "{json}");
    let filtered = rows
        .iter()
        .find(|r| {
            r["endpoint"]["path"] == "/api/v1/workspaces/:workspaceId/projects"
                && r["endpoint"]["method"] == "GET"
        })
        .unwrap();
    assert_eq!(filtered["projectFilter"], "p1");
    assert_eq!(
        filtered["conditions"][1],
        serde_json::json!({"kind": "filtered_to_project", "value": "p1"})
    );
    assert_eq!(
        explain(&key, &["--role", "member", "--table", "GET", "/x"]).code,
        Some(2),
        "--table takes no request"
    );
}

#[test]
fn vector_files_run_under_the_policy() {
    let run = keyscope(
        &[
            "policy",
            "test",
            WORKSPACES_POLICY,
            "tests/vectors/workspaces.json",
        ],
        "",
    );
    assert!(run.ok(), "{}", run.said());
    let cases = {
        let file: Value = serde_json::from_str(
            &std::fs::read_to_string(common::root().join("tests/vectors/workspaces.json")).unwrap(),
        )
        .unwrap();
        file["cases"].as_array().unwrap().len()
    };
    assert!(
        run.stdout
            .contains(&format!("PASS tests/vectors/workspaces.json ({cases} cases)")),
        "{}",
        run.said()
    );
    assert!(
        run.stdout.contains("every file passed (1 files"),
        "{}",
        run.said()
    );

    // The same cases under a mutated policy: the filtered rows deny project keys now.
    let dir = scratch("policy-test");
    let mutated = workspaces_policy().replace("\"projectKey\": \"filtered\"", "\"projectKey\": \"deny\"");
    assert_ne!(mutated, workspaces_policy());
    let mutated = write(&dir, "mutated.json", &mutated);
    let run = keyscope(&["policy", "test", &mutated, "tests/vectors/workspaces.json"], "");
    assert_eq!(run.code, Some(1), "{}", run.said());
    let failing: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("  - ")).collect();
    assert!(!failing.is_empty(), "{}", run.said());
    assert!(
        run.stdout.contains("FAIL tests/vectors/workspaces.json: "),
        "{}",
        run.said()
    );
    assert!(
        failing
            .iter()
            .all(|l| l.contains("tests/vectors/workspaces.json :: ")),
        "{failing:?}"
    );
    assert!(
        failing.iter().any(|l| l.contains("scope_violation")),
        "{failing:?}"
    );
    assert!(
        run.stdout.contains(&format!(
            "1 of 1 files failed ({} of {cases} cases)",
            failing.len()
        )),
        "{}",
        run.said()
    );

    // One good and one unloadable file (Align's ck_ keys are no keys of this policy).
    let run = keyscope(
        &[
            "policy",
            "test",
            WORKSPACES_POLICY,
            "tests/vectors/workspaces.json",
            "tests/vectors/me.json",
        ],
        "",
    );
    assert_eq!(run.code, Some(1), "{}", run.said());
    assert!(
        run.stdout.contains("PASS tests/vectors/workspaces.json"),
        "{}",
        run.said()
    );
    assert!(
        run.stdout
            .contains("FAIL tests/vectors/me.json: cannot be loaded:"),
        "{}",
        run.said()
    );
    assert_eq!(
        keyscope(&["policy", "test", WORKSPACES_POLICY], "").code,
        Some(2),
        "vector files are needed"
    );
}
