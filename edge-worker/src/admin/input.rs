//! Reading the admin API's input: JSON bodies within a size limit, ids, times and query
//! strings. Everything here but [`read_body`] works on plain bytes and strings, so it is tested
//! natively.

use policy_core::{PathId, Timestamp};
use serde::de::DeserializeOwned;
use worker::Request;

use super::error::{AdminError, Reason};
use crate::clock::parse_time;

/// Bodies of single calls are at most this large.
pub const MAX_BODY: usize = 64 * 1024;
/// Batches (resources, key imports) are at most this large.
pub const MAX_BATCH_BODY: usize = 1024 * 1024;

/// Reads a JSON body of at most `limit` bytes.
pub async fn read_body<T: DeserializeOwned>(req: &mut Request, limit: usize) -> Result<T, AdminError> {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let bytes = req
        .bytes()
        .await
        .map_err(|_| AdminError::invalid("the body could not be read"))?;
    parse_body(&bytes, limit)
}

fn too_large(limit: usize) -> AdminError {
    AdminError::new(
        Reason::PayloadTooLarge,
        format!("the body is limited to {limit} bytes"),
    )
}

/// Parses a JSON body of at most `limit` bytes.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<T, AdminError> {
    if bytes.len() > limit {
        return Err(too_large(limit));
    }
    if bytes.is_empty() {
        return Err(AdminError::invalid("a JSON body is required"));
    }
    serde_json::from_slice(bytes).map_err(|e| AdminError::invalid(format!("invalid JSON body: {e}")))
}

/// An id in a path or body: what a request path can name (`PathId::is_valid`).
pub fn id<'a>(what: &str, value: &'a str) -> Result<&'a str, AdminError> {
    if PathId::is_valid(value) {
        Ok(value)
    } else {
        Err(AdminError::invalid(format!(
            "{what} must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-'"
        )))
    }
}

/// An RFC 3339 time in field `field`.
pub fn time(field: &str, value: &str) -> Result<Timestamp, AdminError> {
    parse_time(value).ok_or_else(|| {
        AdminError::invalid(format!(
            "{field} must be an RFC 3339 time, e.g. 2026-12-31T00:00:00Z"
        ))
    })
}

/// An optional RFC 3339 time.
pub fn opt_time(field: &str, value: Option<&str>) -> Result<Option<Timestamp>, AdminError> {
    value.map(|v| time(field, v)).transpose()
}

/// Parses a query string into `T` (unknown parameters are refused when `T` denies them).
pub fn query<T: DeserializeOwned>(url: &str) -> Result<T, AdminError> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    serde_urlencoded::from_str(query).map_err(|e| AdminError::invalid(format!("invalid query: {e}")))
}

/// A fresh key id: `key_` and 24 hex digits from the platform's CSPRNG.
pub fn new_key_id() -> Result<String, AdminError> {
    let bytes = random_bytes::<12>()?;
    Ok(format!("key_{}", hex::encode(bytes)))
}

/// Bytes from the platform's CSPRNG (Web Crypto).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AdminError> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|_| {
        AdminError::new(
            Reason::Unavailable,
            "the random source failed; nothing was created",
        )
    })?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct ListQuery {
        created_by: Option<String>,
    }

    #[test]
    fn bodies_are_bounded_present_and_json() {
        let ok: serde_json::Value = parse_body(b"{\"a\":1}", 64).unwrap();
        assert_eq!(ok["a"], 1);
        assert_eq!(
            parse_body::<serde_json::Value>(&[b' '; 65], 64)
                .unwrap_err()
                .reason,
            Reason::PayloadTooLarge
        );
        assert_eq!(
            parse_body::<serde_json::Value>(b"", 64).unwrap_err().reason,
            Reason::InvalidRequest
        );
        let bad = parse_body::<serde_json::Value>(b"{", 64).unwrap_err();
        assert!(bad.message.starts_with("invalid JSON body"), "{}", bad.message);
    }

    #[test]
    fn ids_follow_the_path_id_rule() {
        assert_eq!(id("user id", "u_1-A").unwrap(), "u_1-A");
        for bad in ["", "a b", "é", "a/b", &"x".repeat(65)] {
            let err = id("user id", bad).unwrap_err();
            assert!(err.message.starts_with("user id must be"), "{bad:?}");
        }
    }

    #[test]
    fn queries_decode_and_refuse_unknown_parameters() {
        let q: ListQuery = query("https://x/admin?createdBy=u%5F1").unwrap();
        assert_eq!(q.created_by.as_deref(), Some("u_1"));
        let q: ListQuery = query("https://x/admin").unwrap();
        assert_eq!(q, ListQuery { created_by: None });
        assert!(query::<ListQuery>("https://x/admin?limit=3").is_err());
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(
            time("expiresAt", "1970-01-01T00:00:01Z").unwrap(),
            Timestamp(1000)
        );
        assert!(time("expiresAt", "tomorrow")
            .unwrap_err()
            .message
            .contains("expiresAt"));
        assert_eq!(opt_time("x", None).unwrap(), None);
    }
}
