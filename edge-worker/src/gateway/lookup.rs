//! The hot path's answer to `LookupKey`, per store mode (ARCHITECTURE.md "Consistency"):
//!
//! - `strict`: the key's immutable fields from the isolate cache (compiled once: a
//!   [`PreparedKey`]) or KV (an unknown key costs one KV read and touches no object), then one hop to the key's `KeyState` object for its
//!   revocation and creator role (read from D1) and the rate-limit admission;
//! - `kv`: the whole projection from KV (edge-cached);
//! - `d1`: the whole row from D1.

use std::rc::Rc;

use keyscope_ratelimit::Limits;
use policy_core::{KeyHash, KeyState, OrganizationLimits, PreparedKey};
use worker::Env;

use crate::clock::now;
use crate::config::{Config, StoreMode};
use crate::store::keystate::{Admission, KeyStateClient};
use crate::store::read::{
    cached, cached_organization_limits, remember, remember_organization_limits, CachedKey, Reader,
};
use crate::store::rows::{controls_json, with_controls};
use crate::store::StoreError;

/// A key as the decision sees it.
pub struct Found {
    /// The key, compiled against the isolate's policy (grants as a bitset).
    pub key: Rc<PreparedKey>,
    /// Its current revocation and expiry.
    pub state: KeyState,
    /// The creator's current role.
    pub role: Option<String>,
    /// The rate-limit admission already taken (`strict` mode), if any.
    pub admission: Admission,
    /// The key's object counted the request as allowed (`strict` mode, not over a limit).
    pub counted: bool,
    /// The key's organization's limits.
    pub org: OrganizationLimits,
}

/// Looks a key up by hash; `Ok(None)` for a key no store knows.
pub async fn find_key(env: &Env, config: &Config, hash: &KeyHash) -> Result<Option<Found>, StoreError> {
    match config.store {
        StoreMode::Strict => strict(env, config, hash).await,
        StoreMode::Kv => whole(env, config, Reader::kv(env)?, hash).await,
        StoreMode::D1 => whole(env, config, Reader::d1(env)?, hash).await,
    }
}

/// An organization's limits, as this isolate read them within the last minute, or read now
/// (from KV, or D1 in the `d1` mode; record 0109).
pub async fn organization_limits(
    env: &Env,
    config: &Config,
    org: &str,
) -> Result<OrganizationLimits, StoreError> {
    let at = now();
    if let Some(limits) = cached_organization_limits(org, at) {
        return Ok(limits);
    }
    let reader = match config.store {
        StoreMode::D1 => Reader::d1(env)?,
        StoreMode::Strict | StoreMode::Kv => Reader::kv(env)?,
    };
    let limits = reader.organization_limits(org).await?;
    remember_organization_limits(org, limits, at);
    Ok(limits)
}

async fn whole(
    env: &Env,
    config: &Config,
    reader: Reader,
    hash: &KeyHash,
) -> Result<Option<Found>, StoreError> {
    let Some(entry) = reader.key(hash).await? else {
        return Ok(None);
    };
    let org = organization_limits(env, config, &entry.record.organization_id).await?;
    Ok(Some(Found {
        state: KeyState::of(&entry.record),
        key: Rc::new(config.engine.prepare(entry.record)),
        role: entry.role,
        admission: Admission::NotAsked,
        counted: false,
        org,
    }))
}

async fn strict(env: &Env, config: &Config, hash: &KeyHash) -> Result<Option<Found>, StoreError> {
    let cached_key = match cached(hash) {
        Some(cached_key) => cached_key,
        None => {
            let Some(entry) = Reader::kv(env)?.key(hash).await? else {
                return Ok(None);
            };
            let fresh = CachedKey {
                controls: controls_json(&entry.record)?,
                key: Rc::new(config.engine.prepare(entry.record)),
            };
            remember(*hash, fresh.clone());
            fresh
        }
    };
    let org = organization_limits(env, config, &cached_key.key.record().organization_id).await?;
    let client = KeyStateClient::open(env)?;
    let mut check = client
        .check(
            &cached_key.key.record().id,
            &cached_key.key.record().organization_id,
            &limits_of(config, cached_key.key.record(), &org),
            org.cap,
        )
        .await?;
    // The object counted the request as allowed unless it was over a limit.
    let counted = !matches!(check.admission, Admission::Limited { .. });
    let Some(state) = check.state.take() else {
        // D1 no longer has the key (a projection left behind): unknown.
        return Ok(None);
    };
    let key = if state.controls == cached_key.controls {
        cached_key.key
    } else {
        // The allow-list or a limit changed since the key was cached: the object's answer is
        // the current one. The admission just taken was under the old limits: given back, and
        // taken again under the new ones (rare: once per isolate per change).
        if let Admission::Admitted { at, .. } = check.admission {
            let period = limits_of(config, cached_key.key.record(), &org)
                .quota
                .map(|q| q.period);
            client.refund(&cached_key.key.record().id, at, period).await?;
        }
        let record = with_controls(cached_key.key.record().clone(), state.controls.as_deref())?;
        let key = Rc::new(config.engine.prepare(record));
        remember(
            *hash,
            CachedKey {
                key: Rc::clone(&key),
                controls: state.controls.clone(),
            },
        );
        let record = key.record();
        check.admission = client
            .take(
                &record.id,
                &record.organization_id,
                &limits_of(config, record, &org),
                org.cap,
                false,
            )
            .await?;
        key
    };
    Ok(Some(Found {
        // Expiry never changes; revocation comes from the object, never from the cache.
        state: KeyState {
            revoked_at: state.revoked_at,
            expires_at: key.record().expires_at,
        },
        key,
        role: state.role,
        counted,
        admission: check.admission,
        org,
    }))
}

/// The limits a key's requests are held to: its own rate and quota, else its organization's
/// defaults, else the deployment's default rate (keyscope-ratelimit's rule).
pub fn limits_of(config: &Config, record: &policy_core::KeyRecord, org: &OrganizationLimits) -> Limits {
    let (rate, quota) = org.for_key(record.rate_limit, record.quota);
    Limits::of(rate, quota, config.rate_limit)
}
