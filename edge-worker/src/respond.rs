//! Writing answers: SPEC's JSON body for every denial and error, and the headers that go with
//! it. One place, shared by the gateway and the admin API. Responses are built as the
//! platform's own `Response` objects with fallible constructors, so no status or body can make
//! the worker panic.

use keyscope_ratelimit::{RateLimitHeaders, RATELIMIT_HEADER, RATELIMIT_POLICY_HEADER};
use policy_core::Denial;
use serde::Serialize;
use web_sys::{Headers, Response, ResponseInit};
use worker::wasm_bindgen;

/// What every handler answers with.
pub type Answer = worker::Result<Response>;

fn response(status: u16, headers: &Headers, body: Option<&str>) -> Answer {
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(headers);
    Ok(Response::new_with_opt_str_and_init(body, &init)?)
}

/// A JSON response (`no-store`), the body ending with a newline.
pub fn json_text(status: u16, body: &str) -> Answer {
    let headers = Headers::new()?;
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    let mut text = String::with_capacity(body.len() + 1);
    text.push_str(body);
    text.push('\n');
    response(status, &headers, Some(&text))
}

/// A value serialized as a JSON response.
pub fn json<T: Serialize>(status: u16, value: &T) -> Answer {
    let text = serde_json::to_string(value).map_err(|e| worker::Error::RustError(e.to_string()))?;
    json_text(status, &text)
}

/// An empty response (e.g. `204`).
pub fn empty(status: u16) -> Answer {
    response(status, &Headers::new()?, None)
}

/// A denial: SPEC's JSON body, its status, `WWW-Authenticate` on 401, `Retry-After` on 429.
pub fn deny(denial: &Denial<'_>) -> Answer {
    let response = json_text(denial.status(), &denial.to_json())?;
    let headers = response.headers();
    if let Some(challenge) = denial.www_authenticate() {
        headers.set("www-authenticate", challenge)?;
    }
    if let Some(seconds) = denial.retry_after() {
        headers.set("retry-after", &seconds.to_string())?;
    }
    Ok(response)
}

/// `response` with `set` applied to its headers: in place when they can change, else (an
/// origin's response, whose headers are immutable) answered anew with a copy of them
/// ([`changeable`]). The one way every layer adds headers to an answer. A caller that knows the
/// response is an origin's makes it [`changeable`] first: trying in place costs an exception.
pub fn with_headers(
    response: Response,
    set: impl Fn(&Headers) -> Result<(), wasm_bindgen::JsValue>,
) -> Answer {
    if set(&response.headers()).is_ok() {
        return Ok(response);
    }
    let response = changeable(&response)?;
    set(&response.headers())?;
    Ok(response)
}

/// `response` answered anew with a copy of its headers, which can change: the same status,
/// status text and body stream. The response itself is the new one's init (`new Response(body,
/// response)`), so the platform copies all three in one call.
pub fn changeable(response: &Response) -> Answer {
    use wasm_bindgen::JsCast;
    Ok(Response::new_with_opt_readable_stream_and_init(
        response.body().as_ref(),
        response.unchecked_ref::<ResponseInit>(),
    )?)
}

/// `answer` with the `RateLimit-Policy` and `RateLimit` fields of its key's limits (none:
/// unchanged).
pub fn with_rate_limit_headers(answer: Answer, fields: Option<&RateLimitHeaders>) -> Answer {
    let Some(fields) = fields else {
        return answer;
    };
    with_headers(answer?, |headers| {
        headers.set(RATELIMIT_POLICY_HEADER, &fields.policy)?;
        headers.set(RATELIMIT_HEADER, &fields.state)
    })
}
