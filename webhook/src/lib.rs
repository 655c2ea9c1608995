//! # keyscope-webhook — signed event webhooks
//!
//! The body keyscope POSTs to `KEYSCOPE_EVENTS_URL`, its signature header (the Stripe
//! convention, `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`) and the receiver's
//! check. `no_std` + `alloc`, no I/O: the adapter sends, and decides when to try again.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::format;
use alloc::string::String;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use keyscope_audit::AuditEvent;

/// The request header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Keyscope-Signature";

/// The tolerance receivers should use between `t` and their clock: five minutes, as Stripe.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;

type HmacSha256 = Hmac<Sha256>;

fn mac_over(secret: &[u8], timestamp_secs: i64, payload: &[u8]) -> Option<HmacSha256> {
    // INVARIANT: HMAC accepts keys of any length, so this is always Some.
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(format!("{timestamp_secs}.").as_bytes());
    mac.update(payload);
    Some(mac)
}

/// The signature header value for `payload` sent at `timestamp_secs` (Unix seconds).
pub fn sign(secret: &[u8], timestamp_secs: i64, payload: &[u8]) -> String {
    let digest = mac_over(secret, timestamp_secs, payload)
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        // Unreachable (see mac_over); an empty v1 never verifies, so this fails closed.
        .unwrap_or_default();
    format!("t={timestamp_secs},v1={digest}")
}

/// Why a received webhook was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookError {
    /// The header has no single integer `t=`, or an element is not `key=value`.
    MalformedHeader,
    /// The header has no `v1=` signature.
    NoSignature,
    /// `t` is further than the tolerance from the receiver's clock (a replay, or a skewed clock).
    OutsideTolerance,
    /// No `v1` signature matches the body under this secret.
    Mismatch,
}

impl core::fmt::Display for WebhookError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            WebhookError::MalformedHeader => "the signature header is not of the form t=<seconds>,v1=<hex>",
            WebhookError::NoSignature => "the signature header holds no v1 signature",
            WebhookError::OutsideTolerance => "the signature's timestamp is outside the tolerance",
            WebhookError::Mismatch => "no signature matches the body",
        })
    }
}

impl WebhookError {
    /// The error's stable code, as the npm package's `WebhookError` carries it:
    /// `malformed_header`, `no_signature`, `outside_tolerance`, `mismatch`.
    pub fn code(self) -> &'static str {
        match self {
            WebhookError::MalformedHeader => "malformed_header",
            WebhookError::NoSignature => "no_signature",
            WebhookError::OutsideTolerance => "outside_tolerance",
            WebhookError::Mismatch => "mismatch",
        }
    }
}

impl core::error::Error for WebhookError {}

/// Checks a received `Keyscope-Signature` header against the raw body: exactly one `t`, within
/// `tolerance_secs` of `now_secs` (inclusive, both directions), and at least one `v1` that
/// matches (several may be present while a secret is rotated; unknown schemes are ignored).
/// Comparison is constant-time.
pub fn verify(
    header: &str,
    secret: &[u8],
    payload: &[u8],
    now_secs: i64,
    tolerance_secs: u64,
) -> Result<(), WebhookError> {
    let mut timestamp: Option<i64> = None;
    let mut any_signature = false;
    for element in header.split(',') {
        let (name, value) = element
            .trim()
            .split_once('=')
            .ok_or(WebhookError::MalformedHeader)?;
        match name {
            "t" => {
                let parsed = value.parse::<i64>().map_err(|_| WebhookError::MalformedHeader)?;
                if timestamp.replace(parsed).is_some() {
                    return Err(WebhookError::MalformedHeader);
                }
            }
            "v1" => any_signature = true,
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::MalformedHeader)?;
    if !any_signature {
        return Err(WebhookError::NoSignature);
    }
    if now_secs.abs_diff(timestamp) > tolerance_secs {
        return Err(WebhookError::OutsideTolerance);
    }
    let matches = header
        .split(',')
        .filter_map(|element| element.trim().strip_prefix("v1="))
        .any(|candidate| {
            let mut expected = [0u8; 32];
            hex::decode_to_slice(candidate, &mut expected).is_ok()
                && mac_over(secret, timestamp, payload).is_some_and(|mac| mac.verify_slice(&expected).is_ok())
        });
    if matches {
        Ok(())
    } else {
        Err(WebhookError::Mismatch)
    }
}

/// The body of a webhook: the event's type (its action name) and the audit event itself, in the
/// audit log's own serialized form, so the field list is written once.
#[derive(Clone, Debug, Serialize)]
pub struct WebhookPayload<'a> {
    /// The action name, e.g. `key.revoked` (the cause is in `event.cause`).
    #[serde(rename = "type")]
    pub event_type: &'static str,
    /// The event, as the audit log stores it.
    pub event: &'a AuditEvent,
}

impl<'a> WebhookPayload<'a> {
    /// The payload for `event`.
    pub fn new(event: &'a AuditEvent) -> WebhookPayload<'a> {
        WebhookPayload {
            event_type: event.action.as_str(),
            event,
        }
    }

    /// The JSON body to sign and send.
    pub fn to_json(&self) -> String {
        // INVARIANT: the event's fields are strings, integers and a JSON map: always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Whether an HTTP answer to a delivery counts as delivered (any 2xx).
pub const fn delivered(status: u16) -> bool {
    matches!(status, 200..=299)
}
