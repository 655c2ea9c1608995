//! The admin API (`/admin/v1/…`): members, resources and keys, for the product that embeds
//! keyscope. Described by `edge-worker/openapi.json` (OpenAPI 3.1).
//!
//! Authenticated by `Authorization: Bearer <KEYSCOPE_ADMIN_TOKEN>` (a secret; compared in
//! constant time). Calls that act for a user name them (`actingUserId`) and the rules of SPEC's
//! Keys section are applied to that user by `policy-core` (`Policy::check_new_key`,
//! `Policy::check_key_change`). Every error is `{"reason", "message"}` with a 4xx/5xx status;
//! batches are one D1 transaction, so a failed batch writes nothing.

use policy_core::{
    check_scope_project, ApiKey, Engine, Grants, KeyHash, KeyRecord, LifecycleError, NewKey, PathId, Scope,
    Timestamp, WWW_AUTHENTICATE,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use worker::{Env, Headers, Method, Request, Response};

use crate::now;
use crate::store::{KeyRow, NewKeyRow, Owner, ResourceChange, StoreError, Writer};

/// Where the admin API lives.
pub const PREFIX: &str = "/admin/v1/";

/// Bodies of single calls are at most this large.
const MAX_BODY: usize = 64 * 1024;
/// Batches (resources, key imports) are at most this large, and hold at most `MAX_BATCH` items.
const MAX_BATCH_BODY: usize = 1024 * 1024;
const MAX_BATCH: usize = 1000;
/// The longest rotation grace period: 30 days.
const MAX_GRACE_SECONDS: u32 = 30 * 24 * 3600;

/// An admin API error: status, reason code, message.
#[derive(Debug)]
pub struct AdminError {
    status: u16,
    reason: Reason,
    message: String,
}

/// The admin API's reason codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// 400: the request is malformed or asks for something invalid.
    InvalidRequest,
    /// 401: no or wrong service token.
    Unauthorized,
    /// 403: the acting user may not do this.
    Forbidden,
    /// 404: no such route, organization member, resource or key.
    NotFound,
    /// 405: the route exists with other methods.
    MethodNotAllowed,
    /// 409: the state forbids it (a key id or hash that exists, a revoked key).
    Conflict,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 503: a store failed or the API is not configured (nothing was done).
    Unavailable,
}

impl Reason {
    fn code(self) -> &'static str {
        match self {
            Reason::InvalidRequest => "invalid_request",
            Reason::Unauthorized => "unauthorized",
            Reason::Forbidden => "forbidden",
            Reason::NotFound => "not_found",
            Reason::MethodNotAllowed => "method_not_allowed",
            Reason::Conflict => "conflict",
            Reason::PayloadTooLarge => "payload_too_large",
            Reason::Unavailable => "unavailable",
        }
    }

    fn status(self) -> u16 {
        match self {
            Reason::InvalidRequest => 400,
            Reason::Unauthorized => 401,
            Reason::Forbidden => 403,
            Reason::NotFound => 404,
            Reason::MethodNotAllowed => 405,
            Reason::Conflict => 409,
            Reason::PayloadTooLarge => 413,
            Reason::Unavailable => 503,
        }
    }
}

impl AdminError {
    fn new(reason: Reason, message: impl Into<String>) -> AdminError {
        AdminError {
            status: reason.status(),
            reason,
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> AdminError {
        AdminError::new(Reason::InvalidRequest, message)
    }

    fn not_found(what: &str) -> AdminError {
        AdminError::new(Reason::NotFound, format!("no such {what}"))
    }
}

impl From<StoreError> for AdminError {
    fn from(err: StoreError) -> AdminError {
        match err {
            StoreError::Conflict(_) => AdminError::new(
                Reason::Conflict,
                "a key with this id or hash already exists; nothing was written",
            ),
            other => {
                worker::console_error!("keyscope admin: store failed: {other}");
                AdminError::new(
                    Reason::Unavailable,
                    "the key store is unavailable; nothing was changed, try again",
                )
            }
        }
    }
}

impl From<LifecycleError> for AdminError {
    fn from(err: LifecycleError) -> AdminError {
        let reason = if err.is_forbidden() {
            Reason::Forbidden
        } else {
            Reason::InvalidRequest
        };
        AdminError::new(reason, err.to_string())
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    reason: &'static str,
    message: &'a str,
}

fn json_response<T: Serialize>(status: u16, body: &T) -> worker::Result<Response> {
    let text = serde_json::to_string(body).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let headers = Headers::new();
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::ok(text)?.with_status(status).with_headers(headers))
}

fn error_response(err: &AdminError) -> worker::Result<Response> {
    let mut response = json_response(
        err.status,
        &ErrorBody {
            reason: err.reason.code(),
            message: &err.message,
        },
    )?;
    if err.reason == Reason::Unauthorized {
        response.headers_mut().set("www-authenticate", WWW_AUTHENTICATE)?;
    }
    Ok(response)
}

/// Serves one admin request (the path starts with [`PREFIX`]).
pub async fn handle(mut req: Request, env: &Env, engine: &Engine) -> worker::Result<Response> {
    let result = match authenticate(&req, env) {
        Ok(()) => route(&mut req, env, engine).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(response) => Ok(response),
        Err(err) => error_response(&err),
    }
}

fn authenticate(req: &Request, env: &Env) -> Result<(), AdminError> {
    let Ok(expected) = env.secret("KEYSCOPE_ADMIN_TOKEN").map(|s| s.to_string()) else {
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
        .get("authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    let token = presented
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .unwrap_or("");
    // Digests first, so that neither the length nor the content leaks through timing.
    let same: bool = Sha256::digest(token.as_bytes())
        .ct_eq(&Sha256::digest(expected.as_bytes()))
        .into();
    if token.is_empty() || !same {
        return Err(AdminError::new(
            Reason::Unauthorized,
            "send the service token as Authorization: Bearer <token>",
        ));
    }
    Ok(())
}

async fn route(req: &mut Request, env: &Env, engine: &Engine) -> Result<Response, AdminError> {
    let path = req.path();
    let rest = path.strip_prefix(PREFIX).unwrap_or("");
    let segments: Vec<&str> = rest.split('/').collect();
    let method = req.method();
    let allow = |methods: &str| -> Result<Response, AdminError> {
        Err(AdminError::new(
            Reason::MethodNotAllowed,
            format!("this route answers {methods}"),
        ))
    };
    match segments.as_slice() {
        ["organizations", org, "members", user] => {
            let (org, user) = (id("organization id", org)?, id("user id", user)?);
            match method {
                Method::Put => put_member(req, env, engine, org, user).await,
                Method::Delete => remove_member(env, org, user).await,
                _ => allow("PUT, DELETE"),
            }
        }
        ["organizations", org, "keys"] => {
            let org = id("organization id", org)?;
            match method {
                Method::Get => list_keys(req, env, org).await,
                Method::Post => create_key(req, env, engine, org).await,
                _ => allow("GET, POST"),
            }
        }
        ["organizations", org, "keys", "import"] => {
            let org = id("organization id", org)?;
            match method {
                Method::Post => import_keys(req, env, org).await,
                _ => allow("POST"),
            }
        }
        ["organizations", org, "keys", key] => {
            let (org, key) = (id("organization id", org)?, id("key id", key)?);
            match method {
                Method::Get => {
                    let writer = Writer::open(env)?;
                    let row = key_row(&writer, org, key).await?;
                    ok_json(200, &KeyView::of(row)?)
                }
                _ => allow("GET"),
            }
        }
        ["organizations", org, "keys", key, "revoke"] => {
            let (org, key) = (id("organization id", org)?, id("key id", key)?);
            match method {
                Method::Post => revoke_key(req, env, engine, org, key).await,
                _ => allow("POST"),
            }
        }
        ["organizations", org, "keys", key, "rotate"] => {
            let (org, key) = (id("organization id", org)?, id("key id", key)?);
            match method {
                Method::Post => rotate_key(req, env, engine, org, key).await,
                _ => allow("POST"),
            }
        }
        ["resources", "batch"] => match method {
            Method::Post => resource_batch(req, env).await,
            _ => allow("POST"),
        },
        ["resources", kind, rid] => {
            let (kind, rid) = (id("resource kind", kind)?, id("resource id", rid)?);
            match method {
                Method::Put => put_resource(req, env, kind, rid).await,
                Method::Delete => remove_resource(env, kind, rid).await,
                _ => allow("PUT, DELETE"),
            }
        }
        _ => Err(AdminError::not_found("admin route")),
    }
}

/// Ids in paths and bodies: what a request path can name (`PathId::is_valid`).
fn id<'a>(what: &str, value: &'a str) -> Result<&'a str, AdminError> {
    if PathId::is_valid(value) {
        Ok(value)
    } else {
        Err(AdminError::invalid(format!(
            "{what} must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-'"
        )))
    }
}

async fn body<T: DeserializeOwned>(req: &mut Request, limit: usize) -> Result<T, AdminError> {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = || {
        AdminError::new(
            Reason::PayloadTooLarge,
            format!("the body is limited to {limit} bytes"),
        )
    };
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let bytes = req
        .bytes()
        .await
        .map_err(|_| AdminError::invalid("the body could not be read"))?;
    if bytes.len() > limit {
        return Err(too_large());
    }
    if bytes.is_empty() {
        return Err(AdminError::invalid("a JSON body is required"));
    }
    serde_json::from_slice(&bytes).map_err(|e| AdminError::invalid(format!("invalid JSON body: {e}")))
}

fn parse_time(field: &str, value: &str) -> Result<Timestamp, AdminError> {
    OffsetDateTime::parse(value, &Rfc3339)
        .map(|t| Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64))
        .map_err(|_| {
            AdminError::invalid(format!(
                "{field} must be an RFC 3339 time, e.g. 2026-12-31T00:00:00Z"
            ))
        })
}

fn format_time(t: Timestamp) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn random_bytes<const N: usize>() -> Result<[u8; N], AdminError> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|_| {
        AdminError::new(
            Reason::Unavailable,
            "the random source failed; nothing was created",
        )
    })?;
    Ok(bytes)
}

fn new_key_id() -> Result<String, AdminError> {
    let bytes = random_bytes::<12>()?;
    Ok(bytes.iter().fold(String::from("key_"), |mut s, b| {
        s.push_str(&format!("{b:02x}"));
        s
    }))
}

// ---- Views --------------------------------------------------------------------------------

/// A key as the admin API shows it: never the secret or its hash.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyView {
    id: String,
    name: String,
    hint: String,
    organization_id: String,
    created_by: String,
    scope: Scope,
    scoped_project_id: Option<String>,
    permissions: Option<Vec<String>>,
    created_at: String,
    last_used_at: Option<String>,
    expires_at: Option<String>,
    revoked_at: Option<String>,
}

impl KeyView {
    fn of(row: KeyRow) -> Result<KeyView, AdminError> {
        Ok(KeyView::from_record(row.into_entry()?.record))
    }

    fn from_record(r: KeyRecord) -> KeyView {
        KeyView {
            id: r.id,
            name: r.name,
            hint: r.hint,
            organization_id: r.organization_id,
            created_by: r.created_by,
            scope: r.scope,
            scoped_project_id: r.scoped_project_id,
            permissions: r.permissions,
            created_at: format_time(r.created_at),
            last_used_at: r.last_used_at.map(format_time),
            expires_at: r.expires_at.map(format_time),
            revoked_at: r.revoked_at.map(format_time),
        }
    }
}

#[derive(Serialize)]
struct CreatedKey {
    key: KeyView,
    /// The key itself: returned here, once, and never again.
    secret: String,
}

// ---- Members --------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutMember {
    role: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberView<'a> {
    organization_id: &'a str,
    user_id: &'a str,
    role: &'a str,
}

async fn put_member(
    req: &mut Request,
    env: &Env,
    engine: &Engine,
    org: &str,
    user: &str,
) -> Result<Response, AdminError> {
    let put: PutMember = body(req, MAX_BODY).await?;
    if engine.policy().role_grants(&put.role).is_none() {
        let roles: Vec<&str> = engine.policy().roles().collect();
        return Err(AdminError::invalid(format!(
            "unknown role {:?}; roles: {}",
            put.role,
            roles.join(", ")
        )));
    }
    Writer::open(env)?.put_member(org, user, &put.role).await?;
    ok_json(
        200,
        &MemberView {
            organization_id: org,
            user_id: user,
            role: &put.role,
        },
    )
}

async fn remove_member(env: &Env, org: &str, user: &str) -> Result<Response, AdminError> {
    if Writer::open(env)?.remove_member(org, user).await? {
        no_content()
    } else {
        Err(AdminError::not_found("member"))
    }
}

fn ok_json<T: Serialize>(status: u16, value: &T) -> Result<Response, AdminError> {
    json_response(status, value).map_err(|e| AdminError::new(Reason::Unavailable, e.to_string()))
}

fn no_content() -> Result<Response, AdminError> {
    Response::empty()
        .map(|r| r.with_status(204))
        .map_err(|e| AdminError::new(Reason::Unavailable, e.to_string()))
}

// ---- Resources ------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PutResource {
    organization_id: String,
    project_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BatchPut {
    kind: String,
    id: String,
    organization_id: String,
    project_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchRemove {
    kind: String,
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceBatch {
    #[serde(default)]
    put: Vec<BatchPut>,
    #[serde(default)]
    remove: Vec<BatchRemove>,
}

fn owner(organization_id: String, project_id: String, at: &str) -> Result<Owner, AdminError> {
    id(&format!("{at}organizationId"), &organization_id)?;
    id(&format!("{at}projectId"), &project_id)?;
    Ok(Owner {
        organization_id,
        project_id,
    })
}

async fn put_resource(req: &mut Request, env: &Env, kind: &str, rid: &str) -> Result<Response, AdminError> {
    let put: PutResource = body(req, MAX_BODY).await?;
    let owner = owner(put.organization_id, put.project_id, "")?;
    let view = serde_json::json!({
        "kind": kind, "id": rid, "organizationId": owner.organization_id, "projectId": owner.project_id,
    });
    let change = ResourceChange::Put {
        kind: kind.into(),
        id: rid.into(),
        owner,
    };
    Writer::open(env)?.change_resources(&[change]).await?;
    ok_json(200, &view)
}

async fn remove_resource(env: &Env, kind: &str, rid: &str) -> Result<Response, AdminError> {
    let change = ResourceChange::Remove {
        kind: kind.into(),
        id: rid.into(),
    };
    if Writer::open(env)?.change_resources(&[change]).await? == 1 {
        no_content()
    } else {
        Err(AdminError::not_found("resource"))
    }
}

async fn resource_batch(req: &mut Request, env: &Env) -> Result<Response, AdminError> {
    let batch: ResourceBatch = body(req, MAX_BATCH_BODY).await?;
    if batch.put.len() + batch.remove.len() > MAX_BATCH {
        return Err(AdminError::invalid(format!(
            "a batch holds at most {MAX_BATCH} changes"
        )));
    }
    if batch.put.is_empty() && batch.remove.is_empty() {
        return Err(AdminError::invalid("an empty batch: give put and/or remove"));
    }
    let mut changes = Vec::with_capacity(batch.put.len() + batch.remove.len());
    for (i, p) in batch.put.into_iter().enumerate() {
        let at = format!("put[{i}].");
        id(&format!("{at}kind"), &p.kind)?;
        id(&format!("{at}id"), &p.id)?;
        changes.push(ResourceChange::Put {
            owner: owner(p.organization_id, p.project_id, &at)?,
            kind: p.kind,
            id: p.id,
        });
    }
    let puts = changes.len();
    for (i, r) in batch.remove.into_iter().enumerate() {
        id(&format!("remove[{i}].kind"), &r.kind)?;
        id(&format!("remove[{i}].id"), &r.id)?;
        changes.push(ResourceChange::Remove {
            kind: r.kind,
            id: r.id,
        });
    }
    let removed = Writer::open(env)?.change_resources(&changes).await?;
    ok_json(200, &serde_json::json!({"put": puts, "removed": removed}))
}

// ---- Keys ------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateKey {
    acting_user_id: String,
    name: String,
    scope: Scope,
    #[serde(default)]
    scoped_project_id: Option<String>,
    #[serde(default)]
    preset: Option<String>,
    #[serde(default)]
    permissions: Option<Vec<String>>,
    #[serde(default)]
    expires_at: Option<String>,
}

fn key_name(name: &str) -> Result<(), AdminError> {
    let length = name.chars().count();
    if name.trim().is_empty() || length > 100 {
        return Err(AdminError::invalid("name must be 1-100 characters"));
    }
    Ok(())
}

/// Makes a key for `record` (whose id, hint are filled here) and stores it.
async fn mint(
    writer: &Writer,
    engine: &Engine,
    mut record: KeyRecord,
) -> Result<(KeyRecord, String), AdminError> {
    let key = ApiKey::generate(engine.environment(), &random_bytes::<64>()?)
        .map_err(|e| AdminError::new(Reason::Unavailable, e.to_string()))?;
    record.id = new_key_id()?;
    record.hint = key.hint().to_owned();
    writer
        .insert_keys(&[NewKeyRow {
            hash: key.hash(),
            record: record.clone(),
        }])
        .await?;
    Ok((record, key.expose_secret().to_owned()))
}

async fn create_key(
    req: &mut Request,
    env: &Env,
    engine: &Engine,
    org: &str,
) -> Result<Response, AdminError> {
    let create: CreateKey = body(req, MAX_BODY).await?;
    id("actingUserId", &create.acting_user_id)?;
    key_name(&create.name)?;
    if let Some(project) = &create.scoped_project_id {
        id("scopedProjectId", project)?;
    }
    let grants = match (&create.preset, &create.permissions) {
        (Some(_), Some(_)) => return Err(AdminError::invalid("give preset or permissions, not both")),
        (Some(preset), None) => Grants::Preset(preset),
        (None, Some(list)) => Grants::Explicit(list),
        (None, None) => Grants::Inherit,
    };
    let now = now();
    let expires_at = match &create.expires_at {
        None => None,
        Some(text) => {
            let at = parse_time("expiresAt", text)?;
            if at <= now {
                return Err(AdminError::invalid("expiresAt must be in the future"));
            }
            Some(at)
        }
    };
    let writer = Writer::open(env)?;
    let role = writer.member_role(org, &create.acting_user_id).await?;
    let permissions = engine.policy().check_new_key(&NewKey {
        acting_role: role.as_deref(),
        scope: create.scope,
        project_id: create.scoped_project_id.as_deref(),
        grants,
    })?;
    let record = KeyRecord {
        id: String::new(),
        name: create.name,
        hint: String::new(),
        organization_id: org.to_owned(),
        created_by: create.acting_user_id,
        scope: create.scope,
        scoped_project_id: create.scoped_project_id,
        permissions,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
        expires_at,
    };
    let (record, secret) = mint(&writer, engine, record).await?;
    ok_json(
        201,
        &CreatedKey {
            key: KeyView::from_record(record),
            secret,
        },
    )
}

struct ListQuery {
    created_by: Option<String>,
}

async fn list_keys(req: &Request, env: &Env, org: &str) -> Result<Response, AdminError> {
    // The query by hand: the `url` crate (IDNA tables and all) would double the bundle.
    let url = req.inner().url();
    let mut query = ListQuery { created_by: None };
    let pairs = url.split_once('?').map_or("", |(_, q)| q);
    for pair in pairs.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            // Ids hold no characters that need percent-encoding, so the value is taken as is.
            "createdBy" => query.created_by = Some(id("createdBy", value)?.to_owned()),
            other => return Err(AdminError::invalid(format!("unknown query parameter {other:?}"))),
        }
    }
    let rows = Writer::open(env)?
        .list_keys(org, query.created_by.as_deref())
        .await?;
    let keys = rows.into_iter().map(KeyView::of).collect::<Result<Vec<_>, _>>()?;
    ok_json(200, &serde_json::json!({ "keys": keys }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Acting {
    acting_user_id: String,
}

/// One key of the organization, or `404`.
async fn key_row(writer: &Writer, org: &str, key: &str) -> Result<KeyRow, AdminError> {
    writer
        .key(org, key)
        .await?
        .ok_or_else(|| AdminError::not_found("key"))
}

/// Loads a key and checks that `acting_user_id` may change it.
async fn changeable(
    writer: &Writer,
    engine: &Engine,
    org: &str,
    key: &str,
    acting_user_id: &str,
) -> Result<KeyRecord, AdminError> {
    id("actingUserId", acting_user_id)?;
    let record = key_row(writer, org, key).await?.into_entry()?.record;
    let role = writer.member_role(org, acting_user_id).await?;
    engine
        .policy()
        .check_key_change(&record, acting_user_id, role.as_deref())?;
    Ok(record)
}

async fn revoke_key(
    req: &mut Request,
    env: &Env,
    engine: &Engine,
    org: &str,
    key: &str,
) -> Result<Response, AdminError> {
    let acting: Acting = body(req, MAX_BODY).await?;
    let writer = Writer::open(env)?;
    changeable(&writer, engine, org, key, &acting.acting_user_id).await?;
    writer.revoke_key(key, now()).await?;
    let row = key_row(&writer, org, key).await?;
    ok_json(200, &serde_json::json!({ "key": KeyView::of(row)? }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Rotate {
    acting_user_id: String,
    #[serde(default)]
    grace_period_seconds: Option<u32>,
}

async fn rotate_key(
    req: &mut Request,
    env: &Env,
    engine: &Engine,
    org: &str,
    key: &str,
) -> Result<Response, AdminError> {
    let rotate: Rotate = body(req, MAX_BODY).await?;
    if rotate.grace_period_seconds.is_some_and(|s| s > MAX_GRACE_SECONDS) {
        return Err(AdminError::invalid(format!(
            "gracePeriodSeconds is at most {MAX_GRACE_SECONDS} (30 days)"
        )));
    }
    let writer = Writer::open(env)?;
    let old = changeable(&writer, engine, org, key, &rotate.acting_user_id).await?;
    let now = now();
    if old.revoked_at.is_some_and(|t| t <= now) {
        return Err(AdminError::new(
            Reason::Conflict,
            "the key is revoked; create a new key instead",
        ));
    }
    // The new key is the acting user's, with the old key's settings, checked against their role.
    let role = writer.member_role(org, &rotate.acting_user_id).await?;
    let grants = match &old.permissions {
        None => Grants::Inherit,
        Some(list) => Grants::Explicit(list),
    };
    let permissions = engine.policy().check_new_key(&NewKey {
        acting_role: role.as_deref(),
        scope: old.scope,
        project_id: old.scoped_project_id.as_deref(),
        grants,
    })?;
    let record = KeyRecord {
        id: String::new(),
        hint: String::new(),
        created_by: rotate.acting_user_id.clone(),
        permissions,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
        ..old.clone()
    };
    let (record, secret) = mint(&writer, engine, record).await?;
    if let Some(grace) = rotate.grace_period_seconds {
        writer
            .revoke_key(&old.id, Timestamp(now.0 + i64::from(grace) * 1000))
            .await?;
    }
    let previous = key_row(&writer, org, &old.id).await?;
    ok_json(
        201,
        &serde_json::json!({
            "key": KeyView::from_record(record),
            "secret": secret,
            "previous": KeyView::of(previous)?,
        }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ImportKey {
    #[serde(default)]
    id: Option<String>,
    key_hash: String,
    hint: String,
    name: String,
    created_by: String,
    scope: Scope,
    #[serde(default)]
    scoped_project_id: Option<String>,
    #[serde(default)]
    permissions: Option<Vec<String>>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    last_used_at: Option<String>,
    #[serde(default)]
    revoked_at: Option<String>,
    #[serde(default)]
    expires_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Import {
    keys: Vec<ImportKey>,
}

/// Imports keys by hash (migrating from another system without seeing their secrets). The
/// records are taken as they are — explicit grants naming permissions the policy does not know
/// grant nothing at the edge — but must be well formed. All or nothing.
async fn import_keys(req: &mut Request, env: &Env, org: &str) -> Result<Response, AdminError> {
    let import: Import = body(req, MAX_BATCH_BODY).await?;
    if import.keys.is_empty() || import.keys.len() > MAX_BATCH {
        return Err(AdminError::invalid(format!("keys holds 1 to {MAX_BATCH} keys")));
    }
    let now = now();
    let mut rows = Vec::with_capacity(import.keys.len());
    for (i, k) in import.keys.into_iter().enumerate() {
        let at = |field: &str| format!("keys[{i}].{field}");
        let hash = KeyHash::from_hex(&k.key_hash)
            .filter(|_| k.key_hash.len() == 64)
            .ok_or_else(|| {
                AdminError::invalid(format!("{} must be 64 hex digits (SHA-256)", at("keyHash")))
            })?;
        id(&at("createdBy"), &k.created_by)?;
        key_name(&k.name).map_err(|e| AdminError::invalid(format!("{}: {}", at("name"), e.message)))?;
        if k.hint.is_empty() || k.hint.chars().count() > 8 {
            return Err(AdminError::invalid(format!(
                "{} must be 1-8 characters",
                at("hint")
            )));
        }
        check_scope_project(k.scope, k.scoped_project_id.as_deref())
            .map_err(|e| AdminError::invalid(format!("keys[{i}]: {e}")))?;
        if let Some(project) = &k.scoped_project_id {
            id(&at("scopedProjectId"), project)?;
        }
        let id_ = match k.id {
            Some(given) => id(&at("id"), &given)?.to_owned(),
            None => new_key_id()?,
        };
        let time = |field: &str, value: &Option<String>| {
            value.as_deref().map(|v| parse_time(&at(field), v)).transpose()
        };
        rows.push(NewKeyRow {
            hash,
            record: KeyRecord {
                id: id_,
                name: k.name,
                hint: k.hint,
                organization_id: org.to_owned(),
                created_by: k.created_by,
                scope: k.scope,
                scoped_project_id: k.scoped_project_id,
                permissions: k.permissions,
                created_at: time("createdAt", &k.created_at)?.unwrap_or(now),
                last_used_at: time("lastUsedAt", &k.last_used_at)?,
                revoked_at: time("revokedAt", &k.revoked_at)?,
                expires_at: time("expiresAt", &k.expires_at)?,
            },
        });
    }
    Writer::open(env)?.insert_keys(&rows).await?;
    let keys: Vec<KeyView> = rows.into_iter().map(|r| KeyView::from_record(r.record)).collect();
    ok_json(201, &serde_json::json!({ "keys": keys }))
}
