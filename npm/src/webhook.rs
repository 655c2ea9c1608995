//! The receiver's check of a keyscope event webhook: keyscope-webhook's rule (the one the worker
//! signs by), for JavaScript.

use keyscope_webhook::{verify, DEFAULT_TOLERANCE_SECS};
use wasm_bindgen::prelude::*;

use crate::error::named_error;

/// Checks a received `Keyscope-Signature` header against the raw body under `secret`, at
/// `now_secs` (Unix seconds), allowing `tolerance_secs` between the header's `t` and the clock
/// (unset: five minutes). Throws a `WebhookError` whose `code` names the rule that failed
/// (`malformed_header`, `no_signature`, `outside_tolerance`, `mismatch`).
#[wasm_bindgen(js_name = verifyWebhookSignature)]
pub fn verify_webhook_signature(
    header: &str,
    secret: &[u8],
    body: &[u8],
    now_secs: f64,
    tolerance_secs: Option<f64>,
) -> Result<(), JsValue> {
    // The JavaScript half checks both are finite and the tolerance not negative; `as` saturates.
    let tolerance = tolerance_secs.map_or(DEFAULT_TOLERANCE_SECS, |t| t as u64);
    verify(header, secret, body, now_secs.floor() as i64, tolerance)
        .map_err(|e| named_error("WebhookError", &e.to_string(), Some(("code", e.code()))))
}
