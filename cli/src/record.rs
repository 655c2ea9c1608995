//! Reading a key record as the admin API returns it (`GET …/keys/{id}`, or the `key` of a
//! create answer): camelCase, times in RFC 3339 (Unix milliseconds are accepted too, as the
//! stores hold them). Unknown fields are ignored, as in policy-core's `KeyRecord`; the secret is
//! never needed.

use std::path::Path;

use keyscope_conformance::parse_time;
use policy_core::{KeyRecord, Timestamp};
use serde_json::Value;

/// The record's times: RFC 3339 text in the admin API's answers, Unix milliseconds in
/// policy-core's `KeyRecord` (and in the stores).
const TIMES: [&str; 4] = ["createdAt", "lastUsedAt", "revokedAt", "expiresAt"];

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
    if let Value::Object(fields) = &mut value {
        for name in TIMES {
            if let Some(Value::String(text)) = fields.get(name) {
                let Timestamp(ms) = parse_time(text).map_err(|err| at(format!("{name}: {err}")))?;
                fields.insert(name.to_owned(), ms.into());
            }
        }
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let field = err.path().to_string();
        at(format!("{field}: {}", err.into_inner()))
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
