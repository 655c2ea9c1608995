//! The engine: a compiled policy, and the decisions in progress held in numbered slots (a
//! decision costs no JavaScript object). Starting a decision and the slots' bookkeeping live
//! here; the store's answers in `lookup.rs`, a finished decision's outcome in `outcome.rs`, the
//! lifecycle plans in `lifecycle.rs`.

use std::rc::Rc;

use policy_core::{
    client_address, target_of_url, Authorization, Decision as CoreDecision, Environment, KeyHash, KeyHeaders,
    Policy, PreparedKey, RoleId, Step as CoreStep, Timestamp,
};
use wasm_bindgen::prelude::*;

use crate::error::{named_error, policy_error};
use crate::outcome::DenialKey;
use crate::protocol::{Step, METHODS, NARROW_PERMISSIONS, ROLE_RADIX};

/// A decision in progress. Every key reaches it compiled (`PreparedKey`): a `KeyRecord` handle
/// holds its compiled form across decisions; a record given field by field is compiled for its
/// one decision (the same work the raw-record path does once per decision).
pub(crate) type Pending<'p> = Authorization<'p, Rc<PreparedKey>>;

/// What a decision in progress borrows: the compiled engine, and the request URL whose target
/// the decision reads its path parameters from (moved in from JavaScript's string, not copied).
pub(crate) struct Held {
    engine: Rc<policy_core::Engine>,
    url: String,
}

self_cell::self_cell!(
    /// A decision in progress together with what it borrows from.
    struct Cell {
        owner: Held,
        #[covariant]
        dependent: Pending,
    }
);

/// The Align policy document (JSON), as policy-core compiles it by default.
#[wasm_bindgen(js_name = alignPolicyJson)]
pub fn align_policy_json() -> String {
    policy_core::ALIGN_POLICY_JSON.to_owned()
}

/// A compiled policy and the key environment it serves, holding the decisions in progress.
///
/// Decisions live inside the engine, addressed by a slot number, so that a decision costs no
/// JavaScript object: `start` → `provide*` (each returns the next [`Step`]) → a final outcome,
/// which releases the slot (or `finishMe` / `finishAllowWide` for the allows it cannot carry).
#[wasm_bindgen]
pub struct Engine {
    pub(crate) inner: Rc<policy_core::Engine>,
    slots: Vec<Option<Cell>>,
    free: Vec<u32>,
    /// Every distinct denial body handed out so far, so that JavaScript can cache them by
    /// number (a policy yields a few dozen at most).
    pub(crate) denials: Vec<(DenialKey, String)>,
    /// Hashes of keys seen before, at indices the caller chooses (see `rememberHash`).
    known: Vec<KeyHash>,
    /// The policy's roles resolved once, in `roles` order (`provideRoleIndex` answers with
    /// them: no role name is looked up per decision).
    pub(crate) role_ids: Vec<Option<RoleId>>,
    /// Whether an allow's permission set fits in its outcome number.
    pub(crate) narrow: bool,
    /// Why the last record given field by field was refused (`field\nproblem`), for the
    /// caller's store error report.
    pub(crate) record_problem: Option<String>,
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
            None => Policy::align().map_err(|e| policy_error(&e, policy_core::ALIGN_POLICY_JSON))?,
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

    /// The policy's key prefix (`keyPrefix`, default `ck`).
    #[wasm_bindgen(getter, js_name = keyPrefix)]
    pub fn key_prefix(&self) -> String {
        self.inner.policy().key_prefix().as_str().to_owned()
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
        self.inner.policy().covers(url)
    }

    /// How many decisions are in progress (started and not yet finished).
    #[wasm_bindgen(getter, js_name = pending)]
    pub fn pending(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Starts a decision in `slot` (a number from `reserve`). `url` is an absolute URL or a
    /// request target (`/path?query`), taken as written. The header values are those of
    /// `X-Api-Key` and `Authorization`; `client_ip` the client's address, when the caller knows
    /// it (a key with an address allow-list is refused without one). `now` is Unix
    /// milliseconds. Returns the outcome: `step + 8 × payload` (see [`Step`]).
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        &mut self,
        slot: u32,
        method: &str,
        url: String,
        x_api_key: Option<String>,
        authorization: Option<String>,
        client_ip: Option<String>,
        now: f64,
    ) -> f64 {
        let headers = KeyHeaders::from_strs(x_api_key.as_deref(), authorization.as_deref());
        let presented = self.inner.presented_key(&headers);
        let client = client_ip.as_deref().and_then(client_address);
        let now = Timestamp(now as i64);
        let cell = Cell::new(self.held(url), |held| {
            held.engine
                .authorize_presented(presented, method, target_of_url(&held.url), client, now)
        });
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
    pub fn start_known(
        &mut self,
        slot: u32,
        method: u32,
        url: String,
        index: u32,
        client_ip: Option<String>,
        now: f64,
    ) -> f64 {
        let (Some(&hash), Some(&method)) = (self.known.get(index as usize), METHODS.get(method as usize))
        else {
            return self.outcome(slot, Step::Deny);
        };
        let client = client_ip.as_deref().and_then(client_address);
        let now = Timestamp(now as i64);
        let cell = Cell::new(self.held(url), |held| {
            held.engine
                .authorize_hash(hash, method, target_of_url(&held.url), client, now)
        });
        self.occupy(slot, cell)
    }

    /// What a decision started now borrows: this engine and the request URL.
    fn held(&self, url: String) -> Held {
        Held {
            engine: Rc::clone(&self.inner),
            url,
        }
    }

    /// A free slot for `start` (released when the decision's outcome is final).
    pub fn reserve(&mut self) -> u32 {
        if let Some(slot) = self.free.pop() {
            return slot;
        }
        self.slots.push(None);
        (self.slots.len() - 1) as u32
    }
}

/// The step a decision is at, as the boundary numbers it.
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
    /// The decision in `slot`, if one is in progress there.
    pub(crate) fn auth(&self, slot: u32) -> Option<&Pending<'_>> {
        self.slots
            .get(slot as usize)?
            .as_ref()
            .map(Cell::borrow_dependent)
    }

    /// Gives the decision in `slot` a store's answer through `f`; returns the next outcome. A
    /// slot with no decision, or an answer out of order, denies `503`.
    pub(crate) fn answer(
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

    /// Puts a decision just started into `slot` (one `reserve` handed out); returns its outcome.
    fn occupy(&mut self, slot: u32, cell: Cell) -> f64 {
        let step = step_of(cell.borrow_dependent());
        match self.slots.get_mut(slot as usize) {
            Some(entry @ None) => *entry = Some(cell),
            // Not a reserved slot: a caller bug, answered `503`.
            _ => return self.outcome(slot, Step::Deny),
        }
        self.outcome(slot, step)
    }

    /// Frees `slot` for the next decision.
    pub(crate) fn release(&mut self, slot: u32) {
        if let Some(entry @ Some(_)) = self.slots.get_mut(slot as usize) {
            *entry = None;
            self.free.push(slot);
        }
    }
}
