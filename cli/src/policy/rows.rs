//! How an endpoint row is shown: its full path, its project-key rule, and its columns in the
//! endpoint table (`policy check`) and in JSON (`policy check --json`, `policy explain`).

use policy_core::policy::ProjectKeyRule;
use policy_core::{Endpoint, Policy};
use serde_json::{json, Value};

/// The column titles of the endpoint table.
pub const COLUMNS: [&str; 8] = [
    "METHOD",
    "PATH",
    "PERMISSION",
    "OTHERS",
    "PROJECT KEY",
    "TENANT",
    "USER",
    "SERVED BY",
];

/// The rule's name as a document writes it.
pub fn rule_name(rule: ProjectKeyRule) -> &'static str {
    match rule {
        ProjectKeyRule::Allow => "allow",
        ProjectKeyRule::Filtered => "filtered",
        ProjectKeyRule::OwnPath => "own_path",
        ProjectKeyRule::OwnResource => "own_resource",
        ProjectKeyRule::Deny => "deny",
    }
}

/// The path a request names, base path included (`/api/v1/projects/:projectId`).
pub fn full_path(policy: &Policy, endpoint: &Endpoint) -> String {
    format!("{}{}", policy.base_path(), endpoint.pattern())
}

/// The project-key rule with what it reads: `own_path :projectId`, `own_resource time_entry
/// :id`, or the bare rule.
pub fn rule_text(endpoint: &Endpoint) -> String {
    let mut text = rule_name(endpoint.project_key()).to_owned();
    if let Some(kind) = endpoint.resource_kind() {
        text.push(' ');
        text.push_str(kind);
    }
    if let Some(param) = endpoint.rule_param() {
        text.push_str(" :");
        text.push_str(param);
    }
    text
}

/// `:name` when `holds`, else `-`.
fn param_cell(holds: bool, name: Option<&str>) -> String {
    match (holds, name) {
        (true, Some(name)) => format!(":{name}"),
        _ => "-".to_owned(),
    }
}

/// The row's cells under [`COLUMNS`].
pub fn cells(policy: &Policy, endpoint: &Endpoint) -> Vec<String> {
    let permission =
        |p: Option<policy_core::Permission<'_>>| p.map_or("-".to_owned(), |p| p.name().to_owned());
    vec![
        endpoint.method().to_owned(),
        full_path(policy, endpoint),
        permission(endpoint.permission()),
        permission(endpoint.others_permission()),
        rule_text(endpoint),
        param_cell(endpoint.names_organization(), policy.organization_param()),
        param_cell(endpoint.names_user(), policy.user_param()),
        if endpoint.serves_me() {
            "gateway (/me)"
        } else {
            "origin"
        }
        .to_owned(),
    ]
}

/// The row as JSON.
pub fn json(policy: &Policy, endpoint: &Endpoint) -> Value {
    fn name(holds: bool, param: Option<&str>) -> Option<&str> {
        param.filter(|_| holds)
    }
    json!({
        "method": endpoint.method(),
        "path": full_path(policy, endpoint),
        "pattern": endpoint.pattern(),
        "permission": endpoint.permission().map(|p| p.name().to_owned()),
        "othersPermission": endpoint.others_permission().map(|p| p.name().to_owned()),
        "projectKey": rule_name(endpoint.project_key()),
        "param": endpoint.rule_param(),
        "resourceKind": endpoint.resource_kind(),
        "organizationParam": name(endpoint.names_organization(), policy.organization_param()),
        "userParam": name(endpoint.names_user(), policy.user_param()),
        "servesMe": endpoint.serves_me(),
    })
}
