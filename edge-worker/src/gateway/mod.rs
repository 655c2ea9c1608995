//! The gateway's hot path: read the request → drive `policy-core`'s decision, answering its
//! lookups from the stores → write the denial, the `/me` view, or forward to the origin.
//! No decision rule lives here. With `KEYSCOPE_CORS_ORIGINS` set, [`cors`] answers preflights
//! from allowed origins and marks every answer to them.

pub mod cors;
pub mod forward;
mod last_used;
mod lookup;

use std::rc::Rc;

use keyscope_ratelimit::RateLimitHeaders;
use policy_core::{
    client_address, target_of_url, Authorization, Decision, Denial, KeyHeaders, KeyRecord,
    OrganizationLimits, PreparedKey, Request as DecisionRequest, ResourceOwner, Step, Timestamp,
    AUTHORIZATION_HEADER, KEY_HEADER,
};
use worker::{console_error, Context, Env};

use crate::clock::now;
use crate::config::{Config, StoreMode};
use crate::respond::{deny, json_text, with_rate_limit_headers, Answer};
use crate::store::keystate::{Admission, KeyStateClient};
use crate::store::read::Reader;
use crate::store::usage::Outcome;

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
    let mut usage = Usage::default();
    let mut org = OrganizationLimits::default();
    loop {
        let answered = match auth.next() {
            Step::LookupKey(hash) => match lookup::find_key(env, config, &hash).await {
                Ok(Some(found)) => {
                    creator_role = found.role;
                    admission = found.admission;
                    usage.counted = found.counted;
                    org = found.org;
                    auth.provide_prepared(found.key, found.state)
                }
                Ok(None) => auth.provide_key(None),
                Err(err) => store_failed(&mut auth, &err),
            },
            // The key's lookup carried the creator's current role (one read or hop).
            Step::LookupMembership { .. } => auth.provide_membership(creator_role.as_deref()),
            // The reader is opened here, not per request: most requests look no resource up.
            Step::LookupResource { kind, id } => match resource_reader(env, config) {
                Ok(reader) => match reader.resource(kind, id).await {
                    Ok(owner) => auth.provide_resource(owner.as_ref().map(|o| ResourceOwner {
                        organization_id: &o.organization_id,
                        project_id: &o.project_id,
                    })),
                    Err(err) => store_failed(&mut auth, &err),
                },
                Err(err) => store_failed(&mut auth, &err),
            },
            Step::Done(Decision::Deny(denial)) => {
                let outcome = Outcome::of_denial(denial.reason());
                report(
                    env,
                    ctx,
                    (config, &org),
                    auth.record(),
                    admission,
                    usage,
                    outcome,
                    now,
                );
                return deny(&denial);
            }
            Step::Done(Decision::Allow(allow)) => {
                let Some(record) = auth.record() else {
                    return deny(&Denial::unavailable());
                };
                let limited = match admit(env, config, record, &org, &mut admission, &mut usage, now).await {
                    Ok(fields) => fields,
                    Err(answer) => {
                        let outcome = match admission {
                            Admission::Limited { .. } => Outcome::RateLimited,
                            _ => Outcome::Unavailable,
                        };
                        report(
                            env,
                            ctx,
                            (config, &org),
                            Some(record),
                            admission,
                            usage,
                            Some(outcome),
                            now,
                        );
                        return answer;
                    }
                };
                report(
                    env,
                    ctx,
                    (config, &org),
                    Some(record),
                    admission,
                    usage,
                    Some(Outcome::Allowed),
                    now,
                );
                last_used::touch(env, ctx, config, record, now);
                let answer = if allow.serves_me() {
                    match auth.me() {
                        Some(me) => json_text(200, &me.to_json()),
                        None => deny(&Denial::unavailable()),
                    }
                } else {
                    // Headers follow: the RateLimit fields, or CORS's around this function.
                    let headers_follow = limited.is_some() || config.cors.is_some();
                    forward::forward(
                        &req,
                        env,
                        config,
                        &allow,
                        (request.target, request.headers.authorization_carries_key()),
                        headers_follow,
                    )
                    .await
                };
                return with_rate_limit_headers(answer, limited.as_ref());
            }
        };
        if answered.is_err() {
            // A step answered out of order is a bug here, never a reason to allow.
            auth.store_failed();
        }
    }
}

/// Where resources' owners are read in this store mode.
fn resource_reader(env: &Env, config: &Config) -> Result<Reader, crate::store::StoreError> {
    match config.store {
        StoreMode::D1 => Reader::d1(env),
        StoreMode::Strict | StoreMode::Kv => Reader::kv(env),
    }
}

/// The limits of an allowed request: the admission the `strict` lookup already took, or one
/// taken now (`kv` and `d1` modes); over a limit, `429 rate_limited` saying which, with
/// `Retry-After` and the `RateLimit` fields. `Ok` carries the fields an allowed answer gets
/// (`None` when no limit applies).
async fn admit(
    env: &Env,
    config: &Config,
    record: &KeyRecord,
    org: &OrganizationLimits,
    admission: &mut Admission,
    usage: &mut Usage,
    now: Timestamp,
) -> Result<Option<RateLimitHeaders>, Answer> {
    let limits = lookup::limits_of(config, record, org);
    if limits.is_unlimited() && org.cap.is_none() {
        return Ok(None);
    }
    let admission = match *admission {
        Admission::NotAsked => {
            let taken = match KeyStateClient::open(env) {
                Ok(client) => {
                    client
                        .take(&record.id, &record.organization_id, &limits, org.cap, true)
                        .await
                }
                Err(err) => Err(err),
            };
            match taken {
                Ok(taken) => {
                    // The object counted an admitted request as allowed.
                    usage.counted = matches!(taken, Admission::Admitted { .. });
                    *admission = taken;
                    taken
                }
                Err(err) => {
                    console_error!("keyscope: rate limiter failed: {err}");
                    return Err(deny(&Denial::unavailable()));
                }
            }
        }
        taken => taken,
    };
    match admission {
        Admission::Admitted { counts, .. } => Ok(limits.headers(&counts.into(), now)),
        Admission::Limited {
            retry_after,
            limit,
            counts,
        } => {
            let answer = deny(&Denial::rate_limited(retry_after, limit));
            Err(with_rate_limit_headers(
                answer,
                limits.headers(&counts.into(), now).as_ref(),
            ))
        }
        Admission::NotAsked => {
            console_error!("keyscope: rate limiter answered without an admission");
            Err(deny(&Denial::unavailable()))
        }
    }
}

/// What the key's object knows of this request's usage: whether it already counted it as
/// allowed (its check, or an admission it took).
#[derive(Clone, Copy, Debug, Default)]
struct Usage {
    counted: bool,
}

/// Tells the key's object, off the answer's path, what a known key's request came to, when
/// that is not what it counted (only allowed requests count against the limits, and usage
/// counts every outcome): a denial gives back the admission and moves the count to its reason;
/// a request it did not count is counted.
#[allow(clippy::too_many_arguments)]
fn report(
    env: &Env,
    ctx: &Context,
    (config, org): (&Config, &OrganizationLimits),
    record: Option<&KeyRecord>,
    admission: Admission,
    usage: Usage,
    outcome: Option<Outcome>,
    now: Timestamp,
) {
    let (Some(record), Some(outcome)) = (record, outcome) else {
        return;
    };
    if usage.counted && outcome == Outcome::Allowed {
        return;
    }
    let Ok(client) = KeyStateClient::open(env) else {
        return;
    };
    let (at, admitted) = match admission {
        Admission::Admitted { at, .. } if outcome != Outcome::Allowed => (at, true),
        _ => (now, false),
    };
    let period = lookup::limits_of(config, record, org).quota.map(|q| q.period);
    let (id, org) = (record.id.clone(), record.organization_id.clone());
    ctx.wait_until(async move {
        if let Err(err) = client
            .report(&id, &org, at, outcome, usage.counted, admitted, period)
            .await
        {
            console_error!("keyscope: usage report failed: {err}");
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
