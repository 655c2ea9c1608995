//! D1 rows and the KV projection: the only place a row becomes a [`KeyRecord`] and back.
//!
//! Every stored form here tolerates fields and columns it does not know, whatever deserializer
//! reads it (serde-wasm-bindgen for KV and D1 today, `serde_json` elsewhere): during a gradual
//! deployment, or after a rollback, a newer version may have written them. Request bodies stay
//! strict; stored data is read as far as it is understood.

use policy_core::{Controls, KeyRecord, ProjectIds, Scope, Timestamp};
use serde::{Deserialize, Serialize};
use worker::wasm_bindgen::JsValue;

use super::StoreError;

/// A key's hot-path projection in KV (`key:<sha256>`): the record and its creator's role.
/// The `strict` store mode reads only the immutable fields from it; the `kv` mode reads all.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyEntry {
    /// The key's metadata.
    pub record: KeyRecord,
    /// The creator's current role in the key's organization; null once removed.
    pub role: Option<String>,
}

/// A resource's owner (`res:<kind>:<id>` in KV, a `resources` row in D1).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    /// Owning organization.
    pub organization_id: String,
    /// Owning project.
    pub project_id: String,
}

/// A joined `api_keys` + `members` row ([`super::layout::KEY_ROW_SELECT`]).
#[derive(Deserialize)]
pub struct KeyRow {
    key_hash: String,
    id: String,
    name: String,
    hint: String,
    organization_id: String,
    created_by: String,
    scope: String,
    scoped_project_id: Option<String>,
    permissions: Option<String>,
    /// The key's controls beyond one project (policy-core's `Controls` as JSON), if any.
    #[serde(default)]
    controls: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
    creator_role: Option<String>,
    /// When a secret-scanning report marked the key leaked (flag mode); not in the record: the
    /// hot path does not read it.
    #[serde(default)]
    leaked_at: Option<i64>,
}

impl KeyRow {
    /// The key's hash (lowercase hex).
    pub fn key_hash(&self) -> &str {
        &self.key_hash
    }

    /// When a secret-scanning report marked the key leaked, if one did.
    pub fn leaked_at(&self) -> Option<Timestamp> {
        self.leaked_at.map(Timestamp)
    }

    /// The row as the record and creator role the hot path reads.
    pub fn into_entry(self) -> Result<KeyEntry, StoreError> {
        let scope =
            Scope::from_name(&self.scope).ok_or_else(|| StoreError::D1(format!("scope {:?}", self.scope)))?;
        let permissions = match self.permissions {
            None => None,
            Some(text) => {
                Some(serde_json::from_str(&text).map_err(|e| StoreError::D1(format!("permissions: {e}")))?)
            }
        };
        let controls: Controls = match self.controls {
            None => Controls::default(),
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| StoreError::D1(format!("controls: {e}")))?
            }
        };
        // A key of several projects keeps the first in `scoped_project_id` ([`controls_json`]).
        let several = Some(controls.projects).filter(|p| !p.is_empty());
        let projects = match (self.scoped_project_id, several) {
            (Some(first), Some(all)) if all.as_slice().first() == Some(&first) => all,
            (Some(_), Some(_)) => {
                return Err(StoreError::D1(
                    "controls: scopedProjectIds does not start with scoped_project_id".into(),
                ))
            }
            (one, None) => one.map_or_else(ProjectIds::none, ProjectIds::one),
            (None, Some(all)) => all,
        };
        Ok(KeyEntry {
            record: KeyRecord {
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
                permissions,
                created_at: Timestamp(self.created_at),
                last_used_at: self.last_used_at.map(Timestamp),
                revoked_at: self.revoked_at.map(Timestamp),
                expires_at: self.expires_at.map(Timestamp),
            },
            role: self.creator_role,
        })
    }
}

/// The `controls` column of a key row: JSON, or `None` when the key has none.
pub fn controls_json(r: &KeyRecord) -> Result<Option<String>, StoreError> {
    // A key of one project keeps it in `scoped_project_id` only; several are all here.
    let controls = Controls {
        projects: if r.scoped_project_ids.len() > 1 {
            r.scoped_project_ids.clone()
        } else {
            ProjectIds::none()
        },
        allowed_cidrs: r.allowed_cidrs.clone(),
        rate_limit: r.rate_limit,
        quota: r.quota,
    };
    if controls.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(&controls)
        .map(Some)
        .map_err(|e| StoreError::D1(e.to_string()))
}

/// The `controls` parameter of a key row: JSON, or NULL when the key has none.
pub fn controls_param(r: &KeyRecord) -> Result<JsValue, StoreError> {
    Ok(controls_json(r)?.map_or(JsValue::NULL, |json| text(&json)))
}

/// `record` with the controls that can change (allow-list, rate, quota) as the `controls`
/// column `json` holds them now; its projects stay as they are (they never change).
pub fn with_controls(mut record: KeyRecord, json: Option<&str>) -> Result<KeyRecord, StoreError> {
    let controls: Controls = match json {
        None => Controls::default(),
        Some(text) => serde_json::from_str(text).map_err(|e| StoreError::D1(format!("controls: {e}")))?,
    };
    record.allowed_cidrs = controls.allowed_cidrs;
    record.rate_limit = controls.rate_limit;
    record.quota = controls.quota;
    Ok(record)
}

/// A D1 text parameter.
pub fn text(value: &str) -> JsValue {
    JsValue::from_str(value)
}

/// A D1 text parameter or NULL.
pub fn opt_text(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from_str)
}

/// A D1 time parameter (Unix ms) or NULL.
pub fn opt_time(value: Option<Timestamp>) -> JsValue {
    value.map_or(JsValue::NULL, time)
}

/// A D1 time parameter (Unix ms).
pub fn time(value: Timestamp) -> JsValue {
    JsValue::from_f64(value.0 as f64)
}

/// The `INSERT` parameters of a key row, in [`super::layout::KEY_INSERT`]'s order.
pub fn key_insert_params(hash_hex: &str, r: &KeyRecord) -> Result<Vec<JsValue>, StoreError> {
    let permissions = match &r.permissions {
        None => JsValue::NULL,
        Some(list) => text(&serde_json::to_string(list).map_err(|e| StoreError::D1(e.to_string()))?),
    };
    Ok(vec![
        text(&r.id),
        text(hash_hex),
        text(&r.organization_id),
        text(&r.created_by),
        text(&r.name),
        text(&r.hint),
        text(r.scope.as_str()),
        opt_text(r.scoped_project_ids.as_slice().first().map(String::as_str)),
        permissions,
        time(r.created_at),
        opt_time(r.last_used_at),
        opt_time(r.revoked_at),
        opt_time(r.expires_at),
        controls_param(r)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = r#"{"record":{"id":"key_1","name":"CI","hint":"abcd","organizationId":"org_1",
        "createdBy":"u_1","scope":"project","scopedProjectId":"p_1","permissions":null,
        "createdAt":1,"lastUsedAt":null,"revokedAt":null,"expiresAt":null},"role":"admin"}"#;

    #[test]
    fn a_projection_written_by_a_newer_version_still_reads() {
        let mut newer: serde_json::Value = serde_json::from_str(ENTRY).unwrap();
        newer["version"] = 2.into();
        newer["record"]["environment"] = "live".into();
        newer["record"]["labels"] = serde_json::json!({ "team": "web" });
        let entry: KeyEntry = serde_json::from_value(newer).unwrap();
        let known: KeyEntry = serde_json::from_str(ENTRY).unwrap();
        assert_eq!(entry.record, known.record);
        assert_eq!(entry.role.as_deref(), Some("admin"));
        assert_eq!(entry.record.scoped_project_ids.single(), Some("p_1"));
        // What a known field holds is still checked.
        let mut wrong: serde_json::Value = serde_json::from_str(ENTRY).unwrap();
        wrong["record"]["scope"] = "galaxy".into();
        assert!(serde_json::from_value::<KeyEntry>(wrong).is_err());
    }

    #[test]
    fn a_resource_owner_written_by_a_newer_version_still_reads() {
        let owner: Owner =
            serde_json::from_str(r#"{"organizationId":"org_1","projectId":"p_1","region":"eu"}"#).unwrap();
        assert_eq!(
            (owner.organization_id.as_str(), owner.project_id.as_str()),
            ("org_1", "p_1")
        );
    }
}
