//! The request's address read with the runtime's own WHATWG URL parser (`URL`, through
//! `web_sys::Url`), for the few answers that need more than its path: the gateway's origin,
//! the scheme, one query parameter.
//!
//! Not `worker::Request::url`: that parses with the `url` crate, whose IDNA and Unicode
//! normalisation tables and parser are ≈ 200 KiB of the worker's wasm (ARCHITECTURE.md "Build
//! and size"). Query strings that map onto a struct go through `serde_urlencoded` instead
//! (`keys::input::query`).

use worker::Request;

/// The request's URL as the runtime parses it (`None` only if the runtime refuses its own URL).
pub fn url(req: &Request) -> Option<web_sys::Url> {
    web_sys::Url::new(&req.inner().url()).ok()
}

/// The request URL's origin, e.g. `https://gateway.example` or `http://localhost:8787`.
pub fn origin(req: &Request) -> Option<String> {
    url(req).map(|url| url.origin())
}
