//! The key changes both the admin API and the key console make, as one "read → plan → apply"
//! each: the acting user is already known (the admin API names them, the console's session
//! holds them) and their role already read; `policy-core` plans and names the audit facts each
//! plan implies, `store::write::Writer` applies the plan and the events that record it as one D1
//! batch, then the events are published.
//!
//! Every event made here carries `details.via` — `admin_api` or `console` ([`Ctx::via`]);
//! [`Ctx::event_of`] turns a fact into its event.

use policy_core::{
    key_id, Actor, ApiKey, ControlsChange, CreateKey, Fact, GracePeriod, KeyMaterial, KeyRecord,
    KEY_ID_RANDOM_BYTES,
};

use super::error::{Reason, ServiceError};
use super::Ctx;
use crate::clock::now;
use crate::store::rows::KeyEntry;
use crate::store::write::{Applied, NewKeyRow, Writer};

/// A fresh key id in policy-core's format, from the platform's CSPRNG.
pub fn new_key_id() -> Result<String, ServiceError> {
    Ok(key_id(&random_bytes::<KEY_ID_RANDOM_BYTES>()?))
}

/// Bytes from the platform's CSPRNG (Web Crypto).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], ServiceError> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|_| {
        ServiceError::new(
            Reason::Unavailable,
            "the random source failed; nothing was created",
        )
    })?;
    Ok(bytes)
}

/// A new key's secret, of the policy's key prefix, made from the platform's CSPRNG by
/// `policy-core`.
pub fn new_secret(ctx: &Ctx<'_>) -> Result<ApiKey, ServiceError> {
    let engine = &ctx.config.engine;
    ApiKey::generate_with(
        engine.policy().key_prefix(),
        engine.environment(),
        &random_bytes::<64>()?,
    )
    .map_err(|e| ServiceError::new(Reason::Unavailable, e.to_string()))
}

/// A new key's secret and id, before the plan.
struct Fresh {
    secret: ApiKey,
    id: String,
}

impl Fresh {
    fn new(ctx: &Ctx<'_>) -> Result<Fresh, ServiceError> {
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
) -> Result<Made, ServiceError> {
    let fresh = Fresh::new(ctx)?;
    let at = now();
    let record = ctx
        .config
        .engine
        .policy()
        .plan_create(org, actor, ask, fresh.material(), at)?;
    let events = [ctx.event_of(&Fact::key_created(&record), at)?];
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

/// One key of the organization with its creator's current role, or `404`.
pub async fn entry(writer: &Writer, org: &str, key: &str) -> Result<KeyEntry, ServiceError> {
    Ok(writer
        .key(org, key)
        .await?
        .ok_or_else(|| ServiceError::not_found("key"))?
        .into_entry()?)
}

/// One key of the organization, or `404`.
pub async fn record(writer: &Writer, org: &str, key: &str) -> Result<KeyRecord, ServiceError> {
    Ok(entry(writer, org, key).await?.record)
}

/// Revokes a key of `org` as `actor`; the answer is the key as it now stands, with its
/// creator's role. A revocation that changes nothing (already revoked) records nothing.
pub async fn revoke(
    ctx: &Ctx<'_>,
    writer: &Writer,
    org: &str,
    actor: Actor<'_>,
    key: &str,
) -> Result<(KeyEntry, Applied<()>), ServiceError> {
    let mut current = entry(writer, org, key).await?;
    let at = now();
    let plan = ctx
        .config
        .engine
        .policy()
        .plan_revoke(actor, &current.record, at)?;
    let facts = plan.facts(actor.user_id, &current.record);
    let applied = if facts.is_empty() {
        writer.sync_key(key).await?
    } else {
        let events = ctx.events_of(&facts, at)?;
        let applied = writer.revoke_key(key, plan.revoked_at, &events).await?;
        ctx.publish(&events);
        applied
    };
    current.record.revoked_at = Some(plan.revoked_at);
    Ok((current, applied))
}

/// Changes a key's allow-list and limits as `actor`: the `controls` column and the event in
/// one batch, leased like a revocation so that the key's object serves the change on the very
/// next request everywhere.
pub async fn change_controls(
    ctx: &Ctx<'_>,
    writer: &Writer,
    org: &str,
    actor: Actor<'_>,
    key: &str,
    change: &ControlsChange<'_>,
) -> Result<(KeyEntry, Applied<()>), ServiceError> {
    let mut current = entry(writer, org, key).await?;
    let at = now();
    let next = ctx
        .config
        .engine
        .policy()
        .plan_controls_change(&current.record, actor, change, at)?;
    let facts = Fact::controls_changed(actor.user_id, &current.record, &next);
    let applied = if facts.is_empty() {
        writer.sync_key(key).await?
    } else {
        let events = ctx.events_of(&facts, at)?;
        let applied = writer.change_controls(&next, &events).await?;
        ctx.publish(&events);
        applied
    };
    current.record = next;
    Ok((current, applied))
}

/// A rotation's outcome: the new key and the old one as it now stands.
pub struct Rotated {
    /// The new key.
    pub made: Made,
    /// The key it replaces, with its creator's role.
    pub previous: KeyEntry,
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
    grace: Option<GracePeriod>,
) -> Result<Rotated, ServiceError> {
    let mut old = entry(writer, org, key).await?;
    let fresh = Fresh::new(ctx)?;
    let at = now();
    let plan = ctx
        .config
        .engine
        .policy()
        .plan_rotate(actor, &old.record, grace, fresh.material(), at)?;
    let events = ctx.events_of(&plan.facts(&old.record), at)?;
    let old_revoked_at = plan.old_revoked_at;
    let row = NewKeyRow {
        hash: fresh.secret.hash(),
        record: plan.new,
    };
    let applied = writer
        .rotate(&row, &old.record.id, old_revoked_at, &events)
        .await?;
    ctx.publish(&events);
    if old_revoked_at.is_some() {
        old.record.revoked_at = old_revoked_at;
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
