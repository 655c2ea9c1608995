//! The write path. A change decided by a `policy-core` plan is applied as **one D1 batch** (a
//! transaction: all of it or nothing). Around it:
//!
//! - before the batch, a lease is taken on the Durable Object of every key whose state the
//!   change touches ([`super::keystate`]): from then on that object reads D1 on every check, so
//!   the change applies to the very next request everywhere once the batch commits. A lease that
//!   cannot be taken aborts the write before anything is written;
//! - after the batch, the KV projections are rewritten from D1 (idempotent, retried) and the
//!   leases released (retried). What still fails is returned as [`Pending`]: the change is saved
//!   and decisions already use it (the objects read D1 until their lease expires), only a
//!   projection is behind, and `POST …/keys/{id}/sync` (or the next write) repairs it.
//!
//! Every change method takes the audit events that record it (`events`): they are inserted in
//! the same batch, so an event without its change, or a change without its event, cannot exist.

mod notices;
mod outbox;
mod reads;

pub use notices::DueNotice;
pub use outbox::{Delivery, DeliveryRow, ReplayFilter, Tried};

use std::time::Duration;

use futures_util::future::join_all;
use keyscope_audit::{AuditCursor, AuditEvent, AuditFilter};
use policy_core::{KeyHash, Timestamp};
use serde::{Deserialize, Serialize};
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Env, KvStore};

use super::keystate::{KeyStateClient, Lease};
use super::layout::{
    kv_key, kv_resource, AUDIT_INSERT, AUDIT_INSERT_IF_MEMBER, AUDIT_SELECT, D1_BINDING, KEYS_BY_HASHES,
    KEYS_OF_CREATOR, KEY_CONTROLS_UPDATE, KEY_FLAG_LEAKED, KEY_INSERT, KEY_REVOKE, KEY_ROW_SELECT,
    KEY_STATE_BINDING, KEY_TOUCH, KV_BINDING, LAST_USED_EVERY_MS, MEMBER_DELETE, MEMBER_PUT, MEMBER_ROLE,
    MEMBER_ROLES, ORG_LIMITS_PUT, OUTBOX_INSERT, PROJECTS_OF_ORGANIZATION, RESOURCE_DELETE, RESOURCE_PUT,
    USAGE_OF_KEY, USAGE_OF_ORGANIZATION, USAGE_PRUNE,
};
use super::rows::{controls_param, key_insert_params, opt_text, text, time, KeyRow, Owner};
use super::StoreError;
use crate::config::{Config, Events, StoreMode};

/// A part of a saved change that is not yet visible everywhere.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    /// The key concerned (or `None` for a resource).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The resource concerned (`kind/id`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Which projection is behind.
    pub projection: Projection,
}

/// The projections a write maintains.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Projection {
    /// The KV entry the hot path reads (`key:<hash>` or `res:<kind>:<id>`).
    Kv,
    /// The key's Durable Object still holds the write's lease: it reads D1 on every request
    /// until the lease expires (correct, one D1 read slower).
    KeyState,
}

/// A change that was saved, and what of it is still pending.
#[derive(Debug)]
pub struct Applied<T> {
    /// The change's result.
    pub value: T,
    /// What is not yet visible everywhere (empty: complete).
    pub pending: Vec<Pending>,
}

/// A key as it is inserted: its hash and its record.
pub struct NewKeyRow {
    /// SHA-256 of the key.
    pub hash: KeyHash,
    /// The key's metadata.
    pub record: policy_core::KeyRecord,
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

/// The write side of the stores.
pub struct Writer {
    db: D1Database,
    kv: Option<KvStore>,
    state: Option<KeyStateClient>,
    mode: StoreMode,
    /// Whether events are delivered (`KEYSCOPE_EVENTS_URL` with a secret): then each event's
    /// insert is followed by its outbox row, in the same batch.
    outbox: bool,
}

/// How often a projection write is tried, and the pauses between tries.
const RETRY_PAUSES_MS: [u64; 2] = [50, 250];

async fn retried<T, F, Fut>(mut attempt: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut result = attempt().await;
    for pause in RETRY_PAUSES_MS {
        if result.is_ok() {
            break;
        }
        worker::Delay::from(Duration::from_millis(pause)).await;
        result = attempt().await;
    }
    result
}

fn d1<T>(result: worker::Result<T>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::D1(e.to_string()))
}

fn changes(result: &D1Result) -> usize {
    result.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0)
}

impl Writer {
    /// Opens the write side for a deployment in `mode`. D1 is required; KV is required unless
    /// the hot path reads D1; the key-state objects are required, in the `strict` mode, by any
    /// write that changes an existing key's state (they answer for revocation and role there).
    pub fn open(env: &Env, config: &Config) -> Result<Writer, StoreError> {
        let mode = config.store;
        let outbox = matches!(config.events, Events::To { .. });
        let db = env.d1(D1_BINDING).map_err(|_| StoreError::Unbound(D1_BINDING))?;
        let kv = env.kv(KV_BINDING).ok();
        if kv.is_none() && mode != StoreMode::D1 {
            return Err(StoreError::Unbound(KV_BINDING));
        }
        let state = KeyStateClient::open(env).ok();
        Ok(Writer {
            db,
            kv,
            state,
            mode,
            outbox,
        })
    }

    fn statement(&self, sql: &str, args: &[JsValue]) -> Result<D1PreparedStatement, StoreError> {
        d1(self.db.prepare(sql).bind(args))
    }

    // ---- The bracket: leases, one batch, projections -------------------------------------

    /// Takes a lease on the state object of each key in `leased`, runs `statements` as one D1
    /// batch, then rewrites the KV projections of the keys in `refreshed` and releases the
    /// leases. Nothing is written if a lease cannot be taken or the batch fails.
    async fn apply(
        &self,
        leased: &[String],
        refreshed: &[String],
        statements: Vec<D1PreparedStatement>,
    ) -> Result<(Vec<D1Result>, Vec<Pending>), StoreError> {
        let leases = self.begin(leased).await?;
        let results = if statements.is_empty() {
            Vec::new()
        } else {
            match self.db.batch(statements).await {
                Ok(results) => results,
                Err(err) => {
                    self.release(&leases).await;
                    let message = err.to_string();
                    return Err(if message.contains("UNIQUE") {
                        StoreError::Conflict(message)
                    } else {
                        StoreError::D1(message)
                    });
                }
            }
        };
        let mut pending = Vec::new();
        // Independent projections, rewritten concurrently.
        let refreshes = refreshed.iter().map(|id| async move {
            retried(|| self.refresh_key(id)).await.map_err(|err| {
                worker::console_error!("keyscope: KV projection of {id} not written: {err}");
                Pending {
                    key_id: Some(id.clone()),
                    resource: None,
                    projection: Projection::Kv,
                }
            })
        });
        pending.extend(join_all(refreshes).await.into_iter().filter_map(Result::err));
        pending.extend(self.release(&leases).await);
        Ok((results, pending))
    }

    /// Leases on every key's object, all or none.
    async fn begin(&self, key_ids: &[String]) -> Result<Vec<(String, Lease)>, StoreError> {
        let Some(state) = &self.state else {
            if self.mode == StoreMode::Strict && !key_ids.is_empty() {
                return Err(StoreError::Unbound(KEY_STATE_BINDING));
            }
            return Ok(Vec::new());
        };
        let answers = join_all(key_ids.iter().map(|id| state.begin(id))).await;
        let mut leases = Vec::with_capacity(key_ids.len());
        let mut failure = None;
        for (id, answer) in key_ids.iter().zip(answers) {
            match answer {
                Ok(lease) => leases.push((id.clone(), lease)),
                Err(err) => failure = Some(err),
            }
        }
        if let Some(err) = failure {
            self.release(&leases).await;
            return Err(err);
        }
        Ok(leases)
    }

    /// Releases leases (retried); returns the ones that could not be released.
    async fn release(&self, leases: &[(String, Lease)]) -> Vec<Pending> {
        let Some(state) = &self.state else {
            return Vec::new();
        };
        let answers = join_all(
            leases
                .iter()
                .map(|(id, lease)| retried(move || state.commit(id, *lease))),
        )
        .await;
        leases
            .iter()
            .zip(answers)
            .filter_map(|((id, _), answer)| {
                answer.err().map(|err| {
                    worker::console_error!("keyscope: lease on {id} not released: {err}");
                    Pending {
                        key_id: Some(id.clone()),
                        resource: None,
                        projection: Projection::KeyState,
                    }
                })
            })
            .collect()
    }

    /// Sets an organization's limits: D1 first, then its KV projection. `Ok(false)`: saved in
    /// D1, the projection not written (the gateway keeps the old limits until it is).
    pub async fn put_organization_limits(
        &self,
        organization_id: &str,
        limits: &policy_core::OrganizationLimits,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(limits).map_err(|e| StoreError::D1(e.to_string()))?;
        d1(self
            .statement(ORG_LIMITS_PUT, &[text(organization_id), text(&json)])?
            .run()
            .await)?;
        let Some(kv) = &self.kv else {
            return Ok(true);
        };
        let written = match kv.put(&super::layout::kv_organization(organization_id), json) {
            Ok(put) => put.execute().await.is_ok(),
            Err(_) => false,
        };
        Ok(written)
    }

    /// Rewrites one key's KV projection from D1: its record and its creator's current role.
    async fn refresh_key(&self, id: &str) -> Result<(), StoreError> {
        let Some(kv) = &self.kv else {
            return Ok(());
        };
        let row = d1(self
            .statement(&format!("{KEY_ROW_SELECT} WHERE k.id = ?1"), &[text(id)])?
            .first::<KeyRow>(None)
            .await)?
        .ok_or_else(|| StoreError::D1(format!("no key with id {id}")))?;
        let name = kv_key(row.key_hash());
        let entry = row.into_entry()?;
        let value = serde_json::to_string(&entry).map_err(|e| StoreError::Kv(e.to_string()))?;
        kv.put(&name, value)
            .map_err(|e| StoreError::Kv(e.to_string()))?
            .execute()
            .await
            .map_err(|e| StoreError::Kv(e.to_string()))
    }

    // ---- Audit events -------------------------------------------------------------------

    fn event_args(event: &AuditEvent) -> Result<Vec<JsValue>, StoreError> {
        let body = serde_json::to_string(event).map_err(|e| StoreError::D1(e.to_string()))?;
        Ok(vec![
            text(&event.id),
            text(&event.organization_id),
            time(event.time),
            text(event.action.as_str()),
            text(&event.actor.to_string()),
            opt_text(event.key_id.as_deref()),
            text(&body),
        ])
    }

    /// The inserts of `events`, to run in a change's batch (each followed by its delivery's
    /// outbox row when events are delivered).
    fn event_statements(&self, events: &[AuditEvent]) -> Result<Vec<D1PreparedStatement>, StoreError> {
        let mut statements = Vec::with_capacity(events.len() * 2);
        for event in events {
            statements.push(self.statement(AUDIT_INSERT, &Self::event_args(event)?)?);
            statements.extend(self.outbox_statement(event)?);
        }
        Ok(statements)
    }

    /// The outbox row of `event`, when events are delivered.
    fn outbox_statement(&self, event: &AuditEvent) -> Result<Option<D1PreparedStatement>, StoreError> {
        if !self.outbox {
            return Ok(None);
        }
        Ok(Some(self.statement(OUTBOX_INSERT, &[text(&event.id)])?))
    }

    // ---- Changes ------------------------------------------------------------------------

    /// Adds a member or changes their role: their keys act with it from the next request.
    pub async fn put_member(
        &self,
        organization_id: &str,
        user_id: &str,
        role: &str,
        events: &[AuditEvent],
    ) -> Result<Applied<()>, StoreError> {
        let keys = self.keys_of_creator(organization_id, user_id).await?;
        let mut statements =
            vec![self.statement(MEMBER_PUT, &[text(organization_id), text(user_id), text(role)])?];
        statements.extend(self.event_statements(events)?);
        let (_, pending) = self.apply(&keys, &keys, statements).await?;
        Ok(Applied { value: (), pending })
    }

    /// Removes a member: every key they created answers `key_revoked` from the next request.
    /// `false` if they were not a member, and then `events` are not recorded either (their
    /// inserts run first in the batch, each only while the member exists).
    pub async fn remove_member(
        &self,
        organization_id: &str,
        user_id: &str,
        events: &[AuditEvent],
    ) -> Result<Applied<bool>, StoreError> {
        let keys = self.keys_of_creator(organization_id, user_id).await?;
        let mut statements = Vec::with_capacity(events.len() + 1);
        for event in events {
            let mut args = Self::event_args(event)?;
            args.push(text(user_id));
            statements.push(self.statement(AUDIT_INSERT_IF_MEMBER, &args)?);
            statements.extend(self.outbox_statement(event)?);
        }
        statements.push(self.statement(MEMBER_DELETE, &[text(organization_id), text(user_id)])?);
        let (results, pending) = self.apply(&keys, &keys, statements).await?;
        let removed = results.last().is_some_and(|r| changes(r) > 0);
        Ok(Applied {
            value: removed,
            pending,
        })
    }

    /// Applies resource changes as one batch, then their KV projections. Returns how many
    /// removals found a resource.
    pub async fn change_resources(&self, changes_: &[ResourceChange]) -> Result<Applied<usize>, StoreError> {
        let mut statements = Vec::with_capacity(changes_.len());
        for change in changes_ {
            statements.push(match change {
                ResourceChange::Put { kind, id, owner } => self.statement(
                    RESOURCE_PUT,
                    &[
                        text(kind),
                        text(id),
                        text(&owner.organization_id),
                        text(&owner.project_id),
                    ],
                )?,
                ResourceChange::Remove { kind, id } => {
                    self.statement(RESOURCE_DELETE, &[text(kind), text(id)])?
                }
            });
        }
        let (results, _) = self.apply(&[], &[], statements).await?;
        let removed = changes_
            .iter()
            .zip(&results)
            .filter(|(c, r)| matches!(c, ResourceChange::Remove { .. }) && changes(r) > 0)
            .count();
        let mut pending = Vec::new();
        if let Some(kv) = &self.kv {
            // The projections are independent: written concurrently (a 1,000-change batch would
            // otherwise take one KV round trip per change, in sequence).
            let writes = changes_.iter().map(|change| async move {
                let (kind, id) = match change {
                    ResourceChange::Put { kind, id, .. } | ResourceChange::Remove { kind, id } => (kind, id),
                };
                let name = kv_resource(kind, id);
                let written = match change {
                    ResourceChange::Put { owner, .. } => match serde_json::to_string(owner) {
                        Ok(value) => {
                            retried(|| async {
                                kv.put(&name, value.as_str())
                                    .map_err(|e| StoreError::Kv(e.to_string()))?
                                    .execute()
                                    .await
                                    .map_err(|e| StoreError::Kv(e.to_string()))
                            })
                            .await
                        }
                        Err(e) => Err(StoreError::Kv(e.to_string())),
                    },
                    ResourceChange::Remove { .. } => {
                        retried(|| async {
                            kv.delete(&name).await.map_err(|e| StoreError::Kv(e.to_string()))
                        })
                        .await
                    }
                };
                written.map_err(|err| {
                    worker::console_error!("keyscope: KV projection of {kind}/{id} not written: {err}");
                    Pending {
                        key_id: None,
                        resource: Some(format!("{kind}/{id}")),
                        projection: Projection::Kv,
                    }
                })
            });
            pending.extend(join_all(writes).await.into_iter().filter_map(Result::err));
        }
        Ok(Applied {
            value: removed,
            pending,
        })
    }

    /// Inserts keys as one batch (a key whose id or hash exists fails all of it:
    /// [`StoreError::Conflict`]), then writes their projections.
    pub async fn insert_keys(
        &self,
        rows: &[NewKeyRow],
        events: &[AuditEvent],
    ) -> Result<Applied<()>, StoreError> {
        let mut statements = Vec::with_capacity(rows.len() + events.len());
        for row in rows {
            statements.push(self.statement(
                KEY_INSERT,
                &key_insert_params(row.hash.to_hex().as_str(), &row.record)?,
            )?);
        }
        statements.extend(self.event_statements(events)?);
        let ids: Vec<String> = rows.iter().map(|r| r.record.id.clone()).collect();
        // New keys have no state object to lease: a first check reads D1.
        let (_, pending) = self.apply(&[], &ids, statements).await?;
        Ok(Applied { value: (), pending })
    }

    /// A rotation as one batch: the new key inserted and, when `old_revoked_at` is given, the
    /// old key's revocation set — both or neither.
    pub async fn rotate(
        &self,
        new: &NewKeyRow,
        old_id: &str,
        old_revoked_at: Option<Timestamp>,
        events: &[AuditEvent],
    ) -> Result<Applied<()>, StoreError> {
        let mut statements = vec![self.statement(
            KEY_INSERT,
            &key_insert_params(new.hash.to_hex().as_str(), &new.record)?,
        )?];
        let mut leased = Vec::new();
        if let Some(at) = old_revoked_at {
            statements.push(self.statement(KEY_REVOKE, &[text(old_id), time(at)])?);
            leased.push(old_id.to_owned());
        }
        statements.extend(self.event_statements(events)?);
        let mut refreshed = leased.clone();
        refreshed.push(new.record.id.clone());
        let (_, pending) = self.apply(&leased, &refreshed, statements).await?;
        Ok(Applied { value: (), pending })
    }

    /// Writes a key's controls (its `controls` column, from `record`) with their events; leased
    /// and re-projected like a revocation.
    pub async fn change_controls(
        &self,
        record: &policy_core::KeyRecord,
        events: &[AuditEvent],
    ) -> Result<Applied<()>, StoreError> {
        let mut statements =
            vec![self.statement(KEY_CONTROLS_UPDATE, &[text(&record.id), controls_param(record)?])?];
        statements.extend(self.event_statements(events)?);
        let ids = [record.id.clone()];
        let (_, pending) = self.apply(&ids, &ids, statements).await?;
        Ok(Applied { value: (), pending })
    }

    /// Sets a key's revocation time (the plan decided it).
    pub async fn revoke_key(
        &self,
        id: &str,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> Result<Applied<()>, StoreError> {
        self.leaks(&[(id.to_owned(), at)], &[], events).await
    }

    /// A secret-scanning report's changes as one batch: `revoked` keys get their revocation time
    /// (leased, like every revocation, so the very next request sees it everywhere), `flagged`
    /// keys their `leaked_at` (the first report's time is kept), with their events.
    pub async fn leaks(
        &self,
        revoked: &[(String, Timestamp)],
        flagged: &[(String, Timestamp)],
        events: &[AuditEvent],
    ) -> Result<Applied<()>, StoreError> {
        let mut statements = Vec::with_capacity(revoked.len() + flagged.len() + events.len());
        for (id, at) in revoked {
            statements.push(self.statement(KEY_REVOKE, &[text(id), time(*at)])?);
        }
        for (id, at) in flagged {
            statements.push(self.statement(KEY_FLAG_LEAKED, &[text(id), time(*at)])?);
        }
        statements.extend(self.event_statements(events)?);
        let ids: Vec<String> = revoked.iter().map(|(id, _)| id.clone()).collect();
        let (_, pending) = self.apply(&ids, &ids, statements).await?;
        Ok(Applied { value: (), pending })
    }

    /// Rewrites a key's projections from D1 and refreshes its state object (the repair for a
    /// [`Pending`] entry).
    pub async fn sync_key(&self, id: &str) -> Result<Applied<()>, StoreError> {
        let ids = [id.to_owned()];
        let (_, pending) = self.apply(&ids, &ids, Vec::new()).await?;
        Ok(Applied { value: (), pending })
    }

    /// Records that a key was used at `now`, at most once a minute. D1 only: the hot path does
    /// not read it.
    pub async fn touch_last_used(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        d1(self
            .statement(
                KEY_TOUCH,
                &[text(id), time(now), time(Timestamp(now.0 - LAST_USED_EVERY_MS))],
            )?
            .run()
            .await)?;
        Ok(())
    }
}
