//! Forwarding an allowed request to the origin: the key removed, the identity headers set by
//! the edge (any a client sent are dropped), the body streamed as it came. The origin's answer
//! is relayed as the platform's own response object, untouched — unless it is one the platform
//! cannot relay (a status outside 200–599, e.g. `100 Continue`), which answers `502`.

use policy_core::{is_identity_header, Allow, Cause, Denial};
use web_sys::{Headers, Request, RequestInit, RequestRedirect, Response};
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_error, Env};

use crate::config::{Config, Origin};
use crate::respond::{deny, Answer};

/// Forwards `req` (allowed as `allow`) to the configured origin at `target`.
pub async fn forward(
    req: &Request,
    env: &Env,
    config: &Config,
    allow: &Allow<'_>,
    target: &str,
    authorization_carries_key: bool,
) -> Answer {
    let out = match outgoing(req, config, allow, target, authorization_carries_key) {
        Ok(out) => out,
        Err(err) => {
            console_error!("keyscope: the request could not be prepared for the origin: {err:?}");
            return deny(&Denial::new(Cause::OriginUnreachable));
        }
    };
    let promise = match &config.origin {
        Some(Origin::Service) => match env.service("ORIGIN") {
            Ok(origin) => origin.into_rpc::<worker::worker_sys::Fetcher>().fetch(&out),
            Err(err) => Err(worker::wasm_bindgen::JsValue::from_str(&err.to_string())),
        },
        Some(Origin::Url(_)) => {
            let global: web_sys::WorkerGlobalScope = worker::js_sys::global().unchecked_into();
            Ok(global.fetch_with_request(&out))
        }
        None => {
            console_error!("keyscope: neither ORIGIN nor ORIGIN_URL is configured");
            return deny(&Denial::new(Cause::OriginUnreachable));
        }
    };
    let answer = match promise {
        Ok(promise) => JsFuture::from(promise).await,
        Err(err) => Err(err),
    };
    match answer.and_then(|value| value.dyn_into::<Response>()) {
        Ok(response) if (200..=599).contains(&response.status()) => Ok(response),
        Ok(response) => {
            console_error!(
                "keyscope: the origin answered {}, which cannot be relayed",
                response.status()
            );
            deny(&Denial::new(Cause::OriginUnreachable))
        }
        Err(err) => {
            console_error!("keyscope: origin unreachable: {err:?}");
            deny(&Denial::new(Cause::OriginUnreachable))
        }
    }
}

/// The request the origin receives.
fn outgoing(
    req: &Request,
    config: &Config,
    allow: &Allow<'_>,
    target: &str,
    authorization_carries_key: bool,
) -> Result<Request, worker::wasm_bindgen::JsValue> {
    let headers = Headers::new_with_headers(&req.headers())?;
    headers.delete("x-api-key")?;
    if authorization_carries_key {
        headers.delete("authorization")?;
    }
    let forged: Vec<String> = worker::Headers(headers.clone())
        .keys()
        .filter(|name| is_identity_header(name))
        .collect();
    for name in forged {
        headers.delete(&name)?;
    }
    for (name, value) in allow.identity_headers() {
        headers.set(name, value)?;
    }
    let init = RequestInit::new();
    let method = req.method();
    init.set_method(&method);
    init.set_headers(&headers);
    init.set_redirect(RequestRedirect::Manual);
    if let Some(body) = req.body() {
        init.set_body(&body);
    }
    let url = match &config.origin {
        Some(Origin::Url(base)) => format!("{base}{target}"),
        _ => format!("https://origin{target}"),
    };
    Request::new_with_str_and_init(&url, &init)
}
