//! `POST /admin/v1/organizations/{org}/keys/{id}/explain` with `{method, path}`: what the
//! gateway would answer that request with that key, and the check that decides it — nothing is
//! forwarded and nothing is counted. `GET …/keys/{id}/access`: the key's access table (every
//! endpoint row: allowed and under which conditions, or the reason it is not).
//!
//! Both read the key record, its creator's current role and (for an `own_resource` row) the
//! resource's owner from D1, the source of truth, and hand them to `policy-core`'s
//! `Engine::explain` / `Engine::access_table`: the very decision the gateway makes.

use policy_core::{client_address, Access, Condition, Explanation, ResourceOwner, Verdict};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Request};

use super::error::AdminError;
use crate::clock::now;
use crate::keys::input::{read_body, MAX_BODY};
use crate::keys::Ctx;
use crate::respond::{json, Answer};
use crate::store::read::Reader;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
struct ExplainBody {
    method: String,
    path: String,
    /// The client's address the request would come from (judged against the key's allow-list;
    /// absent, or no address: unknown).
    #[serde(default)]
    client_ip: Option<String>,
}

/// The longest request path an explanation takes.
const MAX_PATH: usize = 2048;

/// Explains a request for one key.
pub async fn explain(req: &mut Request, ctx: &Ctx<'_>, org: &str, key: &str) -> Result<Answer, AdminError> {
    let body: ExplainBody = read_body(req, MAX_BODY).await?;
    if body.method.is_empty()
        || body.method.len() > 16
        || !body.method.bytes().all(|b| b.is_ascii_alphabetic())
    {
        return Err(AdminError::invalid("method: an HTTP method, e.g. GET"));
    }
    if !body.path.starts_with('/') || body.path.len() > MAX_PATH {
        return Err(AdminError::invalid(format!(
            "path: a request path starting with '/' (query allowed), at most {MAX_PATH} bytes"
        )));
    }
    let writer = ctx.writer()?;
    let record = super::keys::record(&writer, org, key).await?;
    let role = writer.member_role(org, &record.created_by).await?;
    let engine = &ctx.config.engine;
    let at = now();
    // As at the gateway: a value that is no address is an unknown address.
    let client = body.client_ip.as_deref().and_then(client_address);
    let first = engine.explain(
        &record,
        role.as_deref(),
        &body.method,
        &body.path,
        client,
        at,
        None,
    );
    let explained = match &first.verdict {
        Verdict::NeedsResource { kind, id } => {
            let owner = resource(ctx.env, kind, id).await?;
            let owner = owner.as_ref().map(|o| ResourceOwner {
                organization_id: &o.0,
                project_id: &o.1,
            });
            engine.explain(
                &record,
                role.as_deref(),
                &body.method,
                &body.path,
                client,
                at,
                Some(owner),
            )
        }
        _ => first,
    };
    Ok(json(200, &explanation(&explained)))
}

/// A key's access table.
pub async fn access(ctx: &Ctx<'_>, org: &str, key: &str) -> Result<Answer, AdminError> {
    let writer = ctx.writer()?;
    let record = super::keys::record(&writer, org, key).await?;
    let role = writer.member_role(org, &record.created_by).await?;
    let table = ctx.config.engine.access_table(&record, role.as_deref(), now());
    let rows: Vec<Value> = table.iter().map(access_row).collect();
    Ok(json(200, &json!({ "keyId": record.id, "endpoints": rows })))
}

/// A resource's owner as `(organization, project)`, from D1.
async fn resource(env: &Env, kind: &str, id: &str) -> Result<Option<(String, String)>, AdminError> {
    let owner = Reader::d1(env)?.resource(kind, id).await?;
    Ok(owner.map(|o| (o.organization_id, o.project_id)))
}

fn verdict(v: &Verdict) -> Value {
    match v {
        Verdict::Allowed { project_filter } => {
            json!({ "allowed": true, "status": 200, "projectFilter": project_filter })
        }
        Verdict::Denied {
            status,
            reason,
            message,
        } => json!({ "allowed": false, "status": status, "reason": reason, "message": message }),
        Verdict::NeedsResource { kind, id } => json!({
            "allowed": false,
            "status": 404,
            "reason": "not_found",
            "message": format!("Depends on the owner of {kind} {id}, which the store does not know."),
        }),
    }
}

fn explanation(e: &Explanation<'_>) -> Value {
    let mut out = verdict(&e.verdict);
    if let Value::Object(map) = &mut out {
        map.insert("check".into(), e.check.as_str().into());
        map.insert(
            "endpoint".into(),
            e.endpoint.map_or(
                Value::Null,
                |row| json!({ "method": row.method(), "path": row.pattern() }),
            ),
        );
    }
    out
}

fn access_row(a: &Access<'_>) -> Value {
    let mut out = verdict(&a.verdict);
    if let Value::Object(map) = &mut out {
        map.insert("method".into(), a.endpoint.method().into());
        map.insert("path".into(), a.endpoint.pattern().into());
        map.insert("check".into(), a.check.as_str().into());
        let conditions: Vec<Value> = a.conditions.iter().map(condition).collect();
        map.insert("conditions".into(), conditions.into());
    }
    out
}

fn condition(c: &Condition) -> Value {
    match c {
        Condition::OwnOrganization(org) => json!({ "organization": org }),
        Condition::OwnUser {
            user,
            others_permission,
        } => {
            json!({ "user": user, "othersPermission": others_permission })
        }
        Condition::OwnProject(p) => json!({ "projects": p }),
        Condition::ResourceInProject(p) => json!({ "resourceProjects": p }),
        Condition::FilteredToProject(p) => json!({ "projectFilter": p.join(",") }),
        Condition::FromAddresses(blocks) => json!({ "addresses": blocks }),
    }
}
