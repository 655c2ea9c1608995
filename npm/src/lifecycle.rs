//! The key lifecycle plans of `policy-core` (create, rotate, revoke, a member's role) for a
//! JavaScript backend that manages its own keys: the same rules and errors as the gateway's
//! admin API. Plans are not the hot path, so they cross the boundary as JSON (records in
//! policy-core's own camelCase form, times as Unix milliseconds).

use policy_core::{
    Actor, CreateKey, ErrorKind, Grants, KeyMaterial, KeyRecord, LifecycleError, Scope, Timestamp,
};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::engine::Engine;
use crate::error::named_error;

/// Who acts, as JavaScript gives it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ActorJson {
    user_id: String,
    role: Option<String>,
}

impl ActorJson {
    /// The actor as policy-core takes it.
    fn actor(&self) -> Actor<'_> {
        Actor {
            user_id: &self.user_id,
            role: self.role.as_deref(),
        }
    }
}

/// `planCreate`'s request.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateJson {
    organization_id: String,
    actor: ActorJson,
    name: String,
    scope: String,
    scoped_project_id: Option<String>,
    preset: Option<String>,
    permissions: Option<Vec<String>>,
    expires_at: Option<i64>,
    id: String,
    hint: String,
    now: i64,
}

/// `planRotate`'s request.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RotateJson {
    actor: ActorJson,
    key: KeyRecord,
    grace_period_seconds: Option<u32>,
    id: String,
    hint: String,
    now: i64,
}

/// `planRevoke`'s request.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RevokeJson {
    actor: ActorJson,
    key: KeyRecord,
    now: i64,
}

#[wasm_bindgen]
impl Engine {
    /// Plans a new key (see `Policy::plan_create`): the record to store, as JSON. Throws an
    /// `Error` named `LifecycleError` (`code`, `field`, `status`).
    #[wasm_bindgen(js_name = planCreate)]
    pub fn plan_create(&self, request: &str) -> Result<String, JsValue> {
        let ask: CreateJson = parse(request)?;
        let scope = Scope::from_name(&ask.scope)
            .ok_or_else(|| named_error("TypeError", "scope must be \"organization\" or \"project\"", None))?;
        let grants = match (&ask.preset, &ask.permissions) {
            (Some(_), Some(_)) => {
                return Err(named_error(
                    "TypeError",
                    "give preset or permissions, not both",
                    None,
                ))
            }
            (Some(preset), None) => Grants::Preset(preset),
            (None, Some(list)) => Grants::Explicit(list),
            (None, None) => Grants::Inherit,
        };
        let plan = CreateKey {
            name: &ask.name,
            scope,
            project_id: ask.scoped_project_id.as_deref(),
            grants,
            expires_at: ask.expires_at.map(Timestamp),
        };
        let material = KeyMaterial {
            id: &ask.id,
            hint: &ask.hint,
        };
        let record = self
            .inner
            .policy()
            .plan_create(
                &ask.organization_id,
                ask.actor.actor(),
                &plan,
                material,
                Timestamp(ask.now),
            )
            .map_err(|e| lifecycle_error(&e))?;
        Ok(json(&record))
    }

    /// Plans a rotation (see `Policy::plan_rotate`): `{"new": record, "oldRevokedAt": ms or
    /// null}`.
    #[wasm_bindgen(js_name = planRotate)]
    pub fn plan_rotate(&self, request: &str) -> Result<String, JsValue> {
        let ask: RotateJson = parse(request)?;
        let material = KeyMaterial {
            id: &ask.id,
            hint: &ask.hint,
        };
        let plan = self
            .inner
            .policy()
            .plan_rotate(
                ask.actor.actor(),
                &ask.key,
                ask.grace_period_seconds,
                material,
                Timestamp(ask.now),
            )
            .map_err(|e| lifecycle_error(&e))?;
        Ok(json(&serde_json::json!({
            "new": plan.new,
            "oldRevokedAt": plan.old_revoked_at,
        })))
    }

    /// Plans a revocation (see `Policy::plan_revoke`): `{"revokedAt": ms, "changed": bool}`.
    #[wasm_bindgen(js_name = planRevoke)]
    pub fn plan_revoke(&self, request: &str) -> Result<String, JsValue> {
        let ask: RevokeJson = parse(request)?;
        let plan = self
            .inner
            .policy()
            .plan_revoke(ask.actor.actor(), &ask.key, Timestamp(ask.now))
            .map_err(|e| lifecycle_error(&e))?;
        Ok(json(&serde_json::json!({
            "revokedAt": plan.revoked_at,
            "changed": plan.changed,
        })))
    }

    /// Checks a member's role (see `Policy::plan_member_role`).
    #[wasm_bindgen(js_name = planMemberRole)]
    pub fn plan_member_role(&self, role: &str) -> Result<(), JsValue> {
        self.inner
            .policy()
            .plan_member_role(role)
            .map_err(|e| lifecycle_error(&e))
    }
}

/// A lifecycle request from its JSON, or a `TypeError` saying what is wrong with it.
fn parse<'a, T: Deserialize<'a>>(request: &'a str) -> Result<T, JsValue> {
    serde_json::from_str(request)
        .map_err(|e| named_error("TypeError", &format!("lifecycle request: {e}"), None))
}

/// A plan's answer as JSON.
fn json<T: serde::Serialize>(value: &T) -> String {
    // INVARIANT: records and plans are strings, numbers, options and lists: they serialize.
    serde_json::to_string(value).unwrap_or_default()
}

/// A stable code per rule.
fn code(error: &LifecycleError) -> &'static str {
    match error {
        LifecycleError::NotAMember => "not_a_member",
        LifecycleError::MayNotCreate { .. } => "may_not_create",
        LifecycleError::ProjectRequired => "project_required",
        LifecycleError::ProjectNotAllowed => "project_not_allowed",
        LifecycleError::UnknownPreset { .. } => "unknown_preset",
        LifecycleError::UnknownPermissions(_) => "unknown_permissions",
        LifecycleError::MalformedPermissions(_) => "malformed_permissions",
        LifecycleError::BeyondRole { .. } => "beyond_role",
        LifecycleError::NotYours => "not_yours",
        LifecycleError::InvalidId { .. } => "invalid_id",
        LifecycleError::InvalidName => "invalid_name",
        LifecycleError::InvalidHint => "invalid_hint",
        LifecycleError::InvalidKeyHash => "invalid_key_hash",
        LifecycleError::TimeOutOfRange { .. } => "time_out_of_range",
        LifecycleError::ExpiryNotInFuture => "expiry_not_in_future",
        LifecycleError::GraceTooLong { .. } => "grace_too_long",
        LifecycleError::KeyRevoked => "key_revoked",
        LifecycleError::KeyExpired => "key_expired",
        LifecycleError::UnknownRole { .. } => "unknown_role",
        LifecycleError::Duplicate { .. } => "duplicate",
        _ => "lifecycle",
    }
}

/// A `LifecycleError` for JavaScript: message, `code`, `field` (empty when none), `status` and
/// `kind` (`invalid`, `forbidden`, `conflict`) as a `code\nfield\nstatus\nkind` extra.
fn lifecycle_error(error: &LifecycleError) -> JsValue {
    let kind = match error.kind() {
        ErrorKind::Invalid => "invalid",
        ErrorKind::Forbidden => "forbidden",
        ErrorKind::Conflict => "conflict",
        _ => "invalid",
    };
    let extra = format!(
        "{}\n{}\n{}\n{kind}",
        code(error),
        error.field().unwrap_or(""),
        error.kind().status()
    );
    named_error("LifecycleError", &error.to_string(), Some(("details", &extra)))
}
