//! The hot path's answer to `LookupKey`, per store mode (ARCHITECTURE.md "Consistency"):
//!
//! - `strict`: the key's immutable fields from the isolate cache or KV (an unknown key costs
//!   one KV read and touches no object), then one hop to the key's `KeyState` object for its
//!   revocation and creator role (read from D1) and the rate-limit admission;
//! - `kv`: the whole projection from KV (edge-cached);
//! - `d1`: the whole row from D1.

use std::rc::Rc;

use policy_core::{KeyHash, KeyRecord};
use worker::Env;

use crate::config::{Config, StoreMode};
use crate::store::keystate::{Admission, KeyStateClient};
use crate::store::read::{cached, remember, Reader};
use crate::store::StoreError;

/// A key as the decision sees it.
pub struct Found {
    /// The record with its current revocation.
    pub record: KeyRecord,
    /// The creator's current role.
    pub role: Option<String>,
    /// The rate-limit admission already taken (`strict` mode), if any.
    pub admission: Admission,
}

/// Looks a key up by hash; `Ok(None)` for a key no store knows.
pub async fn find_key(env: &Env, config: &Config, hash: &KeyHash) -> Result<Option<Found>, StoreError> {
    match config.store {
        StoreMode::Strict => strict(env, config, hash).await,
        StoreMode::Kv => whole(Reader::kv(env)?, hash).await,
        StoreMode::D1 => whole(Reader::d1(env)?, hash).await,
    }
}

async fn whole(reader: Reader, hash: &KeyHash) -> Result<Option<Found>, StoreError> {
    Ok(reader.key(hash).await?.map(|entry| Found {
        record: entry.record,
        role: entry.role,
        admission: Admission::NotAsked,
    }))
}

async fn strict(env: &Env, config: &Config, hash: &KeyHash) -> Result<Option<Found>, StoreError> {
    let entry = match cached(hash) {
        Some(entry) => entry,
        None => {
            let Some(entry) = Reader::kv(env)?.key(hash).await? else {
                return Ok(None);
            };
            let entry = Rc::new(entry);
            remember(*hash, Rc::clone(&entry));
            entry
        }
    };
    let check = KeyStateClient::open(env)?
        .check(&entry.record.id, config.rate_limit)
        .await?;
    let Some(state) = check.state else {
        // D1 no longer has the key (a projection left behind): unknown.
        return Ok(None);
    };
    let mut record = entry.record.clone();
    record.revoked_at = state.revoked_at;
    Ok(Some(Found {
        record,
        role: state.role,
        admission: check.admission,
    }))
}
