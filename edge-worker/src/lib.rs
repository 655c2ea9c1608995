//! keyscope at the edge: a Cloudflare Worker in front of an origin API.
//!
//! A thin adapter over `policy-core`: read the request → drive the decision, answering its
//! lookups from the stores → write the denial, the `/me` view, or forward to the origin. No
//! decision rule lives here.
//!
//! | module | job |
//! |---|---|
//! | [`config`] | the deployment's variables, read once per isolate |
//! | [`gateway`] | the hot path |
//! | [`admin`] | the admin API (`/admin/v1`) |
//! | [`keys`] | the key service both the admin API and the console use |
//! | [`scanning`] | the secret-scanning endpoint (`/secret-scanning/v1/github`) |
//! | [`events`] | audit events: making them, publishing them as signed webhooks |
//! | [`console`] | the key console (`/console/`): the page and its API |
//! | [`store`] | D1, KV and the `KeyState` Durable Objects: layout, reads, writes |
//! | [`respond`] | JSON answers and denials |
//! | [`address`] | the request URL's origin and query parameters, by the runtime's parser |
//! | [`clock`] | the platform clock and the one RFC 3339 form |

pub mod address;
pub mod admin;
pub mod clock;
pub mod config;
pub mod console;
pub mod events;
pub mod gateway;
pub mod keys;
pub mod respond;
pub mod scanning;
#[allow(missing_docs)] // `#[durable_object]` generates undocumented glue.
pub mod store;

use policy_core::{target_of_url, Cause, Denial};
use worker::{console_error, event, Context, Env, MessageBatch, Request, ScheduleContext, ScheduledEvent};

use crate::config::Config;
use crate::respond::deny;

/// The platform's request as it came: the gateway reads it directly (a `worker::Request` would
/// also read the request's `cf` object and copy its path, on every request); the other
/// surfaces convert it.
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    let config = match Config::get(&env) {
        Ok(config) => config,
        Err(problem) => {
            console_error!("keyscope: configuration refused: {problem}");
            return deny(&Denial::new(Cause::Misconfigured));
        }
    };
    let url = req.url();
    let path = path_of(target_of_url(&url));
    let result = if path.starts_with(admin::PREFIX) {
        admin::handle(Request::from(req), &env, &ctx, config).await
    } else if path == scanning::PATH {
        scanning::handle(Request::from(req), &env, &ctx, config).await
    } else if console::serves(path, config) {
        console::handle(Request::from(req), &env, &ctx, config).await
    } else {
        gateway::handle(req, &env, &ctx, config).await
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

/// A request target's path: up to its query or fragment.
fn path_of(target: &str) -> &str {
    target.split(['?', '#']).next().unwrap_or(target)
}

/// The `EVENTS` queue's consumer: delivers event webhooks (`events::delivery`).
#[event(queue)]
async fn queue(batch: MessageBatch<events::EventMessage>, env: Env, _ctx: Context) -> worker::Result<()> {
    match Config::get(&env) {
        Ok(config) => events::delivery::consume(batch, &env, config).await,
        Err(problem) => {
            // Not acknowledged: the queue brings the deliveries back once the configuration works.
            console_error!("keyscope: configuration refused: {problem}; event deliveries wait");
            batch.retry_all();
            Ok(())
        }
    }
}

/// The scheduled handler (a cron trigger): enqueues again the event deliveries the queue lost,
/// and forgets usage older than 90 days.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match Config::get(&env) {
        Ok(config) => {
            events::delivery::sweep(&env, config).await;
            let pruned = match store::write::Writer::open(&env, config) {
                Ok(writer) => writer.prune_usage(clock::now()).await.map(drop),
                Err(err) => Err(err),
            };
            if let Err(err) = pruned {
                console_error!("keyscope: old usage not pruned: {err}");
            }
        }
        Err(problem) => console_error!("keyscope: configuration refused: {problem}; no event sweep"),
    }
}
