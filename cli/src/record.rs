//! Reading a key record as the admin API returns it (`GET …/keys/{id}`, or the `key` of a
//! create answer): camelCase, times in RFC 3339 (Unix milliseconds are accepted too, as the
//! stores hold them). Unknown fields are ignored, as in policy-core's `KeyRecord`; the secret is
//! never needed.

use std::path::Path;

use keyscope_conformance::parse_time;
use policy_core::{KeyRecord, Scope, Timestamp};
use serde::Deserialize;
use serde_json::Value;

/// A time as written: RFC 3339 text or Unix milliseconds.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Time {
    Millis(i64),
    Text(String),
}

impl Time {
    fn timestamp(&self, field: &str) -> Result<Timestamp, String> {
        match self {
            Time::Millis(ms) => Ok(Timestamp(*ms)),
            Time::Text(text) => parse_time(text).map_err(|err| format!("{field}: {err}")),
        }
    }
}

/// The record as the admin API writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordFile {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    hint: String,
    organization_id: String,
    created_by: String,
    scope: Scope,
    #[serde(default)]
    scoped_project_id: Option<String>,
    #[serde(default)]
    permissions: Option<Vec<String>>,
    created_at: Time,
    #[serde(default)]
    last_used_at: Option<Time>,
    #[serde(default)]
    revoked_at: Option<Time>,
    #[serde(default)]
    expires_at: Option<Time>,
}

/// Reads the key record at `path`; errors name the file and the field.
pub fn read(path: &Path) -> Result<KeyRecord, String> {
    let at = |what: String| format!("{}: {what}", path.display());
    let text = std::fs::read_to_string(path).map_err(|err| at(err.to_string()))?;
    let mut value: Value = serde_json::from_str(&text).map_err(|err| at(err.to_string()))?;
    // A create answer (`{"secret", "key": {…}}`) holds the record under `key`.
    if value.get("id").is_none() {
        if let Some(inner) = value.get_mut("key").filter(|k| k.is_object()).map(Value::take) {
            value = inner;
        }
    }
    let file: RecordFile = serde_path_to_error::deserialize(value).map_err(|err| {
        let field = err.path().to_string();
        at(format!("{field}: {}", err.into_inner()))
    })?;
    let optional = |time: &Option<Time>, field: &str| time.as_ref().map(|t| t.timestamp(field)).transpose();
    Ok(KeyRecord {
        id: file.id,
        name: file.name,
        hint: file.hint,
        organization_id: file.organization_id,
        created_by: file.created_by,
        scope: file.scope,
        scoped_project_id: file.scoped_project_id,
        permissions: file.permissions,
        created_at: file.created_at.timestamp("createdAt").map_err(at)?,
        last_used_at: optional(&file.last_used_at, "lastUsedAt").map_err(at)?,
        revoked_at: optional(&file.revoked_at, "revokedAt").map_err(at)?,
        expires_at: optional(&file.expires_at, "expiresAt").map_err(at)?,
    })
}

/// `--now` as a timestamp, or the current time.
pub fn now(text: Option<&str>) -> Result<Timestamp, String> {
    match text {
        Some(text) => parse_time(text).map_err(|err| format!("--now: {err}")),
        None => {
            let since = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| "the system clock is before 1970".to_owned())?;
            i64::try_from(since.as_millis())
                .map(Timestamp)
                .map_err(|_| "the system clock is out of range".to_owned())
        }
    }
}
