//! The admin API's input parsing (`edge_worker::keys::input`): JSON bodies of every admin call
//! within a size limit, ids, RFC 3339 times, query strings, grants from a preset or permissions,
//! and grace periods (policy-core's one rule: whole numbers written `60` or `60.0`).
//!
//! The handlers' body structs are private to their modules; the structs below mirror them field
//! for field (names, `deny_unknown_fields`, `camelCase`, defaults), so that `parse_body` runs the
//! same serde code the handlers do, and `grace` / `CreateBody::ask` the same reading after it
//! (the create body is the handlers' own type).
#![no_main]

use arbitrary::Arbitrary;
use edge_worker::keys::error::{Reason, ServiceError};
use edge_worker::keys::input::{
    grace, id, opt_time, parse_body, query, time, CreateBody, MAX_BATCH_BODY, MAX_BODY,
};
use edge_worker::clock::{format_time, parse_time};
use libfuzzer_sys::fuzz_target;
use policy_core::{Scope, Timestamp};
use serde::Deserialize;

/// `keys::Acting` (revoke).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Acting {
    acting_user_id: String,
}

/// `keys::RotateBody`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct RotateBody {
    acting_user_id: String,
    #[serde(default)]
    grace_period_seconds: Option<serde_json::Value>,
}

/// `keys::ImportBody`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct ImportBody {
    #[serde(default)]
    id: Option<String>,
    key_hash: String,
    hint: String,
    name: String,
    created_by: String,
    scope: Scope,
    #[serde(default)]
    scoped_project_id: Option<String>,
    #[serde(default)]
    permissions: Option<Vec<String>>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    last_used_at: Option<String>,
    #[serde(default)]
    revoked_at: Option<String>,
    #[serde(default)]
    expires_at: Option<String>,
}

/// `keys::Import`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Import {
    keys: Vec<ImportBody>,
}

/// `members::PutMember`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct PutMember {
    role: String,
}

/// `resources::PutResource`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct PutResource {
    organization_id: String,
    project_id: String,
}

/// `resources::BatchPut`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct BatchPut {
    kind: String,
    id: String,
    organization_id: String,
    project_id: String,
}

/// `resources::BatchRemove`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct BatchRemove {
    kind: String,
    id: String,
}

/// `resources::ResourceBatch`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ResourceBatch {
    #[serde(default)]
    put: Vec<BatchPut>,
    #[serde(default)]
    remove: Vec<BatchRemove>,
}

/// `console_sessions::Body`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct LinkBody {
    acting_user_id: String,
    #[serde(default)]
    return_url: Option<String>,
}

/// `keys::ListQuery`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ListQuery {
    #[serde(default)]
    created_by: Option<String>,
}

/// Bodies shaped like the admin calls', with fuzzed values (raw bytes rarely get past the JSON
/// parser to the fields).
const TEMPLATES: &[&str] = &[
    r#"{"actingUserId":@,"name":@,"scope":@,"scopedProjectId":@,"preset":@,"permissions":[@,@],"expiresAt":@}"#,
    r#"{"actingUserId":@}"#,
    r#"{"actingUserId":@,"gracePeriodSeconds":@}"#,
    r#"{"keys":[{"id":@,"keyHash":@,"hint":@,"name":@,"createdBy":@,"scope":@,"scopedProjectId":@,"permissions":@,"createdAt":@,"lastUsedAt":@,"revokedAt":@,"expiresAt":@}]}"#,
    r#"{"role":@}"#,
    r#"{"organizationId":@,"projectId":@}"#,
    r#"{"put":[{"kind":@,"id":@,"organizationId":@,"projectId":@}],"remove":[{"kind":@,"id":@}]}"#,
    r#"{"actingUserId":@,"returnUrl":@}"#,
];

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// Raw bytes as every body, under a fuzzed limit or the real ones.
    Body { bytes: &'a [u8], limit: Limit },
    /// A template with each `@` replaced by a fuzzed JSON value's text.
    Shaped { template: u8, values: Vec<&'a str> },
    /// An id, and the id carried in a body and a query.
    Id(&'a str),
    /// A time in a field, and the platform's one form of it.
    Time(&'a str),
    /// An RFC 3339 time built from fuzzed fields (mostly in range), with any offset.
    Stamp(Stamp),
    /// A timestamp written and read back.
    Millis(i64),
    /// A query string (after a fixed path).
    Query(&'a str),
}

/// A field of a built time: its smallest or largest valid value, or any (libFuzzer rarely hits
/// the edges of several fields at once on its own).
#[derive(Arbitrary, Clone, Copy, Debug)]
enum Field {
    Low,
    High,
    Any(u16),
}

impl Field {
    fn get(self, low: u16, high: u16, modulo: u16) -> u16 {
        match self {
            Field::Low => low,
            Field::High => high,
            Field::Any(n) => n % modulo,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Stamp {
    year: Field,
    month: Field,
    day: Field,
    hour: Field,
    minute: Field,
    second: Field,
    fraction: Option<u32>,
    /// `None`: `Z`; else east or west, hours and minutes.
    offset: Option<(bool, Field, Field)>,
}

impl Stamp {
    fn text(&self) -> String {
        let fraction = self.fraction.map_or(String::new(), |f| format!(".{f}"));
        let offset = self.offset.map_or("Z".to_owned(), |(east, h, m)| {
            format!(
                "{}{:02}:{:02}",
                if east { '+' } else { '-' },
                h.get(0, 23, 25),
                m.get(0, 59, 61)
            )
        });
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}{offset}",
            self.year.get(0, 9999, 10_000),
            self.month.get(1, 12, 13),
            self.day.get(1, 31, 32),
            self.hour.get(0, 23, 25),
            self.minute.get(0, 59, 61),
            self.second.get(0, 59, 62),
        )
    }
}

#[derive(Arbitrary, Debug)]
enum Limit {
    Single,
    Batch,
    Tiny(u8),
}

/// Every admin input error is a 4xx the handler can send as it is.
fn check_error(err: &ServiceError) {
    assert!(
        matches!(err.reason, Reason::InvalidRequest | Reason::PayloadTooLarge),
        "{err:?}"
    );
    let status = err.reason.status();
    assert!((400..500).contains(&status), "{err:?}");
    assert!(!err.message.is_empty());
    // An input error carries no `Allow` header: only the admin router's 405 does, and
    // `ServiceError` has no such field.
}

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8], limit: usize) -> Option<T> {
    match parse_body::<T>(bytes, limit) {
        Ok(value) => {
            assert!(!bytes.is_empty() && bytes.len() <= limit);
            Some(value)
        }
        Err(err) => {
            check_error(&err);
            assert_eq!(
                err.reason == Reason::PayloadTooLarge,
                bytes.len() > limit,
                "{err:?}"
            );
            None
        }
    }
}

/// Every admin body type over the same bytes.
fn every_body(bytes: &[u8], limit: usize) {
    if let Some(value) = body::<serde_json::Value>(bytes, limit) {
        // What parsed as JSON parses again from its own serialization (floats may move by
        // one unit in the last place without serde_json's `float_roundtrip`, so only success
        // is asserted).
        let again = serde_json::to_vec(&value).unwrap_or_default();
        assert!(parse_body::<serde_json::Value>(&again, again.len()).is_ok());
    }
    if let Some(b) = body::<CreateBody>(bytes, limit) {
        if let Err(err) = opt_time("expiresAt", b.expires_at.as_deref()) {
            check_error(&err);
        }
        match b.ask() {
            Ok(ask) => {
                assert!(b.preset.is_none() || b.permissions.is_none());
                // The controls are read by policy-core's one rule; its refusals are the
                // lifecycle's (a 400 with a code), never a panic.
                if let Err(err) = ask.controls.check() {
                    check_error(&ServiceError::from(err));
                }
            }
            Err(err) => check_error(&err),
        }
        if let Some(user) = &b.acting_user_id {
            check_id(user);
        }
    }
    if let Some(a) = body::<Acting>(bytes, limit) {
        check_id(&a.acting_user_id);
    }
    if let Some(r) = body::<RotateBody>(bytes, limit) {
        match grace(r.grace_period_seconds.as_ref()) {
            Ok(Some(period)) => assert!(period <= policy_core::GracePeriod::MAX),
            Ok(None) => assert!(r.grace_period_seconds.as_ref().is_none_or(serde_json::Value::is_null)),
            Err(err) => {
                check_error(&err);
                assert!(err.code.is_some(), "a grace period is refused by its rule: {err:?}");
            }
        }
        check_id(&r.acting_user_id);
    }
    if let Some(import) = body::<Import>(bytes, limit) {
        for key in &import.keys {
            for (field, value) in [
                ("createdAt", &key.created_at),
                ("lastUsedAt", &key.last_used_at),
                ("revokedAt", &key.revoked_at),
                ("expiresAt", &key.expires_at),
            ] {
                match opt_time(field, value.as_deref()) {
                    Ok(Some(t)) => assert_eq!(parse_time(&format_time(t)), Some(t)),
                    Ok(None) => assert!(value.is_none()),
                    Err(err) => {
                        check_error(&err);
                        assert!(err.message.starts_with(field));
                    }
                }
            }
        }
    }
    let _ = body::<PutMember>(bytes, limit);
    let _ = body::<PutResource>(bytes, limit);
    let _ = body::<ResourceBatch>(bytes, limit);
    if let Some(link) = body::<LinkBody>(bytes, limit) {
        check_id(&link.acting_user_id);
    }
}

fn check_id(value: &str) {
    match id("actingUserId", value) {
        Ok(same) => {
            assert_eq!(same, value);
            assert!((1..=64).contains(&value.len()));
            assert!(value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
            // A valid id round-trips through a body and a query string unchanged.
            let json = serde_json::json!({ "actingUserId": value }).to_string();
            let acting: Acting = parse_body(json.as_bytes(), MAX_BODY).unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(acting.acting_user_id, value);
            let q: ListQuery = query(&format!(
                "https://gw.test/admin/v1/organizations/o/keys?createdBy={value}"
            ))
            .unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(q.created_by.as_deref(), Some(value));
        }
        Err(err) => {
            check_error(&err);
            assert_eq!(err.reason, Reason::InvalidRequest);
            assert!(err.message.starts_with("actingUserId must be"));
            assert!(
                value.is_empty()
                    || value.len() > 64
                    || value
                        .bytes()
                        .any(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-')),
                "{value:?} refused"
            );
        }
    }
}

fn check_time(text: &str) {
    match time("expiresAt", text) {
        Ok(t) => {
            assert_eq!(parse_time(text), Some(t));
            // The one form every response writes is 24 characters and reads back the same.
            let written = format_time(t);
            assert_eq!(written.len(), 24, "{text:?} → {written:?}");
            assert_eq!(parse_time(&written), Some(t), "{text:?} → {written:?}");
            assert_eq!(format_time(parse_time(&written).unwrap_or(Timestamp(0))), written);
        }
        Err(err) => {
            check_error(&err);
            assert!(err.message.starts_with("expiresAt"));
            assert_eq!(parse_time(text), None);
        }
    }
}

fn check_millis(ms: i64) {
    let written = format_time(Timestamp(ms));
    // Every instant of the years 0000–9999 is written in the one form and reads back exactly.
    const EARLIEST: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
    const LATEST: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    if (EARLIEST..=LATEST).contains(&ms) {
        assert_eq!(written.len(), 24, "{ms} → {written:?}");
        assert_eq!(parse_time(&written), Some(Timestamp(ms)), "{ms} → {written:?}");
    }
}

fn check_query(q: &str) {
    match query::<ListQuery>(&format!("https://gw.test/admin/v1/organizations/o/keys?{q}")) {
        Ok(list) => {
            if let Some(creator) = &list.created_by {
                let _ = id("createdBy", creator).map_err(|e| check_error(&e));
            }
        }
        Err(err) => {
            check_error(&err);
            assert!(err.message.starts_with("invalid query"));
        }
    }
    // The same text as a whole URL (with or without `?`, with a fragment) never panics.
    if let Err(err) = query::<ListQuery>(q) {
        check_error(&err);
    }
}

fuzz_target!(|input: Input<'_>| match input {
    Input::Body { bytes, limit } => {
        let limit = match limit {
            Limit::Single => MAX_BODY,
            Limit::Batch => MAX_BATCH_BODY,
            Limit::Tiny(n) => usize::from(n),
        };
        every_body(bytes, limit);
    }
    Input::Shaped { template, values } => {
        let template = TEMPLATES[usize::from(template) % TEMPLATES.len()];
        let mut values = values.into_iter();
        let mut text = String::new();
        for (i, part) in template.split('@').enumerate() {
            if i > 0 {
                let value = values.next().unwrap_or("null");
                // Half the values as JSON text, the others as strings.
                if value.len() % 2 == 0 {
                    text.push_str(value);
                } else {
                    text.push_str(&serde_json::Value::from(value).to_string());
                }
            }
            text.push_str(part);
        }
        every_body(text.as_bytes(), MAX_BATCH_BODY);
    }
    Input::Id(value) => check_id(value),
    Input::Time(text) => check_time(text),
    Input::Stamp(stamp) => check_time(&stamp.text()),
    Input::Millis(ms) => check_millis(ms),
    Input::Query(q) => check_query(q),
});
