//! CORS for browser code calling the gateway, when `KEYSCOPE_CORS_ORIGINS` is set
//! (ARCHITECTURE.md "Choices"): a preflight from an allowed origin is answered here (`204`,
//! no key needed: a preflight never carries one), and every answer to an allowed origin —
//! denials included, so the page can read the reason — names that origin. Unset, the gateway
//! does no CORS and a preflight is decided like any other request.

use web_sys::{Headers, Request, Response, ResponseInit};

use crate::config::{Cors, CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, CORS_MAX_AGE};
use crate::respond::{with_headers, Answer};

/// The `Origin` a request names, when CORS is on and the origin is allowed.
pub fn allowed_origin(req: &Request, cors: &Cors) -> Option<String> {
    let origin = req.headers().get("origin").ok().flatten()?;
    cors.allows(&origin).then_some(origin)
}

/// Whether `req` is a preflight (`OPTIONS` with `Access-Control-Request-Method`).
pub fn is_preflight(req: &Request) -> bool {
    req.method() == "OPTIONS"
        && req
            .headers()
            .get("access-control-request-method")
            .ok()
            .flatten()
            .is_some()
}

/// The answer to a preflight from `origin` (an allowed one).
pub fn preflight(cors: &Cors, origin: &str) -> Answer {
    let headers = Headers::new()?;
    headers.set("access-control-allow-origin", origin)?;
    headers.set("access-control-allow-methods", cors.methods())?;
    headers.set("access-control-allow-headers", CORS_ALLOW_HEADERS)?;
    headers.set("access-control-max-age", CORS_MAX_AGE)?;
    headers.set("vary", "Origin")?;
    let init = ResponseInit::new();
    init.set_status(204);
    init.set_headers(&headers);
    Ok(Response::new_with_opt_str_and_init(None, &init)?)
}

/// `answer` with `Vary: Origin` (CORS is on, so every answer depends on the origin) and, for
/// an allowed origin, the headers that let the page read it ([`with_headers`]: an origin's
/// response is rebuilt around the same body stream).
pub fn decorate(answer: Answer, origin: Option<&str>) -> Answer {
    with_headers(answer?, |headers| {
        headers.append("vary", "Origin")?;
        if let Some(origin) = origin {
            headers.set("access-control-allow-origin", origin)?;
            headers.set("access-control-expose-headers", CORS_EXPOSE_HEADERS)?;
        }
        Ok(())
    })
}
