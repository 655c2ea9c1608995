//! The admin API (`/admin/v1/…`): members, resources and keys, for the product that embeds
//! keyscope. Described by `edge-worker/openapi.json` (OpenAPI 3.1).
//!
//! Authenticated by `Authorization: Bearer <KEYSCOPE_ADMIN_TOKEN>` (a secret; compared in
//! constant time). Calls that act for a user name them (`actingUserId`); `policy-core`'s
//! lifecycle plans apply SPEC's rules to that user. Every error is `{"reason", "message"}`.
//!
//! | module | job |
//! |---|---|
//! | [`error`] | the error body (reason codes: [`crate::keys::error`]) |
//! | [`views`] | what a member looks like in an answer (a key: [`crate::keys::view`]) |
//! | [`members`], [`resources`], [`keys`] | the handlers, by resource |
//! | [`audit`] | the audit log's listing |
//! | [`events`] | event webhooks: replay, the deliveries |
//! | [`explain`] | a request explained for a key, and a key's access table |
//! | [`usage`] | a key's usage by hour or day, the organization's keys by traffic |
//! | [`limits`] | the organization's default limits and its cap |
//! | [`console_sessions`] | one-time links to the key console |
//!
//! Create, rotate and revoke are the key service's ([`crate::keys`]), shared with the console.
//! Every key and membership change records its audit events in its own D1 batch and, once
//! saved, publishes them ([`crate::events`]).

pub mod audit;
pub mod console_sessions;
pub mod error;
pub mod events;
pub mod explain;
pub mod keys;
pub mod limits;
pub mod members;
pub mod resources;
pub mod usage;
pub mod views;

use policy_core::{bearer_token, AUTHORIZATION_HEADER};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use worker::{Context, Env, Method, Request};

use self::error::{AdminError, Reason};
use crate::config::Config;
use crate::keys::input::id;
use crate::keys::Ctx;
use crate::respond::Answer;

/// Where the admin API lives.
pub const PREFIX: &str = "/admin/v1/";

/// Serves one admin request (the path starts with [`PREFIX`]).
pub async fn handle(mut req: Request, env: &Env, platform: &Context, config: &Config) -> Answer {
    let ctx = Ctx {
        env,
        config,
        platform,
        source: crate::events::source(req.headers()),
        via: "admin_api",
    };
    let result = match authenticate(&req, config) {
        Ok(()) => route(&mut req, &ctx).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(answer) => answer,
        Err(err) => err.respond(),
    }
}

fn authenticate(req: &Request, config: &Config) -> Result<(), AdminError> {
    let Some(expected) = &config.admin_token else {
        return Err(AdminError::new(
            Reason::Unavailable,
            "the admin API is not configured: set the KEYSCOPE_ADMIN_TOKEN secret",
        ));
    };
    if expected.is_empty() {
        return Err(AdminError::new(
            Reason::Unavailable,
            "KEYSCOPE_ADMIN_TOKEN is empty",
        ));
    }
    let presented = req
        .headers()
        .get(AUTHORIZATION_HEADER)
        .ok()
        .flatten()
        .unwrap_or_default();
    // The one Bearer rule, a key's and the service token's alike.
    let token = bearer_token(&presented).unwrap_or("");
    // Digests first, so that neither the length nor the content leaks through timing.
    let same: bool = Sha256::digest(token.as_bytes())
        .ct_eq(&Sha256::digest(expected.expose().as_bytes()))
        .into();
    if token.is_empty() || !same {
        return Err(AdminError::new(
            Reason::Unauthorized,
            "send the service token as Authorization: Bearer <token>",
        ));
    }
    Ok(())
}

/// The method, when it is one the admin API knows at all (anything else is `405`).
fn known_method(req: &Request) -> Option<Method> {
    match req.inner().method().as_str() {
        "GET" => Some(Method::Get),
        "POST" => Some(Method::Post),
        "PUT" => Some(Method::Put),
        "DELETE" => Some(Method::Delete),
        _ => None,
    }
}

async fn route(req: &mut Request, ctx: &Ctx<'_>) -> Result<Answer, AdminError> {
    let path = req.path();
    let rest = path.strip_prefix(PREFIX).unwrap_or("");
    let segments: Vec<&str> = rest.split('/').collect();
    let method = known_method(req);
    let not_allowed = |allow: &'static str| Err(AdminError::method_not_allowed(allow));
    match segments.as_slice() {
        ["organizations", org, "members", user] => {
            let (org, user) = (id("organization id", org)?, id("user id", user)?);
            match method {
                Some(Method::Put) => members::put(req, ctx, org, user).await,
                Some(Method::Delete) => members::remove(ctx, org, user).await,
                _ => not_allowed("PUT, DELETE"),
            }
        }
        ["organizations", org, "limits"] => {
            let org = id("organization id", org)?;
            match method {
                Some(Method::Get) => limits::show(ctx, org).await,
                Some(Method::Put) => limits::put(req, ctx, org).await,
                _ => not_allowed("GET, PUT"),
            }
        }
        ["organizations", org, "usage"] => {
            let org = id("organization id", org)?;
            match method {
                Some(Method::Get) => usage::organization(req, ctx, org).await,
                _ => not_allowed("GET"),
            }
        }
        ["organizations", org, "audit-events"] => {
            let org = id("organization id", org)?;
            match method {
                Some(Method::Get) => audit::list(req, ctx, org).await,
                _ => not_allowed("GET"),
            }
        }
        ["organizations", org, "events", "replay"] => {
            let org = id("organization id", org)?;
            match method {
                Some(Method::Post) => events::replay(req, ctx, org).await,
                _ => not_allowed("POST"),
            }
        }
        ["organizations", org, "events", "deliveries"] => {
            let org = id("organization id", org)?;
            match method {
                Some(Method::Get) => events::deliveries(req, ctx, org).await,
                _ => not_allowed("GET"),
            }
        }
        ["organizations", org, "keys"] => {
            let org = id("organization id", org)?;
            match method {
                Some(Method::Get) => keys::list(req, ctx, org).await,
                Some(Method::Post) => keys::create(req, ctx, org).await,
                _ => not_allowed("GET, POST"),
            }
        }
        ["organizations", org, "console-sessions"] => match method {
            Some(Method::Post) => console_sessions::create(req, ctx, id("organization id", org)?).await,
            _ => not_allowed("POST"),
        },
        ["organizations", org, "keys", "import"] => {
            let org = id("organization id", org)?;
            match method {
                Some(Method::Post) => keys::import(req, ctx, org).await,
                _ => not_allowed("POST"),
            }
        }
        ["organizations", org, "keys", key] => {
            let (org, key) = (id("organization id", org)?, id("key id", key)?);
            match method {
                Some(Method::Get) => keys::show(ctx, org, key).await,
                _ => not_allowed("GET"),
            }
        }
        ["organizations", org, "keys", key, action] => {
            let (org, key) = (id("organization id", org)?, id("key id", key)?);
            match (*action, method) {
                ("revoke", Some(Method::Post)) => keys::revoke(req, ctx, org, key).await,
                ("rotate", Some(Method::Post)) => keys::rotate(req, ctx, org, key).await,
                ("sync", Some(Method::Post)) => keys::sync(ctx, org, key).await,
                ("controls", Some(Method::Post)) => keys::controls(req, ctx, org, key).await,
                ("explain", Some(Method::Post)) => explain::explain(req, ctx, org, key).await,
                ("access", Some(Method::Get)) => explain::access(ctx, org, key).await,
                ("usage", Some(Method::Get)) => usage::key(req, ctx, org, key).await,
                ("revoke" | "rotate" | "sync" | "explain" | "controls", _) => not_allowed("POST"),
                ("access" | "usage", _) => not_allowed("GET"),
                _ => Err(AdminError::not_found("admin route")),
            }
        }
        ["resources", "batch"] => match method {
            Some(Method::Post) => resources::batch(req, ctx).await,
            _ => not_allowed("POST"),
        },
        ["resources", kind, rid] => {
            let (kind, rid) = (id("resource kind", kind)?, id("resource id", rid)?);
            match method {
                Some(Method::Put) => resources::put(req, ctx, kind, rid).await,
                Some(Method::Delete) => resources::remove(ctx, kind, rid).await,
                _ => not_allowed("PUT, DELETE"),
            }
        }
        _ => Err(AdminError::not_found("admin route")),
    }
}
