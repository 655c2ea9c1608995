//! `keyscope policy explain`: why a key record gets what it gets — one request's decision and
//! the check that made it, or the key's access table. Both run policy-core's own decision
//! (`Engine::explain`, `Engine::access_table`), so they cannot disagree with the gateway.

use policy_core::{
    target_of_url, Access, Condition, Endpoint, Engine, Environment, Explanation, KeyRecord, Policy,
    ResourceOwner, Scope, Verdict,
};
use serde_json::{json, Value};

use super::{load, rows};
use crate::args::ExplainArgs;
use crate::failure::Outcome;
use crate::record;
use crate::table::Table;

/// Explains one request, or prints the access table with `--table`.
pub fn run(args: &ExplainArgs) -> Outcome {
    let policy = load::read(&args.policy).map_err(|err| err.to_string())?;
    let key = record::read(&args.key)?;
    let now = record::now(args.now.as_deref())?;
    let engine = Engine::new(policy, Environment::Live);
    let role = if args.no_member {
        None
    } else {
        args.role.as_deref()
    };
    if args.table {
        let access = engine.access_table(&key, role, now);
        if args.json {
            println!("{:#}", table_json(engine.policy(), &key, &access));
        } else {
            println!("{}", about(&key, role));
            print!("{}", access_table(engine.policy(), &access).render());
        }
        return Ok(());
    }
    let (Some(method), Some(path)) = (args.method.as_deref(), args.path.as_deref()) else {
        return Err("METHOD and PATH are needed (or --table)".to_owned().into());
    };
    let target = target_of_url(path);
    let resource = args.resource_project.as_deref().map(|project| {
        Some(ResourceOwner {
            organization_id: args.resource_org.as_deref().unwrap_or(&key.organization_id),
            project_id: project,
        })
    });
    let client = args.client_ip.as_deref().and_then(policy_core::client_address);
    let explained = engine.explain(&key, role, method, target, client, now, resource);
    let policy = engine.policy();
    if args.json {
        let mut out = json!({
            "request": {"method": method, "path": target},
            "check": explained.check.as_str(),
            "endpoint": explained.endpoint.map(|e| rows::json(policy, e)),
        });
        merge(&mut out, verdict_json(&explained.verdict));
        println!("{out:#}");
    } else {
        println!("{}", line(&explained, &key));
        if let Some(endpoint) = explained.endpoint {
            let mut table = Table::new(&rows::COLUMNS);
            table.push(rows::cells(policy, endpoint));
            print!("{}", table.render());
        }
    }
    Ok(())
}

/// `denied 403 scope_violation: … (check: organization; row GET /workspaces/:workspaceId)`.
fn line(explained: &Explanation<'_>, key: &KeyRecord) -> String {
    let row = explained
        .endpoint
        .map_or_else(|| "no row".to_owned(), |e: &Endpoint| format!("row {e}"));
    let verdict = match &explained.verdict {
        Verdict::NeedsResource { kind, id } => format!(
            "depends on whether resource {kind} {id} belongs to project {} (answer with --resource-project P)",
            projects_text(key).unwrap_or_else(|| "of the key".to_owned())
        ),
        other => verdict_text(other),
    };
    format!("{verdict} (check: {}; {row})", explained.check.as_str())
}

/// A verdict in words.
fn verdict_text(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Allowed { project_filter: None } => "allowed".to_owned(),
        Verdict::Allowed {
            project_filter: Some(filter),
        } => format!("allowed, the origin told X-Keyscope-Project-Filter: {filter}"),
        Verdict::Denied {
            status,
            reason,
            message,
        } => format!("denied {status} {reason}: {message}"),
        Verdict::NeedsResource { kind, id } => format!("depends on resource {kind} {id}"),
    }
}

/// A verdict's JSON fields.
fn verdict_json(verdict: &Verdict) -> Value {
    match verdict {
        Verdict::Allowed { project_filter } => json!({"verdict": "allowed", "projectFilter": project_filter}),
        Verdict::Denied {
            status,
            reason,
            message,
        } => json!({"verdict": "denied", "status": status, "reason": reason, "message": message}),
        Verdict::NeedsResource { kind, id } => {
            json!({"verdict": "needs_resource", "resource": {"kind": kind, "id": id}})
        }
    }
}

/// Copies the fields of `extra` (an object) into `out` (an object).
fn merge(out: &mut Value, extra: Value) {
    if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), extra) {
        out.extend(extra);
    }
}

/// A key's projects in words (`p1` or `p1 or p2`), if it has any.
fn projects_text(key: &KeyRecord) -> Option<String> {
    let ids = key.scoped_project_ids.as_slice();
    (!ids.is_empty()).then(|| ids.join(" or "))
}

/// Who the key is, for the access table's first line.
fn about(key: &KeyRecord, role: Option<&str>) -> String {
    let scope = match (key.scope, projects_text(key)) {
        (Scope::Project, Some(project)) => format!("project key (project {project})"),
        (Scope::Project, None) => "project key".to_owned(),
        (Scope::Organization, _) => "organization key".to_owned(),
    };
    let role = role.map_or_else(|| "no longer a member".to_owned(), |r| format!("role {r}"));
    format!(
        "key {} ({scope}) of organization {}, created by {} ({role})",
        key.id, key.organization_id, key.created_by
    )
}

/// A condition in words, naming the path parameter it reads.
fn condition_text(policy: &Policy, endpoint: &Endpoint, condition: &Condition) -> String {
    let param = |name: Option<&str>| format!(":{}", name.unwrap_or("?"));
    match condition {
        Condition::OwnOrganization(org) => format!("{} = {org}", param(policy.organization_param())),
        Condition::OwnUser {
            user,
            others_permission: Some(others),
        } => format!("{} = {user} (others with {others})", param(policy.user_param())),
        Condition::OwnUser {
            user,
            others_permission: None,
        } => format!("{} = {user} (own user only)", param(policy.user_param())),
        Condition::OwnProject(project) => match project.as_slice() {
            [one] => format!("{} = {one}", param(endpoint.rule_param())),
            many => format!("{} in {}", param(endpoint.rule_param()), many.join(", ")),
        },
        Condition::ResourceInProject(project) => format!(
            "{} {} of project {}",
            endpoint.resource_kind().unwrap_or("resource"),
            param(endpoint.rule_param()),
            project.join(" or ")
        ),
        Condition::FilteredToProject(project) => format!("filtered to project {}", project.join(",")),
        Condition::FromAddresses(blocks) => format!("from {}", blocks.join(", ")),
    }
}

/// A condition as JSON.
fn condition_json(policy: &Policy, endpoint: &Endpoint, condition: &Condition) -> Value {
    match condition {
        Condition::OwnOrganization(org) => {
            json!({"kind": "own_organization", "param": policy.organization_param(), "value": org})
        }
        Condition::OwnUser {
            user,
            others_permission,
        } => {
            json!({"kind": "own_user", "param": policy.user_param(), "value": user, "othersPermission": others_permission})
        }
        Condition::OwnProject(project) => {
            json!({"kind": "own_project", "param": endpoint.rule_param(), "value": project})
        }
        Condition::ResourceInProject(project) => json!({
            "kind": "resource_in_project",
            "param": endpoint.rule_param(),
            "resourceKind": endpoint.resource_kind(),
            "value": project,
        }),
        Condition::FilteredToProject(project) => {
            json!({"kind": "filtered_to_project", "value": project.join(",")})
        }
        Condition::FromAddresses(blocks) => json!({"kind": "from_addresses", "value": blocks}),
    }
}

/// The access table: every row, the answer there and what the path must name.
fn access_table(policy: &Policy, access: &[Access<'_>]) -> Table {
    let mut table = Table::new(&["METHOD", "PATH", "PERMISSION", "ANSWER", "CHECK", "CONDITIONS"]);
    for row in access {
        // Conditions are what an allowed answer depends on: a refusal needs none.
        let conditions: Vec<String> = match row.verdict {
            Verdict::Denied { .. } => Vec::new(),
            _ => row
                .conditions
                .iter()
                .map(|c| condition_text(policy, row.endpoint, c))
                .collect(),
        };
        table.push(vec![
            row.endpoint.method().to_owned(),
            rows::full_path(policy, row.endpoint),
            row.endpoint
                .permission()
                .map_or("-".to_owned(), |p| p.name().to_owned()),
            verdict_text(&row.verdict),
            row.check.as_str().to_owned(),
            if conditions.is_empty() {
                "-".to_owned()
            } else {
                conditions.join("; ")
            },
        ]);
    }
    table
}

/// The access table as JSON.
fn table_json(policy: &Policy, key: &KeyRecord, access: &[Access<'_>]) -> Value {
    let rows: Vec<Value> = access
        .iter()
        .map(|row| {
            let mut out = json!({
                "endpoint": rows::json(policy, row.endpoint),
                "check": row.check.as_str(),
                "conditions": row.conditions.iter().map(|c| condition_json(policy, row.endpoint, c)).collect::<Vec<_>>(),
            });
            merge(&mut out, verdict_json(&row.verdict));
            out
        })
        .collect();
    json!({"key": key.id, "organizationId": key.organization_id, "rows": rows})
}
