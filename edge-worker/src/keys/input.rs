//! Reading the input of the admin and console APIs: JSON bodies within a size limit, ids, times
//! and query strings. Everything here but [`read_body`] works on plain bytes and strings, so it is tested
//! natively.

use policy_core::{PathId, Timestamp};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use worker::Request;

use super::error::{Reason, ServiceError};
use crate::clock::parse_time;

/// Bodies of single calls are at most this large.
pub const MAX_BODY: usize = 64 * 1024;
/// Batches (resources, key imports) are at most this large.
pub const MAX_BATCH_BODY: usize = 1024 * 1024;

/// Reads a JSON body of at most `limit` bytes.
pub async fn read_body<T: DeserializeOwned>(req: &mut Request, limit: usize) -> Result<T, ServiceError> {
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
        .map_err(|_| ServiceError::invalid("the body could not be read"))?;
    parse_body(&bytes, limit)
}

fn too_large(limit: usize) -> ServiceError {
    ServiceError::new(
        Reason::PayloadTooLarge,
        format!("the body is limited to {limit} bytes"),
    )
}

/// Parses a JSON body of at most `limit` bytes.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<T, ServiceError> {
    if bytes.len() > limit {
        return Err(too_large(limit));
    }
    if bytes.is_empty() {
        return Err(ServiceError::invalid("a JSON body is required"));
    }
    serde_json::from_slice(bytes).map_err(|e| ServiceError::invalid(format!("invalid JSON body: {e}")))
}

/// An id in a path or body: what a request path can name (`PathId::is_valid`).
pub fn id<'a>(what: &str, value: &'a str) -> Result<&'a str, ServiceError> {
    if PathId::is_valid(value) {
        Ok(value)
    } else {
        Err(ServiceError::invalid(format!(
            "{what} must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-'"
        )))
    }
}

/// An RFC 3339 time in field `field`, within the years 0000–9999 in UTC (what responses can
/// write back, [`parse_time`]).
pub fn time(field: &str, value: &str) -> Result<Timestamp, ServiceError> {
    parse_time(value).ok_or_else(|| {
        ServiceError::invalid(format!(
            "{field} must be an RFC 3339 time in the years 0000-9999 (UTC), e.g. 2026-12-31T00:00:00Z"
        ))
    })
}

/// An optional RFC 3339 time.
pub fn opt_time(field: &str, value: Option<&str>) -> Result<Option<Timestamp>, ServiceError> {
    value.map(|v| time(field, v)).transpose()
}

/// An optional whole number written `60` or `60.0` (JSON does not tell them apart, and JSON
/// Schema's `integer` accepts both), for `#[serde(deserialize_with)]`. `null` is absent; a
/// fraction, a negative number or one beyond `u32` is refused.
pub fn opt_whole_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let whole = match number.as_u64() {
        Some(n) => u32::try_from(n).ok(),
        None => number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(f))
            .map(|f| f as u32),
    };
    whole
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("{number} is not a whole number from 0 to {}", u32::MAX)))
}

/// Parses a query string into `T` (unknown parameters are refused when `T` denies them).
pub fn query<T: DeserializeOwned>(url: &str) -> Result<T, ServiceError> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    serde_urlencoded::from_str(query).map_err(|e| ServiceError::invalid(format!("invalid query: {e}")))
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

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Grace {
        #[serde(default, deserialize_with = "opt_whole_u32")]
        seconds: Option<u32>,
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        let seconds = |body: &str| parse_body::<Grace>(body.as_bytes(), 64).map(|g| g.seconds);
        assert_eq!(seconds(r#"{"seconds":60}"#).unwrap(), Some(60));
        assert_eq!(seconds(r#"{"seconds":60.0}"#).unwrap(), Some(60));
        assert_eq!(seconds(r#"{"seconds":6e1}"#).unwrap(), Some(60));
        assert_eq!(seconds(r#"{"seconds":0}"#).unwrap(), Some(0));
        assert_eq!(seconds(r#"{"seconds":null}"#).unwrap(), None);
        assert_eq!(seconds("{}").unwrap(), None);
        for bad in ["60.5", "-1", "-0.5", "4294967296", "1e300", "\"60\"", "true"] {
            let err = seconds(&format!(r#"{{"seconds":{bad}}}"#)).unwrap_err();
            assert_eq!(err.reason, Reason::InvalidRequest, "{bad}");
        }
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
        // Found by the `admin_input` fuzz target: the offset carries it before the year 0000.
        let err = time("expiresAt", "0000-01-01T00:00:59+23:00").unwrap_err();
        assert_eq!(err.reason, Reason::InvalidRequest);
        assert!(err.message.contains("0000-9999"), "{}", err.message);
    }
}
