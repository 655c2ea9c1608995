//! keyscope for JavaScript: a thin wasm-bindgen adapter over `policy-core`.
//!
//! The compiled policy stays inside wasm; a decision crosses the boundary as a handful of
//! strings and small integers. The JavaScript half of the package (`npm/js/`) drives the
//! sans-I/O loop with the caller's async store, and adds key helpers and middleware. No
//! decision rule lives here: every answer comes from `policy_core`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod lifecycle;

use std::rc::Rc;

use js_sys::{Error as JsErrorObject, Reflect};
use policy_core::{
    check_scope_project, target_of_url, ApiKey, Authorization, Cause, Decision as CoreDecision, Environment,
    KeyError, KeyHash, KeyHeaders, KeyRecord as CoreRecord, KeyState, LifecycleError, Policy, PolicyDocument,
    PolicyError, PreparedKey, Request, ResourceOwner, RoleId, Scope, Step as CoreStep, Timestamp,
};
use wasm_bindgen::prelude::*;

/// A decision in progress. Every key reaches it compiled (`PreparedKey`): a `KeyRecord` handle
/// holds its compiled form across decisions; a record given field by field is compiled for its
/// one decision (the same work the raw-record path does once per decision).
type Pending<'p> = Authorization<'p, Rc<PreparedKey>>;

self_cell::self_cell!(
    struct Cell {
        owner: Rc<policy_core::Engine>,
        #[covariant]
        dependent: Pending,
    }
);

/// What a decision needs next, or its result. `start*` and every `provide*` return an outcome
/// `step + 8 × payload`: `Allow` carries `filtered + 2 × permission set` and `Deny` the
/// denial's number (see `denial`), and both release the slot; the other steps carry 0.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Allowed: read it with `finishAllow`.
    Allow = 0,
    /// Denied: read it with `finishDeny`.
    Deny = 1,
    /// Look up the key record stored under `lookupHash` and call `provideKey*`.
    LookupKey = 2,
    /// Look up the current role of the key record's `organizationId`/`createdBy` and call
    /// `provideRole`.
    LookupRole = 3,
    /// Look up who owns the resource `lookupResource` names and call `provideResource`.
    LookupResource = 4,
    /// Allowed, and keyscope answers the request itself with the `/me` view: read it with
    /// `finishMe`, then `finishAllowWide`.
    AllowMe = 5,
    /// Allowed, under a policy of more than 48 permissions: read it with `finishAllowWide`.
    AllowWide = 6,
}

/// An outcome is `step + OUTCOME_RADIX × payload` (see [`Step`]).
const OUTCOME_RADIX: u32 = 8;

/// The boundary's numeric protocol, for the JavaScript codec (`npm/js/codec.cjs`), so that no
/// number is written on both sides: `[outcome radix, role radix]`.
#[wasm_bindgen]
pub fn codec() -> Vec<u32> {
    vec![OUTCOME_RADIX, ROLE_RADIX]
}

/// The Align policy document (JSON), as policy-core compiles it by default.
#[wasm_bindgen(js_name = alignPolicyJson)]
pub fn align_policy_json() -> String {
    policy_core::ALIGN_POLICY_JSON.to_owned()
}

/// The fields of a key record in the order `KeyRecord`'s constructor and `provideKeyFields`
/// take them (camelCase, as JavaScript stores name them).
const RECORD_FIELDS: [&str; 12] = [
    "id",
    "name",
    "hint",
    "organizationId",
    "createdBy",
    "scope",
    "scopedProjectId",
    "permissions",
    "createdAt",
    "lastUsedAt",
    "revokedAt",
    "expiresAt",
];

/// The record fields, in constructor order.
#[wasm_bindgen(js_name = recordFields)]
pub fn record_fields() -> Vec<String> {
    RECORD_FIELDS.iter().map(|f| (*f).to_owned()).collect()
}

/// The fields of a packed denial (see [`Engine::denial`]), in order.
const DENIAL_FIELDS: [&str; 4] = ["status", "reason", "message", "wwwAuthenticate"];

/// The fields of a packed denial, in order (joined by `\n`).
#[wasm_bindgen(js_name = denialFields)]
pub fn denial_fields() -> Vec<String> {
    DENIAL_FIELDS.iter().map(|f| (*f).to_owned()).collect()
}

/// The methods `startKnown` takes by number (anything else goes through `start`).
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The methods `startKnown` takes by number, in order.
#[wasm_bindgen]
pub fn methods() -> Vec<String> {
    METHODS.iter().map(|m| (*m).to_owned()).collect()
}

/// Policies of up to this many permissions (and fewer than [`ROLE_RADIX`] roles) return an
/// allow's role and permission set inside the outcome number: `8 × (filtered + 2 × (role +
/// 256 × set))` stays below 2^53, exact in a double.
const NARROW_PERMISSIONS: usize = 40;

/// Narrow allows carry the role's index below this many roles (`8 × 2 × 256 × 2^40 = 2^52`).
const ROLE_RADIX: u32 = 256;

/// A compiled policy and the key environment it serves, holding the decisions in progress.
///
/// Decisions live inside the engine, addressed by a slot number, so that a decision costs no
/// JavaScript object: `start` → `provide*` (each returns the next [`Step`]) → `finishAllow` /
/// `finishDeny`, which release the slot.
#[wasm_bindgen]
pub struct Engine {
    inner: Rc<policy_core::Engine>,
    slots: Vec<Option<Cell>>,
    free: Vec<u32>,
    /// Every distinct denial body handed out so far, so that JavaScript can cache them by
    /// number (a policy yields a few dozen at most).
    denials: Vec<(DenialKey, String)>,
    /// Hashes of keys seen before, at indices the caller chooses (see `rememberHash`).
    known: Vec<KeyHash>,
    /// The policy's roles resolved once, in `roles` order (`provideRoleIndex` answers with
    /// them: no role name is looked up per decision).
    role_ids: Vec<Option<RoleId>>,
    /// Whether an allow's permission set fits in its outcome number.
    narrow: bool,
    /// Why the last record given field by field was refused (`field\nproblem`), for the
    /// caller's store error report.
    record_problem: Option<String>,
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
            Some(text) => Policy::from_json(&text).map_err(|e| policy_error(&e, &text))?,
        };
        let role_ids = policy.roles().map(|name| policy.role_id(name)).collect();
        Ok(Engine {
            role_ids,
            narrow: policy.permissions().count() <= NARROW_PERMISSIONS
                && policy.roles().count() < ROLE_RADIX as usize,
            inner: Rc::new(policy_core::Engine::new(policy, environment)),
            slots: Vec::new(),
            free: Vec::new(),
            denials: Vec::new(),
            known: Vec::new(),
            record_problem: None,
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

    /// Every permission the policy knows, in policy order (bit `i` of `finishAllow`'s
    /// permission set is permission `i`).
    #[wasm_bindgen(getter)]
    pub fn permissions(&self) -> Vec<String> {
        self.inner.policy().permissions().map(str::to_owned).collect()
    }

    /// Every role the policy knows.
    #[wasm_bindgen(getter)]
    pub fn roles(&self) -> Vec<String> {
        self.inner.policy().roles().map(str::to_owned).collect()
    }

    /// Whether `url` (an absolute URL or a request target) lies under the policy's base path:
    /// the requests this engine decides. Middleware passes every other request through.
    pub fn covers(&self, url: &str) -> bool {
        let target = target_of_url(url);
        let path = target.split(['?', '#']).next().unwrap_or(target);
        let base = self.inner.policy().base_path();
        base == "/"
            || path
                .strip_prefix(base)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// How many decisions are in progress (started and not yet finished).
    #[wasm_bindgen(getter, js_name = pending)]
    pub fn pending(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Starts a decision in `slot` (a number from `reserve`). `url` is an absolute URL or a
    /// request target (`/path?query`), taken as written. The header values are those of
    /// `X-Api-Key` and `Authorization`. `now` is Unix milliseconds. Returns the outcome:
    /// `step + 8 × payload` (see [`Step`]).
    pub fn start(
        &mut self,
        slot: u32,
        method: &str,
        url: &str,
        x_api_key: Option<String>,
        authorization: Option<String>,
        now: f64,
    ) -> f64 {
        let request = Request {
            method,
            target: target_of_url(url),
            headers: KeyHeaders::from_strs(x_api_key.as_deref(), authorization.as_deref()),
        };
        let now = Timestamp(now as i64);
        let cell = Cell::new(Rc::clone(&self.inner), |engine| engine.authorize(&request, now));
        self.occupy(slot, cell)
    }

    /// At `LookupKey`: keeps the presented key's hash at `index` (at most one past the highest
    /// index used so far), for `startKnown`. Returns whether it was kept.
    #[wasm_bindgen(js_name = rememberHash)]
    pub fn remember_hash(&mut self, slot: u32, index: u32) -> bool {
        let Some(CoreStep::LookupKey(hash)) = self.auth(slot).map(|a| a.next()) else {
            return false;
        };
        let index = index as usize;
        if let Some(kept) = self.known.get_mut(index) {
            *kept = hash;
        } else if index == self.known.len() {
            self.known.push(hash);
        } else {
            return false;
        }
        true
    }

    /// Starts a decision in `slot` for the key whose hash `rememberHash` kept at `index`: the
    /// offline key checks (format, checksum, environment, SHA-256) were passed when it was
    /// kept; everything after them is decided as by `start`. An unknown index denies (`503`).
    /// `method` is an index into `methods` (numbers cross the boundary for free; strings do
    /// not).
    #[wasm_bindgen(js_name = startKnown)]
    pub fn start_known(&mut self, slot: u32, method: u32, url: &str, index: u32, now: f64) -> f64 {
        let (Some(&hash), Some(&method)) = (self.known.get(index as usize), METHODS.get(method as usize))
        else {
            return self.outcome(slot, Step::Deny);
        };
        let now = Timestamp(now as i64);
        let target = target_of_url(url);
        let cell = Cell::new(Rc::clone(&self.inner), |engine| {
            engine.authorize_hash(hash, method, target, now)
        });
        self.occupy(slot, cell)
    }

    /// A free slot for `start` (released when the decision's outcome is final).
    pub fn reserve(&mut self) -> u32 {
        if let Some(slot) = self.free.pop() {
            return slot;
        }
        self.slots.push(None);
        (self.slots.len() - 1) as u32
    }

    /// At `LookupKey`: the SHA-256 (lower-case hex) of the presented key.
    #[wasm_bindgen(js_name = lookupHash)]
    pub fn lookup_hash(&self, slot: u32) -> Option<String> {
        match self.auth(slot)?.next() {
            CoreStep::LookupKey(hash) => Some(hash.to_hex().as_str().to_owned()),
            _ => None,
        }
    }

    /// At `LookupResource`: the resource kind and its id from the path (percent-decoded),
    /// joined by `\n`.
    #[wasm_bindgen(js_name = lookupResource)]
    pub fn lookup_resource(&self, slot: u32) -> Option<String> {
        match self.auth(slot)?.next() {
            CoreStep::LookupResource { kind, id } => Some(format!("{kind}\n{id}")),
            _ => None,
        }
    }

    /// Answers `LookupKey` with a prepared record (compiled for this engine's policy on its first
    /// decision here, then reused); returns the outcome.
    #[wasm_bindgen(js_name = provideKey)]
    pub fn provide_key(&mut self, slot: u32, record: &mut KeyRecord) -> f64 {
        let key = record.prepared_for(self.inner.policy());
        self.answer(slot, |auth| provide_prepared(auth, key))
    }

    /// Answers `LookupKey` with a record given field by field (see [`KeyRecord::new`]); a
    /// record the engine cannot use (an unknown scope, a time that is not a finite number) is a
    /// store inconsistency: `503 unavailable`.
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(js_name = provideKeyFields)]
    pub fn provide_key_fields(
        &mut self,
        slot: u32,
        id: String,
        name: String,
        hint: String,
        organization_id: String,
        created_by: String,
        scope: &str,
        scoped_project_id: Option<String>,
        permissions: Option<Vec<String>>,
        created_at: f64,
        last_used_at: Option<f64>,
        revoked_at: Option<f64>,
        expires_at: Option<f64>,
    ) -> f64 {
        let fields = RecordFields {
            id,
            name,
            hint,
            organization_id,
            created_by,
            scope,
            scoped_project_id,
            permissions,
            times: [Some(created_at), last_used_at, revoked_at, expires_at],
        };
        match fields.into_record() {
            Ok(record) => {
                let key = Rc::new(self.inner.prepare(record));
                self.answer(slot, |auth| provide_prepared(auth, key))
            }
            Err(problem) => {
                self.record_problem = Some(format!("{}\n{}", problem.field, problem.problem));
                self.store_failed(slot)
            }
        }
    }

    /// Why the last record given to `provideKeyFields` was refused, as `field\nproblem`
    /// (`undefined` when none was); cleared by reading it.
    #[wasm_bindgen(js_name = takeRecordProblem)]
    pub fn take_record_problem(&mut self) -> Option<String> {
        self.record_problem.take()
    }

    /// Answers `LookupKey`: no key is stored under the hash.
    #[wasm_bindgen(js_name = provideNoKey)]
    pub fn provide_no_key(&mut self, slot: u32) -> f64 {
        self.answer(slot, |auth| auth.provide_key(None))
    }

    /// Answers `LookupRole` with the role at `index` in `roles` (the common case: no string
    /// crosses, and the engine looks no name up). An index out of range is a caller bug: `503
    /// unavailable`.
    #[wasm_bindgen(js_name = provideRoleIndex)]
    pub fn provide_role_index(&mut self, slot: u32, index: u32) -> f64 {
        match self.role_ids.get(index as usize).copied().flatten() {
            Some(role) => self.answer(slot, |auth| auth.provide_role(Some(role))),
            None => self.store_failed(slot),
        }
    }

    /// Answers `LookupRole`: the creator's current role, or `undefined` if no longer a member.
    #[wasm_bindgen(js_name = provideRole)]
    pub fn provide_role(&mut self, slot: u32, role: Option<String>) -> f64 {
        self.answer(slot, |auth| auth.provide_membership(role.as_deref()))
    }

    /// Answers `LookupResource`: the owning organization and project, or `undefined` when the
    /// resource is unknown.
    #[wasm_bindgen(js_name = provideResource)]
    pub fn provide_resource(
        &mut self,
        slot: u32,
        organization_id: Option<String>,
        project_id: Option<String>,
    ) -> f64 {
        let owner = match (&organization_id, &project_id) {
            (Some(organization_id), Some(project_id)) => Some(ResourceOwner {
                organization_id,
                project_id,
            }),
            _ => None,
        };
        self.answer(slot, |auth| auth.provide_resource(owner))
    }

    /// Records that a lookup failed: the decision becomes `503 unavailable` (fail closed).
    #[wasm_bindgen(js_name = storeFailed)]
    pub fn store_failed(&mut self, slot: u32) -> f64 {
        self.answer(slot, |auth| {
            auth.store_failed();
            Ok(())
        })
    }

    /// At `AllowMe`: the `/me` view as a JSON body (the slot stays until `finishAllow`).
    #[wasm_bindgen(js_name = finishMe)]
    pub fn finish_me(&self, slot: u32) -> Option<String> {
        self.auth(slot)?.me().map(|me| me.to_json())
    }

    /// At `AllowMe` / `AllowWide`: `[filtered, role, low 32 bits, high 32 bits]` — whether
    /// the project filter (the key record's project) applies, the index in `roles` of the role
    /// the key acted with, and the effective permission set (bit `i` = `permissions[i]`);
    /// `undefined` if the decision is not an allow. Releases the slot.
    #[wasm_bindgen(js_name = finishAllowWide)]
    pub fn finish_allow_wide(&mut self, slot: u32) -> Option<Vec<u32>> {
        let (filtered, role, set) = self.take_allow(slot)?;
        Some(vec![u32::from(filtered), role, set as u32, (set >> 32) as u32])
    }

    /// At `Deny`: the number of the denial, whose body `denial(n)` gives (the same number for
    /// the same denial, so callers cache them). Releases the slot.
    #[wasm_bindgen(js_name = finishDeny)]
    pub fn finish_deny(&mut self, slot: u32) -> u32 {
        let unavailable = policy_core::Denial::unavailable();
        let (key, packed) = {
            let denial = match self.auth(slot).and_then(|a| a.decision()) {
                Some(CoreDecision::Deny(denial)) => denial,
                // Asked too early or for an allowed decision: never an allow by mistake.
                _ => unavailable,
            };
            let key = denial_key(denial.cause());
            // Only a denial not seen before is written out.
            let seen = self.denials.iter().position(|(k, _)| *k == key);
            (key, seen.ok_or_else(|| pack_denial(&denial)))
        };
        self.release(slot);
        match packed {
            Ok(n) => n as u32,
            Err(packed) => {
                self.denials.push((key, packed));
                (self.denials.len() - 1) as u32
            }
        }
    }

    /// Denial number `n` as `status\nreason\nmessage\nwww-authenticate` (the last empty unless
    /// 401); the `503 unavailable` denial for an unknown number.
    pub fn denial(&self, n: u32) -> String {
        match self.denials.get(n as usize) {
            Some((_, packed)) => packed.clone(),
            None => pack_denial(&policy_core::Denial::unavailable()),
        }
    }
}

/// What makes two denials' bodies the same, computed without writing them out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DenialKey {
    /// A cause without data, by its position in this list.
    Plain(u8),
    /// A malformed key (the message depends on the error).
    Malformed(KeyError),
    /// A missing permission, by the address of its name in the policy (the engine names
    /// permissions by the policy's own strings, so no string comparison is needed).
    Permission(usize),
    /// Rate limited, retry after this many seconds.
    RateLimited(u32),
}

fn denial_key(cause: Cause<'_>) -> DenialKey {
    match cause {
        Cause::Malformed(error) => DenialKey::Malformed(error),
        Cause::MissingPermission(name) => DenialKey::Permission(name.as_ptr() as usize),
        Cause::RateLimited { retry_after } => DenialKey::RateLimited(retry_after),
        Cause::NoKey => DenialKey::Plain(0),
        Cause::ConflictingHeaders => DenialKey::Plain(1),
        Cause::UnknownKey => DenialKey::Plain(2),
        Cause::Revoked => DenialKey::Plain(3),
        Cause::Expired => DenialKey::Plain(4),
        Cause::CreatorRemoved => DenialKey::Plain(5),
        Cause::UnknownEndpoint => DenialKey::Plain(6),
        Cause::OrganizationEndpoint => DenialKey::Plain(7),
        Cause::OtherProject => DenialKey::Plain(8),
        Cause::ResourceNotVisible => DenialKey::Plain(9),
        Cause::StoreUnavailable => DenialKey::Plain(10),
        Cause::StoreInconsistent => DenialKey::Plain(11),
        Cause::OriginUnreachable => DenialKey::Plain(12),
        Cause::Misconfigured => DenialKey::Plain(13),
        Cause::BodyNotAllowed => DenialKey::Plain(14),
    }
}

fn pack_denial(denial: &policy_core::Denial<'_>) -> String {
    format!(
        "{}\n{}\n{}\n{}",
        denial.status(),
        denial.reason().code(),
        denial.message(),
        denial.www_authenticate().unwrap_or("")
    )
}

/// Answers `LookupKey` with a compiled key; its revocation and expiry are the record's own (the
/// store's answer for this request).
fn provide_prepared(auth: &mut Pending<'_>, key: Rc<PreparedKey>) -> Result<(), policy_core::StepError> {
    let state = KeyState::of(key.record());
    auth.provide_prepared(key, state)
}

fn step_of(auth: &Pending<'_>) -> Step {
    match auth.next() {
        CoreStep::LookupKey(_) => Step::LookupKey,
        CoreStep::LookupMembership { .. } => Step::LookupRole,
        CoreStep::LookupResource { .. } => Step::LookupResource,
        CoreStep::Done(CoreDecision::Allow(allow)) if allow.serves_me() => Step::AllowMe,
        CoreStep::Done(CoreDecision::Allow(_)) => Step::Allow,
        CoreStep::Done(CoreDecision::Deny(_)) => Step::Deny,
    }
}

impl Engine {
    fn auth(&self, slot: u32) -> Option<&Pending<'_>> {
        self.slots
            .get(slot as usize)?
            .as_ref()
            .map(Cell::borrow_dependent)
    }

    fn answer(
        &mut self,
        slot: u32,
        f: impl FnOnce(&mut Pending<'_>) -> Result<(), policy_core::StepError>,
    ) -> f64 {
        let Some(Some(cell)) = self.slots.get_mut(slot as usize) else {
            return self.outcome(slot, Step::Deny);
        };
        cell.with_dependent_mut(|_, auth| {
            if f(auth).is_err() {
                // An answer out of order is a caller bug, never a reason to allow.
                auth.store_failed();
            }
        });
        let step = step_of(cell.borrow_dependent());
        self.outcome(slot, step)
    }

    fn occupy(&mut self, slot: u32, cell: Cell) -> f64 {
        let step = step_of(cell.borrow_dependent());
        match self.slots.get_mut(slot as usize) {
            Some(entry @ None) => *entry = Some(cell),
            // Not a reserved slot: a caller bug, answered `503`.
            _ => return self.outcome(slot, Step::Deny),
        }
        self.outcome(slot, step)
    }

    /// `step + 8 × payload`: an allow under a narrow policy carries `filtered + 2 × set`, a
    /// denial its number (see `denial`); both release the slot. Lookups carry nothing.
    fn outcome(&mut self, slot: u32, step: Step) -> f64 {
        let payload = match step {
            Step::Allow if !self.narrow => return f64::from(Step::AllowWide as u8),
            Step::Allow => match self.take_allow(slot) {
                // INVARIANT: narrow sets are below 2^40 and roles below 256: this double is exact.
                Some((filtered, role, set)) => {
                    f64::from(u8::from(filtered))
                        + 2.0 * (f64::from(role) + f64::from(ROLE_RADIX) * set as f64)
                }
                None => return self.outcome(slot, Step::Deny),
            },
            Step::Deny => f64::from(self.finish_deny(slot)),
            _ => 0.0,
        };
        f64::from(step as u8) + 8.0 * payload
    }

    /// An allow's project filter flag and permission set; releases the slot.
    fn take_allow(&mut self, slot: u32) -> Option<(bool, u32, u64)> {
        let out = {
            let allow = self.auth(slot)?.decision()?.allowed()?;
            // `allow.role` points into the policy's own role names: find it by address first
            // (no string comparison on the hot path).
            let roles = || self.inner.policy().roles();
            let role = roles()
                .position(|r| core::ptr::eq(r.as_ptr(), allow.role.as_ptr()))
                .or_else(|| roles().position(|r| r == allow.role))?;
            (
                allow.project_filter.is_some(),
                role as u32,
                allow.effective_permissions.bits(),
            )
        };
        self.release(slot);
        Some(out)
    }

    fn release(&mut self, slot: u32) {
        if let Some(entry @ Some(_)) = self.slots.get_mut(slot as usize) {
            *entry = None;
            self.free.push(slot);
        }
    }
}

/// A key record handed to decisions without conversion: make one per stored key (e.g. when
/// caching lookups) and return it from the store's `findKey`. It holds the record compiled
/// (`PreparedKey`: its explicit grants as a permission bitset) for the policy of the engine that
/// last decided on it, so a decision on it does no string work on permissions; it is compiled on
/// its first decision and again only when an engine with another policy decides on it.
#[wasm_bindgen]
pub struct KeyRecord {
    held: Held,
}

/// What a `KeyRecord` handle holds.
enum Held {
    /// The record as made, before any decision (boxed: a record is much larger than an `Rc`).
    Record(Box<CoreRecord>),
    /// The record compiled for the policy of the engine that last decided on it.
    Prepared(Rc<PreparedKey>),
}

impl KeyRecord {
    /// The record compiled for `policy`: the one held when it was compiled for it, otherwise
    /// compiled now (once) and held from then on.
    fn prepared_for(&mut self, policy: &Policy) -> Rc<PreparedKey> {
        let record = match &self.held {
            Held::Prepared(key) if key.stamp() == policy.stamp() => return Rc::clone(key),
            Held::Prepared(key) => key.record().clone(),
            Held::Record(record) => CoreRecord::clone(record),
        };
        let key = Rc::new(policy.prepare(record));
        self.held = Held::Prepared(Rc::clone(&key));
        key
    }

    fn record(&self) -> &CoreRecord {
        match &self.held {
            Held::Record(record) => record,
            Held::Prepared(key) => key.record(),
        }
    }
}

#[wasm_bindgen]
impl KeyRecord {
    /// A record from its fields (times as Unix milliseconds). Throws a `TypeError` naming the
    /// problem when they do not make one.
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(constructor)]
    pub fn new(
        id: String,
        name: String,
        hint: String,
        organization_id: String,
        created_by: String,
        scope: &str,
        scoped_project_id: Option<String>,
        permissions: Option<Vec<String>>,
        created_at: f64,
        last_used_at: Option<f64>,
        revoked_at: Option<f64>,
        expires_at: Option<f64>,
    ) -> Result<KeyRecord, JsValue> {
        let fields = RecordFields {
            id,
            name,
            hint,
            organization_id,
            created_by,
            scope,
            scoped_project_id,
            permissions,
            times: [Some(created_at), last_used_at, revoked_at, expires_at],
        };
        fields
            .into_record()
            .map(|record| KeyRecord {
                held: Held::Record(Box::new(record)),
            })
            .map_err(|problem| {
                named_error(
                    "RecordError",
                    &format!("not a key record: {} {}", problem.field, problem.problem),
                    Some(("field", problem.field)),
                )
            })
    }
}

#[wasm_bindgen]
impl KeyRecord {
    /// The record's identity as the engine holds it: `[id, organizationId, createdBy, scope,
    /// scopedProjectId or ""]` (read once, when the JavaScript handle is made).
    pub fn identity(&self) -> Vec<String> {
        let r = self.record();
        vec![
            r.id.clone(),
            r.organization_id.clone(),
            r.created_by.clone(),
            r.scope.as_str().to_owned(),
            r.scoped_project_id.clone().unwrap_or_default(),
        ]
    }
}

/// A record's fields as they cross the boundary: a handful of strings and numbers (cheaper
/// than JSON or serde-wasm-bindgen; see BENCHMARKS.md).
struct RecordFields<'a> {
    id: String,
    name: String,
    hint: String,
    organization_id: String,
    created_by: String,
    scope: &'a str,
    scoped_project_id: Option<String>,
    permissions: Option<Vec<String>>,
    /// createdAt, lastUsedAt, revokedAt, expiresAt.
    times: [Option<f64>; 4],
}

/// Why fields do not make a key record: the field and what is wrong with it.
struct RecordProblem {
    field: &'static str,
    problem: &'static str,
}

impl RecordFields<'_> {
    fn into_record(self) -> Result<CoreRecord, RecordProblem> {
        let scope = Scope::from_name(self.scope).ok_or(RecordProblem {
            field: "scope",
            problem: "must be \"organization\" or \"project\"",
        })?;
        if let Err(LifecycleError::ProjectRequired) =
            check_scope_project(scope, self.scoped_project_id.as_deref())
        {
            return Err(RecordProblem {
                field: "scopedProjectId",
                problem: "is required when scope is \"project\"",
            });
        }
        let mut times = [None; 4];
        let names = ["createdAt", "lastUsedAt", "revokedAt", "expiresAt"];
        for ((slot, time), field) in times.iter_mut().zip(self.times).zip(names) {
            *slot = match time {
                None => None,
                Some(ms) if ms.is_finite() => Some(Timestamp(ms as i64)),
                Some(_) => {
                    return Err(RecordProblem {
                        field,
                        problem: "must be a finite time (Unix milliseconds)",
                    })
                }
            };
        }
        let [created_at, last_used_at, revoked_at, expires_at] = times;
        Ok(CoreRecord {
            id: self.id,
            name: self.name,
            hint: self.hint,
            organization_id: self.organization_id,
            created_by: self.created_by,
            scope,
            scoped_project_id: self.scoped_project_id,
            permissions: self.permissions,
            created_at: created_at.ok_or(RecordProblem {
                field: "createdAt",
                problem: "is required",
            })?,
            last_used_at,
            revoked_at,
            expires_at,
        })
    }
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
    error.code()
}

/// A `PolicyError` whose `field` always names the offending field: the invalid value's, or for
/// a document of the wrong shape the path serde stopped at (`document` for text that is not
/// JSON at all).
fn policy_error(error: &PolicyError, text: &str) -> JsValue {
    let field = match error {
        PolicyError::Invalid(invalid) => invalid.field().to_owned(),
        _ => {
            let mut json = serde_json::Deserializer::from_str(text);
            match serde_path_to_error::deserialize::<_, PolicyDocument>(&mut json) {
                Err(e) if e.inner().is_data() && e.path().iter().next().is_some() => e.path().to_string(),
                _ => "document".to_owned(),
            }
        }
    };
    named_error("PolicyError", &error.to_string(), Some(("field", &field)))
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
