//! Key records as they cross the boundary: the `KeyRecord` handle (a record held compiled
//! across decisions) and a record's fields as strings and numbers, checked into policy-core's
//! record (a refused field is named, never guessed).

use std::rc::Rc;

use policy_core::{
    check_scope_project, reconcile_projects, Controls, KeyRecord as CoreRecord, LifecycleError, Policy,
    PreparedKey, Scope, Timestamp,
};
use wasm_bindgen::prelude::*;

use crate::error::named_error;
use crate::protocol::RECORD_FIELDS;

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
    pub(crate) fn prepared_for(&mut self, policy: &Policy) -> Rc<PreparedKey> {
        let record = match &self.held {
            Held::Prepared(key) if key.stamp() == policy.stamp() => return Rc::clone(key),
            Held::Prepared(key) => key.record().clone(),
            Held::Record(record) => CoreRecord::clone(record),
        };
        let key = Rc::new(policy.prepare(record));
        self.held = Held::Prepared(Rc::clone(&key));
        key
    }

    /// The record as stored, whichever form is held.
    fn record(&self) -> &CoreRecord {
        match &self.held {
            Held::Record(record) => record,
            Held::Prepared(key) => key.record(),
        }
    }
}

#[wasm_bindgen]
impl KeyRecord {
    /// A record from its fields (times as Unix milliseconds). Throws an `Error` named
    /// `RecordError` whose `field` names the field at fault when they do not make one.
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
        controls: Option<String>,
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
            controls,
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

    /// The record's identity as the engine holds it: `[id, organizationId, createdBy, scope,
    /// the project filter ("p1,p2") or ""]` (read once, when the JavaScript handle is made).
    pub fn identity(&self) -> Vec<String> {
        let r = self.record();
        vec![
            r.id.clone(),
            r.organization_id.clone(),
            r.created_by.clone(),
            r.scope.as_str().to_owned(),
            r.scoped_project_ids.filter().to_string(),
        ]
    }
}

/// A record's fields as they cross the boundary: a handful of strings and numbers (cheaper
/// than JSON or serde-wasm-bindgen; see BENCHMARKS.md), in `RECORD_FIELDS` order.
pub(crate) struct RecordFields<'a> {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) hint: String,
    pub(crate) organization_id: String,
    pub(crate) created_by: String,
    pub(crate) scope: &'a str,
    pub(crate) scoped_project_id: Option<String>,
    pub(crate) permissions: Option<Vec<String>>,
    /// The `controls` JSON (see `RECORD_FIELDS`), when the record has any.
    pub(crate) controls: Option<String>,
    /// createdAt, lastUsedAt, revokedAt, expiresAt (the last four of `RECORD_FIELDS`).
    pub(crate) times: [Option<f64>; 4],
}

/// Why fields do not make a key record: the field and what is wrong with it.
pub(crate) struct RecordProblem {
    /// The field at fault, as JavaScript names it.
    pub(crate) field: &'static str,
    /// What is wrong with it, as the end of a sentence ("is required").
    pub(crate) problem: &'static str,
}

impl RecordFields<'_> {
    /// The record, or the first field that does not make one.
    pub(crate) fn into_record(self) -> Result<CoreRecord, RecordProblem> {
        let scope = Scope::from_name(self.scope).ok_or(RecordProblem {
            field: "scope",
            problem: "must be \"organization\" or \"project\"",
        })?;
        let controls: Controls = match self.controls.as_deref() {
            None => Controls::default(),
            Some(text) => serde_json::from_str(text).map_err(|e| RecordProblem {
                field: controls_field(&e.to_string()),
                problem: "is not valid (scopedProjectIds: 1-50 distinct ids; allowedCidrs: 1-20 CIDR blocks; rateLimit.perSecond: 1-10000; quota: {limit, period: day|month})",
            })?,
        };
        let projects = reconcile_projects(
            self.scoped_project_id,
            Some(controls.projects).filter(|p| !p.is_empty()),
        )
        .map_err(|_| RecordProblem {
            field: "scopedProjectIds",
            problem: "names other projects than scopedProjectId",
        })?;
        if let Err(LifecycleError::ProjectRequired) = check_scope_project(scope, &projects) {
            return Err(RecordProblem {
                field: "scopedProjectId",
                problem: "is required when scope is \"project\"",
            });
        }
        let mut times = [None; 4];
        // The times are the record's last four fields, in `times` order.
        let [.., created, last_used, revoked, expires] = RECORD_FIELDS;
        let names = [created, last_used, revoked, expires];
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
            scoped_project_ids: projects,
            allowed_cidrs: controls.allowed_cidrs,
            rate_limit: controls.rate_limit,
            quota: controls.quota,
            permissions: self.permissions,
            created_at: created_at.ok_or(RecordProblem {
                field: created,
                problem: "is required",
            })?,
            last_used_at,
            revoked_at,
            expires_at,
        })
    }
}

/// Which control a `controls` parse error is about (serde names no field for a value that its
/// type refused, so the message decides).
fn controls_field(message: &str) -> &'static str {
    if message.contains("perSecond") {
        "rateLimit"
    } else if message.contains("quota") || message.contains("period") {
        "quota"
    } else if message.contains("CIDR") || message.contains("allow-list") {
        "allowedCidrs"
    } else {
        "scopedProjectIds"
    }
}
