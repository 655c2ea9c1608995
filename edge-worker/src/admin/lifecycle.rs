//! The key changes both the admin API and the key console make, as one "read → plan → apply"
//! each: the acting user is already known (the admin API names them, the console's session
//! holds them) and their role already read; `policy-core` plans, `store::write::Writer` applies
//! the plan as one D1 batch.
//!
//! The console calls these. The admin handlers in [`super::keys`] do the same steps inline;
//! they can become calls to these functions (see ARCHITECTURE.md "The key console").

use policy_core::{Actor, ApiKey, CreateKey, KeyMaterial, KeyRecord};

use super::error::{AdminError, Reason};
use super::input::{new_key_id, random_bytes};
use super::Ctx;
use crate::clock::now;
use crate::store::write::{Applied, NewKeyRow, Writer};

/// A new key's secret, made from the platform's CSPRNG by `policy-core`.
pub fn new_secret(ctx: &Ctx<'_>) -> Result<ApiKey, AdminError> {
    ApiKey::generate(ctx.config.engine.environment(), &random_bytes::<64>()?)
        .map_err(|e| AdminError::new(Reason::Unavailable, e.to_string()))
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
    let secret = new_secret(ctx)?;
    let key_id = new_key_id()?;
    let material = KeyMaterial {
        id: &key_id,
        hint: secret.hint(),
    };
    let record = ctx
        .config
        .engine
        .policy()
        .plan_create(org, actor, ask, material, now())?;
    let row = NewKeyRow {
        hash: secret.hash(),
        record,
    };
    let applied = writer.insert_keys(std::slice::from_ref(&row)).await?;
    Ok(Made {
        record: row.record,
        secret,
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

/// Revokes a key of `org` as `actor`; the answer is the key as it now stands.
pub async fn revoke(
    ctx: &Ctx<'_>,
    writer: &Writer,
    org: &str,
    actor: Actor<'_>,
    key: &str,
) -> Result<(KeyRecord, Applied<()>), AdminError> {
    let mut current = record(writer, org, key).await?;
    let plan = ctx.config.engine.policy().plan_revoke(actor, &current, now())?;
    let applied = if plan.changed {
        writer.revoke_key(key, plan.revoked_at).await?
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

/// Rotates a key of `org` as `actor`: the new key and the old key's revocation in one batch.
pub async fn rotate(
    ctx: &Ctx<'_>,
    writer: &Writer,
    org: &str,
    actor: Actor<'_>,
    key: &str,
    grace_period_seconds: Option<u32>,
) -> Result<Rotated, AdminError> {
    let mut old = record(writer, org, key).await?;
    let secret = new_secret(ctx)?;
    let key_id = new_key_id()?;
    let material = KeyMaterial {
        id: &key_id,
        hint: secret.hint(),
    };
    let plan = ctx
        .config
        .engine
        .policy()
        .plan_rotate(actor, &old, grace_period_seconds, material, now())?;
    let row = NewKeyRow {
        hash: secret.hash(),
        record: plan.new,
    };
    let applied = writer.rotate(&row, &old.id, plan.old_revoked_at).await?;
    if plan.old_revoked_at.is_some() {
        old.revoked_at = plan.old_revoked_at;
    }
    Ok(Rotated {
        made: Made {
            record: row.record,
            secret,
            applied,
        },
        previous: old,
    })
}
