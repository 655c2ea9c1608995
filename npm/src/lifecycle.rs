//! The key lifecycle plans of `policy-core` (create, rotate, revoke, a member's role) for a
//! JavaScript backend that manages its own keys, and what a key list shows of a key (its status
//! at `now`, its preset, who may change it): the same rules, errors and codes as the gateway's
//! admin API and console. Plans are not the hot path, so they cross the boundary as JSON
//! (records in policy-core's own camelCase form, times as Unix milliseconds).

use policy_core::{
    Actor, ControlsAsk, CreateKey, GracePeriod, Grants, KeyMaterial, KeyRecord, LifecycleError, Quota,
    RateLimit, Scope, Timestamp,
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
    #[serde(default)]
    scoped_project_ids: Option<Vec<String>>,
    preset: Option<String>,
    permissions: Option<Vec<String>>,
    expires_at: Option<i64>,
    #[serde(default)]
    allowed_cidrs: Option<Vec<String>>,
    #[serde(default)]
    rate_limit: Option<RateLimit>,
    #[serde(default)]
    quota: Option<Quota>,
    id: String,
    hint: String,
    now: i64,
}

/// `planRotate`'s request. The grace period is read by policy-core's one rule
/// ([`GracePeriod::from_json`]), so that a wrong one is a `LifecycleError` as on the gateway.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RotateJson {
    actor: ActorJson,
    key: KeyRecord,
    #[serde(default)]
    grace_period_seconds: Option<serde_json::Value>,
    id: String,
    hint: String,
    now: i64,
}

/// `planRevoke`'s and `checkKeyChange`'s request (`now` is not read by the latter).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChangeJson {
    actor: ActorJson,
    key: KeyRecord,
    #[serde(default)]
    now: i64,
}

/// `keyStatus`'s and `keyStanding`'s request (`actor` is the viewer, for the latter only).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StatusJson {
    key: KeyRecord,
    creator_role: Option<String>,
    now: i64,
    #[serde(default)]
    actor: Option<ActorJson>,
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
        let grants = Grants::from_request(ask.preset.as_deref(), ask.permissions.as_deref())
            .map_err(|e| lifecycle_error(&e))?;
        let plan = CreateKey {
            name: &ask.name,
            scope,
            controls: ControlsAsk {
                scoped_project_id: ask.scoped_project_id.as_deref(),
                scoped_project_ids: ask.scoped_project_ids.as_deref(),
                allowed_cidrs: ask.allowed_cidrs.as_deref(),
                rate_limit: ask.rate_limit,
                quota: ask.quota,
            },
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
        let grace =
            GracePeriod::from_json(ask.grace_period_seconds.as_ref()).map_err(|e| lifecycle_error(&e))?;
        let material = KeyMaterial {
            id: &ask.id,
            hint: &ask.hint,
        };
        let plan = self
            .inner
            .policy()
            .plan_rotate(ask.actor.actor(), &ask.key, grace, material, Timestamp(ask.now))
            .map_err(|e| lifecycle_error(&e))?;
        Ok(json(&serde_json::json!({
            "new": plan.new,
            "oldRevokedAt": plan.old_revoked_at,
        })))
    }

    /// Plans a revocation (see `Policy::plan_revoke`): `{"revokedAt": ms, "changed": bool}`.
    #[wasm_bindgen(js_name = planRevoke)]
    pub fn plan_revoke(&self, request: &str) -> Result<String, JsValue> {
        let ask: ChangeJson = parse(request)?;
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

    /// Checks that `actor` may revoke or rotate `key` (see `Policy::check_key_change`); throws
    /// a `LifecycleError` (`not_a_member`, `not_yours`) if not.
    #[wasm_bindgen(js_name = checkKeyChange)]
    pub fn check_key_change(&self, request: &str) -> Result<(), JsValue> {
        let ask: ChangeJson = parse(request)?;
        self.inner
            .policy()
            .check_key_change(&ask.key, &ask.actor.user_id, ask.actor.role.as_deref())
            .map_err(|e| lifecycle_error(&e))
    }

    /// A key's status at `now` with its creator's current role (see `Policy::key_status`):
    /// `active`, `revoked`, `expired` or `creator_left`.
    #[wasm_bindgen(js_name = keyStatus)]
    pub fn key_status(&self, request: &str) -> Result<String, JsValue> {
        let ask: StatusJson = parse(request)?;
        let status =
            self.inner
                .policy()
                .key_status(&ask.key, ask.creator_role.as_deref(), Timestamp(ask.now));
        Ok(status.as_str().to_owned())
    }

    /// Where a key stands for its viewer `actor` at `now`, as a key list shows it (see
    /// `Policy::key_standing`): JSON `{"preset", "status", "canChange", "canRotate",
    /// "canRevoke", "canEditControls"}`.
    #[wasm_bindgen(js_name = keyStanding)]
    pub fn key_standing(&self, request: &str) -> Result<String, JsValue> {
        let ask: StatusJson = parse(request)?;
        let viewer = ask
            .actor
            .as_ref()
            .ok_or_else(|| named_error("TypeError", "keyStanding needs the viewing actor", None))?;
        let standing = self.inner.policy().key_standing(
            &ask.key,
            ask.creator_role.as_deref(),
            viewer.actor(),
            Timestamp(ask.now),
        );
        Ok(json(&standing))
    }

    /// The preset that explicit grants amount to (`null` permissions: the inheriting preset),
    /// or `undefined` (see `Policy::preset_of`). `permissions` is a JSON list or `null`.
    #[wasm_bindgen(js_name = presetOf)]
    pub fn preset_of(&self, permissions: &str) -> Result<Option<String>, JsValue> {
        let list: Option<Vec<String>> = parse(permissions)?;
        Ok(self.inner.policy().preset_of(list.as_deref()).map(str::to_owned))
    }

    /// What a member of `role` (absent: no member) may do with keys, as JSON
    /// `{"createOrganizationKeys", "createProjectKeys", "manageEveryKey"}` (see
    /// `Policy::key_abilities`).
    #[wasm_bindgen(js_name = keyAbilities)]
    pub fn key_abilities(&self, role: Option<String>) -> String {
        json(&self.inner.policy().key_abilities(role.as_deref()))
    }

    /// The policy's presets, in policy order.
    #[wasm_bindgen(getter)]
    pub fn presets(&self) -> Vec<String> {
        self.inner.policy().presets().map(str::to_owned).collect()
    }

    /// The path of the policy's `/me` view, base path included (`/api/v1/me`), if it has one.
    #[wasm_bindgen(getter, js_name = mePath)]
    pub fn me_path(&self) -> Option<String> {
        self.inner.policy().me_path()
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

/// A `LifecycleError` for JavaScript: message, `code` (policy-core's rule code), `field` (empty
/// when none), `status` and `kind` (`invalid`, `forbidden`, `conflict`) as a
/// `code\nfield\nstatus\nkind` extra.
fn lifecycle_error(error: &LifecycleError) -> JsValue {
    let kind = error.kind();
    let extra = format!(
        "{}\n{}\n{}\n{}",
        error.code(),
        error.field().unwrap_or(""),
        kind.status(),
        kind.as_str()
    );
    named_error("LifecycleError", &error.to_string(), Some(("details", &extra)))
}
