//! The reads the admin API and the console make before they plan a change (a member's role, a
//! key, a listing, the organization's projects, audit pages): on the write side's D1 handle,
//! apart from the writes themselves.

use super::*;

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
    /// `cursor` (when given): at most `limit` events.
    pub async fn audit_events(
        &self,
        organization_id: &str,
        filter: &AuditFilter,
        cursor: Option<&AuditCursor>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
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
        rows.iter()
            .map(|row| {
                serde_json::from_str(&row.body).map_err(|e| StoreError::D1(format!("audit event: {e}")))
            })
            .collect()
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
