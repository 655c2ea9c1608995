//! `/console/api/…`: the console's own API, acting as the session's user with exactly the
//! rules of `policy-core` (the same lifecycle plans as the admin API, through the key service
//! [`crate::keys`]). Every call re-reads the user's membership; every `POST` must carry the
//! session's CSRF proof, a JSON body, and no foreign `Origin`.

use policy_core::{Actor, KeyStanding, Policy, Timestamp, KEY_HEADER_NAME};
use serde::{Deserialize, Serialize};
use worker::{Env, Request};

use super::error::ConsoleError;
use super::session;
use crate::address;
use crate::clock::now;
use crate::config::Config;
use crate::keys::error::ServiceError;
use crate::keys::input::{grace, read_body, ControlsBody, CreateBody, MAX_BODY};
use crate::keys::lifecycle;
use crate::keys::usage;
use crate::keys::view::{saved, KeyView};
use crate::keys::Ctx;
use crate::respond::{json, Answer};
use crate::store::rows::KeyEntry;
use crate::store::sessions::{Holder, Sessions};
use crate::store::usage::Granularity;
use crate::store::write::Writer;

/// The header that carries the CSRF proof.
pub const CSRF_HEADER: &str = "x-keyscope-csrf";

enum Route<'a> {
    Session,
    Keys,
    Rotate(&'a str),
    Revoke(&'a str),
    Controls(&'a str),
    Usage(&'a str),
}

/// A key as the console shows it: the admin API's view and where the key stands for the user
/// (its preset, its status at the time of the answer — a creator who left included — and what
/// the user may do with it), all `policy-core`'s, so the page decides nothing.
#[derive(Serialize)]
struct ConsoleKey<'p> {
    #[serde(flatten)]
    key: KeyView,
    #[serde(flatten)]
    standing: KeyStanding<'p>,
}

/// Who is acting, re-read on every call.
struct Acting {
    holder: Holder,
    role: String,
    token: String,
}

impl Acting {
    fn actor(&self) -> Actor<'_> {
        Actor {
            user_id: &self.holder.user_id,
            role: Some(&self.role),
        }
    }

    /// The view of a key with its creator's current role, at `now`.
    fn view<'p>(&self, policy: &'p Policy, entry: KeyEntry, now: Timestamp) -> ConsoleKey<'p> {
        let KeyEntry { record, role } = entry;
        ConsoleKey {
            standing: policy.key_standing(&record, role.as_deref(), self.actor(), now),
            key: KeyView::from_record(record),
        }
    }

    /// The view of a key the user just made: its creator is the user, with their role.
    fn view_own<'p>(
        &self,
        policy: &'p Policy,
        record: policy_core::KeyRecord,
        now: Timestamp,
    ) -> ConsoleKey<'p> {
        let role = Some(self.role.clone());
        self.view(policy, KeyEntry { record, role }, now)
    }
}

const GONE: &str = "Your console session has expired or was never valid.";
const NOT_A_MEMBER: &str =
    "You are no longer a member of this organization, so your console session has ended.";

/// Serves `/console/api/{rest}`.
pub async fn handle(
    mut req: Request,
    env: &Env,
    platform: &worker::Context,
    config: &Config,
    rest: &str,
) -> Result<Answer, ConsoleError> {
    let segments: Vec<&str> = rest.split('/').collect();
    let (route, allow) = match segments.as_slice() {
        ["session"] => (Route::Session, "GET"),
        ["keys"] => (Route::Keys, "GET, POST"),
        ["keys", id, "rotate"] => (Route::Rotate(id), "POST"),
        ["keys", id, "revoke"] => (Route::Revoke(id), "POST"),
        ["keys", id, "controls"] => (Route::Controls(id), "POST"),
        ["keys", id, "usage"] => (Route::Usage(id), "GET"),
        _ => {
            return Err(ConsoleError::not_found(
                "There is nothing at this address of the console.",
            ))
        }
    };
    let method = req.inner().method();
    let post = method == "POST";
    if !allow.split(", ").any(|m| m == method) {
        return Err(ConsoleError::method_not_allowed(allow));
    }
    let acting = authenticate(&req, env, config, post).await?;
    let writer = Writer::open(env, config)?;
    let policy = config.engine.policy();
    let org = acting.holder.organization_id.clone();
    let ctx = Ctx {
        env,
        config,
        platform,
        source: crate::events::source(req.headers()),
        via: "console",
    };
    match route {
        Route::Session => session_view(&req, &writer, config, &acting).await,
        Route::Keys if !post => {
            let creator =
                (!policy.may_manage_every_key(&acting.role)).then_some(acting.holder.user_id.as_str());
            let rows = writer.list_keys(&org, creator).await?;
            let at = now();
            let mut keys = Vec::with_capacity(rows.len());
            for row in rows {
                keys.push(acting.view(policy, row.into_entry()?, at));
            }
            Ok(json(200, &serde_json::json!({ "keys": keys })))
        }
        Route::Keys => {
            let body: CreateBody = read_body(&mut req, MAX_BODY).await?;
            if body.acting_user_id.is_some() {
                return Err(
                    ServiceError::invalid("actingUserId: the console acts as the session's user").into(),
                );
            }
            let ask = body.ask()?;
            let made = lifecycle::create(&ctx, &writer, &org, acting.actor(), &ask).await?;
            Ok(saved(
                201,
                serde_json::json!({
                    "key": acting.view_own(policy, made.record, now()),
                    "secret": made.secret.expose_secret(),
                }),
                &made.applied,
            ))
        }
        Route::Rotate(key) => {
            let body: RotateBody = read_body(&mut req, MAX_BODY).await?;
            let grace = grace(body.grace_period_seconds.as_ref())?;
            let rotated = lifecycle::rotate(&ctx, &writer, &org, acting.actor(), key, grace).await?;
            let at = now();
            Ok(saved(
                201,
                serde_json::json!({
                    "key": acting.view_own(policy, rotated.made.record, at),
                    "secret": rotated.made.secret.expose_secret(),
                    "previous": acting.view(policy, rotated.previous, at),
                }),
                &rotated.made.applied,
            ))
        }
        Route::Usage(key) => {
            // The keys the user sees in the list: their own, or every key for a role that
            // manages every key. Any other is not there (404), as in the list.
            let entry = lifecycle::entry(&writer, &org, key).await?;
            if !policy.may_manage_every_key(&acting.role) && entry.record.created_by != acting.holder.user_id
            {
                return Err(ConsoleError::not_found("There is no such key among yours."));
            }
            let range = usage::range(None, None, now());
            Ok(json(
                200,
                &usage::key_usage_answer(&writer, &org, key, range, Granularity::Day).await?,
            ))
        }
        Route::Controls(key) => {
            let body: ControlsBody = read_body(&mut req, MAX_BODY).await?;
            if body.acting_user_id.is_some() {
                return Err(
                    ServiceError::invalid("actingUserId: the console acts as the session's user").into(),
                );
            }
            let (entry, applied) =
                lifecycle::change_controls(&ctx, &writer, &org, acting.actor(), key, &body.change()).await?;
            Ok(saved(
                200,
                serde_json::json!({ "key": acting.view(policy, entry, now()) }),
                &applied,
            ))
        }
        Route::Revoke(key) => {
            let _: Empty = read_body(&mut req, MAX_BODY).await?;
            let (entry, applied) = lifecycle::revoke(&ctx, &writer, &org, acting.actor(), key).await?;
            Ok(saved(
                200,
                serde_json::json!({ "key": acting.view(policy, entry, now()) }),
                &applied,
            ))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RotateBody {
    /// Read by policy-core's one rule ([`grace`]).
    #[serde(default)]
    grace_period_seconds: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// The session behind the cookie, the CSRF proof for a `POST`, then the user's current role.
async fn authenticate(req: &Request, env: &Env, config: &Config, post: bool) -> Result<Acting, ConsoleError> {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let token = header("cookie")
        .as_deref()
        .and_then(session::cookie_value)
        .map(str::to_owned)
        .ok_or_else(|| ConsoleError::session_expired(GONE))?;
    let sessions = Sessions::open(env)?;
    let hash = session::digest(&token);
    let holder = sessions
        .session(&hash, now())
        .await?
        .ok_or_else(|| ConsoleError::session_expired(GONE))?;
    if post {
        let own =
            address::origin(req).ok_or_else(|| ConsoleError::invalid("The address could not be read."))?;
        if header("origin").is_some_and(|origin| origin != own) {
            return Err(ConsoleError::forbidden(
                "This request came from another site, so it was refused.",
            ));
        }
        let json_body = header("content-type").is_some_and(|t| {
            t.split(';')
                .next()
                .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
        });
        if !json_body {
            return Err(ConsoleError::forbidden(
                "The console only accepts changes sent as JSON by its own page.",
            ));
        }
        let proof = header(CSRF_HEADER).unwrap_or_default();
        if !session::same_secret(&proof, &session::csrf_proof(&token)) {
            return Err(ConsoleError::forbidden(
                "This request did not carry the console's CSRF proof, so it was refused. Reload the page and try again.",
            ));
        }
    }
    let policy = config.engine.policy();
    let stored = Writer::open(env, config)?
        .member_role(&holder.organization_id, &holder.user_id)
        .await?;
    let Some(role) = policy.member_role(stored.as_deref()).map(str::to_owned) else {
        sessions.end(&hash).await?;
        return Err(ConsoleError::session_expired(NOT_A_MEMBER));
    };
    Ok(Acting { holder, role, token })
}

/// `GET /console/api/session`.
async fn session_view(
    req: &Request,
    writer: &Writer,
    config: &Config,
    acting: &Acting,
) -> Result<Answer, ConsoleError> {
    let policy = config.engine.policy();
    let gateway_url =
        address::origin(req).ok_or_else(|| ConsoleError::invalid("The address could not be read."))?;
    let can = policy.key_abilities(Some(&acting.role));
    let projects: Vec<serde_json::Value> = if can.create_project_keys {
        writer
            .projects(&acting.holder.organization_id)
            .await?
            .into_iter()
            .map(|id| serde_json::json!({ "id": id }))
            .collect()
    } else {
        Vec::new()
    };
    Ok(json(
        200,
        &serde_json::json!({
            "organizationId": acting.holder.organization_id,
            "userId": acting.holder.user_id,
            "role": acting.role,
            "gatewayUrl": gateway_url,
            "keyHeader": KEY_HEADER_NAME,
            "mePath": policy.me_path(),
            "csrfToken": session::csrf_proof(&acting.token),
            "returnUrl": acting.holder.return_url,
            "can": can,
            "presets": policy.presets().collect::<Vec<_>>(),
            "projects": projects,
        }),
    ))
}
