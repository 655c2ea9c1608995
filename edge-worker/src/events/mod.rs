//! Audit events at the edge: making one (its id, the request's source) and getting the saved
//! ones to `KEYSCOPE_EVENTS_URL` as signed webhooks that are never lost.
//!
//! The event itself, its signature and its body are `keyscope-audit`'s and `keyscope-webhook`'s.
//! The store writes each event and, when events are delivered, its outbox row in the change's
//! own batch ([`crate::store::write`]): a committed change always has its delivery, a refused
//! one none. After the batch committed, [`publish`] puts the deliveries on the `EVENTS` queue;
//! [`delivery`] is the queue's consumer (the retry schedule, `Retry-After`, the dead-letter
//! queue) and the sweeper that enqueues again what was lost.

pub mod delivery;

use keyscope_audit::{AuditAction, AuditActor, AuditEvent, AuditSource};
use policy_core::Timestamp;
use serde::{Deserialize, Serialize};
use worker::{console_error, Context, Env, Headers, Queue};

use crate::config::{Config, Events};
use crate::store::layout::EVENTS_QUEUE_BINDING;

/// The longest user agent kept in an event, in bytes (cut at a character boundary).
const MAX_USER_AGENT: usize = 256;
/// The longest IP text kept (an IPv6 address is at most 45 characters).
const MAX_IP: usize = 64;

/// Where a request came from: `CF-Connecting-IP` and `User-Agent`, bounded.
pub fn source(headers: &Headers) -> AuditSource {
    let header = |name: &str, max: usize| {
        headers
            .get(name)
            .ok()
            .flatten()
            .map(|value| cut(value.trim(), max).to_owned())
            .filter(|value| !value.is_empty())
    };
    AuditSource {
        ip: header("cf-connecting-ip", MAX_IP),
        user_agent: header("user-agent", MAX_USER_AGENT),
        leak_url: None,
        leak_source: None,
    }
}

/// `text`, at most `max` bytes long, cut at a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// The platform's CSPRNG failed: no event id, so the change is not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRandomness;

impl std::fmt::Display for NoRandomness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the random source failed")
    }
}

impl std::error::Error for NoRandomness {}

/// A new event at `at`, with a fresh id (`evt_` and 24 hex digits) and no key, member or
/// details yet (the caller fills what applies).
pub fn event(
    organization_id: &str,
    action: AuditAction,
    actor: AuditActor,
    source: AuditSource,
    at: Timestamp,
) -> Result<AuditEvent, NoRandomness> {
    let mut bytes = [0u8; 12];
    getrandom::getrandom(&mut bytes).map_err(|_| NoRandomness)?;
    Ok(AuditEvent {
        id: format!("evt_{}", hex::encode(bytes)),
        organization_id: organization_id.to_owned(),
        action,
        actor,
        time: at,
        key_id: None,
        key_hint: None,
        user_id: None,
        source,
        details: serde_json::Map::new(),
    })
}

/// What the delivery queue carries: the id of an event whose delivery is in the outbox.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EventMessage {
    /// The audit event's id.
    pub event_id: String,
}

/// After a change committed (its events and their outbox rows in its batch), puts each event's
/// delivery on the `EVENTS` queue, off the answer's path. Never fails and never delays the
/// caller: a delivery that could not be enqueued stays pending in the outbox, and the sweeper
/// ([`delivery::sweep`]) enqueues it again.
pub fn publish(env: &Env, config: &Config, ctx: &Context, events: &[AuditEvent]) {
    if events.is_empty() {
        return;
    }
    match &config.events {
        Events::Off => return,
        Events::Unsigned => {
            // Never an unsigned delivery: a receiver could not tell it from a forgery.
            console_error!(
                "keyscope: KEYSCOPE_EVENTS_URL is set without KEYSCOPE_EVENTS_SECRET; events not sent"
            );
            return;
        }
        Events::To { .. } => {}
    }
    let Ok(queue) = env.queue(EVENTS_QUEUE_BINDING) else {
        console_error!(
            "keyscope: the {EVENTS_QUEUE_BINDING} queue is not bound; {} event(s) stay pending in the outbox",
            events.len()
        );
        return;
    };
    let ids: Vec<String> = events.iter().map(|event| event.id.clone()).collect();
    ctx.wait_until(async move {
        if let Err(err) = enqueue(&queue, &ids).await {
            console_error!("keyscope: {err}; the sweeper enqueues them again");
        }
    });
}

/// The most messages one `sendBatch` takes.
const SEND_BATCH: usize = 100;

/// Puts the deliveries of `event_ids` on `queue`, in batches.
pub async fn enqueue(queue: &Queue, event_ids: &[String]) -> Result<(), String> {
    for chunk in event_ids.chunks(SEND_BATCH) {
        let messages: Vec<EventMessage> = chunk
            .iter()
            .map(|id| EventMessage { event_id: id.clone() })
            .collect();
        queue
            .send_batch(messages)
            .await
            .map_err(|err| format!("{} event(s) not enqueued ({err})", chunk.len()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_character_boundaries() {
        assert_eq!(cut("abc", 5), "abc");
        assert_eq!(cut("abcdef", 3), "abc");
        assert_eq!(cut("aé", 2), "a");
    }
}
