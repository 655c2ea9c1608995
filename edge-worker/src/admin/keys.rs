//! `/admin/v1/organizations/{org}/keys…`: create (the only answer holding the secret), list,
//! show, revoke, rotate, import by hash, and re-sync a key's projections. Each handler is
//! parse → read → plan (`policy-core`'s lifecycle rules) → apply (one D1 batch, with the
//! audit events that record the change) → publish the events.
//!
//! Create, revoke and rotate are the key service's ([`crate::keys::lifecycle`]), shared with the
//! key console. Which audit events a change records is `policy-core`'s (`Fact`): `user:<actingUserId>`
//! where the call acts for a user (create, revoke, rotate), `service_token` where none acts
//! (import); every event made here carries `details.via = "admin_api"`.

use std::collections::HashMap;

use policy_core::{Actor, ControlsAsk, Fact, ImportedKey, KeyRecord, Quota, RateLimit, Scope, Timestamp};
use serde::{Deserialize, Serialize};
use worker::Request;

use super::error::AdminError;
use crate::clock::now;
use crate::keys::error::ServiceError;
use crate::keys::input::{
    grace, id, opt_time, query, read_body, ControlsBody, CreateBody, MAX_BATCH_BODY, MAX_BODY,
};
use crate::keys::lifecycle::{self, new_key_id};
use crate::keys::view::{saved, KeyView};
use crate::keys::Ctx;
use crate::respond::{json, Answer};
use crate::store::rows::KeyRow;
use crate::store::write::{Applied, NewKeyRow, Writer};

#[derive(Serialize)]
struct Created {
    key: KeyView,
    /// The key itself: returned here, once, and never again.
    secret: String,
}

/// The admin API's `actingUserId`: required, an id.
fn acting_user(value: Option<&str>) -> Result<&str, AdminError> {
    let value = value.ok_or_else(|| ServiceError::invalid("actingUserId is required"))?;
    Ok(id("actingUserId", value)?)
}

/// Creates a key for the acting user.
pub async fn create(req: &mut Request, ctx: &Ctx<'_>, org: &str) -> Result<Answer, AdminError> {
    let body: CreateBody = read_body(req, MAX_BODY).await?;
    let acting_user_id = acting_user(body.acting_user_id.as_deref())?;
    let ask = body.ask()?;
    let writer = ctx.writer()?;
    let role = writer.member_role(org, acting_user_id).await?;
    let actor = Actor {
        user_id: acting_user_id,
        role: role.as_deref(),
    };
    let made = lifecycle::create(ctx, &writer, org, actor, &ask).await?;
    Ok(saved(
        201,
        Created {
            key: KeyView::from_record(made.record),
            secret: made.secret.expose_secret().to_owned(),
        },
        &made.applied,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ListQuery {
    #[serde(default)]
    created_by: Option<String>,
}

/// Lists an organization's keys (optionally one creator's), newest first.
pub async fn list(req: &Request, ctx: &Ctx<'_>, org: &str) -> Result<Answer, AdminError> {
    let q: ListQuery = query(&req.inner().url())?;
    if let Some(user) = &q.created_by {
        id("createdBy", user)?;
    }
    let rows = ctx.writer()?.list_keys(org, q.created_by.as_deref()).await?;
    let keys = rows.into_iter().map(KeyView::of).collect::<Result<Vec<_>, _>>()?;
    Ok(json(200, &serde_json::json!({ "keys": keys })))
}

/// One key (with `leakedAt` when a secret-scanning report marked it leaked).
pub async fn show(ctx: &Ctx<'_>, org: &str, key: &str) -> Result<Answer, AdminError> {
    let row = row(&ctx.writer()?, org, key).await?;
    Ok(json(200, &KeyView::of(row)?))
}

/// One key of the organization, or `404`.
async fn row(writer: &Writer, org: &str, key: &str) -> Result<KeyRow, AdminError> {
    writer
        .key(org, key)
        .await?
        .ok_or_else(|| AdminError::not_found("key"))
}

/// One key's record, or `404`.
pub(super) async fn record(writer: &Writer, org: &str, key: &str) -> Result<KeyRecord, AdminError> {
    Ok(row(writer, org, key).await?.into_entry()?.record)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Acting {
    acting_user_id: String,
}

/// Revokes a key (permanent; a scheduled revocation is brought forward, never pushed back).
pub async fn revoke(req: &mut Request, ctx: &Ctx<'_>, org: &str, key: &str) -> Result<Answer, AdminError> {
    let acting: Acting = read_body(req, MAX_BODY).await?;
    id("actingUserId", &acting.acting_user_id)?;
    let writer = ctx.writer()?;
    let role = writer.member_role(org, &acting.acting_user_id).await?;
    let actor = Actor {
        user_id: &acting.acting_user_id,
        role: role.as_deref(),
    };
    let (current, applied) = lifecycle::revoke(ctx, &writer, org, actor, key).await?;
    key_answer(current.record, &applied)
}

/// Changes a key's address allow-list and limits (each field absent: unchanged; null:
/// removed), as its creator or a role that manages every key may.
pub async fn controls(req: &mut Request, ctx: &Ctx<'_>, org: &str, key: &str) -> Result<Answer, AdminError> {
    let body: ControlsBody = read_body(req, MAX_BODY).await?;
    let acting_user_id = acting_user(body.acting_user_id.as_deref())?;
    let writer = ctx.writer()?;
    let role = writer.member_role(org, acting_user_id).await?;
    let actor = Actor {
        user_id: acting_user_id,
        role: role.as_deref(),
    };
    let (current, applied) =
        lifecycle::change_controls(ctx, &writer, org, actor, key, &body.change()).await?;
    key_answer(current.record, &applied)
}

/// `{"key": …}` of a saved change, with its `pending` parts.
fn key_answer(key: KeyRecord, applied: &Applied<()>) -> Result<Answer, AdminError> {
    Ok(saved(
        200,
        serde_json::json!({ "key": KeyView::from_record(key) }),
        applied,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RotateBody {
    acting_user_id: String,
    /// Read by policy-core's one rule ([`grace`]), so that a wrong one names its rule.
    #[serde(default)]
    grace_period_seconds: Option<serde_json::Value>,
}

/// Rotates a key: a new key with the same settings, made the acting user's; the old one stops
/// when the grace period ends (or stays valid until revoked when none is given).
pub async fn rotate(req: &mut Request, ctx: &Ctx<'_>, org: &str, key: &str) -> Result<Answer, AdminError> {
    let body: RotateBody = read_body(req, MAX_BODY).await?;
    id("actingUserId", &body.acting_user_id)?;
    let grace = grace(body.grace_period_seconds.as_ref())?;
    let writer = ctx.writer()?;
    let role = writer.member_role(org, &body.acting_user_id).await?;
    let actor = Actor {
        user_id: &body.acting_user_id,
        role: role.as_deref(),
    };
    let rotated = lifecycle::rotate(ctx, &writer, org, actor, key, grace).await?;
    Ok(saved(
        201,
        serde_json::json!({
            "key": KeyView::from_record(rotated.made.record),
            "secret": rotated.made.secret.expose_secret(),
            "previous": KeyView::from_record(rotated.previous.record),
        }),
        &rotated.made.applied,
    ))
}

/// Rewrites a key's projections from D1 and refreshes its state object: the repair for a
/// `pending` entry of an earlier answer.
pub async fn sync(ctx: &Ctx<'_>, org: &str, key: &str) -> Result<Answer, AdminError> {
    let writer = ctx.writer()?;
    let current = record(&writer, org, key).await?;
    let applied = writer.sync_key(key).await?;
    key_answer(current, &applied)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ImportBody {
    #[serde(default)]
    id: Option<String>,
    key_hash: String,
    hint: String,
    name: String,
    created_by: String,
    scope: Scope,
    #[serde(default)]
    scoped_project_id: Option<String>,
    #[serde(default)]
    scoped_project_ids: Option<Vec<String>>,
    #[serde(default)]
    allowed_cidrs: Option<Vec<String>>,
    #[serde(default)]
    rate_limit: Option<RateLimit>,
    #[serde(default)]
    quota: Option<Quota>,
    #[serde(default)]
    permissions: Option<Vec<String>>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    last_used_at: Option<String>,
    #[serde(default)]
    revoked_at: Option<String>,
    #[serde(default)]
    expires_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Import {
    keys: Vec<ImportBody>,
}

/// A key's four times, parsed: created, last used, revoked, expires.
type Times = [Option<Timestamp>; 4];

/// The import as the plan reads it, with the creators' roles known so far.
fn asked<'a>(
    keys: &'a [ImportBody],
    ids: &'a [String],
    times: &'a [Times],
    roles: &'a HashMap<String, String>,
) -> Vec<ImportedKey<'a>> {
    keys.iter()
        .zip(ids)
        .zip(times)
        .map(
            |((k, key_id), [created_at, last_used_at, revoked_at, expires_at])| ImportedKey {
                id: key_id,
                key_hash: &k.key_hash,
                hint: &k.hint,
                name: &k.name,
                created_by: &k.created_by,
                creator_role: roles.get(&k.created_by).map(String::as_str),
                scope: k.scope,
                controls: ControlsAsk {
                    scoped_project_id: k.scoped_project_id.as_deref(),
                    scoped_project_ids: k.scoped_project_ids.as_deref(),
                    allowed_cidrs: k.allowed_cidrs.as_deref(),
                    rate_limit: k.rate_limit,
                    quota: k.quota,
                },
                permissions: k.permissions.as_deref(),
                created_at: *created_at,
                last_used_at: *last_used_at,
                revoked_at: *revoked_at,
                expires_at: *expires_at,
            },
        )
        .collect()
}

/// Imports keys by hash (migrating without seeing their secrets): all or nothing, with
/// `policy-core`'s import rules (ARCHITECTURE.md "Choices").
///
/// The batch is checked before the store is asked anything: its shape by the body's types, its
/// size and every key by the plan (which needs nothing from the store to refuse). Only then are
/// the creators' roles read, all in one query, and the plan made with them.
pub async fn import(req: &mut Request, ctx: &Ctx<'_>, org: &str) -> Result<Answer, AdminError> {
    let import: Import = read_body(req, MAX_BATCH_BODY).await?;
    let ids = import
        .keys
        .iter()
        .map(|k| k.id.clone().map_or_else(new_key_id, Ok))
        .collect::<Result<Vec<String>, _>>()?;
    let mut times: Vec<Times> = Vec::with_capacity(import.keys.len());
    for (i, k) in import.keys.iter().enumerate() {
        let at = |field: &str| format!("keys[{i}].{field}");
        times.push([
            opt_time(&at("createdAt"), k.created_at.as_deref())?,
            opt_time(&at("lastUsedAt"), k.last_used_at.as_deref())?,
            opt_time(&at("revokedAt"), k.revoked_at.as_deref())?,
            opt_time(&at("expiresAt"), k.expires_at.as_deref())?,
        ]);
    }
    let at = now();
    let policy = ctx.config.engine.policy();
    // Refused here, a batch costs no query at all.
    policy.plan_import(org, &asked(&import.keys, &ids, &times, &HashMap::new()), at)?;
    let writer = ctx.writer()?;
    let mut creators: Vec<&str> = import.keys.iter().map(|k| k.created_by.as_str()).collect();
    creators.sort_unstable();
    creators.dedup();
    let roles = writer.member_roles(org, &creators).await?;
    let planned = policy.plan_import(org, &asked(&import.keys, &ids, &times, &roles), at)?;
    let rows: Vec<NewKeyRow> = planned
        .into_iter()
        .map(|p| NewKeyRow {
            hash: p.hash,
            record: p.record,
        })
        .collect();
    let facts: Vec<Fact> = rows.iter().map(|row| Fact::key_imported(&row.record)).collect();
    let events = ctx.events_of(&facts, at)?;
    let applied = writer.insert_keys(&rows, &events).await?;
    ctx.publish(&events);
    let keys: Vec<KeyView> = rows.into_iter().map(|r| KeyView::from_record(r.record)).collect();
    Ok(saved(201, serde_json::json!({ "keys": keys }), &applied))
}
