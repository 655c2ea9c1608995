//! `PUT` / `DELETE /admin/v1/resources/{kind}/{id}` and `POST /admin/v1/resources/batch`: who
//! owns a resource (all-or-nothing batches).

use serde::Deserialize;
use worker::Request;

use super::error::AdminError;
use crate::keys::input::{id, read_body, MAX_BATCH_BODY, MAX_BODY};
use crate::keys::view::saved;
use crate::keys::Ctx;
use crate::respond::{empty, Answer};
use crate::store::rows::Owner;
use crate::store::write::ResourceChange;

/// A batch holds at most this many changes.
pub const MAX_BATCH: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PutResource {
    organization_id: String,
    project_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BatchPut {
    kind: String,
    id: String,
    organization_id: String,
    project_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchRemove {
    kind: String,
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceBatch {
    #[serde(default)]
    put: Vec<BatchPut>,
    #[serde(default)]
    remove: Vec<BatchRemove>,
}

fn owner(organization_id: String, project_id: String, at: &str) -> Result<Owner, AdminError> {
    id(&format!("{at}organizationId"), &organization_id)?;
    id(&format!("{at}projectId"), &project_id)?;
    Ok(Owner {
        organization_id,
        project_id,
    })
}

/// Records who owns one resource.
pub async fn put(req: &mut Request, ctx: &Ctx<'_>, kind: &str, rid: &str) -> Result<Answer, AdminError> {
    let put: PutResource = read_body(req, MAX_BODY).await?;
    let owner = owner(put.organization_id, put.project_id, "")?;
    let view = serde_json::json!({
        "kind": kind, "id": rid, "organizationId": owner.organization_id, "projectId": owner.project_id,
    });
    let change = ResourceChange::Put {
        kind: kind.into(),
        id: rid.into(),
        owner,
    };
    let applied = ctx.writer()?.change_resources(&[change]).await?;
    Ok(saved(200, view, &applied))
}

/// Forgets one resource (`404` if unknown).
pub async fn remove(ctx: &Ctx<'_>, kind: &str, rid: &str) -> Result<Answer, AdminError> {
    let change = ResourceChange::Remove {
        kind: kind.into(),
        id: rid.into(),
    };
    let applied = ctx.writer()?.change_resources(&[change]).await?;
    if applied.value != 1 {
        return Err(AdminError::not_found("resource"));
    }
    if applied.pending.is_empty() {
        Ok(empty(204))
    } else {
        Ok(saved(200, serde_json::json!({ "removed": true }), &applied))
    }
}

/// Applies puts and removals all together.
pub async fn batch(req: &mut Request, ctx: &Ctx<'_>) -> Result<Answer, AdminError> {
    let batch: ResourceBatch = read_body(req, MAX_BATCH_BODY).await?;
    // The rule the OpenAPI document can state exactly: one kind of change up to MAX_BATCH, or
    // both kinds up to half of it each.
    let (put, remove) = (batch.put.len(), batch.remove.len());
    let both = put > 0 && remove > 0;
    if put.max(remove) > if both { MAX_BATCH / 2 } else { MAX_BATCH } {
        return Err(AdminError::invalid(format!(
            "a batch holds at most {MAX_BATCH} puts or {MAX_BATCH} removals, or at most {} of each when it holds both",
            MAX_BATCH / 2
        )));
    }
    if batch.put.is_empty() && batch.remove.is_empty() {
        return Err(AdminError::invalid("an empty batch: give put and/or remove"));
    }
    let mut changes = Vec::with_capacity(batch.put.len() + batch.remove.len());
    for (i, p) in batch.put.into_iter().enumerate() {
        let at = format!("put[{i}].");
        id(&format!("{at}kind"), &p.kind)?;
        id(&format!("{at}id"), &p.id)?;
        changes.push(ResourceChange::Put {
            owner: owner(p.organization_id, p.project_id, &at)?,
            kind: p.kind,
            id: p.id,
        });
    }
    let puts = changes.len();
    for (i, r) in batch.remove.into_iter().enumerate() {
        id(&format!("remove[{i}].kind"), &r.kind)?;
        id(&format!("remove[{i}].id"), &r.id)?;
        changes.push(ResourceChange::Remove {
            kind: r.kind,
            id: r.id,
        });
    }
    let applied = ctx.writer()?.change_resources(&changes).await?;
    Ok(saved(
        200,
        serde_json::json!({"put": puts, "removed": applied.value}),
        &applied,
    ))
}
