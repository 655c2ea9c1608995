//! Delivering events: the `EVENTS` queue's consumer and the sweeper.
//!
//! Each message names one event whose delivery is in the outbox. The consumer POSTs the signed
//! webhook; a 2xx answer delivers it. Any other answer (or none) is tried again after the next
//! pause of the retry schedule (`KEYSCOPE_EVENTS_RETRY`), or after the receiver's `Retry-After`
//! when it gives one (capped at the queue's 12-hour limit); after the last pause the delivery is
//! dead: it goes to the `EVENTS_DEAD` queue and the audit log records `event.delivery_failed`.
//! Every try carries the event's id (`Keyscope-Event-Id`) and the same signature scheme, so a
//! receiver can drop a repeat. Deliveries of one key go in the order of their events: one whose
//! earlier sibling is still pending waits for it.
//!
//! The outbox, not the queue, is the record: the sweeper (the scheduled handler) enqueues again
//! every pending delivery the queue has not brought back for a while — one whose message was
//! lost with a restart, or that was never enqueued.

use std::time::Duration;

use futures_util::future::{select, Either};
use keyscope_audit::{AuditAction, AuditActor, AuditEvent};
use keyscope_webhook::{delivered, sign, WebhookPayload, SIGNATURE_HEADER};
use policy_core::Timestamp;
use worker::wasm_bindgen::JsValue;
use worker::{
    console_error, Delay, Env, Fetch, Headers, MessageBatch, MessageExt, Method, QueueRetryOptionsBuilder,
    Request, RequestInit,
};

use super::{event, EventMessage};
use crate::clock::{format_time, now};
use crate::config::{Config, Events, Secret, MAX_RETRY_DELAY_SECS};
use crate::store::layout::{EVENTS_DEAD_LETTER_BINDING, EVENTS_QUEUE_BINDING};
use crate::store::write::{Delivery, Tried, Writer};
use crate::store::StoreError;

/// How long one try waits for the receiver's answer.
pub const DELIVERY_TIMEOUT_MS: u64 = 10_000;
/// The header naming the event a delivery carries (the same on every try of it).
pub const EVENT_ID_HEADER: &str = "Keyscope-Event-Id";
/// How long a pending delivery may go untouched before the sweeper enqueues it again.
pub const STALE_AFTER_MS: i64 = 60_000;
/// How long a settled delivery (delivered or dead) is kept: 30 days.
pub const KEEP_SETTLED_MS: i64 = 30 * 86_400_000;
/// How many settled deliveries one sweep forgets at most.
const PRUNE_LIMIT: u32 = 1_000;
/// How many deliveries one sweep enqueues at most.
const SWEEP_LIMIT: u32 = 100;
/// How long after an earlier delivery of its key is next due a waiting one looks again.
const WAIT_FOR_EARLIER_SECS: u32 = 1;
/// The pause before a message whose outbox could not be read is tried again.
const STORE_RETRY_SECS: u32 = 10;

/// What to do with a message once it was handled.
enum Next {
    /// Done with it (delivered, dead, or nothing to deliver).
    Ack,
    /// Bring it back after this many seconds.
    RetryIn(u32),
}

/// The queue's consumer: handles each message of the batch on its own.
pub async fn consume(batch: MessageBatch<EventMessage>, env: &Env, config: &Config) -> worker::Result<()> {
    let writer = match Writer::open(env, config) {
        Ok(writer) => writer,
        Err(err) => {
            console_error!("keyscope: event deliveries not handled: {err}");
            batch.retry_all_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(STORE_RETRY_SECS)
                    .build(),
            );
            return Ok(());
        }
    };
    for message in batch.messages()? {
        let next = match handle(&writer, env, config, &message.body().event_id).await {
            Ok(next) => next,
            Err(err) => {
                console_error!(
                    "keyscope: delivery of {} not recorded: {err}",
                    message.body().event_id
                );
                Next::RetryIn(STORE_RETRY_SECS)
            }
        };
        match next {
            Next::Ack => message.ack(),
            Next::RetryIn(secs) => {
                message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(secs).build())
            }
        }
    }
    Ok(())
}

/// One message: the delivery's state decides whether it is tried.
async fn handle(writer: &Writer, env: &Env, config: &Config, event_id: &str) -> Result<Next, StoreError> {
    let Some(delivery) = writer.delivery(event_id).await? else {
        return Ok(Next::Ack);
    };
    if delivery.state != "pending" {
        return Ok(Next::Ack);
    }
    if let Some(key_id) = &delivery.key_id {
        if let Some(due) = writer
            .earlier_pending(key_id, delivery.created_at, event_id)
            .await?
        {
            // Wait for the earlier one's next try (plus a second), not in a loop of short waits.
            let wait = due.map_or(0, |due| (due.0 - now().0).max(0) / 1000);
            let wait = u32::try_from(wait).unwrap_or(MAX_RETRY_DELAY_SECS);
            return Ok(Next::RetryIn(
                wait.saturating_add(WAIT_FOR_EARLIER_SECS)
                    .min(MAX_RETRY_DELAY_SECS),
            ));
        }
    }
    let Events::To { url, secret } = &config.events else {
        // Events were switched off after this was saved: it stays pending, for when they are on.
        return Ok(Next::Ack);
    };
    let answer = match serde_json::from_str::<AuditEvent>(&delivery.body) {
        Ok(stored) => try_once(url, secret, &stored).await,
        Err(err) => Err(Failure {
            status: None,
            retry_after: None,
            error: format!("the stored event could not be read ({err})"),
        }),
    };
    let at = now();
    let attempts = delivery.attempts + 1;
    let failure = match answer {
        Ok(status) => {
            let tried = Tried {
                state: "delivered",
                next_attempt_at: None,
                status: Some(status),
                error: None,
            };
            writer.record_try(event_id, &tried, at).await?;
            return Ok(Next::Ack);
        }
        Err(failure) => failure,
    };
    match config.events_retry.get(attempts as usize - 1) {
        Some(&pause) => {
            let delay = failure
                .retry_after
                .map_or(pause, |asked| asked.clamp(1, MAX_RETRY_DELAY_SECS));
            let tried = Tried {
                state: "pending",
                next_attempt_at: Some(Timestamp(at.0 + i64::from(delay) * 1000)),
                status: failure.status,
                error: Some(failure.error),
            };
            writer.record_try(event_id, &tried, at).await?;
            Ok(Next::RetryIn(delay))
        }
        None => {
            dead(writer, env, event_id, &delivery, attempts, failure, at).await?;
            Ok(Next::Ack)
        }
    }
}

/// The last try failed: the delivery is dead, recorded with its audit event, and dead-lettered.
async fn dead(
    writer: &Writer,
    env: &Env,
    event_id: &str,
    delivery: &Delivery,
    attempts: u32,
    failure: Failure,
    at: Timestamp,
) -> Result<(), StoreError> {
    let stored = serde_json::from_str::<AuditEvent>(&delivery.body).ok();
    let organization = stored.as_ref().map_or("", |e| e.organization_id.as_str());
    let mut record = event(
        organization,
        AuditAction::EventDeliveryFailed,
        AuditActor::System,
        Default::default(),
        at,
    )
    .map_err(|e| StoreError::D1(e.to_string()))?;
    if let Some(stored) = &stored {
        record.key_id = stored.key_id.clone();
        record.key_hint = stored.key_hint.clone();
        record.user_id = stored.user_id.clone();
        record
            .details
            .insert("eventType".into(), stored.action.as_str().into());
    }
    record.details.insert("eventId".into(), event_id.into());
    record.details.insert("attempts".into(), attempts.into());
    record.details.insert(
        "lastStatus".into(),
        failure.status.map_or(serde_json::Value::Null, Into::into),
    );
    record
        .details
        .insert("lastError".into(), failure.error.clone().into());
    let tried = Tried {
        state: "dead",
        next_attempt_at: None,
        status: failure.status,
        error: Some(failure.error),
    };
    writer.record_dead(event_id, &tried, &record, at).await?;
    match env.queue(EVENTS_DEAD_LETTER_BINDING) {
        Ok(queue) => {
            let message = EventMessage {
                event_id: event_id.to_owned(),
            };
            if let Err(err) = queue.send(&message).await {
                console_error!("keyscope: dead delivery {event_id} not dead-lettered ({err}); the outbox records it");
            }
        }
        Err(_) => console_error!(
            "keyscope: delivery {event_id} is dead after {attempts} tries; no {EVENTS_DEAD_LETTER_BINDING} queue is bound, the outbox and the audit log record it"
        ),
    }
    Ok(())
}

/// The scheduled handler: records the key notices now due (`key.expiring`,
/// `key.rotation_grace_ending`, each once), enqueues them and every pending delivery the queue
/// has not brought back for [`STALE_AFTER_MS`], and forgets deliveries settled more than
/// [`KEEP_SETTLED_MS`] ago (the audit log keeps their events).
pub async fn sweep(env: &Env, config: &Config) {
    if !matches!(config.events, Events::To { .. }) {
        return;
    }
    let result = async {
        let writer = Writer::open(env, config)?;
        let queue = env
            .queue(EVENTS_QUEUE_BINDING)
            .map_err(|_| StoreError::Unbound(EVENTS_QUEUE_BINDING))?;
        let at = now();
        let mut stale = notices(&writer, at).await?;
        stale.extend(
            writer
                .stale_deliveries(Timestamp(at.0 - STALE_AFTER_MS), SWEEP_LIMIT)
                .await?,
        );
        let mut sent = Vec::with_capacity(stale.len());
        for event_id in stale {
            let message = EventMessage { event_id };
            match queue.send(&message).await {
                Ok(()) => sent.push(message.event_id),
                Err(err) => console_error!("keyscope: event {} not enqueued again ({err})", message.event_id),
            }
        }
        writer.mark_enqueued(&sent, at).await?;
        writer
            .prune_deliveries(Timestamp(at.0 - KEEP_SETTLED_MS), PRUNE_LIMIT)
            .await
            .map(|_| ())
    }
    .await;
    if let Err(err) = result {
        console_error!("keyscope: the event sweep failed: {err}");
    }
}

/// Records every key notice due at `at` (at most [`SWEEP_LIMIT`]); returns the new events' ids.
async fn notices(writer: &Writer, at: Timestamp) -> Result<Vec<String>, StoreError> {
    let mut recorded = Vec::new();
    for due in writer.keys_due_a_notice(at, SWEEP_LIMIT).await? {
        let (action, within) = match due.notice.as_str() {
            "expiring_7d" => (AuditAction::KeyExpiring, "7d"),
            "expiring_1d" => (AuditAction::KeyExpiring, "1d"),
            _ => (AuditAction::KeyRotationGraceEnding, "1h"),
        };
        let mut notice = event(
            &due.organization_id,
            action,
            AuditActor::System,
            Default::default(),
            at,
        )
        .map_err(|e| StoreError::D1(e.to_string()))?;
        notice.key_id = Some(due.id.clone());
        notice.key_hint = Some(due.hint.clone());
        let field = if action == AuditAction::KeyExpiring {
            "expiresAt"
        } else {
            "revokedAt"
        };
        notice
            .details
            .insert(field.into(), format_time(Timestamp(due.due_at)).into());
        notice.details.insert("within".into(), within.into());
        notice
            .details
            .insert("createdBy".into(), due.created_by.clone().into());
        if writer.record_notice(&due, &notice).await? {
            recorded.push(notice.id);
        }
    }
    Ok(recorded)
}

/// Why a try did not deliver.
struct Failure {
    status: Option<u16>,
    /// The receiver's `Retry-After`, in seconds.
    retry_after: Option<u32>,
    error: String,
}

/// One signed POST of `stored` to `url`; `Ok` is the receiver's 2xx status.
async fn try_once(url: &str, secret: &Secret, stored: &AuditEvent) -> Result<u16, Failure> {
    let failed = |error: String| Failure {
        status: None,
        retry_after: None,
        error,
    };
    let body = WebhookPayload::new(stored).to_json();
    let headers = Headers::new();
    let seconds = now().millis().div_euclid(1000);
    let signature = sign(secret.expose().as_bytes(), seconds, body.as_bytes());
    for (name, value) in [
        ("content-type", "application/json"),
        ("user-agent", "keyscope-events/1"),
        (SIGNATURE_HEADER, signature.as_str()),
        (EVENT_ID_HEADER, stored.id.as_str()),
    ] {
        headers.set(name, value).map_err(|e| failed(e.to_string()))?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(&body)));
    let request = Request::new_with_init(url, &init).map_err(|e| failed(e.to_string()))?;
    // A receiver that does not answer in time fails this try (the next one follows the schedule);
    // dropping the request's future cancels it.
    let fetch = Fetch::Request(request);
    let send = fetch.send();
    let timeout = Delay::from(Duration::from_millis(DELIVERY_TIMEOUT_MS));
    futures_util::pin_mut!(send, timeout);
    let response = match select(send, timeout).await {
        Either::Left((answer, _)) => answer.map_err(|e| failed(format!("no answer ({e})")))?,
        Either::Right(((), _)) => return Err(failed(format!("no answer within {DELIVERY_TIMEOUT_MS} ms"))),
    };
    let status = response.status_code();
    if delivered(status) {
        return Ok(status);
    }
    Err(Failure {
        status: Some(status),
        retry_after: response
            .headers()
            .get("retry-after")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<u32>().ok()),
        error: format!("answered {status}"),
    })
}
