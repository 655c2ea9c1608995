//! The benchmark's baseline: forwards every request to `ORIGIN_URL` exactly as the edge worker
//! forwards an allowed one (headers copied, method and body passed through), with no decision.
//! The difference between the two is what authorization costs.
//!
//! When a `KEYS` KV binding is present it first reads one KV entry (and ignores it), so that a
//! second run separates the cost of the store read — which any KV-backed gateway pays — from
//! keyscope's own work.

use worker::{event, Context, Env, Fetch, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    if let Ok(kv) = env.kv("KEYS") {
        let _ = kv.get("key:probe").text().await;
    }
    let inner = req.inner();
    let url = inner.url();
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let target = url[after_scheme..]
        .find('/')
        .map_or("/", |i| &url[after_scheme + i..]);
    let headers = web_sys::Headers::new_with_headers(&inner.headers())?;
    headers.delete("x-api-key")?;
    let init = web_sys::RequestInit::new();
    init.set_method(&inner.method());
    init.set_headers(&headers);
    if let Some(body) = inner.body() {
        init.set_body(&body);
    }
    let base = env.var("ORIGIN_URL")?.to_string();
    let out =
        web_sys::Request::new_with_str_and_init(&format!("{}{target}", base.trim_end_matches('/')), &init)?;
    Fetch::Request(Request::from(out)).send().await
}
