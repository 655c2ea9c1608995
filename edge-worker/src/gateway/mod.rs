//! The gateway's hot path: read the request → drive `policy-core`'s decision, answering its
//! lookups from the stores → write the denial, the `/me` view, or forward to the origin.
//! No decision rule lives here. With `KEYSCOPE_CORS_ORIGINS` set, [`cors`] answers preflights
//! from allowed origins and marks every answer to them.

pub mod cors;
pub mod forward;
mod last_used;
mod lookup;

use std::rc::Rc;

use policy_core::{
    client_address, target_of_url, Authorization, Decision, Denial, KeyHeaders, PreparedKey,
    Request as DecisionRequest, ResourceOwner, Step, AUTHORIZATION_HEADER, KEY_HEADER,
};
use worker::{console_error, Context, Env};

use crate::clock::now;
use crate::config::{Config, StoreMode};
use crate::respond::{deny, json_text, Answer};
use crate::store::keystate::{Admission, KeyStateClient};
use crate::store::read::Reader;

/// Decides one request and answers it (CORS around it when configured).
pub async fn handle(req: web_sys::Request, env: &Env, ctx: &Context, config: &Config) -> Answer {
    let Some(settings) = &config.cors else {
        return decide(req, env, ctx, config).await;
    };
    let origin = cors::allowed_origin(&req, settings);
    if let Some(origin) = &origin {
        if cors::is_preflight(&req) {
            return cors::preflight(settings, origin);
        }
    }
    let answer = match decide(req, env, ctx, config).await {
        Ok(response) => Ok(response),
        Err(err) => {
            // As `fetch` does, but here, so that the page can read this answer too.
            console_error!("keyscope: internal error: {err}");
            deny(&Denial::unavailable())
        }
    };
    cors::decorate(answer, origin.as_deref())
}

/// The one header the client's address is read from: Cloudflare's edge sets it.
pub const CLIENT_ADDRESS_HEADER: &str = "cf-connecting-ip";

/// Decides one request and answers it.
async fn decide(req: web_sys::Request, env: &Env, ctx: &Context, config: &Config) -> Answer {
    let method = req.method();
    let url = req.url();
    let request_headers = req.headers();
    let x_api_key = request_headers.get(KEY_HEADER).ok().flatten();
    let authorization = request_headers.get(AUTHORIZATION_HEADER).ok().flatten();
    let key_headers = KeyHeaders::from_strs(x_api_key.as_deref(), authorization.as_deref());
    // Cloudflare sets CF-Connecting-IP to the address the connection came from, replacing any
    // value a client sent (ARCHITECTURE.md "Client address"); nothing else is read.
    let client = request_headers
        .get(CLIENT_ADDRESS_HEADER)
        .ok()
        .flatten()
        .as_deref()
        .and_then(client_address);
    let request = DecisionRequest {
        method: &method,
        target: target_of_url(&url),
        headers: key_headers,
        client,
    };

    let now = now();
    let mut auth: Authorization<'_, Rc<PreparedKey>> = config.engine.authorize(&request, now);
    let mut creator_role: Option<String> = None;
    let mut admission = Admission::NotAsked;
    let resources = match config.store {
        StoreMode::D1 => Reader::d1(env),
        StoreMode::Strict | StoreMode::Kv => Reader::kv(env),
    };
    loop {
        let answered = match auth.next() {
            Step::LookupKey(hash) => match lookup::find_key(env, config, &hash).await {
                Ok(Some(found)) => {
                    creator_role = found.role;
                    admission = found.admission;
                    auth.provide_prepared(found.key, found.state)
                }
                Ok(None) => auth.provide_key(None),
                Err(err) => store_failed(&mut auth, &err),
            },
            // The key's lookup carried the creator's current role (one read or hop).
            Step::LookupMembership { .. } => auth.provide_membership(creator_role.as_deref()),
            Step::LookupResource { kind, id } => match &resources {
                Ok(reader) => match reader.resource(kind, id).await {
                    Ok(owner) => auth.provide_resource(owner.as_ref().map(|o| ResourceOwner {
                        organization_id: &o.organization_id,
                        project_id: &o.project_id,
                    })),
                    Err(err) => store_failed(&mut auth, &err),
                },
                Err(err) => store_failed(&mut auth, err),
            },
            Step::Done(Decision::Deny(denial)) => {
                refund(env, ctx, &auth, admission);
                return deny(&denial);
            }
            Step::Done(Decision::Allow(allow)) => {
                if let Err(answer) = admit(env, config, allow.key_id, admission).await {
                    return answer;
                }
                if let Some(record) = auth.record() {
                    last_used::touch(env, ctx, config, record, now);
                }
                if allow.serves_me() {
                    return match auth.me() {
                        Some(me) => json_text(200, &me.to_json()),
                        None => deny(&Denial::unavailable()),
                    };
                }
                return forward::forward(
                    &req,
                    env,
                    config,
                    &allow,
                    request.target,
                    request.headers.authorization_carries_key(),
                )
                .await;
            }
        };
        if answered.is_err() {
            // A step answered out of order is a bug here, never a reason to allow.
            auth.store_failed();
        }
    }
}

/// The rate limit for an allowed request: the admission the `strict` lookup already took, or
/// one hop to the key's object now (`kv`, `d1`). `Err` carries the answer (`429`, or `503` when
/// the limiter fails: it fails closed, like every store).
async fn admit(env: &Env, config: &Config, key_id: &str, admission: Admission) -> Result<(), Answer> {
    let admission = match (admission, config.rate_limit) {
        (_, None) => return Ok(()),
        (Admission::NotAsked, Some(limit)) => {
            let taken = match KeyStateClient::open(env) {
                Ok(client) => client.take(key_id, limit).await,
                Err(err) => Err(err),
            };
            match taken {
                Ok(admission) => admission,
                Err(err) => {
                    console_error!("keyscope: rate limiter failed: {err}");
                    return Err(deny(&Denial::unavailable()));
                }
            }
        }
        (admission, Some(_)) => admission,
    };
    match admission {
        Admission::Admitted { .. } => Ok(()),
        Admission::Limited { retry_after, limit } => Err(deny(&Denial::rate_limited(retry_after, limit))),
        Admission::NotAsked => {
            console_error!("keyscope: rate limiter answered without an admission");
            Err(deny(&Denial::unavailable()))
        }
    }
}

/// A request admitted into its key's window and then denied does not count: the admission is
/// given back off the hot path.
fn refund(env: &Env, ctx: &Context, auth: &Authorization<'_, Rc<PreparedKey>>, admission: Admission) {
    let Admission::Admitted { at } = admission else {
        return;
    };
    let (Some(record), Ok(client)) = (auth.record(), KeyStateClient::open(env)) else {
        return;
    };
    let id = record.id.clone();
    ctx.wait_until(async move {
        if let Err(err) = client.refund(&id, at).await {
            console_error!("keyscope: rate-limit refund failed: {err}");
        }
    });
}

/// A failed lookup denies `503 unavailable`: never fail open.
fn store_failed(
    auth: &mut Authorization<'_, Rc<PreparedKey>>,
    err: &crate::store::StoreError,
) -> Result<(), policy_core::StepError> {
    console_error!("keyscope: key store failed: {err}");
    auth.store_failed();
    Ok(())
}
