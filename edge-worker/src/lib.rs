//! keyscope at the edge: a Cloudflare Worker in front of an origin API.
//!
//! A thin adapter over `policy-core`: read the request → drive the decision, answering its
//! lookups from KV → write the denial, the `/me` view, or forward to the origin. No decision
//! rule lives here.
//!
//! Bindings (see `wrangler.toml`): `KEYS` (KV, the hot-path projections), `DB` (D1, the source
//! of truth, written by the store's write path), `ORIGIN_URL` (var) or `ORIGIN` (service
//! binding), optional `KEYSCOPE_ENVIRONMENT` (`live` / `test`), `KEYSCOPE_POLICY` (a policy
//! document; default Align) and `KEYSCOPE_STORE` (`kv`, the default, or `d1`).

use std::sync::OnceLock;

use policy_core::{
    is_identity_header, target_of_url, Allow, Authorization, Cause, Decision, Denial, Engine, Environment,
    KeyHeaders, KeyRecord, Policy, Request as DecisionRequest, ResourceOwner, Step, Timestamp,
};
use worker::{console_error, event, Context, Env, Fetch, Headers, Request, Response};

pub mod admin;
#[allow(missing_docs)] // `#[durable_object]` generates undocumented glue.
pub mod ratelimit;
pub mod store;

/// The platform clock, in the engine's terms (policy-core has no clock).
pub fn now() -> Timestamp {
    Timestamp(worker::Date::now().as_millis() as i64)
}

/// The engine, built once per isolate from the deployment's configuration.
static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();

fn engine(env: &Env) -> Result<&'static Engine, &'static str> {
    let built = ENGINE.get_or_init(|| {
        let environment = match env.var("KEYSCOPE_ENVIRONMENT").map(|v| v.to_string()) {
            Ok(name) => {
                Environment::from_name(&name).ok_or_else(|| format!("KEYSCOPE_ENVIRONMENT={name:?}"))?
            }
            Err(_) => Environment::Live,
        };
        let policy = match env.var("KEYSCOPE_POLICY").map(|v| v.to_string()) {
            Ok(document) => Policy::from_json(&document).map_err(|e| e.to_string())?,
            Err(_) => Policy::align(),
        };
        Ok(Engine::new(policy, environment))
    });
    built.as_ref().map_err(String::as_str)
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let result = if req.path().starts_with(admin::PREFIX) {
        match engine(&env) {
            Ok(engine) => admin::handle(req, &env, engine).await,
            Err(problem) => {
                console_error!("keyscope: configuration refused: {problem}");
                deny(&Denial::unavailable())
            }
        }
    } else {
        handle(req, &env, &ctx).await
    };
    match result {
        Ok(response) => Ok(response),
        Err(err) => {
            // Never a stack trace or a 500 to the client: an internal failure fails closed.
            console_error!("keyscope: internal error: {err}");
            deny(&Denial::unavailable())
        }
    }
}

async fn handle(req: Request, env: &Env, ctx: &Context) -> worker::Result<Response> {
    let engine = match engine(env) {
        Ok(engine) => engine,
        Err(problem) => {
            console_error!("keyscope: configuration refused: {problem}");
            return deny(&Denial::unavailable());
        }
    };
    let inner = req.inner();
    let method = inner.method();
    let url = inner.url();
    let x_api_key = inner.headers().get("x-api-key").ok().flatten();
    let authorization = inner.headers().get("authorization").ok().flatten();
    let key_headers = KeyHeaders::from_strs(x_api_key.as_deref(), authorization.as_deref());
    let request = DecisionRequest {
        method: &method,
        target: target_of_url(&url),
        headers: key_headers,
    };

    let now = now();
    let mut auth: Authorization<'_, KeyRecord> = engine.authorize(&request, now);
    let store = store::Store::open(env);
    let mut creator_role: Option<String> = None;
    loop {
        let answered = match auth.next() {
            Step::LookupKey(hash) => match store.key(&hash).await {
                Ok(Some(entry)) => {
                    creator_role = entry.role;
                    auth.provide_key(Some(entry.record))
                }
                Ok(None) => auth.provide_key(None),
                Err(err) => store_failed(&mut auth, err),
            },
            // The KV entry carries the creator's current role beside the record (one read).
            Step::LookupMembership { .. } => auth.provide_membership(creator_role.as_deref()),
            Step::LookupResource { kind, id } => match store.resource(kind, id).await {
                Ok(owner) => auth.provide_resource(owner.as_ref().map(|o| ResourceOwner {
                    organization_id: &o.organization_id,
                    project_id: &o.project_id,
                })),
                Err(err) => store_failed(&mut auth, err),
            },
            Step::Done(Decision::Deny(denial)) => return deny(&denial),
            Step::Done(Decision::Allow(allow)) => {
                match ratelimit::take(env, allow.key_id).await {
                    Ok(Ok(())) => {}
                    Ok(Err(retry_after)) => return deny(&Denial::rate_limited(retry_after)),
                    Err(err) => {
                        // The limiter fails closed, like every store.
                        console_error!("keyscope: {err}");
                        return deny(&Denial::unavailable());
                    }
                }
                touch_last_used(env, ctx, &auth, now);
                if allow.serves_me() {
                    let Some(me) = auth.me() else {
                        return deny(&Denial::unavailable());
                    };
                    return json(200, &me.to_json());
                }
                return forward(&req, env, &allow, &request).await;
            }
        };
        if answered.is_err() {
            // A step answered out of order is a bug here, never a reason to allow.
            auth.store_failed();
        }
    }
}

/// Records that the key was used, off the hot path (`wait_until`) and at most once a minute per
/// key and isolate (D1's `WHERE` makes other isolates' writes within the minute no-ops). It
/// never delays or fails the request.
fn touch_last_used(env: &Env, ctx: &Context, auth: &Authorization<'_, KeyRecord>, now: Timestamp) {
    let Some(record) = auth.record() else {
        return;
    };
    let due = record
        .last_used_at
        .is_none_or(|t| now.0 - t.0 >= store::LAST_USED_EVERY_MS);
    if !due || !debounce(&record.id, now) {
        return;
    }
    let id = record.id.clone();
    let Ok(writer) = store::Writer::open(env) else {
        console_error!("keyscope: last used not recorded: no store to write");
        return;
    };
    ctx.wait_until(async move {
        if let Err(err) = writer.touch_last_used(&id, now).await {
            console_error!("keyscope: last used not recorded: {err}");
        }
    });
}

thread_local! {
    /// When this isolate last recorded each key's use (bounded: cleared when full).
    static TOUCHED: std::cell::RefCell<std::collections::HashMap<String, i64>> = Default::default();
}

/// Whether this isolate should record a use of `id` at `now` (and notes that it does).
fn debounce(id: &str, now: Timestamp) -> bool {
    TOUCHED.with(|touched| {
        let mut touched = touched.borrow_mut();
        if touched
            .get(id)
            .is_some_and(|t| now.0 - t < store::LAST_USED_EVERY_MS)
        {
            return false;
        }
        if touched.len() >= 10_000 {
            touched.clear();
        }
        touched.insert(id.to_owned(), now.0);
        true
    })
}

/// A failed lookup denies `503 unavailable`: never fail open.
fn store_failed(
    auth: &mut Authorization<'_, KeyRecord>,
    err: store::StoreError,
) -> Result<(), policy_core::StepError> {
    console_error!("keyscope: key store failed: {err}");
    auth.store_failed();
    Ok(())
}

/// Writes a denial: SPEC's JSON body, its status, `WWW-Authenticate` on 401, `Retry-After` on 429.
pub fn deny(denial: &Denial<'_>) -> worker::Result<Response> {
    let mut response = json(denial.status(), &denial.to_json())?;
    let headers = response.headers_mut();
    if let Some(challenge) = denial.www_authenticate() {
        headers.set("www-authenticate", challenge)?;
    }
    if let Some(seconds) = denial.retry_after() {
        headers.set("retry-after", &seconds.to_string())?;
    }
    Ok(response)
}

fn json(status: u16, body: &str) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::ok(body)?.with_status(status).with_headers(headers))
}

async fn forward(
    req: &Request,
    env: &Env,
    allow: &Allow<'_>,
    request: &DecisionRequest<'_>,
) -> worker::Result<Response> {
    let inner = req.inner();
    let headers = web_sys::Headers::new_with_headers(&inner.headers())?;
    headers.delete("x-api-key")?;
    if request.headers.authorization_carries_key() {
        headers.delete("authorization")?;
    }
    let forged: Vec<String> = Headers(headers.clone())
        .keys()
        .filter(|name| is_identity_header(name))
        .collect();
    for name in forged {
        headers.delete(&name)?;
    }
    for (name, value) in allow.identity_headers() {
        headers.set(name, value)?;
    }

    let init = web_sys::RequestInit::new();
    let method = inner.method();
    init.set_method(&method);
    init.set_headers(&headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if let Some(body) = inner.body() {
        init.set_body(&body);
    }
    let target = request.target;
    let response = if let Ok(origin) = env.service("ORIGIN") {
        let out = web_sys::Request::new_with_str_and_init(&format!("https://origin{target}"), &init)?;
        origin.fetch_request(Request::from(out)).await
    } else {
        let base = match env.var("ORIGIN_URL") {
            Ok(base) => base.to_string(),
            Err(_) => {
                console_error!("keyscope: neither ORIGIN nor ORIGIN_URL is configured");
                return deny(&Denial::new(Cause::OriginUnreachable));
            }
        };
        let out = web_sys::Request::new_with_str_and_init(
            &format!("{}{target}", base.trim_end_matches('/')),
            &init,
        )?;
        Fetch::Request(Request::from(out)).send().await
    };
    match response {
        Ok(response) => Ok(response),
        Err(err) => {
            console_error!("keyscope: origin unreachable: {err}");
            deny(&Denial::new(Cause::OriginUnreachable))
        }
    }
}
