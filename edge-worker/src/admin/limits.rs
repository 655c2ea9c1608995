//! An organization's limits: the rate and quota of its keys that have none of their own, and the
//! cap all its keys share (record 0109). `PUT` replaces them whole (`{}` removes them all).

use policy_core::OrganizationLimits;
use worker::Request;

use super::error::AdminError;
use crate::keys::input::{read_body, MAX_BODY};
use crate::keys::Ctx;
use crate::respond::{json, Answer};
use crate::store::read::Reader;
use crate::store::StoreError;

/// `GET …/organizations/{org}/limits`: what D1 holds (none set: every field null).
pub async fn show(ctx: &Ctx<'_>, org: &str) -> Result<Answer, AdminError> {
    let limits = Reader::d1(ctx.env)?.organization_limits(org).await?;
    Ok(json(200, &limits))
}

/// `PUT …/organizations/{org}/limits`: saved in D1, then projected to KV, which the gateway
/// reads (an isolate within a minute). If the projection cannot be written the answer says so.
pub async fn put(req: &mut Request, ctx: &Ctx<'_>, org: &str) -> Result<Answer, AdminError> {
    // An object: serde would also read a struct of optional fields from an array (`[null]`).
    let body: serde_json::Map<String, serde_json::Value> = read_body(req, MAX_BODY).await?;
    let limits: OrganizationLimits = serde_json::from_value(serde_json::Value::Object(body))
        .map_err(|e| AdminError::invalid(format!("invalid JSON body: {e}")))?;
    if ctx.writer()?.put_organization_limits(org, &limits).await? {
        Ok(json(200, &limits))
    } else {
        Err(StoreError::Kv(
            "the limits were saved, but the gateway's copy (KV) was not written; PUT them again".into(),
        )
        .into())
    }
}
