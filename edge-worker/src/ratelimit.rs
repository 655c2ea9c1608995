//! Per-key rate limiting: one Durable Object per key holds a [`SlidingWindow`] (policy-core's
//! arithmetic: at most N requests in any one-second window), so the limit is exact across every
//! location and isolate — at the cost of one hop to the object per allowed request (measured in
//! BENCHMARKS.md).
//!
//! Configuration: `KEYSCOPE_RATE_LIMIT` (requests per second per key; default 10, SPEC/seed
//! 003; `0` or `off` disables) and the Durable Object binding `RATE_LIMITER` (class
//! `RateLimiter`). A limit without the binding, or a limiter that fails, denies `503
//! unavailable`: the limiter fails closed, as every store does.

use std::cell::RefCell;

use policy_core::SlidingWindow;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

/// The Durable Object binding's name.
pub const BINDING: &str = "RATE_LIMITER";

/// The default limit (seed 003: 10 requests per second per key).
pub const DEFAULT_PER_SECOND: u32 = 10;

/// The deployment's limit, read once per isolate like the engine: `Ok(None)` when disabled,
/// `Err` for a value that is not a number.
pub fn configured_limit(env: &Env) -> std::result::Result<Option<u32>, String> {
    static LIMIT: std::sync::OnceLock<std::result::Result<Option<u32>, String>> = std::sync::OnceLock::new();
    LIMIT.get_or_init(|| read_limit(env)).clone()
}

fn read_limit(env: &Env) -> std::result::Result<Option<u32>, String> {
    match env.var("KEYSCOPE_RATE_LIMIT").map(|v| v.to_string()) {
        Err(_) => Ok(Some(DEFAULT_PER_SECOND)),
        Ok(text) if text == "off" || text == "0" => Ok(None),
        Ok(text) => text
            .parse::<u32>()
            .map(Some)
            .map_err(|_| format!("KEYSCOPE_RATE_LIMIT={text:?} (expected a whole number or \"off\")")),
    }
}

/// Why the limiter could not answer.
#[derive(Debug)]
pub enum LimiterError {
    /// `KEYSCOPE_RATE_LIMIT` is not a number.
    Misconfigured(String),
    /// The `RATE_LIMITER` binding is missing.
    Unbound,
    /// The Durable Object failed or answered something else.
    Failed(String),
}

impl std::fmt::Display for LimiterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimiterError::Misconfigured(problem) => f.write_str(problem),
            LimiterError::Unbound => write!(f, "the {BINDING} Durable Object binding is not configured"),
            LimiterError::Failed(err) => write!(f, "rate limiter: {err}"),
        }
    }
}

/// Admits one request into `key_id`'s window: `Ok(Ok(()))` to proceed, `Ok(Err(seconds))` for
/// `429` with `Retry-After: seconds`.
pub async fn take(
    env: &Env,
    key_id: &str,
) -> std::result::Result<std::result::Result<(), u32>, LimiterError> {
    let limit = match configured_limit(env) {
        Ok(None) => return Ok(Ok(())),
        Ok(Some(limit)) => limit,
        Err(problem) => return Err(LimiterError::Misconfigured(problem)),
    };
    let namespace = env.durable_object(BINDING).map_err(|_| LimiterError::Unbound)?;
    let stub = namespace
        .id_from_name(key_id)
        .and_then(|id| id.get_stub())
        .map_err(|e| LimiterError::Failed(e.to_string()))?;
    let mut response = stub
        .fetch_with_str(&format!("https://rate-limiter/take?limit={limit}"))
        .await
        .map_err(|e| LimiterError::Failed(e.to_string()))?;
    let body = response
        .text()
        .await
        .map_err(|e| LimiterError::Failed(e.to_string()))?;
    match (response.status_code(), body.parse::<u32>()) {
        (200, _) => Ok(Ok(())),
        (429, Ok(seconds)) => Ok(Err(seconds)),
        (status, _) => Err(LimiterError::Failed(format!("answered {status}"))),
    }
}

/// One key's window. In memory: an object that is evicted starts again with an empty window.
#[durable_object]
pub struct RateLimiter {
    window: RefCell<SlidingWindow>,
}

impl DurableObject for RateLimiter {
    fn new(_state: State, _env: Env) -> Self {
        RateLimiter {
            window: RefCell::new(SlidingWindow::new()),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let url = req.inner().url();
        let limit = url.split_once("?limit=").and_then(|(_, v)| v.parse::<u32>().ok());
        let Some(limit) = limit else {
            return Response::error("limit required", 400);
        };
        let now = crate::now();
        match self.window.borrow_mut().admit(limit, now) {
            Ok(()) => Response::ok("ok"),
            Err(seconds) => Ok(Response::ok(seconds.to_string())?.with_status(429)),
        }
    }
}
