//! Writing answers: SPEC's JSON body for every denial and error, and the headers that go with
//! it. One place, shared by the gateway and the admin API. Responses are built as the
//! platform's own `Response` objects with fallible constructors, so no status or body can make
//! the worker panic.

use policy_core::Denial;
use serde::Serialize;
use web_sys::{Headers, Response, ResponseInit};

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
