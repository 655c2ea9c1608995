//! The store's answers: what a decision at a lookup step asks for (`lookupHash`,
//! `lookupResource`) and the `provide*` calls that answer it. A record the engine cannot use,
//! or a failed lookup, denies `503 unavailable` (fail closed).

use std::rc::Rc;

use policy_core::{KeyState, PreparedKey, ResourceOwner, Step as CoreStep};
use wasm_bindgen::prelude::*;

use crate::engine::{Engine, Pending};
use crate::record::{KeyRecord, RecordFields};

#[wasm_bindgen]
impl Engine {
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
        controls: Option<String>,
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
            controls,
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

    /// The project filter of the key the decision in `slot` was given (`"p1,p2"`: its projects,
    /// sorted and joined), or `undefined` when it has none; for records given field by field
    /// with `controls`.
    #[wasm_bindgen(js_name = keyProjectFilter)]
    pub fn key_project_filter(&self, slot: u32) -> Option<String> {
        let record = self.auth(slot)?.record()?;
        (!record.scoped_project_ids.is_empty()).then(|| record.scoped_project_ids.filter().to_string())
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
}

/// Answers `LookupKey` with a compiled key; its revocation and expiry are the record's own (the
/// store's answer for this request).
fn provide_prepared(auth: &mut Pending<'_>, key: Rc<PreparedKey>) -> Result<(), policy_core::StepError> {
    let state = KeyState::of(key.record());
    auth.provide_prepared(key, state)
}
