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
//! The write path (below, used by the admin API) writes D1 first and then rewrites these
//! entries: a role change or removal rewrites every key entry of that creator, so the next
//! request sees it with the same single read.

use std::fmt;

use policy_core::{KeyHash, KeyRecord, Scope, Timestamp};
use serde::{Deserialize, Serialize};
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env, KvStore};

/// The KV binding's name.
pub const BINDING: &str = "KEYS";
/// The D1 binding's name.
pub const D1_BINDING: &str = "DB";

/// A key's hot-path entry.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// The key's metadata.
    pub record: KeyRecord,
    /// The creator's current role in the key's organization; null once removed.
    pub role: Option<String>,
}

/// A resource's owner.
#[derive(Debug, Serialize, Deserialize)]
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
    /// A write collided with an existing key id or hash.
    Conflict(String),
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
            StoreError::Conflict(err) => write!(f, "conflict: {err}"),
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

/// A joined `api_keys` + `members` row: the only place a D1 row becomes a [`KeyRecord`].
#[derive(Deserialize)]
pub struct KeyRow {
    key_hash: String,
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
    /// The key's hash (lowercase hex).
    pub fn key_hash(&self) -> &str {
        &self.key_hash
    }

    /// The row as the record and creator role the hot path reads.
    pub fn into_entry(self) -> Result<KeyEntry, StoreError> {
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

/// Which store the hot path reads (`KEYSCOPE_STORE`): `Ok(false)` KV (the default), `Ok(true)`
/// D1, `Err(name)` for a name that is neither.
fn reads_d1(env: &Env) -> Result<bool, String> {
    match env.var("KEYSCOPE_STORE").map(|v| v.to_string()).as_deref() {
        Err(_) | Ok("kv") => Ok(false),
        Ok("d1") => Ok(true),
        Ok(other) => Err(other.to_owned()),
    }
}

impl Store {
    /// Opens the configured store; a missing binding makes every lookup fail (closed).
    pub fn open(env: &Env) -> Store {
        match reads_d1(env) {
            Ok(false) => Store::Kv(env.kv(BINDING).ok()),
            Ok(true) => Store::D1(env.d1(D1_BINDING).ok()),
            Err(other) => Store::Invalid(other),
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
                    .prepare(format!("{KEY_ROW_SELECT} WHERE k.key_hash = ?1"))
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

// ---------------------------------------------------------------------------------------------
// The write path: D1 first (the source of truth), then the KV projections.
// ---------------------------------------------------------------------------------------------

const KEY_ROW_SELECT: &str = "SELECT k.*, m.role AS creator_role FROM api_keys k LEFT JOIN members m \
     ON m.organization_id = k.organization_id AND m.user_id = k.created_by";

fn d1<T>(result: worker::Result<T>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::D1(e.to_string()))
}

fn kv_err<T, E: fmt::Display>(result: Result<T, E>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Kv(e.to_string()))
}

fn text(value: &str) -> JsValue {
    JsValue::from_str(value)
}

fn opt_text(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from_str)
}

fn opt_time(value: Option<Timestamp>) -> JsValue {
    value.map_or(JsValue::NULL, |t| JsValue::from_f64(t.0 as f64))
}

/// A key as it is inserted: its hash and its record.
pub struct NewKeyRow {
    /// Lowercase hex SHA-256 of the key.
    pub hash: KeyHash,
    /// The key's metadata.
    pub record: KeyRecord,
}

/// A resource ownership change.
pub enum ResourceChange {
    /// Record who owns `kind`/`id`.
    Put {
        /// Resource kind.
        kind: String,
        /// Resource id.
        id: String,
        /// Owning organization and project.
        owner: Owner,
    },
    /// Forget `kind`/`id`.
    Remove {
        /// Resource kind.
        kind: String,
        /// Resource id.
        id: String,
    },
}

/// The write side: D1, and KV when bound (required unless the hot path reads D1).
pub struct Writer {
    db: D1Database,
    kv: Option<KvStore>,
}

impl Writer {
    /// Opens the write side. KV must be bound when the hot path reads it (`KEYSCOPE_STORE` kv):
    /// writing D1 alone would leave the edge answering from stale projections.
    pub fn open(env: &Env) -> Result<Writer, StoreError> {
        let db = env
            .d1(D1_BINDING)
            .map_err(|_| StoreError::D1("the DB binding is not configured".into()))?;
        let kv = env.kv(BINDING).ok();
        if reads_d1(env) != Ok(true) && kv.is_none() {
            return Err(StoreError::Unbound);
        }
        Ok(Writer { db, kv })
    }

    fn statement(&self, sql: &str, args: &[JsValue]) -> Result<D1PreparedStatement, StoreError> {
        d1(self.db.prepare(sql).bind(args))
    }

    /// The current role of a member, or `None`.
    pub async fn member_role(
        &self,
        organization_id: &str,
        user_id: &str,
    ) -> Result<Option<String>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            role: String,
        }
        let row = d1(self
            .statement(
                "SELECT role FROM members WHERE organization_id = ?1 AND user_id = ?2",
                &[text(organization_id), text(user_id)],
            )?
            .first::<Row>(None)
            .await)?;
        Ok(row.map(|r| r.role))
    }

    /// Adds a member or changes their role; their keys act with it from the next request.
    pub async fn put_member(
        &self,
        organization_id: &str,
        user_id: &str,
        role: &str,
    ) -> Result<(), StoreError> {
        d1(self
            .statement(
                "INSERT INTO members (organization_id, user_id, role) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role",
                &[text(organization_id), text(user_id), text(role)],
            )?
            .run()
            .await)?;
        self.refresh_creator(organization_id, user_id).await
    }

    /// Removes a member (every key they created answers `key_revoked` from the next request).
    /// `false` if they were not a member.
    pub async fn remove_member(&self, organization_id: &str, user_id: &str) -> Result<bool, StoreError> {
        let result = d1(self
            .statement(
                "DELETE FROM members WHERE organization_id = ?1 AND user_id = ?2",
                &[text(organization_id), text(user_id)],
            )?
            .run()
            .await)?;
        let removed = changes(&result) > 0;
        self.refresh_creator(organization_id, user_id).await?;
        Ok(removed)
    }

    /// Applies resource changes all together (one D1 transaction), then their projections.
    /// Returns how many removals found a resource.
    pub async fn change_resources(&self, changes_: &[ResourceChange]) -> Result<usize, StoreError> {
        let mut statements = Vec::with_capacity(changes_.len());
        for change in changes_ {
            statements.push(match change {
                ResourceChange::Put { kind, id, owner } => self.statement(
                    "INSERT INTO resources (kind, id, organization_id, project_id) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (kind, id) DO UPDATE SET organization_id = excluded.organization_id, \
                     project_id = excluded.project_id",
                    &[
                        text(kind),
                        text(id),
                        text(&owner.organization_id),
                        text(&owner.project_id),
                    ],
                )?,
                ResourceChange::Remove { kind, id } => self.statement(
                    "DELETE FROM resources WHERE kind = ?1 AND id = ?2",
                    &[text(kind), text(id)],
                )?,
            });
        }
        let results = d1(self.db.batch(statements).await)?;
        let removed = changes_
            .iter()
            .zip(&results)
            .filter(|(c, r)| matches!(c, ResourceChange::Remove { .. }) && changes(r) > 0)
            .count();
        if let Some(kv) = &self.kv {
            for change in changes_ {
                match change {
                    ResourceChange::Put { kind, id, owner } => {
                        let value =
                            serde_json::to_string(owner).map_err(|e| StoreError::Kv(e.to_string()))?;
                        kv_err(
                            kv_err(kv.put(&format!("res:{kind}:{id}"), value))?
                                .execute()
                                .await,
                        )?;
                    }
                    ResourceChange::Remove { kind, id } => {
                        kv_err(kv.delete(&format!("res:{kind}:{id}")).await)?;
                    }
                }
            }
        }
        Ok(removed)
    }

    /// Inserts keys all together (one D1 transaction), then their projections. A key whose id
    /// or hash already exists fails the whole batch ([`StoreError::Conflict`]); a projection
    /// that cannot be written removes the batch again, so nothing is half-written.
    pub async fn insert_keys(&self, rows: &[NewKeyRow]) -> Result<(), StoreError> {
        let mut statements = Vec::with_capacity(rows.len());
        for row in rows {
            let r = &row.record;
            let permissions = match &r.permissions {
                None => JsValue::NULL,
                Some(list) => text(&serde_json::to_string(list).map_err(|e| StoreError::D1(e.to_string()))?),
            };
            statements.push(self.statement(
                "INSERT INTO api_keys (id, key_hash, organization_id, created_by, name, hint, scope, \
                 scoped_project_id, permissions, created_at, last_used_at, revoked_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                &[
                    text(&r.id),
                    text(row.hash.to_hex().as_str()),
                    text(&r.organization_id),
                    text(&r.created_by),
                    text(&r.name),
                    text(&r.hint),
                    text(r.scope.as_str()),
                    opt_text(r.scoped_project_id.as_deref()),
                    permissions,
                    JsValue::from_f64(r.created_at.0 as f64),
                    opt_time(r.last_used_at),
                    opt_time(r.revoked_at),
                    opt_time(r.expires_at),
                ],
            )?);
        }
        if let Err(err) = self.db.batch(statements).await {
            let message = err.to_string();
            return Err(if message.contains("UNIQUE") {
                StoreError::Conflict(message)
            } else {
                StoreError::D1(message)
            });
        }
        for row in rows {
            if let Err(err) = self.refresh_key(&row.record.id).await {
                let mut undo = Vec::with_capacity(rows.len());
                for row in rows {
                    undo.push(self.statement("DELETE FROM api_keys WHERE id = ?1", &[text(&row.record.id)])?);
                    if let Some(kv) = &self.kv {
                        // Best effort: an entry left behind names a key D1 no longer has.
                        let _ = kv.delete(&format!("key:{}", row.hash.to_hex().as_str())).await;
                    }
                }
                d1(self.db.batch(undo).await)?;
                return Err(err);
            }
        }
        Ok(())
    }

    /// Sets a key's `revokedAt` to `at` unless it is already revoked earlier, then its
    /// projection. A revocation is permanent: an earlier one is never moved later.
    pub async fn revoke_key(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        d1(self
            .statement(
                "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND (revoked_at IS NULL OR revoked_at > ?2)",
                &[text(id), JsValue::from_f64(at.0 as f64)],
            )?
            .run()
            .await)?;
        self.refresh_key(id).await
    }

    /// Records that a key was used at `now`, at most once a minute (the `WHERE` clause makes a
    /// second writer within the minute a no-op). D1 only: the hot path does not read it.
    pub async fn touch_last_used(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        d1(self
            .statement(
                "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 \
                 AND (last_used_at IS NULL OR last_used_at <= ?3)",
                &[
                    text(id),
                    JsValue::from_f64(now.0 as f64),
                    JsValue::from_f64((now.0 - LAST_USED_EVERY_MS) as f64),
                ],
            )?
            .run()
            .await)?;
        Ok(())
    }

    /// One key of an organization, with its creator's role.
    pub async fn key(&self, organization_id: &str, id: &str) -> Result<Option<KeyRow>, StoreError> {
        d1(self
            .statement(
                &format!("{KEY_ROW_SELECT} WHERE k.organization_id = ?1 AND k.id = ?2"),
                &[text(organization_id), text(id)],
            )?
            .first::<KeyRow>(None)
            .await)
    }

    /// An organization's keys (optionally one creator's), newest first.
    pub async fn list_keys(
        &self,
        organization_id: &str,
        created_by: Option<&str>,
    ) -> Result<Vec<KeyRow>, StoreError> {
        let statement = match created_by {
            None => self.statement(
                &format!("{KEY_ROW_SELECT} WHERE k.organization_id = ?1 ORDER BY k.created_at DESC, k.id"),
                &[text(organization_id)],
            )?,
            Some(user) => self.statement(
                &format!(
                    "{KEY_ROW_SELECT} WHERE k.organization_id = ?1 AND k.created_by = ?2 \
                     ORDER BY k.created_at DESC, k.id"
                ),
                &[text(organization_id), text(user)],
            )?,
        };
        d1(d1(statement.all().await)?.results::<KeyRow>())
    }

    /// Rewrites the projections of every key a user created in an organization.
    async fn refresh_creator(&self, organization_id: &str, user_id: &str) -> Result<(), StoreError> {
        #[derive(Deserialize)]
        struct Row {
            id: String,
        }
        let rows = d1(d1(self
            .statement(
                "SELECT id FROM api_keys WHERE organization_id = ?1 AND created_by = ?2",
                &[text(organization_id), text(user_id)],
            )?
            .all()
            .await)?
        .results::<Row>())?;
        for row in rows {
            self.refresh_key(&row.id).await?;
        }
        Ok(())
    }

    /// Rewrites one key's projection from D1: its record and its creator's current role.
    async fn refresh_key(&self, id: &str) -> Result<(), StoreError> {
        let Some(kv) = &self.kv else {
            return Ok(());
        };
        let row = d1(self
            .statement(&format!("{KEY_ROW_SELECT} WHERE k.id = ?1"), &[text(id)])?
            .first::<KeyRow>(None)
            .await)?
        .ok_or_else(|| StoreError::D1(format!("no key with id {id}")))?;
        let name = format!("key:{}", row.key_hash());
        let entry = row.into_entry()?;
        let value = serde_json::to_string(&entry).map_err(|e| StoreError::Kv(e.to_string()))?;
        kv_err(kv_err(kv.put(&name, value))?.execute().await)
    }
}

/// `lastUsedAt` is written at most this often per key.
pub const LAST_USED_EVERY_MS: i64 = 60_000;

fn changes(result: &worker::D1Result) -> usize {
    result.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0)
}
