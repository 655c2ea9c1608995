//! `PUT` / `DELETE /admin/v1/organizations/{org}/members/{user}`: add a member or change their
//! role; remove them. Their keys act with the change from the next request, everywhere.

use serde::Deserialize;
use worker::Request;

use super::error::AdminError;
use super::input::{read_body, MAX_BODY};
use super::views::{saved, MemberView};
use super::Ctx;
use crate::respond::{empty, Answer};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutMember {
    role: String,
}

/// Adds a member or changes their role.
pub async fn put(req: &mut Request, ctx: &Ctx<'_>, org: &str, user: &str) -> Result<Answer, AdminError> {
    let put: PutMember = read_body(req, MAX_BODY).await?;
    ctx.config.engine.policy().plan_member_role(&put.role)?;
    let applied = ctx.writer()?.put_member(org, user, &put.role).await?;
    Ok(saved(
        200,
        MemberView {
            organization_id: org,
            user_id: user,
            role: &put.role,
        },
        &applied,
    ))
}

/// Removes a member (`404` if they were not one).
pub async fn remove(ctx: &Ctx<'_>, org: &str, user: &str) -> Result<Answer, AdminError> {
    let applied = ctx.writer()?.remove_member(org, user).await?;
    if !applied.value {
        return Err(AdminError::not_found("member"));
    }
    if applied.pending.is_empty() {
        Ok(empty(204))
    } else {
        Ok(saved(200, serde_json::json!({ "removed": true }), &applied))
    }
}
