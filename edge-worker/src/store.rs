//! The stores the decision reads.
//!
//! By default the hot path reads KV projections of the D1 rows, one read per warm request.
//! With `KEYSCOPE_STORE = "d1"` it reads D1 itself (one query, no KV propagation delay; see
//! ARCHITECTURE.md "Stores" for the trade-off).
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

use policy_core::{KeyHash, KeyRecord, Scope, Timestamp};
use serde::Deserialize;
use worker::{D1Database, Env, KvStore};

/// The KV binding's name.
pub const BINDING: &str = "KEYS";
/// The D1 binding's name.
pub const D1_BINDING: &str = "DB";

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
#[allow(clippy::enum_variant_names)]
#[derive(Debug)]
pub enum StoreError {
    /// The KV binding is missing from the deployment.
    Unbound,
    /// KV answered with an error.
    Kv(String),
    /// D1 answered with an error, or a row that does not fit the schema.
    D1(String),
    /// `KEYSCOPE_STORE` names no known store.
    Misconfigured(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unbound => write!(f, "the {BINDING} KV binding is not configured"),
            StoreError::Kv(err) => write!(f, "KV: {err}"),
            StoreError::D1(err) => write!(f, "D1: {err}"),
            StoreError::Misconfigured(name) => {
                write!(f, "KEYSCOPE_STORE={name:?} (expected \"kv\" or \"d1\")")
            }
        }
    }
}

/// Read access to the configured store.
pub enum Store {
    /// KV projections (default).
    Kv(Option<KvStore>),
    /// D1 directly.
    D1(Option<D1Database>),
    /// An unknown `KEYSCOPE_STORE`: every lookup fails (closed).
    Invalid(String),
}

/// A joined `api_keys` + `members` row.
#[derive(Deserialize)]
struct KeyRow {
    id: String,
    name: String,
    hint: String,
    organization_id: String,
    created_by: String,
    scope: String,
    scoped_project_id: Option<String>,
    permissions: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
    creator_role: Option<String>,
}

#[derive(Deserialize)]
struct OwnerRow {
    organization_id: String,
    project_id: String,
}

impl KeyRow {
    fn into_entry(self) -> Result<KeyEntry, StoreError> {
        let scope =
            Scope::from_name(&self.scope).ok_or_else(|| StoreError::D1(format!("scope {:?}", self.scope)))?;
        let permissions = match self.permissions {
            None => None,
            Some(text) => {
                Some(serde_json::from_str(&text).map_err(|e| StoreError::D1(format!("permissions: {e}")))?)
            }
        };
        Ok(KeyEntry {
            record: KeyRecord {
                id: self.id,
                name: self.name,
                hint: self.hint,
                organization_id: self.organization_id,
                created_by: self.created_by,
                scope,
                scoped_project_id: self.scoped_project_id,
                permissions,
                created_at: Timestamp(self.created_at),
                last_used_at: self.last_used_at.map(Timestamp),
                revoked_at: self.revoked_at.map(Timestamp),
                expires_at: self.expires_at.map(Timestamp),
            },
            role: self.creator_role,
        })
    }
}

impl Store {
    /// Opens the configured store; a missing binding makes every lookup fail (closed).
    pub fn open(env: &Env) -> Store {
        match env.var("KEYSCOPE_STORE").map(|v| v.to_string()).as_deref() {
            Err(_) | Ok("kv") => Store::Kv(env.kv(BINDING).ok()),
            Ok("d1") => Store::D1(env.d1(D1_BINDING).ok()),
            Ok(other) => Store::Invalid(other.to_owned()),
        }
    }

    /// The entry of the key with this hash.
    pub async fn key(&self, hash: &KeyHash) -> Result<Option<KeyEntry>, StoreError> {
        let hex = hash.to_hex();
        match self {
            Store::Kv(kv) => {
                let kv = kv.as_ref().ok_or(StoreError::Unbound)?;
                let name = format!("key:{hex}");
                kv.get(&name)
                    .json::<KeyEntry>()
                    .await
                    .map_err(|e| StoreError::Kv(e.to_string()))
            }
            Store::D1(db) => {
                let db = db.as_ref().ok_or(StoreError::Unbound)?;
                let row = db
                    .prepare(
                        "SELECT k.*, m.role AS creator_role FROM api_keys k LEFT JOIN members m \
                         ON m.organization_id = k.organization_id AND m.user_id = k.created_by \
                         WHERE k.key_hash = ?1",
                    )
                    .bind(&[hex.as_str().into()])
                    .map_err(|e| StoreError::D1(e.to_string()))?
                    .first::<KeyRow>(None)
                    .await
                    .map_err(|e| StoreError::D1(e.to_string()))?;
                row.map(KeyRow::into_entry).transpose()
            }
            Store::Invalid(name) => Err(StoreError::Misconfigured(name.clone())),
        }
    }

    /// The owner of a resource.
    pub async fn resource(&self, kind: &str, id: &str) -> Result<Option<Owner>, StoreError> {
        match self {
            Store::Kv(kv) => {
                let kv = kv.as_ref().ok_or(StoreError::Unbound)?;
                let name = format!("res:{kind}:{id}");
                kv.get(&name)
                    .json::<Owner>()
                    .await
                    .map_err(|e| StoreError::Kv(e.to_string()))
            }
            Store::D1(db) => {
                let db = db.as_ref().ok_or(StoreError::Unbound)?;
                let row = db
                    .prepare("SELECT organization_id, project_id FROM resources WHERE kind = ?1 AND id = ?2")
                    .bind(&[kind.into(), id.into()])
                    .map_err(|e| StoreError::D1(e.to_string()))?
                    .first::<OwnerRow>(None)
                    .await
                    .map_err(|e| StoreError::D1(e.to_string()))?;
                Ok(row.map(|r| Owner {
                    organization_id: r.organization_id,
                    project_id: r.project_id,
                }))
            }
            Store::Invalid(name) => Err(StoreError::Misconfigured(name.clone())),
        }
    }
}
