//! The event outbox (`event_outbox`, written in each change's batch): what the delivery queue's
//! consumer and the sweeper read and record about each delivery, and the admin API's replay and
//! listing of deliveries.

use super::*;
use crate::store::layout::{
    OUTBOX_EARLIER_PENDING, OUTBOX_ENQUEUED, OUTBOX_PRUNE, OUTBOX_RECENT, OUTBOX_REPLAY, OUTBOX_ROW,
    OUTBOX_STALE, OUTBOX_TRIED, REPLAY_SELECT,
};
use crate::store::rows::opt_time;

/// A delivery as the outbox holds it, with its event's stored body.
#[derive(Clone, Debug, Deserialize)]
pub struct Delivery {
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// How many tries were made.
    pub attempts: u32,
    /// The event's key, if it is about one (deliveries of a key go in order).
    pub key_id: Option<String>,
    /// The event's time, Unix milliseconds.
    pub created_at: i64,
    /// The event as the audit log stores it.
    pub body: String,
}

/// What one try of a delivery came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tried {
    /// `delivered`, `pending` (to be tried again at `next_attempt_at`) or `dead`.
    pub state: &'static str,
    /// When the queue brings it back (pending only).
    pub next_attempt_at: Option<Timestamp>,
    /// The receiver's status, if it answered.
    pub status: Option<u16>,
    /// Why the try failed (never a secret).
    pub error: Option<String>,
}

/// Which events a replay sends again.
#[derive(Clone, Debug)]
pub struct ReplayFilter<'a> {
    /// From this time (inclusive).
    pub since: Timestamp,
    /// Until this time (inclusive).
    pub until: Timestamp,
    /// Only this key's events.
    pub key_id: Option<&'a str>,
    /// Only events of this action.
    pub action: Option<&'a str>,
}

/// A delivery as the admin API lists it.
#[derive(Clone, Debug, Deserialize)]
pub struct DeliveryRow {
    /// The event's id.
    pub event_id: String,
    /// The event's action (its webhook's `type`).
    pub action: String,
    /// The event's key, if any.
    pub key_id: Option<String>,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// How many tries were made.
    pub attempts: u32,
    /// When the next try is due (pending only), Unix ms.
    pub next_attempt_at: Option<i64>,
    /// The receiver's last status.
    pub last_status: Option<u16>,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// When the row last changed, Unix ms.
    pub updated_at: i64,
}

impl Writer {
    /// Makes the deliveries of the organization's events that `filter` selects pending again,
    /// from their first try, at most `limit` of them (oldest first). Returns their event ids and
    /// whether more events matched.
    pub async fn replay(
        &self,
        organization_id: &str,
        filter: &ReplayFilter<'_>,
        limit: u32,
        now: Timestamp,
    ) -> Result<(Vec<String>, bool), StoreError> {
        #[derive(Deserialize)]
        struct Row {
            id: String,
        }
        let mut ids: Vec<String> = d1(d1(self
            .statement(
                REPLAY_SELECT,
                &[
                    text(organization_id),
                    time(filter.since),
                    time(filter.until),
                    opt_text(filter.key_id),
                    opt_text(filter.action),
                    JsValue::from_f64(f64::from(limit) + 1.0),
                ],
            )?
            .all()
            .await)?
        .results::<Row>())?
        .into_iter()
        .map(|r| r.id)
        .collect();
        let more = ids.len() > limit as usize;
        ids.truncate(limit as usize);
        if !ids.is_empty() {
            let statements = ids
                .iter()
                .map(|id| self.statement(OUTBOX_REPLAY, &[text(id), time(now)]))
                .collect::<Result<Vec<_>, _>>()?;
            d1(self.db.batch(statements).await)?;
        }
        Ok((ids, more))
    }

    /// The organization's deliveries, last changed first (optionally of one state).
    pub async fn deliveries(
        &self,
        organization_id: &str,
        state: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        d1(d1(self
            .statement(
                OUTBOX_RECENT,
                &[
                    text(organization_id),
                    opt_text(state),
                    JsValue::from_f64(limit as f64),
                ],
            )?
            .all()
            .await)?
        .results::<DeliveryRow>())
    }

    /// The delivery of event `event_id`, or `None` if it has none.
    pub async fn delivery(&self, event_id: &str) -> Result<Option<Delivery>, StoreError> {
        d1(self
            .statement(OUTBOX_ROW, &[text(event_id)])?
            .first::<Delivery>(None)
            .await)
    }

    /// An earlier delivery of `key_id` than this one that is still pending: `Some(next try)`
    /// (`None` inside when it has not been tried yet), or `None` when there is none.
    pub async fn earlier_pending(
        &self,
        key_id: &str,
        created_at: i64,
        event_id: &str,
    ) -> Result<Option<Option<Timestamp>>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            #[allow(dead_code)]
            event_id: String,
            next_attempt_at: Option<i64>,
        }
        let row = d1(self
            .statement(
                OUTBOX_EARLIER_PENDING,
                &[text(key_id), time(Timestamp(created_at)), text(event_id)],
            )?
            .first::<Row>(None)
            .await)?;
        Ok(row.map(|r| r.next_attempt_at.map(Timestamp)))
    }

    fn tried_statement(
        &self,
        event_id: &str,
        tried: &Tried,
        now: Timestamp,
    ) -> Result<D1PreparedStatement, StoreError> {
        self.statement(
            OUTBOX_TRIED,
            &[
                text(event_id),
                text(tried.state),
                opt_time(tried.next_attempt_at),
                tried
                    .status
                    .map_or(JsValue::NULL, |s| JsValue::from_f64(f64::from(s))),
                opt_text(tried.error.as_deref()),
                time(now),
            ],
        )
    }

    /// Records one try of a pending delivery (a delivery no longer pending is left as it is).
    pub async fn record_try(&self, event_id: &str, tried: &Tried, now: Timestamp) -> Result<(), StoreError> {
        d1(self.tried_statement(event_id, tried, now)?.run().await)?;
        Ok(())
    }

    /// Records the last try of a delivery that ran out of tries and the audit event that says
    /// so, in one batch (the failure event has no delivery of its own).
    pub async fn record_dead(
        &self,
        event_id: &str,
        tried: &Tried,
        failure: &AuditEvent,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let statements = vec![
            self.tried_statement(event_id, tried, now)?,
            self.statement(AUDIT_INSERT, &Self::event_args(failure)?)?,
        ];
        d1(self.db.batch(statements).await)?;
        Ok(())
    }

    /// Pending deliveries untouched since `before` (enqueued and lost, or never enqueued),
    /// oldest first, at most `limit`.
    pub async fn stale_deliveries(&self, before: Timestamp, limit: u32) -> Result<Vec<String>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            event_id: String,
        }
        let rows = d1(d1(self
            .statement(OUTBOX_STALE, &[time(before), JsValue::from_f64(f64::from(limit))])?
            .all()
            .await)?
        .results::<Row>())?;
        Ok(rows.into_iter().map(|r| r.event_id).collect())
    }

    /// Forgets settled deliveries last changed before `before`, at most `limit`; how many went.
    pub async fn prune_deliveries(&self, before: Timestamp, limit: u32) -> Result<usize, StoreError> {
        let result = d1(self
            .statement(OUTBOX_PRUNE, &[time(before), JsValue::from_f64(f64::from(limit))])?
            .run()
            .await)?;
        Ok(changes(&result))
    }

    /// Marks deliveries as (re)enqueued at `now`, so the sweeper leaves them for a while.
    pub async fn mark_enqueued(&self, event_ids: &[String], now: Timestamp) -> Result<(), StoreError> {
        if event_ids.is_empty() {
            return Ok(());
        }
        let statements = event_ids
            .iter()
            .map(|id| self.statement(OUTBOX_ENQUEUED, &[text(id), time(now)]))
            .collect::<Result<Vec<_>, _>>()?;
        d1(self.db.batch(statements).await)?;
        Ok(())
    }
}
