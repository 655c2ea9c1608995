//! Explanations and access tables: the decision's own answer, with the check that gave it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use policy_core::{
    Check, Condition, Engine, Environment, KeyRecord, Policy, ProjectIds, ResourceOwner, Scope, Timestamp,
    Verdict,
};

const WORKSPACES: &str = include_str!("../../tests/vectors/policies/workspaces.json");

fn engine() -> Engine {
    Engine::new(Policy::from_json(WORKSPACES).unwrap(), Environment::Live)
}

fn record(scope: Scope, project: Option<&str>, permissions: Option<Vec<String>>) -> KeyRecord {
    KeyRecord {
        id: "key_1".into(),
        name: "CI".into(),
        hint: "abcd".into(),
        organization_id: "ws_a".into(),
        created_by: "u_member".into(),
        scope,
        scoped_project_ids: project.map_or_else(ProjectIds::none, ProjectIds::one),
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

const NOW: Timestamp = Timestamp(1_000);

#[test]
fn each_refusal_names_the_check_that_gave_it() {
    let engine = engine();
    let key = record(Scope::Project, Some("p1"), None);
    let explain =
        |method: &str, target: &str| engine.explain(&key, Some("member"), method, target, None, NOW, None);

    let other = explain("GET", "/api/v1/workspaces/ws_b/projects");
    assert_eq!(other.check, Check::Organization);
    assert!(matches!(
        other.verdict,
        Verdict::Denied {
            status: 403,
            reason: "scope_violation",
            ..
        }
    ));
    assert_eq!(
        other.endpoint.unwrap().pattern(),
        "/workspaces/:workspaceId/projects"
    );

    assert_eq!(explain("GET", "/api/v1/nowhere").check, Check::Endpoint);
    assert!(explain("GET", "/api/v1/nowhere").endpoint.is_none());
    assert_eq!(
        explain("GET", "/api/v1/workspaces/ws_a/projects/p2").check,
        Check::ProjectScope
    );
    assert_eq!(
        explain("POST", "/api/v1/workspaces/ws_a/projects").check,
        Check::ProjectScope
    );
    let user = explain("POST", "/api/v1/workspaces/ws_a/user/u_other/time-entries");
    assert_eq!(user.check, Check::User);
    let Verdict::Denied { message, .. } = user.verdict else {
        panic!()
    };
    assert_eq!(message, "This endpoint is limited to the key's own user.");
    // The others' entries need read:others_time_entry, which a member lacks.
    let others = explain("GET", "/api/v1/workspaces/ws_a/user/u_other/time-entries");
    assert_eq!(others.check, Check::Permission);

    let filtered = explain("GET", "/api/v1/workspaces/ws_a/projects");
    assert_eq!(filtered.check, Check::Allowed);
    assert_eq!(
        filtered.verdict,
        Verdict::Allowed {
            project_filter: Some("p1".into())
        }
    );
    // An own_resource row: without the resource's owner the answer depends on it.
    let pending = explain("GET", "/api/v1/workspaces/ws_a/expenses/ex_9");
    assert_eq!(
        pending.verdict,
        Verdict::NeedsResource {
            kind: "expense".into(),
            id: "ex_9".into()
        }
    );
    let unknown = engine.explain(
        &key,
        Some("member"),
        "GET",
        "/api/v1/workspaces/ws_a/expenses/ex_9",
        None,
        NOW,
        Some(None),
    );
    assert_eq!(unknown.check, Check::Resource);
    let owned = engine.explain(
        &key,
        Some("member"),
        "GET",
        "/api/v1/workspaces/ws_a/expenses/ex_9",
        None,
        NOW,
        Some(Some(ResourceOwner {
            organization_id: "ws_a",
            project_id: "p1",
        })),
    );
    assert_eq!(owned.check, Check::Allowed);

    // The key itself comes first.
    assert_eq!(
        engine
            .explain(
                &key,
                None,
                "GET",
                "/api/v1/workspaces/ws_b/projects",
                None,
                NOW,
                None
            )
            .check,
        Check::Key
    );
    let mut revoked = key.clone();
    revoked.revoked_at = Some(Timestamp(500));
    let gone = engine.explain(&revoked, Some("member"), "GET", "/api/v1/me", None, NOW, None);
    assert!(matches!(
        gone.verdict,
        Verdict::Denied {
            reason: "key_revoked",
            ..
        }
    ));
}

#[test]
fn the_access_table_has_every_row_and_its_conditions() {
    let engine = engine();
    let key = record(
        Scope::Project,
        Some("p1"),
        Some(vec!["read:project".into(), "read:expense".into()]),
    );
    let table = engine.access_table(&key, Some("member"), NOW);
    assert_eq!(table.len(), engine.policy().endpoints().len());
    let row = |method: &str, pattern: &str| {
        table
            .iter()
            .find(|a| a.endpoint.method() == method && a.endpoint.pattern() == pattern)
            .unwrap()
    };
    let projects = row("GET", "/workspaces/:workspaceId/projects");
    assert_eq!(projects.check, Check::Allowed);
    assert_eq!(
        projects.conditions,
        [
            Condition::OwnOrganization("ws_a".into()),
            Condition::FilteredToProject(vec!["p1".into()])
        ]
    );
    assert_eq!(
        row("POST", "/workspaces/:workspaceId/projects").check,
        Check::ProjectScope
    );
    // Granted read:project and read:expense only: time entries are refused by permission.
    assert_eq!(
        row("GET", "/workspaces/:workspaceId/user/:userId/time-entries").check,
        Check::Permission
    );
    let expense = row("GET", "/workspaces/:workspaceId/expenses/:expenseId");
    assert_eq!(expense.check, Check::Allowed);
    assert!(expense
        .conditions
        .contains(&Condition::ResourceInProject(vec!["p1".into()])));
    let project = row("GET", "/workspaces/:workspaceId/projects/:projectId");
    assert!(project
        .conditions
        .contains(&Condition::OwnProject(vec!["p1".into()])));
    assert_eq!(project.check, Check::Allowed);
}
