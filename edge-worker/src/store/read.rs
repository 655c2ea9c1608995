//! The hot path's reads: a key's projection by hash and a resource's owner, from KV or D1.
//! (A key's authoritative mutable state comes from its Durable Object: [`super::keystate`].)

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use policy_core::{KeyHash, OrganizationLimits, PreparedKey, Timestamp};
use worker::{D1Database, Env, KvStore};

use super::layout::{
    kv_key, kv_organization, kv_resource, D1_BINDING, KEY_ROW_SELECT, KV_BINDING, ORG_LIMITS_SELECT,
    RESOURCE_SELECT,
};
use super::rows::{KeyEntry, KeyRow, Owner};
use super::StoreError;

/// Where the reads go.
pub enum Reader {
    /// KV projections.
    Kv(KvStore),
    /// D1 directly.
    D1(D1Database),
}

impl Reader {
    /// KV (the `strict` and `kv` modes).
    pub fn kv(env: &Env) -> Result<Reader, StoreError> {
        env.kv(KV_BINDING)
            .map(Reader::Kv)
            .map_err(|_| StoreError::Unbound(KV_BINDING))
    }

    /// D1 (the `d1` mode).
    pub fn d1(env: &Env) -> Result<Reader, StoreError> {
        env.d1(D1_BINDING)
            .map(Reader::D1)
            .map_err(|_| StoreError::Unbound(D1_BINDING))
    }

    /// The projection of the key with this hash.
    pub async fn key(&self, hash: &KeyHash) -> Result<Option<KeyEntry>, StoreError> {
        let hex = hash.to_hex();
        match self {
            Reader::Kv(kv) => kv
                .get(&kv_key(hex.as_str()))
                .json::<KeyEntry>()
                .await
                .map_err(|e| StoreError::Kv(e.to_string())),
            Reader::D1(db) => {
                let row = db
                    .prepare(format!("{KEY_ROW_SELECT} WHERE k.key_hash = ?1"))
                    .bind(&[hex.as_str().into()])
                    .map_err(|e| StoreError::D1(e.to_string()))?
                    .first::<KeyRow>(None)
                    .await
                    .map_err(|e| StoreError::D1(e.to_string()))?;
                row.map(KeyRow::into_entry).transpose()
            }
        }
    }

    /// An organization's limits (none set: the default, no limit).
    pub async fn organization_limits(&self, organization_id: &str) -> Result<OrganizationLimits, StoreError> {
        let text: Option<String> = match self {
            Reader::Kv(kv) => kv
                .get(&kv_organization(organization_id))
                .text()
                .await
                .map_err(|e| StoreError::Kv(e.to_string()))?,
            Reader::D1(db) => {
                #[derive(serde::Deserialize)]
                struct Row {
                    limits: String,
                }
                db.prepare(ORG_LIMITS_SELECT)
                    .bind(&[organization_id.into()])
                    .map_err(|e| StoreError::D1(e.to_string()))?
                    .first::<Row>(None)
                    .await
                    .map_err(|e| StoreError::D1(e.to_string()))?
                    .map(|row| row.limits)
            }
        };
        match text {
            None => Ok(OrganizationLimits::default()),
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| StoreError::Kv(format!("organization limits: {e}")))
            }
        }
    }

    /// The owner of a resource.
    pub async fn resource(&self, kind: &str, id: &str) -> Result<Option<Owner>, StoreError> {
        match self {
            Reader::Kv(kv) => kv
                .get(&kv_resource(kind, id))
                .json::<Owner>()
                .await
                .map_err(|e| StoreError::Kv(e.to_string())),
            Reader::D1(db) => db
                .prepare(RESOURCE_SELECT)
                .bind(&[kind.into(), id.into()])
                .map_err(|e| StoreError::D1(e.to_string()))?
                .first::<Owner>(None)
                .await
                .map_err(|e| StoreError::D1(e.to_string())),
        }
    }
}

/// How many keys' immutable fields an isolate keeps.
const CACHE_CAPACITY: usize = 10_000;

/// A key in the isolate cache: compiled once, with the `controls` column it was compiled with
/// (see [`super::rows::controls_json`]), so that a change the key's object reports is seen.
#[derive(Clone)]
pub struct CachedKey {
    /// The key compiled against the isolate's policy.
    pub key: Rc<PreparedKey>,
    /// Its controls as the `controls` column writes them.
    pub controls: Option<String>,
}

thread_local! {
    static IMMUTABLE: RefCell<HashMap<KeyHash, CachedKey>> = RefCell::new(HashMap::new());
}

/// The `strict` mode's isolate cache of prepared keys (compiled once against the isolate's
/// policy), by hash. Only the fields that never change are read from a cached key (id,
/// organization, creator, scope, projects, grants, expiry, name, hint); revocation, role and
/// the controls that can change (allow-list, rate, quota) always come from the key's Durable
/// Object.
pub fn cached(hash: &KeyHash) -> Option<CachedKey> {
    IMMUTABLE.with(|cache| cache.borrow().get(hash).cloned())
}

/// Keeps a projection in the isolate cache (cleared whole when full: bounded memory).
pub fn remember(hash: KeyHash, entry: CachedKey) {
    IMMUTABLE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(hash, entry);
    });
}

/// How long an isolate uses an organization's limits before reading them again: a change of
/// them holds within this time (record 0109).
pub const ORG_LIMITS_TTL_MS: i64 = 60_000;

thread_local! {
    static ORG_LIMITS: RefCell<HashMap<String, (OrganizationLimits, Timestamp)>> = RefCell::new(HashMap::new());
}

/// An organization's limits as this isolate last read them, if within [`ORG_LIMITS_TTL_MS`].
pub fn cached_organization_limits(organization_id: &str, now: Timestamp) -> Option<OrganizationLimits> {
    ORG_LIMITS.with(|cache| {
        cache
            .borrow()
            .get(organization_id)
            .filter(|(_, at)| now.0 - at.0 < ORG_LIMITS_TTL_MS && now.0 >= at.0)
            .map(|(limits, _)| *limits)
    })
}

/// Keeps an organization's limits read at `now` (cleared whole when full: bounded memory).
pub fn remember_organization_limits(organization_id: &str, limits: OrganizationLimits, now: Timestamp) {
    ORG_LIMITS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(organization_id.to_owned(), (limits, now));
    });
}
