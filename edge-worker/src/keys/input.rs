//! Reading the input of the admin and console APIs: JSON bodies within a size limit, ids, times
//! and query strings. Everything here but [`read_body`] works on plain bytes and strings, so it is tested
//! natively.

use policy_core::{
    ControlsAsk, ControlsChange, CreateKey, GracePeriod, Grants, PathId, Quota, RateLimit, Scope, Timestamp,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
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

/// A listing's `limit` query value: a whole number from 1 to `max`; `default` when absent.
pub fn limit(text: Option<&str>, max: usize, default: usize) -> Result<usize, ServiceError> {
    match text {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| ServiceError::invalid(format!("limit must be a whole number from 1 to {max}"))),
    }
}

/// An optional RFC 3339 time.
pub fn opt_time(field: &str, value: Option<&str>) -> Result<Option<Timestamp>, ServiceError> {
    value.map(|v| time(field, v)).transpose()
}

/// A rotation's `gracePeriodSeconds` as the body carried it (a JSON value, `None` when absent):
/// policy-core's one rule ([`GracePeriod::from_json`]), so that the admin API, the console and
/// the npm plans answer the same period the same way, with the same `code`.
pub fn grace(value: Option<&serde_json::Value>) -> Result<Option<GracePeriod>, ServiceError> {
    Ok(GracePeriod::from_json(value)?)
}

/// The body that creates a key, in the admin API (`actingUserId` names who acts) and the
/// console (the session's user acts, so `actingUserId` is refused there): one field list, one
/// reading.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateBody {
    /// Who acts (admin API only).
    #[serde(default)]
    pub acting_user_id: Option<String>,
    /// The key's name.
    pub name: String,
    /// The key's scope.
    pub scope: Scope,
    /// One project.
    #[serde(default)]
    pub scoped_project_id: Option<String>,
    /// Several projects.
    #[serde(default)]
    pub scoped_project_ids: Option<Vec<String>>,
    /// A preset.
    #[serde(default)]
    pub preset: Option<String>,
    /// Explicit grants.
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
    /// The expiry (RFC 3339).
    #[serde(default)]
    pub expires_at: Option<String>,
    /// The address allow-list.
    #[serde(default)]
    pub allowed_cidrs: Option<Vec<String>>,
    /// The key's own rate.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// The key's quota.
    #[serde(default)]
    pub quota: Option<Quota>,
}

impl CreateBody {
    /// The body as a plan takes it: grants from `preset` or `permissions`
    /// ([`Grants::from_request`]), the expiry read as an RFC 3339 time.
    pub fn ask(&self) -> Result<CreateKey<'_>, ServiceError> {
        Ok(CreateKey {
            name: &self.name,
            scope: self.scope,
            controls: ControlsAsk {
                scoped_project_id: self.scoped_project_id.as_deref(),
                scoped_project_ids: self.scoped_project_ids.as_deref(),
                allowed_cidrs: self.allowed_cidrs.as_deref(),
                rate_limit: self.rate_limit,
                quota: self.quota,
            },
            grants: Grants::from_request(self.preset.as_deref(), self.permissions.as_deref())?,
            expires_at: opt_time("expiresAt", self.expires_at.as_deref())?,
        })
    }
}

/// A change of a key's allow-list and limits: each field absent (unchanged), `null` (removed)
/// or a value (set). `actingUserId` names who acts in the admin API.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControlsBody {
    /// Who acts (admin API only).
    #[serde(default)]
    pub acting_user_id: Option<String>,
    /// The address allow-list.
    #[serde(default, deserialize_with = "present")]
    pub allowed_cidrs: Option<Option<Vec<String>>>,
    /// The key's own rate.
    #[serde(default, deserialize_with = "present")]
    pub rate_limit: Option<Option<RateLimit>>,
    /// The key's quota.
    #[serde(default, deserialize_with = "present")]
    pub quota: Option<Option<Quota>>,
}

/// A field that is present (its value possibly `null`): `Some(value)`; absent fields stay `None`
/// through `#[serde(default)]`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl ControlsBody {
    /// The change as a plan takes it.
    pub fn change(&self) -> ControlsChange<'_> {
        ControlsChange {
            allowed_cidrs: self.allowed_cidrs.as_ref().map(Option::as_deref),
            rate_limit: self.rate_limit,
            quota: self.quota,
        }
    }
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
        #[serde(default)]
        seconds: Option<serde_json::Value>,
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        let seconds = |body: &str| {
            let body = parse_body::<Grace>(body.as_bytes(), 64)?;
            grace(body.seconds.as_ref()).map(|g| g.map(GracePeriod::seconds))
        };
        assert_eq!(seconds(r#"{"seconds":60}"#).unwrap(), Some(60));
        assert_eq!(seconds(r#"{"seconds":60.0}"#).unwrap(), Some(60));
        assert_eq!(seconds(r#"{"seconds":6e1}"#).unwrap(), Some(60));
        assert_eq!(seconds(r#"{"seconds":0}"#).unwrap(), Some(0));
        assert_eq!(seconds(r#"{"seconds":null}"#).unwrap(), None);
        assert_eq!(seconds("{}").unwrap(), None);
        for bad in ["60.5", "-1", "-0.5", "4294967296", "1e300", "\"60\"", "true"] {
            let err = seconds(&format!(r#"{{"seconds":{bad}}}"#)).unwrap_err();
            assert_eq!(err.reason, Reason::InvalidRequest, "{bad}");
            assert!(
                matches!(err.code, Some("invalid_grace_period" | "grace_too_long")),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn grants_come_from_a_preset_or_permissions_with_the_rule_code() {
        let list = vec![String::from("search")];
        let body = |preset: Option<&str>, permissions: Option<&Vec<String>>| CreateBody {
            acting_user_id: None,
            name: "CI".into(),
            scope: Scope::Organization,
            scoped_project_id: None,
            scoped_project_ids: None,
            preset: preset.map(Into::into),
            permissions: permissions.cloned(),
            expires_at: None,
            allowed_cidrs: None,
            rate_limit: None,
            quota: None,
        };
        assert_eq!(
            body(Some("read"), None).ask().unwrap().grants,
            Grants::Preset("read")
        );
        assert_eq!(body(None, None).ask().unwrap().grants, Grants::Inherit);
        let err = body(Some("read"), Some(&list)).ask().unwrap_err();
        assert_eq!(
            (err.reason, err.code),
            (Reason::InvalidRequest, Some("preset_and_permissions"))
        );
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
