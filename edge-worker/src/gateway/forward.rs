//! Forwarding an allowed request to the origin: the key removed, the identity headers set by
//! the edge (any a client sent are dropped), hop-by-hop headers dropped (`Expect` among them:
//! the edge has already read the request, so an origin's `100 Continue` would only be an
//! answer the platform cannot relay), the body streamed as it came. The origin's answer is
//! relayed as the platform's own response object, untouched — unless it is one the platform
//! cannot relay (a status outside 200–599), which answers `502`.
//!
//! Every way forwarding can fail is a [`ForwardError`], and [`ForwardError::cause`] is the one
//! place that turns it into a truthful JSON answer.

use policy_core::{is_identity_header, Allow, Cause, Denial, AUTHORIZATION_HEADER, KEY_HEADER};
use web_sys::{Headers, Request, RequestInit, RequestRedirect, Response};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_error, Env};

use crate::config::{Config, Origin};
use crate::respond::{changeable, deny, Answer};

/// Request headers that describe one connection, not the request, and never go to the origin
/// (RFC 9110 §7.6.1, plus `expect`: RFC 9110 §10.1.1 lets an intermediary answer it itself).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "expect",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
];

/// Why an allowed request got no answer from the origin.
#[derive(Debug)]
#[non_exhaustive]
pub enum ForwardError {
    /// A `GET` or `HEAD` with a body: the platform cannot send it on (the client's mistake).
    BodyNotAllowed,
    /// Neither `ORIGIN` nor `ORIGIN_URL` is configured, or the binding cannot be opened.
    NoOrigin(String),
    /// The outgoing request could not be built.
    Prepare(JsValue),
    /// The origin could not be reached or did not answer with a response.
    Unreachable(JsValue),
    /// The origin answered with a status the platform cannot relay (e.g. `100`).
    Unrelayable(u16),
}

impl ForwardError {
    /// What the client is told.
    pub const fn cause(&self) -> Cause<'static> {
        match self {
            ForwardError::BodyNotAllowed => Cause::BodyNotAllowed,
            ForwardError::NoOrigin(_) => Cause::Misconfigured,
            ForwardError::Prepare(_) | ForwardError::Unreachable(_) | ForwardError::Unrelayable(_) => {
                Cause::OriginUnreachable
            }
        }
    }

    /// Logs the failure (never the key: it was removed before anything here) and answers it.
    fn respond(&self) -> Answer {
        match self {
            ForwardError::BodyNotAllowed => {}
            ForwardError::NoOrigin(why) => console_error!("keyscope: no origin: {why}"),
            ForwardError::Prepare(err) => {
                console_error!("keyscope: the request could not be prepared for the origin: {err:?}");
            }
            ForwardError::Unreachable(err) => console_error!("keyscope: origin unreachable: {err:?}"),
            ForwardError::Unrelayable(status) => {
                console_error!("keyscope: the origin answered {status}, which cannot be relayed");
            }
        }
        deny(&Denial::new(self.cause()))
    }
}

/// Forwards `req` (allowed as `allow`) to the configured origin at `target`. With
/// `headers_follow` (the gateway adds headers to this answer), the origin's response comes back
/// with headers that can change ([`changeable`]); otherwise it is relayed as it came.
pub async fn forward(
    req: &Request,
    env: &Env,
    config: &Config,
    allow: &Allow<'_>,
    (target, authorization_carries_key): (&str, bool),
    headers_follow: bool,
) -> Answer {
    match send(req, env, config, allow, target, authorization_carries_key).await {
        Ok(response) if headers_follow => changeable(&response),
        Ok(response) => Ok(response),
        Err(err) => err.respond(),
    }
}

async fn send(
    req: &Request,
    env: &Env,
    config: &Config,
    allow: &Allow<'_>,
    target: &str,
    authorization_carries_key: bool,
) -> Result<Response, ForwardError> {
    let out = outgoing(req, config, allow, target, authorization_carries_key)?;
    let promise = match &config.origin {
        Some(Origin::Service) => {
            let origin = env
                .service("ORIGIN")
                .map_err(|err| ForwardError::NoOrigin(err.to_string()))?;
            origin
                .into_rpc::<worker::worker_sys::Fetcher>()
                .fetch(&out)
                .map_err(ForwardError::Unreachable)?
        }
        Some(Origin::Url(_)) => {
            let global: web_sys::WorkerGlobalScope = worker::js_sys::global().unchecked_into();
            global.fetch_with_request(&out)
        }
        None => {
            return Err(ForwardError::NoOrigin(
                "neither ORIGIN nor ORIGIN_URL is configured".into(),
            ))
        }
    };
    let response: Response = JsFuture::from(promise)
        .await
        .and_then(|value| value.dyn_into::<Response>())
        .map_err(ForwardError::Unreachable)?;
    if (200..=599).contains(&response.status()) {
        Ok(response)
    } else {
        Err(ForwardError::Unrelayable(response.status()))
    }
}

/// Whether a request with this method and these headers carries a body the platform would
/// refuse to send on. A declared empty body (`Content-Length: 0`) is no body.
fn body_not_allowed(method: &str, has_body: bool, content_length: Option<&str>) -> bool {
    bodiless(method) && has_body && content_length.map(str::trim) != Some("0")
}

/// Whether the platform refuses to send a body with `method`.
fn bodiless(method: &str) -> bool {
    method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")
}

/// The request the origin receives.
fn outgoing(
    req: &Request,
    config: &Config,
    allow: &Allow<'_>,
    target: &str,
    authorization_carries_key: bool,
) -> Result<Request, ForwardError> {
    let method = req.method();
    let body = req.body();
    let incoming = req.headers();
    let content_length = incoming.get("content-length").ok().flatten();
    if body_not_allowed(&method, body.is_some(), content_length.as_deref()) {
        return Err(ForwardError::BodyNotAllowed);
    }
    let headers = Headers::new_with_headers(&incoming).map_err(ForwardError::Prepare)?;
    let mut dropped: Vec<String> = worker::Headers(headers.clone())
        .keys()
        .filter(|name| is_identity_header(name) || HOP_BY_HOP.contains(&name.as_str()))
        .collect();
    dropped.push(KEY_HEADER.into());
    if authorization_carries_key {
        dropped.push(AUTHORIZATION_HEADER.into());
    }
    for name in dropped {
        headers.delete(&name).map_err(ForwardError::Prepare)?;
    }
    for (name, value) in allow.identity_headers() {
        headers.set(name, &value).map_err(ForwardError::Prepare)?;
    }
    let init = RequestInit::new();
    init.set_method(&method);
    init.set_headers(&headers);
    init.set_redirect(RequestRedirect::Manual);
    // A bodiless method's declared-empty body is not sent at all.
    if let Some(body) = body.filter(|_| !bodiless(&method)) {
        init.set_body(&body);
    }
    let url = match &config.origin {
        Some(Origin::Url(base)) => format!("{base}{target}"),
        _ => format!("https://origin{target}"),
    };
    Request::new_with_str_and_init(&url, &init).map_err(ForwardError::Prepare)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_get_or_head_with_a_real_body_is_refused() {
        assert!(body_not_allowed("GET", true, Some("5")));
        assert!(body_not_allowed("head", true, None));
        assert!(!body_not_allowed("GET", true, Some("0")));
        assert!(!body_not_allowed("GET", false, None));
        assert!(!body_not_allowed("POST", true, Some("5")));
    }

    #[test]
    fn every_failure_has_a_truthful_reason() {
        use policy_core::Reason;
        let reason = |e: ForwardError| e.cause().reason();
        assert_eq!(reason(ForwardError::BodyNotAllowed), Reason::InvalidRequest);
        assert_eq!(reason(ForwardError::NoOrigin(String::new())), Reason::Unavailable);
        assert_eq!(reason(ForwardError::Unrelayable(100)), Reason::BadGateway);
    }
}
