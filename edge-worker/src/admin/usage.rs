//! Usage: a key's requests by hour or day (allowed, and denied by reason), and the
//! organization's keys by traffic. Counted by each key's Durable Object and written to D1 in
//! batches ([`crate::store::usage`]), so the last minute may not be here yet.

use serde::Deserialize;
use worker::Request;

use super::error::AdminError;
use crate::clock::{format_time, now};
use crate::keys::input::{limit, opt_time, query};
use crate::keys::usage::{key_usage_answer, range};
use crate::keys::Ctx;
use crate::respond::{json, Answer};
use crate::store::usage::{denied_of, Granularity};

/// Keys listed by default, and at most, in an organization's usage.
const DEFAULT_KEYS: usize = 50;
const MAX_KEYS: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeQuery {
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    granularity: Option<Granularity>,
    #[serde(default)]
    limit: Option<String>,
}

/// `GET …/keys/{id}/usage?since&until&granularity=hour|day`.
pub async fn key(req: &Request, ctx: &Ctx<'_>, org: &str, key: &str) -> Result<Answer, AdminError> {
    let q: RangeQuery = query(&req.inner().url())?;
    if q.limit.is_some() {
        return Err(AdminError::invalid(
            "limit: only the organization's usage takes a limit",
        ));
    }
    let range = range(
        opt_time("since", q.since.as_deref())?,
        opt_time("until", q.until.as_deref())?,
        now(),
    );
    // A key of another organization, or none: 404, as for every key route.
    super::keys::record(&ctx.writer()?, org, key).await?;
    let body = key_usage_answer(
        &ctx.writer()?,
        org,
        key,
        range,
        q.granularity.unwrap_or(Granularity::Day),
    )
    .await?;
    Ok(json(200, &body))
}

/// `GET …/organizations/{org}/usage?since&until&limit`: the keys by traffic, busiest first.
pub async fn organization(req: &Request, ctx: &Ctx<'_>, org: &str) -> Result<Answer, AdminError> {
    let q: RangeQuery = query(&req.inner().url())?;
    if q.granularity.is_some() {
        return Err(AdminError::invalid(
            "granularity: the organization's usage is totals per key",
        ));
    }
    let (since, until) = range(
        opt_time("since", q.since.as_deref())?,
        opt_time("until", q.until.as_deref())?,
        now(),
    );
    let limit = limit(q.limit.as_deref(), MAX_KEYS, DEFAULT_KEYS)?;
    let keys = ctx.writer()?.organization_usage(org, since, until, limit).await?;
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .map(|k| {
            let counts = k.counts();
            serde_json::json!({
                "keyId": k.key_id,
                "name": k.name,
                "hint": k.hint,
                "allowed": k.allowed,
                "denied": denied_of(&counts),
                "total": counts.iter().sum::<i64>(),
            })
        })
        .collect();
    Ok(json(
        200,
        &serde_json::json!({ "since": format_time(since), "until": format_time(until), "keys": keys }),
    ))
}
