//! `POST /admin/v1/organizations/{org}/console-sessions`: a one-time link that opens the key
//! console (`crate::console`) as one member of the organization. The link's token is 32 random
//! bytes, stored only as its SHA-256, and works once within ten minutes.

use policy_core::Timestamp;
use serde::Deserialize;
use worker::Request;

use super::error::{AdminError, Reason};
use crate::address;
use crate::clock::{format_time, now};
use crate::console::session;
use crate::keys::input::{id, read_body, MAX_BODY};
use crate::keys::Ctx;
use crate::respond::{json, Answer};
use crate::store::sessions::{Holder, Sessions};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Body {
    acting_user_id: String,
    #[serde(default)]
    return_url: Option<String>,
}

/// Issues a console link for a member of `org`.
pub async fn create(req: &mut Request, ctx: &Ctx<'_>, org: &str) -> Result<Answer, AdminError> {
    let body: Body = read_body(req, MAX_BODY).await?;
    id("actingUserId", &body.acting_user_id)?;
    if body
        .return_url
        .as_deref()
        .is_some_and(|url| !session::is_return_url(url))
    {
        return Err(AdminError::invalid(format!(
            "returnUrl must be an absolute http or https URL of at most {} characters",
            session::MAX_RETURN_URL
        )));
    }
    if !crate::console::available(ctx.config) {
        return Err(AdminError::new(
            Reason::Unavailable,
            "the key console is not served: the policy's basePath is below /console",
        ));
    }
    let policy = ctx.config.engine.policy();
    let member = ctx
        .writer()?
        .member_role(org, &body.acting_user_id)
        .await?
        .is_some_and(|role| policy.role_grants(&role).is_some());
    if !member {
        return Err(AdminError::not_found(
            "member of this organization (actingUserId)",
        ));
    }
    let token = session::new_token()?;
    let expires_at = Timestamp(now().0.saturating_add(session::LINK_LIFETIME_MS));
    let holder = Holder {
        organization_id: org.to_owned(),
        user_id: body.acting_user_id,
        return_url: body.return_url,
    };
    Sessions::open(ctx.env)?
        .issue_link(&session::digest(&token), &holder, expires_at)
        .await?;
    let origin =
        address::origin(req).ok_or_else(|| AdminError::invalid("the request URL could not be read"))?;
    Ok(json(
        201,
        &serde_json::json!({
            "url": format!("{origin}/console/open?token={token}"),
            "expiresAt": format_time(expires_at),
        }),
    ))
}
