//! Notices about keys, each sent once (`key_notices`): which keys are due one, and the notice
//! recorded with its audit event (and the event's delivery) in one batch.

use super::*;
use crate::store::layout::{KEYS_DUE_A_NOTICE, NOTICE_COVERED, NOTICE_INSERT};

/// A key due a notice.
#[derive(Clone, Debug, Deserialize)]
pub struct DueNotice {
    /// The key.
    pub id: String,
    /// Its organization.
    pub organization_id: String,
    /// Its hint.
    pub hint: String,
    /// Its creator.
    pub created_by: String,
    /// `expiring_7d`, `expiring_1d` or `grace_ending`.
    pub notice: String,
    /// When the key stops: its expiry, or the end of its grace period (Unix ms).
    pub due_at: i64,
}

impl Writer {
    /// The keys due a notice at `now`, soonest first, at most `limit`.
    pub async fn keys_due_a_notice(&self, now: Timestamp, limit: u32) -> Result<Vec<DueNotice>, StoreError> {
        d1(d1(self
            .statement(
                KEYS_DUE_A_NOTICE,
                &[time(now), JsValue::from_f64(f64::from(limit))],
            )?
            .all()
            .await)?
        .results::<DueNotice>())
    }

    /// Records `due`'s notice with its audit event `event` (and its delivery), in one batch;
    /// `false` when the notice was already sent (then nothing is written). A 1-day notice also
    /// covers the 7-day one, so a key first seen within a day of its expiry gets one notice.
    pub async fn record_notice(&self, due: &DueNotice, event: &AuditEvent) -> Result<bool, StoreError> {
        let mut statements = vec![self.statement(NOTICE_INSERT, &[text(&due.id), text(&due.notice)])?];
        if due.notice == "expiring_1d" {
            statements.push(self.statement(NOTICE_COVERED, &[text(&due.id), text("expiring_7d")])?);
        }
        statements.extend(self.event_statements(std::slice::from_ref(event))?);
        match self.db.batch(statements).await {
            Ok(_) => Ok(true),
            Err(err) if err.to_string().contains("UNIQUE") => Ok(false),
            Err(err) => Err(StoreError::D1(err.to_string())),
        }
    }
}
