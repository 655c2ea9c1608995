//! `PUT` / `DELETE /admin/v1/organizations/{org}/members/{user}`: add a member or change their
//! role; remove them. Their keys act with the change from the next request, everywhere.
//!
//! Audit: `member.added` / `member.role_changed` (a put that changes nothing records nothing) and
//! `member.removed`, by `service_token` (no user acts in these calls), in the change's batch.

use keyscope_audit::{AuditAction, AuditActor, AuditEvent};
use serde::Deserialize;
use worker::Request;

use super::error::AdminError;
use super::input::{read_body, MAX_BODY};
use super::views::{saved, MemberView};
use super::Ctx;
use crate::clock::now;
use crate::respond::{empty, Answer};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutMember {
    role: String,
}

/// An audit event about member `user`, made by the admin API.
fn member_event(
    ctx: &Ctx<'_>,
    org: &str,
    user: &str,
    action: AuditAction,
    details: serde_json::Value,
) -> Result<AuditEvent, AdminError> {
    let mut event = ctx.event(org, action, AuditActor::ServiceToken, now())?;
    event.user_id = Some(user.to_owned());
    if let serde_json::Value::Object(map) = details {
        event.details = map;
    }
    event
        .details
        .insert("via".into(), serde_json::Value::String("admin_api".into()));
    Ok(event)
}

/// Adds a member or changes their role.
pub async fn put(req: &mut Request, ctx: &Ctx<'_>, org: &str, user: &str) -> Result<Answer, AdminError> {
    let put: PutMember = read_body(req, MAX_BODY).await?;
    ctx.config.engine.policy().plan_member_role(&put.role)?;
    let writer = ctx.writer()?;
    let before = writer.member_role(org, user).await?;
    let events = match before.as_deref() {
        None => vec![member_event(
            ctx,
            org,
            user,
            AuditAction::MemberAdded,
            serde_json::json!({ "role": put.role }),
        )?],
        Some(role) if role != put.role => vec![member_event(
            ctx,
            org,
            user,
            AuditAction::MemberRoleChanged,
            serde_json::json!({ "previousRole": role, "role": put.role }),
        )?],
        Some(_) => Vec::new(),
    };
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
    let events = [member_event(
        ctx,
        org,
        user,
        AuditAction::MemberRemoved,
        serde_json::json!({ "previousRole": before }),
    )?];
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
