//! Event webhooks in the admin API: `POST …/events/replay` sends events of the audit log again;
//! `GET …/events/deliveries` shows the recent deliveries. Without `KEYSCOPE_EVENTS_URL` and its
//! secret, both are absent (`404 not_found`): there is nothing to deliver to.

use serde::{Deserialize, Serialize};
use worker::Request;

use super::error::{AdminError, Reason};
use crate::clock::{format_time, now};
use crate::config::Events;
use crate::events::enqueue;
use crate::keys::input::{id, limit, opt_time, query, read_body, time, MAX_BODY};
use crate::keys::Ctx;
use crate::respond::{json, Answer};
use crate::store::layout::EVENTS_QUEUE_BINDING;
use crate::store::write::{DeliveryRow, ReplayFilter};
use keyscope_audit::AuditFilter;
use policy_core::Timestamp;

/// The most events one replay sends again (call again from the last one's time for more).
pub const MAX_REPLAY: u32 = 500;
/// The most deliveries one listing shows.
pub const MAX_DELIVERIES: usize = 100;
/// How many deliveries a listing shows without `limit`.
pub const DEFAULT_DELIVERIES: usize = 50;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ReplayBody {
    since: String,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    key_id: Option<String>,
    #[serde(default, rename = "type")]
    event_type: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replayed {
    /// How many events were sent again.
    replayed: usize,
    /// Their ids, oldest first.
    event_ids: Vec<String>,
    /// Whether more events matched than one replay sends.
    more: bool,
    /// Whether the deliveries are on the queue now (else the sweeper puts them there within
    /// a minute or two).
    enqueued: bool,
}

fn configured(ctx: &Ctx<'_>) -> Result<(), AdminError> {
    match ctx.config.events {
        Events::To { .. } => Ok(()),
        Events::Off | Events::Unsigned => Err(AdminError::new(
            Reason::NotFound,
            "event webhooks are not configured (KEYSCOPE_EVENTS_URL and KEYSCOPE_EVENTS_SECRET)",
        )),
    }
}

/// `POST /admin/v1/organizations/{org}/events/replay`: the organization's events from `since`
/// (to `until`, of `keyId`, of `type`) are delivered again from their first try, with the same
/// event ids.
pub async fn replay(req: &mut Request, ctx: &Ctx<'_>, org: &str) -> Result<Answer, AdminError> {
    configured(ctx)?;
    let body: ReplayBody = read_body(req, MAX_BODY).await?;
    let at = now();
    let since = time("since", &body.since)?;
    let until = opt_time("until", body.until.as_deref())?.unwrap_or(at);
    // An `until` before `since` selects nothing (an empty range, as in the audit listing).
    if let Some(key) = &body.key_id {
        id("keyId", key)?;
    }
    let action = body
        .event_type
        .as_deref()
        .map(AuditFilter::action_name)
        .transpose()
        .map_err(|e| AdminError::invalid(format!("type: {e}")))?;
    if action == Some("event.delivery_failed") {
        return Err(AdminError::invalid(
            "type: event.delivery_failed is recorded, never delivered",
        ));
    }
    let filter = ReplayFilter {
        since,
        until,
        key_id: body.key_id.as_deref(),
        action,
    };
    let (event_ids, more) = ctx.writer()?.replay(org, &filter, MAX_REPLAY, at).await?;
    let enqueued = match ctx.env.queue(EVENTS_QUEUE_BINDING) {
        Ok(queue) => match enqueue(&queue, &event_ids).await {
            Ok(()) => true,
            Err(err) => {
                worker::console_error!("keyscope: replay: {err}; the sweeper enqueues them again");
                false
            }
        },
        Err(_) => false,
    };
    Ok(json(
        202,
        &Replayed {
            replayed: event_ids.len(),
            event_ids,
            more,
            enqueued,
        },
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveriesQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryView {
    event_id: String,
    #[serde(rename = "type")]
    event_type: String,
    key_id: Option<String>,
    state: String,
    attempts: u32,
    next_attempt_at: Option<String>,
    last_status: Option<u16>,
    last_error: Option<String>,
    updated_at: String,
}

impl From<DeliveryRow> for DeliveryView {
    fn from(row: DeliveryRow) -> DeliveryView {
        DeliveryView {
            event_id: row.event_id,
            event_type: row.action,
            key_id: row.key_id,
            next_attempt_at: row.next_attempt_at.map(|t| format_time(Timestamp(t))),
            attempts: row.attempts,
            last_status: row.last_status,
            last_error: row.last_error,
            updated_at: format_time(Timestamp(row.updated_at)),
            state: row.state,
        }
    }
}

/// `GET /admin/v1/organizations/{org}/events/deliveries`: the recent deliveries, last changed
/// first (`state` = `pending`, `delivered` or `dead`; `limit` 1–100, default 50).
pub async fn deliveries(req: &Request, ctx: &Ctx<'_>, org: &str) -> Result<Answer, AdminError> {
    configured(ctx)?;
    let q: DeliveriesQuery = query(&req.inner().url())?;
    if let Some(state) = q.state.as_deref() {
        if !matches!(state, "pending" | "delivered" | "dead") {
            return Err(AdminError::invalid("state must be pending, delivered or dead"));
        }
    }
    let limit = limit(q.limit.as_deref(), MAX_DELIVERIES, DEFAULT_DELIVERIES)?;
    let rows = ctx.writer()?.deliveries(org, q.state.as_deref(), limit).await?;
    let views: Vec<DeliveryView> = rows.into_iter().map(DeliveryView::from).collect();
    Ok(json(200, &serde_json::json!({ "deliveries": views })))
}
