//! `keyscope policy check FILE [--json]`: validates a document and prints its endpoint table.

use policy_core::Policy;
use serde_json::json;

use super::load::{self, LoadError};
use super::rows;
use crate::args::PolicyCheckArgs;
use crate::failure::{Failure, Outcome};
use crate::table::Table;

/// Checks the document; an invalid one fails naming its field.
pub fn run(args: &PolicyCheckArgs) -> Outcome {
    match load::read(&args.file) {
        Ok(policy) if args.json => {
            println!("{:#}", report(&policy));
            Ok(())
        }
        Ok(policy) => {
            println!("{}: {}", args.file.display(), summary(&policy));
            print!("{}", table(&policy).render());
            Ok(())
        }
        Err(err) if args.json => {
            let (field, problem) = match &err {
                LoadError::Refused { field, problem, .. } => (field.clone(), problem.clone()),
                LoadError::Io(_, io) => (None, io.to_string()),
            };
            println!(
                "{:#}",
                json!({"valid": false, "field": field, "problem": problem, "error": err.to_string()})
            );
            Err(Failure::Reported)
        }
        Err(err) => Err(err.to_string().into()),
    }
}

/// One line: what the policy holds.
fn summary(policy: &Policy) -> String {
    let roles: Vec<&str> = policy.roles().collect();
    let prefix = policy.key_prefix();
    let mut line = format!(
        "valid policy: {} endpoints, {} permissions, {} roles ({}); keys {prefix}_live_… / {prefix}_test_…; base path {}",
        policy.endpoints().len(),
        policy.permissions().count(),
        roles.len(),
        roles.join(", "),
        policy.base_path(),
    );
    if let Some(name) = policy.organization_param() {
        line.push_str(&format!("; tenant :{name}"));
    }
    if let Some(name) = policy.user_param() {
        line.push_str(&format!("; user :{name}"));
    }
    line
}

/// The endpoint table, in document order.
fn table(policy: &Policy) -> Table {
    let mut table = Table::new(&rows::COLUMNS);
    for endpoint in policy.endpoints() {
        table.push(rows::cells(policy, endpoint));
    }
    table
}

/// The policy as JSON: `valid`, its settings and every row.
fn report(policy: &Policy) -> serde_json::Value {
    json!({
        "valid": true,
        "keyPrefix": policy.key_prefix().as_str(),
        "basePath": policy.base_path(),
        "organizationParam": policy.organization_param(),
        "userParam": policy.user_param(),
        "permissions": policy.permissions().collect::<Vec<_>>(),
        "roles": policy.roles().collect::<Vec<_>>(),
        "endpoints": policy.endpoints().iter().map(|e| rows::json(policy, e)).collect::<Vec<_>>(),
    })
}
