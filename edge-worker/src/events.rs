//! Audit events at the edge: making one (its id, the request's source) and publishing the
//! saved ones to `KEYSCOPE_EVENTS_URL` as signed webhooks (read once: [`Config::events`]).
//!
//! The event itself, its signature and its body are `keyscope-audit`'s and `keyscope-webhook`'s; the
//! store writes it in the change's own batch ([`crate::store::write`]). Publishing happens only
//! after that batch committed, off the answer's path (`ctx.wait_until`): a few quick tries
//! ([`PAUSES_MS`]), then the event is left to the audit log, which a receiver can page through
//! (`GET …/audit-events`) to catch up — see ARCHITECTURE.md "Audit log and event webhooks".

use std::time::Duration;

use keyscope_audit::{AuditAction, AuditActor, AuditEvent, AuditSource};
use keyscope_webhook::{delivered, sign, WebhookPayload, SIGNATURE_HEADER};
use policy_core::Timestamp;
use worker::wasm_bindgen::JsValue;
use worker::{console_error, Context, Fetch, Headers, Method, Request, RequestInit};

use crate::clock::now;
use crate::config::{Config, Events, Secret};

/// The longest user agent kept in an event, in bytes (cut at a character boundary).
const MAX_USER_AGENT: usize = 256;
/// The longest IP text kept (an IPv6 address is at most 45 characters).
const MAX_IP: usize = 64;

/// The pauses before the second and later delivery tries. A Worker may keep running for 30 s
/// after its answer (`waitUntil`); these stay well inside that.
pub const PAUSES_MS: [u64; 2] = [1_000, 4_000];

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

/// Where and how events are published.
struct Endpoint {
    url: String,
    secret: Secret,
}

/// Publishes saved events to `KEYSCOPE_EVENTS_URL`, if configured, after the answer: in order,
/// each signed, each tried up to three times. Never fails and never delays the caller.
pub fn publish(config: &Config, ctx: &Context, events: &[AuditEvent]) {
    if events.is_empty() {
        return;
    }
    let endpoint = match &config.events {
        Events::Off => return,
        Events::Unsigned => {
            // Never an unsigned delivery: a receiver could not tell it from a forgery.
            console_error!(
                "keyscope: KEYSCOPE_EVENTS_URL is set without KEYSCOPE_EVENTS_SECRET; events not sent"
            );
            return;
        }
        Events::To { url, secret } => Endpoint {
            url: url.clone(),
            secret: secret.clone(),
        },
    };
    let bodies: Vec<(String, String)> = events
        .iter()
        .map(|event| (event.id.clone(), WebhookPayload::new(event).to_json()))
        .collect();
    ctx.wait_until(async move {
        for (id, body) in bodies {
            if let Err(err) = deliver(&endpoint, &body).await {
                console_error!(
                    "keyscope: event {id} not delivered to KEYSCOPE_EVENTS_URL after {} tries ({err}); it stays in the audit log",
                    PAUSES_MS.len() + 1
                );
            }
        }
    });
}

/// One event, tried until a 2xx answer or the tries run out.
async fn deliver(endpoint: &Endpoint, body: &str) -> Result<(), String> {
    let mut last = send(endpoint, body).await;
    for pause in PAUSES_MS {
        if last.is_ok() {
            break;
        }
        worker::Delay::from(Duration::from_millis(pause)).await;
        last = send(endpoint, body).await;
    }
    last
}

async fn send(endpoint: &Endpoint, body: &str) -> Result<(), String> {
    let headers = Headers::new();
    let seconds = now().millis().div_euclid(1000);
    let signature = sign(endpoint.secret.expose().as_bytes(), seconds, body.as_bytes());
    let set = |name: &str, value: &str| headers.set(name, value).map_err(|e| e.to_string());
    set("content-type", "application/json")?;
    set("user-agent", "keyscope-events/1")?;
    set(SIGNATURE_HEADER, &signature)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(body)));
    let request = Request::new_with_init(&endpoint.url, &init).map_err(|e| e.to_string())?;
    let response = Fetch::Request(request).send().await.map_err(|e| e.to_string())?;
    let status = response.status_code();
    if delivered(status) {
        Ok(())
    } else {
        Err(format!("answered {status}"))
    }
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
