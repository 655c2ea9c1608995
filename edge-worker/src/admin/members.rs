//! `PUT` / `DELETE /admin/v1/organizations/{org}/members/{user}`: add a member or change their
//! role; remove them. Their keys act with the change from the next request, everywhere.
//!
//! Audit (`policy-core`'s facts): `member.added` / `member.role_changed` (a put that changes
//! nothing records nothing) and `member.removed`, by `service_token` (no user acts in these
//! calls), in the change's batch.

use policy_core::Fact;
use serde::Deserialize;
use worker::Request;

use super::error::AdminError;
use super::views::MemberView;
use crate::clock::now;
use crate::keys::input::{read_body, MAX_BODY};
use crate::keys::view::saved;
use crate::keys::Ctx;
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
    let writer = ctx.writer()?;
    let before = writer.member_role(org, user).await?;
    let events = ctx.events_of(&Fact::member_put(org, user, before.as_deref(), &put.role), now())?;
    let applied = writer.put_member(org, user, &put.role, &events).await?;
    ctx.publish(&events);
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

/// Removes a member (`404` if they were not one, and then nothing is recorded).
pub async fn remove(ctx: &Ctx<'_>, org: &str, user: &str) -> Result<Answer, AdminError> {
    let writer = ctx.writer()?;
    let before = writer.member_role(org, user).await?;
    let events = [ctx.event_of(&Fact::member_removed(org, user, before.as_deref()), now())?];
    let applied = writer.remove_member(org, user, &events).await?;
    if !applied.value {
        return Err(AdminError::not_found("member"));
    }
    ctx.publish(&events);
    if applied.pending.is_empty() {
        Ok(empty(204))
    } else {
        Ok(saved(200, serde_json::json!({ "removed": true }), &applied))
    }
}
