//! The key console (`/console/…`): the page where a SaaS's own users manage their API keys,
//! opened through a one-time link the SaaS asks the admin API for
//! (`admin::console_sessions`). See ARCHITECTURE.md "The key console".
//!
//! | module | job |
//! |---|---|
//! | [`assets`] | the embedded page and its security headers |
//! | [`session`] | link tokens, the session cookie, the CSRF proof (their rows: [`crate::store::sessions`]) |
//! | [`api`] | `/console/api/…`: the key service ([`crate::keys`]), acting as the session's user |
//! | [`error`] | the console API's `{"reason","message"}` |
//!
//! `/console` is served only while the policy's base path is elsewhere: the console never
//! shadows a path of the public API (nor `/admin/v1`, which is matched first).

pub mod api;
pub mod assets;
pub mod error;
pub mod session;

use policy_core::{path_is_under, Timestamp};
use web_sys::{Headers, Response, ResponseInit};
use worker::{console_error, Context, Env, Request};

use self::error::ConsoleError;
use crate::address;
use crate::clock::now;
use crate::config::Config;
use crate::respond::Answer;
use crate::store::sessions::Sessions;

/// Where the console lives.
pub const PREFIX: &str = "/console";

/// Whether the console may be served at all: the public API's base path is not below it.
pub fn available(config: &Config) -> bool {
    !path_is_under(config.engine.policy().base_path(), PREFIX)
}

/// Whether this request is the console's.
pub fn serves(path: &str, config: &Config) -> bool {
    path_is_under(path, PREFIX) && available(config)
}

/// Serves one console request ([`serves`] said yes).
pub async fn handle(req: Request, env: &Env, platform: &Context, config: &Config) -> Answer {
    match route(req, env, platform, config).await {
        Ok(answer) => answer,
        Err(err) => err.respond(),
    }
}

/// A response with these headers.
fn answer(status: u16, headers: &[(&str, &str)], body: Option<&str>) -> Answer {
    let list = Headers::new()?;
    for (name, value) in headers {
        list.set(name, value)?;
    }
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(&list);
    Ok(Response::new_with_opt_str_and_init(body, &init)?)
}

async fn route(req: Request, env: &Env, platform: &Context, config: &Config) -> Result<Answer, ConsoleError> {
    let path = req.path();
    let method = req.inner().method();
    let read = method == "GET" || method == "HEAD";
    if let Some(rest) = path.strip_prefix("/console/api/") {
        return api::handle(req, env, platform, config, rest).await;
    }
    if !read {
        return Err(ConsoleError::method_not_allowed("GET"));
    }
    if path == PREFIX {
        return Ok(answer(308, &[("location", "/console/")], None));
    }
    if path == "/console/open" {
        // Only a browser's GET takes the one-time link; a HEAD (a link checker) leaves it.
        if method != "GET" {
            return Err(ConsoleError::method_not_allowed("GET"));
        }
        return open(&req, env).await;
    }
    let Some((body, content_type)) = assets::asset(&path) else {
        return Err(ConsoleError::not_found("There is no such page in the console."));
    };
    let configured = env.var(assets::FRAME_ANCESTORS_VAR).ok().map(|v| v.to_string());
    let (ancestors, refused) = assets::frame_ancestors(configured.as_deref());
    if refused {
        console_error!(
            "keyscope console: {} refused (a CSP source list of 'self', 'none' or origins); framing is denied",
            assets::FRAME_ANCESTORS_VAR
        );
    }
    let csp = assets::content_security_policy(&ancestors);
    Ok(answer(
        200,
        &[
            ("content-type", content_type),
            ("content-security-policy", &csp),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("cache-control", "no-cache"),
        ],
        Some(body),
    ))
}

/// `/console/open?token=…`: takes the one-time link and opens a session, then sends the
/// browser on to the page without the token; a forged, used or expired link opens nothing.
async fn open(req: &Request, env: &Env) -> Result<Answer, ConsoleError> {
    let url = address::url(req).ok_or_else(|| ConsoleError::invalid("The address could not be read."))?;
    let token = url.search_params().get("token").filter(|t| session::is_token(t));
    let sessions = Sessions::open(env)?;
    let at = now();
    let holder = match token {
        Some(token) => sessions.redeem_link(&session::digest(&token), at).await?,
        None => None,
    };
    let away = |location: &str, cookie: Option<&str>| {
        let mut headers = vec![
            ("location", location),
            ("cache-control", "no-store"),
            ("referrer-policy", "no-referrer"),
        ];
        if let Some(cookie) = cookie {
            headers.push(("set-cookie", cookie));
        }
        answer(303, &headers, None)
    };
    let Some(holder) = holder else {
        return Ok(away("/console/#link-expired", None));
    };
    let session_token = session::new_token()?;
    sessions
        .start(
            &session::digest(&session_token),
            &holder,
            Timestamp(at.0.saturating_add(session::SESSION_LIFETIME_MS)),
        )
        .await?;
    let cookie = session::set_cookie(&session_token, url.protocol() == "https:");
    Ok(away("/console/", Some(&cookie)))
}
