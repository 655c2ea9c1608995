//! The benchmark's baseline: forwards every request to `ORIGIN_URL` exactly as the edge worker
//! forwards an allowed one (headers copied, method and body passed through), with no decision.
//! The difference between the two is what authorization costs.
//!
//! When a `KEYS` KV binding is present it first reads one KV entry (and ignores it); when a
//! `KEY_STATE` Durable Object binding is present it makes one hop to an object (asking nothing of
//! it). Those runs separate the cost of a store read or an object hop — which a gateway with that
//! guarantee pays — from keyscope's own work.

use worker::{event, Context, Env, Fetch, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    if let Ok(kv) = env.kv("KEYS") {
        let _ = kv.get("key:probe").text().await;
    }
    if let Ok(namespace) = env.durable_object("KEY_STATE") {
        let stub = namespace.id_from_name("probe")?.get_stub()?;
        let _ = stub.fetch_with_str("https://key-state/take?limit=0").await?;
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
