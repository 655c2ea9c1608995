//! keyscope for JavaScript: a thin wasm-bindgen adapter over `policy-core`.
//!
//! The compiled policy stays inside wasm; a decision crosses the boundary as a handful of
//! strings and small integers. The JavaScript half of the package (`npm/js/`) drives the
//! sans-I/O loop with the caller's async store, and adds key helpers and middleware. No
//! decision rule lives here: every answer comes from `policy_core`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::rc::Rc;

use js_sys::{Error as JsErrorObject, Reflect};
use policy_core::{
    target_of_url, ApiKey, Authorization, Decision as CoreDecision, Environment, KeyError, KeyHash,
    KeyHeaders, KeyRecord as CoreRecord, Policy, PolicyError, Request, ResourceOwner, Step as CoreStep,
    Timestamp,
};
use wasm_bindgen::prelude::*;

type Pending<'p> = Authorization<'p, Rc<CoreRecord>>;

self_cell::self_cell!(
    struct Cell {
        owner: Rc<policy_core::Engine>,
        #[covariant]
        dependent: Pending,
    }
);

/// What a decision needs next, or its result.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The request is allowed.
    Allow = 0,
    /// The request is denied.
    Deny = 1,
    /// Look up the key record stored under `lookupHash` and call `provideKey` / `provideNoKey`.
    LookupKey = 2,
    /// Look up the current role of `lookupOrganizationId`/`lookupUserId` and call `provideRole`.
    LookupRole = 3,
    /// Look up who owns `lookupKind`/`lookupId` and call `provideResource`.
    LookupResource = 4,
}

/// A compiled policy and the key environment it serves.
#[wasm_bindgen]
pub struct Engine {
    inner: Rc<policy_core::Engine>,
}

#[wasm_bindgen]
impl Engine {
    /// Compiles `policy` (a policy document as JSON; the Align policy when absent) for keys of
    /// `environment` (`live` when absent). Throws an `Error` named `PolicyError` whose `field`
    /// names the offending field.
    #[wasm_bindgen(constructor)]
    pub fn new(policy: Option<String>, environment: Option<String>) -> Result<Engine, JsValue> {
        let environment = match environment.as_deref() {
            None => Environment::Live,
            Some(name) => Environment::from_name(name).ok_or_else(|| {
                named_error(
                    "TypeError",
                    &format!("unknown environment {name:?}: expected \"live\" or \"test\""),
                    None,
                )
            })?,
        };
        let policy = match policy {
            None => Policy::align(),
            Some(text) => Policy::from_json(&text).map_err(|e| policy_error(&e))?,
        };
        Ok(Engine {
            inner: Rc::new(policy_core::Engine::new(policy, environment)),
        })
    }

    /// `live` or `test`.
    #[wasm_bindgen(getter)]
    pub fn environment(&self) -> String {
        self.inner.environment().as_str().to_owned()
    }

    /// The policy's base path, e.g. `/api/v1`.
    #[wasm_bindgen(getter, js_name = basePath)]
    pub fn base_path(&self) -> String {
        self.inner.policy().base_path().to_owned()
    }

    /// Every permission the policy knows, in policy order.
    #[wasm_bindgen(getter)]
    pub fn permissions(&self) -> Vec<String> {
        self.inner.policy().permissions().map(str::to_owned).collect()
    }

    /// Every role the policy knows.
    #[wasm_bindgen(getter)]
    pub fn roles(&self) -> Vec<String> {
        self.inner.policy().roles().map(str::to_owned).collect()
    }

    /// Starts a decision. `url` is an absolute URL or a request target (`/path?query`), taken
    /// as written. The header values are those of `X-Api-Key` and `Authorization`. `now` is
    /// Unix milliseconds.
    pub fn start(
        &self,
        method: &str,
        url: &str,
        x_api_key: Option<String>,
        authorization: Option<String>,
        now: f64,
    ) -> Decision {
        let request = Request {
            method,
            target: target_of_url(url),
            headers: KeyHeaders::from_strs(x_api_key.as_deref(), authorization.as_deref()),
        };
        let now = Timestamp(now as i64);
        Decision {
            cell: Cell::new(Rc::clone(&self.inner), |engine| engine.authorize(&request, now)),
        }
    }
}

/// A key record handed to a decision without conversion: make one per stored key (e.g. when
/// caching lookups) and return it from the store's `findKey`.
#[wasm_bindgen]
pub struct KeyRecord {
    inner: Rc<CoreRecord>,
}

#[wasm_bindgen]
impl KeyRecord {
    /// A record from its JSON form (camelCase fields, times as Unix milliseconds). Throws a
    /// `TypeError` naming the problem when the record is not one.
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(json: &str) -> Result<KeyRecord, JsValue> {
        record_from_json(json)
            .map(|inner| KeyRecord { inner })
            .map_err(|e| named_error("TypeError", &format!("not a key record: {e}"), None))
    }

    /// A record from a plain object (camelCase fields, times as Unix milliseconds), read with
    /// serde-wasm-bindgen.
    #[wasm_bindgen(js_name = fromObject)]
    pub fn from_object(value: JsValue) -> Result<KeyRecord, JsValue> {
        record_from_object(value)
            .map(|inner| KeyRecord { inner })
            .map_err(|e| named_error("TypeError", &format!("not a key record: {e}"), None))
    }

    /// The key's id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id.clone()
    }
}

fn record_from_json(json: &str) -> Result<Rc<CoreRecord>, String> {
    serde_json::from_str::<CoreRecord>(json)
        .map(Rc::new)
        .map_err(|e| e.to_string())
}

fn record_from_object(value: JsValue) -> Result<Rc<CoreRecord>, String> {
    serde_wasm_bindgen::from_value::<CoreRecord>(value)
        .map(Rc::new)
        .map_err(|e| e.to_string())
}

/// One decision in progress, driven by the caller: read `step`, answer the lookup it names,
/// repeat until `Allow` or `Deny`, then read the result.
#[wasm_bindgen]
pub struct Decision {
    cell: Cell,
}

impl Decision {
    fn auth(&self) -> &Pending<'_> {
        self.cell.borrow_dependent()
    }

    fn answer(&mut self, f: impl FnOnce(&mut Pending<'_>) -> Result<(), policy_core::StepError>) -> Step {
        self.cell.with_dependent_mut(|_, auth| {
            if f(auth).is_err() {
                // An answer out of order is a caller bug, never a reason to allow.
                auth.store_failed();
            }
        });
        self.step()
    }

    fn done(&self) -> Option<CoreDecision<'_>> {
        self.auth().decision()
    }

    fn allow(&self) -> Option<policy_core::Allow<'_>> {
        self.done().and_then(CoreDecision::allowed)
    }

    fn denial(&self) -> Option<policy_core::Denial<'_>> {
        self.done().and_then(CoreDecision::denied)
    }
}

#[wasm_bindgen]
impl Decision {
    /// What the decision needs next, or its result.
    #[wasm_bindgen(getter)]
    pub fn step(&self) -> Step {
        match self.auth().next() {
            CoreStep::LookupKey(_) => Step::LookupKey,
            CoreStep::LookupMembership { .. } => Step::LookupRole,
            CoreStep::LookupResource { .. } => Step::LookupResource,
            CoreStep::Done(CoreDecision::Allow(_)) => Step::Allow,
            CoreStep::Done(CoreDecision::Deny(_)) => Step::Deny,
        }
    }

    /// At `LookupKey`: the SHA-256 (lower-case hex) of the presented key.
    #[wasm_bindgen(getter, js_name = lookupHash)]
    pub fn lookup_hash(&self) -> Option<String> {
        match self.auth().next() {
            CoreStep::LookupKey(hash) => Some(hash.to_hex().as_str().to_owned()),
            _ => None,
        }
    }

    /// At `LookupRole`: the key's organization.
    #[wasm_bindgen(getter, js_name = lookupOrganizationId)]
    pub fn lookup_organization_id(&self) -> Option<String> {
        match self.auth().next() {
            CoreStep::LookupMembership { organization_id, .. } => Some(organization_id.to_owned()),
            _ => None,
        }
    }

    /// At `LookupRole`: the key's creator.
    #[wasm_bindgen(getter, js_name = lookupUserId)]
    pub fn lookup_user_id(&self) -> Option<String> {
        match self.auth().next() {
            CoreStep::LookupMembership { user_id, .. } => Some(user_id.to_owned()),
            _ => None,
        }
    }

    /// At `LookupResource`: the resource kind, e.g. `time_entry`.
    #[wasm_bindgen(getter, js_name = lookupKind)]
    pub fn lookup_kind(&self) -> Option<String> {
        match self.auth().next() {
            CoreStep::LookupResource { kind, .. } => Some(kind.to_owned()),
            _ => None,
        }
    }

    /// At `LookupResource`: the resource id from the path (percent-decoded).
    #[wasm_bindgen(getter, js_name = lookupId)]
    pub fn lookup_id(&self) -> Option<String> {
        match self.auth().next() {
            CoreStep::LookupResource { id, .. } => Some(id.to_owned()),
            _ => None,
        }
    }

    /// Answers `LookupKey` with a prepared record; returns the next step.
    #[wasm_bindgen(js_name = provideKey)]
    pub fn provide_key(&mut self, record: &KeyRecord) -> Step {
        let record = Rc::clone(&record.inner);
        self.answer(|auth| auth.provide_key(Some(record)))
    }

    /// Answers `LookupKey` with a record in its JSON form. A record that does not parse is a
    /// store inconsistency: the decision becomes `503 unavailable`.
    #[wasm_bindgen(js_name = provideKeyJson)]
    pub fn provide_key_json(&mut self, json: &str) -> Step {
        match record_from_json(json) {
            Ok(record) => self.answer(|auth| auth.provide_key(Some(record))),
            Err(_) => self.store_failed(),
        }
    }

    /// Answers `LookupKey` with a record as a plain object (read with serde-wasm-bindgen). A
    /// record that does not read is a store inconsistency: `503 unavailable`.
    #[wasm_bindgen(js_name = provideKeyObject)]
    pub fn provide_key_object(&mut self, value: JsValue) -> Step {
        match record_from_object(value) {
            Ok(record) => self.answer(|auth| auth.provide_key(Some(record))),
            Err(_) => self.store_failed(),
        }
    }

    /// Answers `LookupKey`: no key is stored under the hash.
    #[wasm_bindgen(js_name = provideNoKey)]
    pub fn provide_no_key(&mut self) -> Step {
        self.answer(|auth| auth.provide_key(None))
    }

    /// Answers `LookupRole`: the creator's current role, or `undefined` if no longer a member.
    #[wasm_bindgen(js_name = provideRole)]
    pub fn provide_role(&mut self, role: Option<String>) -> Step {
        self.answer(|auth| auth.provide_membership(role.as_deref()))
    }

    /// Answers `LookupResource`: the owning organization and project, or `undefined` when the
    /// resource is unknown.
    #[wasm_bindgen(js_name = provideResource)]
    pub fn provide_resource(&mut self, organization_id: Option<String>, project_id: Option<String>) -> Step {
        let owner = match (&organization_id, &project_id) {
            (Some(organization_id), Some(project_id)) => Some(ResourceOwner {
                organization_id,
                project_id,
            }),
            _ => None,
        };
        self.answer(|auth| auth.provide_resource(owner))
    }

    /// Records that a lookup failed: the decision becomes `503 unavailable` (fail closed).
    #[wasm_bindgen(js_name = storeFailed)]
    pub fn store_failed(&mut self) -> Step {
        self.cell.with_dependent_mut(|_, auth| auth.store_failed());
        self.step()
    }

    /// Once decided: the identity of an allowed request as `keyId`, `organizationId`, `userId`,
    /// `role`, `scope`, `projectFilter` (empty when none) and whether the gateway serves `/me`
    /// (`1`/`0`), joined by `\n` (one string crosses the boundary instead of seven).
    #[wasm_bindgen(getter, js_name = allowPacked)]
    pub fn allow_packed(&self) -> Option<String> {
        let allow = self.allow()?;
        let fields = [
            allow.key_id,
            allow.organization_id,
            allow.user_id,
            allow.role,
            allow.scope.as_str(),
            allow.project_filter.unwrap_or(""),
            if allow.serves_me() { "1" } else { "0" },
        ];
        Some(fields.join("\n"))
    }

    /// Once allowed: the key's effective permissions, in policy order.
    #[wasm_bindgen(getter, js_name = effectivePermissions)]
    pub fn effective_permissions(&self) -> Option<Vec<String>> {
        let allow = self.allow()?;
        let policy = self.cell.borrow_owner().policy();
        Some(
            policy
                .permission_names(allow.effective_permissions)
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Once allowed: the identity headers the origin would receive, as `[name, value, …]`.
    #[wasm_bindgen(getter, js_name = identityHeaders)]
    pub fn identity_headers(&self) -> Option<Vec<String>> {
        let allow = self.allow()?;
        Some(
            allow
                .identity_headers()
                .flat_map(|(name, value)| [name.to_owned(), value.to_owned()])
                .collect(),
        )
    }

    /// Once allowed: the `/me` view as a JSON body.
    #[wasm_bindgen(getter, js_name = meJson)]
    pub fn me_json(&self) -> Option<String> {
        self.auth().me().map(|me| me.to_json())
    }

    /// Once denied: the HTTP status.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> u16 {
        match self.denial() {
            Some(denial) => denial.status(),
            None => 200,
        }
    }

    /// Once denied: the reason code, e.g. `scope_violation`.
    #[wasm_bindgen(getter)]
    pub fn reason(&self) -> Option<String> {
        self.denial().map(|d| d.reason().code().to_owned())
    }

    /// Once denied: the human sentence (never echoes the key).
    #[wasm_bindgen(getter)]
    pub fn message(&self) -> Option<String> {
        self.denial().map(|d| d.message())
    }

    /// Once denied: SPEC's JSON body `{"reason", "message"}`.
    #[wasm_bindgen(getter, js_name = denialJson)]
    pub fn denial_json(&self) -> Option<String> {
        self.denial().map(|d| d.to_json())
    }

    /// Once denied: the `WWW-Authenticate` value the response carries (every 401).
    #[wasm_bindgen(getter, js_name = wwwAuthenticate)]
    pub fn www_authenticate(&self) -> Option<String> {
        self.denial()
            .and_then(|d| d.www_authenticate())
            .map(str::to_owned)
    }
}

/// SPEC's body for `429 rate_limited` with `Retry-After: retry_after` seconds (for callers that
/// rate-limit in front of the engine).
#[wasm_bindgen(js_name = rateLimitedBody)]
pub fn rate_limited_body(retry_after: u32) -> String {
    policy_core::Denial::rate_limited(retry_after).to_json()
}

/// SPEC's body for `503 unavailable`.
#[wasm_bindgen(js_name = unavailableBody)]
pub fn unavailable_body() -> String {
    policy_core::Denial::unavailable().to_json()
}

/// A new key for `environment` (`live` / `test`) from `random` (at least 64 bytes from a
/// CSPRNG, e.g. `crypto.getRandomValues`), as `[secret, hash, hint]`.
#[wasm_bindgen(js_name = generateKey)]
pub fn generate_key(environment: &str, random: &[u8]) -> Result<Vec<String>, JsValue> {
    let environment = Environment::from_name(environment)
        .ok_or_else(|| named_error("TypeError", &format!("unknown environment {environment:?}"), None))?;
    let key =
        ApiKey::generate(environment, random).map_err(|e| named_error("RangeError", &e.to_string(), None))?;
    Ok(key_parts(&key))
}

/// Validates `text` offline (length, prefix, alphabet, checksum, and the environment when
/// given) and returns `[secret, hash, hint, environment]`. Throws an `Error` named `KeyError`
/// whose `code` says why (`wrong_length`, `unknown_prefix`, `bad_character`,
/// `checksum_mismatch`, `wrong_environment`); the message never echoes the key.
#[wasm_bindgen(js_name = parseKey)]
pub fn parse_key(text: &str, environment: Option<String>) -> Result<Vec<String>, JsValue> {
    let parsed = match environment.as_deref() {
        None => ApiKey::parse(text),
        Some(name) => {
            let environment = Environment::from_name(name)
                .ok_or_else(|| named_error("TypeError", &format!("unknown environment {name:?}"), None))?;
            ApiKey::parse_for(text, environment)
        }
    };
    let key =
        parsed.map_err(|e| named_error("KeyError", &e.to_string(), Some(("code", key_error_code(e)))))?;
    let mut parts = key_parts(&key);
    parts.push(key.environment().as_str().to_owned());
    Ok(parts)
}

/// Whether `hash` is a well-formed key hash (64 hex digits).
#[wasm_bindgen(js_name = isKeyHash)]
pub fn is_key_hash(hash: &str) -> bool {
    KeyHash::from_hex(hash).is_some()
}

fn key_parts(key: &ApiKey) -> Vec<String> {
    vec![
        key.expose_secret().to_owned(),
        key.hash().to_hex().as_str().to_owned(),
        key.hint().to_owned(),
    ]
}

fn key_error_code(error: KeyError) -> &'static str {
    match error {
        KeyError::WrongLength => "wrong_length",
        KeyError::UnknownPrefix => "unknown_prefix",
        KeyError::BadCharacter => "bad_character",
        KeyError::ChecksumMismatch => "checksum_mismatch",
        KeyError::WrongEnvironment { .. } => "wrong_environment",
    }
}

fn policy_error(error: &PolicyError) -> JsValue {
    let field = match error {
        PolicyError::Invalid(invalid) => Some(("field", invalid.field())),
        PolicyError::Syntax(_) => None,
    };
    named_error("PolicyError", &error.to_string(), field)
}

/// A JS `Error` with `name` and, optionally, one extra string property.
fn named_error(name: &str, message: &str, extra: Option<(&str, &str)>) -> JsValue {
    let error = JsErrorObject::new(message);
    error.set_name(name);
    if let Some((key, value)) = extra {
        // Setting a property on a fresh Error object cannot fail.
        let _ = Reflect::set(&error, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    error.into()
}
