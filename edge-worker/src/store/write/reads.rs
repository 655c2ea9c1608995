//! The reads the admin API and the console make before they plan a change (a member's role, a
//! key, a listing, the organization's projects, audit pages): on the write side's D1 handle,
//! apart from the writes themselves.

use std::collections::HashMap;

use super::*;
use crate::store::usage;

impl Writer {
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
            .statement(MEMBER_ROLE, &[text(organization_id), text(user_id)])?
            .first::<Row>(None)
            .await)?;
        Ok(row.map(|r| r.role))
    }

    /// The current roles of the members among `user_ids`, in one query whatever their number
    /// (a user who is not a member is absent from the answer).
    pub async fn member_roles(
        &self,
        organization_id: &str,
        user_ids: &[&str],
    ) -> Result<HashMap<String, String>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            user_id: String,
            role: String,
        }
        if user_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = serde_json::to_string(user_ids).map_err(|e| StoreError::D1(e.to_string()))?;
        let rows = d1(d1(self
            .statement(MEMBER_ROLES, &[text(organization_id), text(&list)])?
            .all()
            .await)?
        .results::<Row>())?;
        Ok(rows.into_iter().map(|r| (r.user_id, r.role)).collect())
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

    /// The keys whose hashes (lowercase hex) are in `hashes`, in one query whatever their number.
    pub async fn keys_by_hashes(&self, hashes: &[String]) -> Result<Vec<KeyRow>, StoreError> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(hashes).map_err(|e| StoreError::D1(e.to_string()))?;
        let statement = self.statement(&format!("{KEY_ROW_SELECT} {KEYS_BY_HASHES}"), &[text(&list)])?;
        d1(d1(statement.all().await)?.results::<KeyRow>())
    }

    /// One page of an organization's audit events matching `filter`, newest first, after
    /// `cursor` (when given): at most `limit` rows, each with its position in the listing. An
    /// event this version cannot read (an action or actor a newer version records, written
    /// during a rollout or read after a rollback) is `None` at its position, so the page still
    /// reads and the cursor still moves past it.
    pub async fn audit_events(
        &self,
        organization_id: &str,
        filter: &AuditFilter,
        cursor: Option<&AuditCursor>,
        limit: usize,
    ) -> Result<Vec<(AuditCursor, Option<AuditEvent>)>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            id: String,
            time: i64,
            body: String,
        }
        let mut sql = String::from(AUDIT_SELECT);
        let mut args = vec![text(organization_id)];
        let mut bind = |sql: &mut String, clause: &str, value: JsValue| {
            args.push(value);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(key_id) = &filter.key_id {
            bind(&mut sql, " AND key_id = ?", text(key_id));
        }
        if let Some(actor) = &filter.actor {
            bind(&mut sql, " AND actor = ?", text(&actor.to_string()));
        }
        if let Some(action) = filter.action {
            bind(&mut sql, " AND action = ?", text(action));
        }
        if let Some(from) = filter.from {
            bind(&mut sql, " AND time >= ?", time(from));
        }
        if let Some(to) = filter.to {
            bind(&mut sql, " AND time < ?", time(to));
        }
        if let Some(cursor) = cursor {
            bind(&mut sql, " AND (time < ?", time(cursor.time));
            bind(&mut sql, " OR (time = ?", time(cursor.time));
            bind(&mut sql, " AND id < ?))", text(&cursor.id));
        }
        sql.push_str(&format!(" ORDER BY time DESC, id DESC LIMIT {limit}"));
        let rows = d1(d1(self.statement(&sql, &args)?.all().await)?.results::<Row>())?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let position = AuditCursor {
                    time: Timestamp(row.time),
                    id: row.id,
                };
                (position, serde_json::from_str(&row.body).ok())
            })
            .collect())
    }

    /// A key's hourly usage rows from `since` (inclusive) to `until` (exclusive), oldest first.
    pub async fn key_usage(
        &self,
        organization_id: &str,
        key_id: &str,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(i64, usage::Counts)>, StoreError> {
        let rows = d1(d1(self
            .statement(
                USAGE_OF_KEY,
                &[text(organization_id), text(key_id), time(since), time(until)],
            )?
            .all()
            .await)?
        .results::<UsageRow>())?;
        Ok(rows.into_iter().map(|r| (r.hour, r.counts())).collect())
    }

    /// The organization's keys by traffic from `since` to `until`: at most `limit` keys, the
    /// busiest first, each with its totals (`hour` holds nothing here).
    pub async fn organization_usage(
        &self,
        organization_id: &str,
        since: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<UsageRow>, StoreError> {
        d1(d1(self
            .statement(
                USAGE_OF_ORGANIZATION,
                &[
                    text(organization_id),
                    time(since),
                    time(until),
                    JsValue::from_f64(limit as f64),
                ],
            )?
            .all()
            .await)?
        .results::<UsageRow>())
    }

    /// Forgets usage older than [`usage::RETENTION_MS`] before `now`: how many rows went.
    pub async fn prune_usage(&self, now: Timestamp) -> Result<usize, StoreError> {
        let result = d1(self
            .statement(USAGE_PRUNE, &[time(Timestamp(now.0 - usage::RETENTION_MS))])?
            .run()
            .await)?;
        Ok(changes(&result))
    }

    /// The organization's projects: every project its resources name, in order.
    pub async fn projects(&self, organization_id: &str) -> Result<Vec<String>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            project_id: String,
        }
        let rows = d1(d1(self
            .statement(PROJECTS_OF_ORGANIZATION, &[text(organization_id)])?
            .all()
            .await)?
        .results::<Row>())?;
        Ok(rows.into_iter().map(|r| r.project_id).collect())
    }

    pub(super) async fn keys_of_creator(
        &self,
        organization_id: &str,
        user_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            id: String,
        }
        let rows = d1(d1(self
            .statement(KEYS_OF_CREATOR, &[text(organization_id), text(user_id)])?
            .all()
            .await)?
        .results::<Row>())?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }
}

/// A usage row: an hour's counts (`key_usage`), or a key's totals over a range
/// ([`Writer::organization_usage`], where `hour` is absent).
#[derive(Deserialize)]
pub struct UsageRow {
    /// The hour's start (Unix ms); 0 in totals.
    #[serde(default)]
    pub hour: i64,
    /// The key (totals only).
    #[serde(default)]
    pub key_id: String,
    /// Its name (totals only).
    #[serde(default)]
    pub name: String,
    /// Its hint (totals only).
    #[serde(default)]
    pub hint: String,
    /// Allowed requests.
    pub allowed: i64,
    key_revoked: i64,
    scope_violation: i64,
    forbidden: i64,
    not_found: i64,
    rate_limited: i64,
    unavailable: i64,
}

impl UsageRow {
    /// The counts in `usage::Outcome::ALL` order.
    pub fn counts(&self) -> usage::Counts {
        [
            self.allowed,
            self.key_revoked,
            self.scope_violation,
            self.forbidden,
            self.not_found,
            self.rate_limited,
            self.unavailable,
        ]
    }
}
