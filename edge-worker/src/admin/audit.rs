//! `GET /admin/v1/organizations/{org}/audit-events`: the audit log, newest first, filtered by
//! key, actor, action and time range, in pages (`limit`, `cursor` → `nextCursor`).

use keyscope_audit::MAX_PAGE_SIZE;
use keyscope_audit::{AuditCursor, AuditEvent, AuditFilter};
use serde::Deserialize;
use worker::Request;

use super::error::AdminError;
use crate::clock::format_time;
use crate::keys::input::{id, limit, opt_time, query};
use crate::keys::Ctx;
use crate::respond::{json, Answer};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ListQuery {
    #[serde(default)]
    key_id: Option<String>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

/// The parsed listing: filters, where the page starts and how long it is.
struct Listing {
    filter: AuditFilter,
    cursor: Option<AuditCursor>,
    limit: usize,
}

fn listing(q: ListQuery) -> Result<Listing, AdminError> {
    let invalid = |e: keyscope_audit::AuditParseError| AdminError::invalid(e.to_string());
    if let Some(key) = &q.key_id {
        id("keyId", key)?;
    }
    let filter = AuditFilter {
        key_id: q.key_id,
        actor: q.actor.as_deref().map(str::parse).transpose().map_err(invalid)?,
        action: q
            .action
            .as_deref()
            .map(AuditFilter::action_name)
            .transpose()
            .map_err(invalid)?,
        from: opt_time("since", q.since.as_deref())?,
        to: opt_time("until", q.until.as_deref())?,
    };
    let limit = limit(q.limit.as_deref(), MAX_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let cursor = q
        .cursor
        .as_deref()
        .map(AuditCursor::decode)
        .transpose()
        .map_err(invalid)?;
    Ok(Listing {
        filter,
        cursor,
        limit,
    })
}

/// An event as the API shows it: the stored form with `time` in RFC 3339.
fn view(event: &AuditEvent) -> Result<serde_json::Value, AdminError> {
    let mut value = serde_json::to_value(event).map_err(|e| AdminError::invalid(e.to_string()))?;
    if let Some(object) = value.as_object_mut() {
        object.insert("time".into(), serde_json::Value::String(format_time(event.time)));
    }
    Ok(value)
}

/// One page of the organization's audit events.
pub async fn list(req: &Request, ctx: &Ctx<'_>, org: &str) -> Result<Answer, AdminError> {
    let listing = listing(query(&req.inner().url())?)?;
    let mut rows = ctx
        .writer()?
        .audit_events(org, &listing.filter, listing.cursor.as_ref(), listing.limit + 1)
        .await?;
    let more = rows.len() > listing.limit;
    rows.truncate(listing.limit);
    // The cursor is the last row's position, also when this version could not read that event.
    let next = if more {
        rows.last().map(|(position, _)| position.encode())
    } else {
        None
    };
    let shown = rows
        .iter()
        .filter_map(|(_, event)| event.as_ref())
        .map(view)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json(
        200,
        &serde_json::json!({ "events": shown, "nextCursor": next }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyscope_audit::AuditActor;
    use policy_core::Timestamp;

    fn parse(q: &str) -> Result<Listing, AdminError> {
        listing(query(&format!("https://x/a?{q}"))?)
    }

    #[test]
    fn filters_parse_and_bad_ones_are_named() {
        let l = parse("keyId=key_1&actor=user%3Au_1&action=key.revoked&since=2026-01-01T00:00:00Z&limit=5")
            .unwrap();
        assert_eq!(l.filter.key_id.as_deref(), Some("key_1"));
        assert_eq!(l.filter.actor, Some(AuditActor::User("u_1".into())));
        assert_eq!(l.filter.action, Some("key.revoked"));
        assert_eq!(l.filter.from, Some(Timestamp(1_767_225_600_000)));
        assert_eq!(l.limit, 5);
        assert_eq!(parse("").unwrap().limit, MAX_PAGE_SIZE);
        for bad in [
            "limit=0",
            "limit=101",
            "limit=x",
            "action=key.deleted",
            "actor=root",
            "cursor=zz",
            "since=today",
            "keyId=a%20b",
            "page=2",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
