//! The hot-path store: KV projections of the D1 rows, one read per warm request.
//!
//! | KV key | value |
//! |---|---|
//! | `key:<sha256 hex>` | `{"record": KeyRecord, "role": "<creator's current role>" \| null}` |
//! | `res:<kind>:<id>` | `{"organizationId": "…", "projectId": "…"}` |
//!
//! The write path (`edge-worker/js/store.mjs`) writes D1 first and then rewrites these entries:
//! a role change or removal rewrites every key entry of that creator, so the next request sees
//! it with the same single read.

use std::fmt;

use policy_core::{KeyHash, KeyRecord};
use serde::Deserialize;
use worker::{Env, KvStore};

/// The KV binding's name.
pub const BINDING: &str = "KEYS";

/// A key's hot-path entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// The key's metadata.
    pub record: KeyRecord,
    /// The creator's current role in the key's organization; null once removed.
    pub role: Option<String>,
}

/// A resource's owner.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Owner {
    /// Owning organization.
    pub organization_id: String,
    /// Owning project.
    pub project_id: String,
}

/// Why a lookup could not be answered (the request is then denied `503 unavailable`).
#[derive(Debug)]
pub enum StoreError {
    /// The KV binding is missing from the deployment.
    Unbound,
    /// KV answered with an error.
    Kv(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unbound => write!(f, "the {BINDING} KV binding is not configured"),
            StoreError::Kv(err) => write!(f, "KV: {err}"),
        }
    }
}

/// Read access to the projections.
pub struct Store {
    kv: Option<KvStore>,
}

impl Store {
    /// Opens the binding; a missing binding makes every lookup fail (closed).
    pub fn open(env: &Env) -> Store {
        Store {
            kv: env.kv(BINDING).ok(),
        }
    }

    fn kv(&self) -> Result<&KvStore, StoreError> {
        self.kv.as_ref().ok_or(StoreError::Unbound)
    }

    /// The entry of the key with this hash.
    pub async fn key(&self, hash: &KeyHash) -> Result<Option<KeyEntry>, StoreError> {
        let name = format!("key:{}", hash.to_hex());
        self.kv()?
            .get(&name)
            .json::<KeyEntry>()
            .await
            .map_err(|e| StoreError::Kv(e.to_string()))
    }

    /// The owner of a resource.
    pub async fn resource(&self, kind: &str, id: &str) -> Result<Option<Owner>, StoreError> {
        let name = format!("res:{kind}:{id}");
        self.kv()?
            .get(&name)
            .json::<Owner>()
            .await
            .map_err(|e| StoreError::Kv(e.to_string()))
    }
}
