//! The key changes both the admin API and the key console make, as one "read → plan → apply"
//! each: the acting user is already known (the admin API names them, the console's session
//! holds them) and their role already read; `policy-core` plans, `store::write::Writer` applies
//! the plan and the audit events that record it as one D1 batch, then the events are published.
//!
//! Audit actor: `user:<id>` of the acting user (the plans authorize that user); every event made
//! here carries `details.via` — `admin_api` or `console` ([`Ctx::via`]).

use keyscope_audit::{AuditAction, AuditActor, AuditEvent, RevokeCause};
use policy_core::{Actor, ApiKey, CreateKey, KeyMaterial, KeyRecord, Timestamp};

use super::error::{AdminError, Reason};
use super::input::{new_key_id, random_bytes};
use super::Ctx;
use crate::clock::{format_time, now};
use crate::store::write::{Applied, NewKeyRow, Writer};

/// A new key's secret, made from the platform's CSPRNG by `policy-core`.
pub fn new_secret(ctx: &Ctx<'_>) -> Result<ApiKey, AdminError> {
    ApiKey::generate(ctx.config.engine.environment(), &random_bytes::<64>()?)
        .map_err(|e| AdminError::new(Reason::Unavailable, e.to_string()))
}

/// A new key's secret and id, before the plan.
struct Fresh {
    secret: ApiKey,
    id: String,
}

impl Fresh {
    fn new(ctx: &Ctx<'_>) -> Result<Fresh, AdminError> {
        Ok(Fresh {
            secret: new_secret(ctx)?,
            id: new_key_id()?,
        })
    }

    /// What the plan needs of it.
    fn material(&self) -> KeyMaterial<'_> {
        KeyMaterial {
            id: &self.id,
            hint: self.secret.hint(),
        }
    }
}

/// An audit event about `key` by `actor`, made through `ctx`'s surface.
pub fn key_event(
    ctx: &Ctx<'_>,
    action: AuditAction,
    actor: AuditActor,
    key: &KeyRecord,
    at: Timestamp,
    details: serde_json::Value,
) -> Result<AuditEvent, AdminError> {
    let mut event = ctx.event(&key.organization_id, action, actor, at)?;
    event.key_id = Some(key.id.clone());
    event.key_hint = Some(key.hint.clone());
    if let serde_json::Value::Object(map) = details {
        event.details = map;
    }
    event
        .details
        .insert("via".into(), serde_json::Value::String(ctx.via.into()));
    Ok(event)
}

/// A key that was just made: its record, its secret (shown once) and what is still pending.
pub struct Made {
    /// The new key's record.
    pub record: KeyRecord,
    /// The new key itself.
    pub secret: ApiKey,
    /// What the write left pending.
    pub applied: Applied<()>,
}

/// Creates a key in `org` for `actor`.
pub async fn create(
    ctx: &Ctx<'_>,
    writer: &Writer,
    org: &str,
    actor: Actor<'_>,
    ask: &CreateKey<'_>,
) -> Result<Made, AdminError> {
    let fresh = Fresh::new(ctx)?;
    let at = now();
    let record = ctx
        .config
        .engine
        .policy()
        .plan_create(org, actor, ask, fresh.material(), at)?;
    let events = [key_event(
        ctx,
        AuditAction::KeyCreated,
        AuditActor::User(actor.user_id.to_owned()),
        &record,
        at,
        serde_json::json!({ "name": record.name, "scope": record.scope }),
    )?];
    let row = NewKeyRow {
        hash: fresh.secret.hash(),
        record,
    };
    let applied = writer.insert_keys(std::slice::from_ref(&row), &events).await?;
    ctx.publish(&events);
    Ok(Made {
        record: row.record,
        secret: fresh.secret,
        applied,
    })
}

/// One key of the organization, or `404`.
pub async fn record(writer: &Writer, org: &str, key: &str) -> Result<KeyRecord, AdminError> {
    Ok(writer
        .key(org, key)
        .await?
        .ok_or_else(|| AdminError::not_found("key"))?
        .into_entry()?
        .record)
}

/// Revokes a key of `org` as `actor`; the answer is the key as it now stands. A revocation
/// that changes nothing (already revoked) records nothing.
pub async fn revoke(
    ctx: &Ctx<'_>,
    writer: &Writer,
    org: &str,
    actor: Actor<'_>,
    key: &str,
) -> Result<(KeyRecord, Applied<()>), AdminError> {
    let mut current = record(writer, org, key).await?;
    let at = now();
    let plan = ctx.config.engine.policy().plan_revoke(actor, &current, at)?;
    let applied = if plan.changed {
        let events = [key_event(
            ctx,
            AuditAction::KeyRevoked(RevokeCause::User),
            AuditActor::User(actor.user_id.to_owned()),
            &current,
            at,
            serde_json::json!({ "revokedAt": format_time(plan.revoked_at) }),
        )?];
        let applied = writer.revoke_key(key, plan.revoked_at, &events).await?;
        ctx.publish(&events);
        applied
    } else {
        writer.sync_key(key).await?
    };
    current.revoked_at = Some(plan.revoked_at);
    Ok((current, applied))
}

/// A rotation's outcome: the new key and the old one as it now stands.
pub struct Rotated {
    /// The new key.
    pub made: Made,
    /// The key it replaces.
    pub previous: KeyRecord,
}

/// Rotates a key of `org` as `actor`: the new key, the old key's revocation and their events in
/// one batch, all or nothing. Once it commits the answer carries the new secret, whatever a
/// projection says.
pub async fn rotate(
    ctx: &Ctx<'_>,
    writer: &Writer,
    org: &str,
    actor: Actor<'_>,
    key: &str,
    grace_period_seconds: Option<u32>,
) -> Result<Rotated, AdminError> {
    let mut old = record(writer, org, key).await?;
    let fresh = Fresh::new(ctx)?;
    let at = now();
    let plan =
        ctx.config
            .engine
            .policy()
            .plan_rotate(actor, &old, grace_period_seconds, fresh.material(), at)?;
    let by = || AuditActor::User(actor.user_id.to_owned());
    let mut events = vec![
        key_event(
            ctx,
            AuditAction::KeyRotated,
            by(),
            &old,
            at,
            serde_json::json!({ "newKeyId": plan.new.id, "gracePeriodSeconds": grace_period_seconds }),
        )?,
        key_event(
            ctx,
            AuditAction::KeyCreated,
            by(),
            &plan.new,
            at,
            serde_json::json!({ "name": plan.new.name, "scope": plan.new.scope, "rotatedFrom": old.id }),
        )?,
    ];
    if let Some(revoked_at) = plan.old_revoked_at {
        // Nothing runs when the grace period ends: the revocation it schedules is recorded now,
        // with the time it takes effect.
        events.push(key_event(
            ctx,
            AuditAction::KeyRevoked(RevokeCause::RotationGraceEnded),
            by(),
            &old,
            at,
            serde_json::json!({ "revokedAt": format_time(revoked_at), "rotatedTo": plan.new.id }),
        )?);
    }
    let row = NewKeyRow {
        hash: fresh.secret.hash(),
        record: plan.new,
    };
    let applied = writer.rotate(&row, &old.id, plan.old_revoked_at, &events).await?;
    ctx.publish(&events);
    if plan.old_revoked_at.is_some() {
        old.revoked_at = plan.old_revoked_at;
    }
    Ok(Rotated {
        made: Made {
            record: row.record,
            secret: fresh.secret,
            applied,
        },
        previous: old,
    })
}
