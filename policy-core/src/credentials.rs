//! Which key, if any, a request presents (SPEC "Presenting a key").
//!
//! `X-Api-Key: <key>` or `Authorization: Bearer <key>`. The scheme name is case-insensitive; an
//! `Authorization` header with another scheme presents no key. Surrounding whitespace is
//! trimmed; an empty value presents no key. Two headers that present different keys are
//! `invalid_key`.
//!
//! The header names and the `Bearer` rule live here once: the gateway, the npm package, the
//! admin API's service token, the console and the CLI all read or write them from here.

/// The header that carries a key (`X-Api-Key`), as HTTP/2 and Node write names (lower case;
/// header names are case-insensitive).
pub const KEY_HEADER: &str = "x-api-key";
/// [`KEY_HEADER`] as documentation and screens show it.
pub const KEY_HEADER_NAME: &str = "X-Api-Key";
/// The other header that may carry a key, as `Bearer <key>`.
pub const AUTHORIZATION_HEADER: &str = "authorization";
/// The scheme of a bearer token in [`AUTHORIZATION_HEADER`] (its name is case-insensitive).
pub const BEARER_SCHEME: &str = "Bearer";

/// The token of an `Authorization` value `Bearer <token>`: the scheme name in any case, then a
/// space or a tab, surrounding whitespace trimmed. `None` for another scheme, `Bearer` alone or a
/// blank token. The one rule for a key's `Bearer` and the admin API's service token alike.
pub fn bearer_token(value: &str) -> Option<&str> {
    match bearer_slot(trim(value.as_bytes())) {
        Slot::Key(token) => Some(token),
        Slot::Absent | Slot::Unreadable => None,
    }
}

/// The `Authorization` value that presents `token`: `Bearer <token>`.
pub fn bearer_value(token: &str) -> alloc::string::String {
    alloc::format!("{BEARER_SCHEME} {token}")
}

/// What the key headers of a request present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presented<'a> {
    /// No key at all: `401 missing_key`.
    Nothing,
    /// One key (both headers may carry the same one). Not yet validated.
    Key(&'a str),
    /// The two headers present different keys: `401 invalid_key`.
    Conflict,
    /// A header value that is not UTF-8: a key was presented but cannot be one
    /// (`401 invalid_key`).
    Unreadable,
}

/// The raw key-carrying headers of a request. Values are bytes: a client may send anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyHeaders<'a> {
    /// The `X-Api-Key` header value, if sent.
    pub x_api_key: Option<&'a [u8]>,
    /// The `Authorization` header value, if sent.
    pub authorization: Option<&'a [u8]>,
}

/// One header's contribution.
enum Slot<'a> {
    Absent,
    Key(&'a str),
    Unreadable,
}

impl<'a> KeyHeaders<'a> {
    /// Builds from string header values (the common case in adapters).
    pub fn from_strs(x_api_key: Option<&'a str>, authorization: Option<&'a str>) -> Self {
        KeyHeaders {
            x_api_key: x_api_key.map(str::as_bytes),
            authorization: authorization.map(str::as_bytes),
        }
    }

    /// Whether the `Authorization` header carries a key (a non-empty Bearer token), so that a
    /// gateway knows to strip it before forwarding; another scheme is the origin's business.
    pub fn authorization_carries_key(&self) -> bool {
        self.authorization
            .is_some_and(|raw| !matches!(bearer_slot(trim(raw)), Slot::Absent))
    }

    /// Decides what these headers present.
    pub fn presented(&self) -> Presented<'a> {
        let from_x = match self.x_api_key {
            None => Slot::Absent,
            Some(raw) => non_empty(trim(raw)),
        };
        let from_auth = match self.authorization {
            None => Slot::Absent,
            Some(raw) => bearer_slot(trim(raw)),
        };
        match (from_x, from_auth) {
            (Slot::Absent, Slot::Absent) => Presented::Nothing,
            (Slot::Unreadable, _) | (_, Slot::Unreadable) => Presented::Unreadable,
            (Slot::Key(k), Slot::Absent) | (Slot::Absent, Slot::Key(k)) => Presented::Key(k),
            (Slot::Key(a), Slot::Key(b)) if a == b => Presented::Key(a),
            (Slot::Key(_), Slot::Key(_)) => Presented::Conflict,
        }
    }
}

/// HTTP optional whitespace (space and tab) plus the other ASCII whitespace a sloppy client
/// might send.
fn trim(raw: &[u8]) -> &[u8] {
    raw.trim_ascii()
}

fn non_empty(value: &[u8]) -> Slot<'_> {
    if value.is_empty() {
        return Slot::Absent;
    }
    match core::str::from_utf8(value) {
        Ok(text) => Slot::Key(text),
        Err(_) => Slot::Unreadable,
    }
}

/// `Bearer <token>` with a case-insensitive scheme; any other scheme presents nothing.
fn bearer_slot(value: &[u8]) -> Slot<'_> {
    const SCHEME: &[u8] = b"bearer";
    let (Some(scheme), Some(rest)) = (value.get(..SCHEME.len()), value.get(SCHEME.len()..)) else {
        return Slot::Absent;
    };
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Slot::Absent;
    }
    match rest.first() {
        // `Bearer` alone presents an empty token: no key.
        None => Slot::Absent,
        Some(b' ' | b'\t') => non_empty(trim(rest)),
        // `Bearerx…` is another scheme.
        Some(_) => Slot::Absent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presented(x: Option<&str>, auth: Option<&str>) -> Presented<'static> {
        let x: Option<&'static str> = x.map(|s| &*alloc::string::String::from(s).leak());
        let auth: Option<&'static str> = auth.map(|s| &*alloc::string::String::from(s).leak());
        KeyHeaders::from_strs(x, auth).presented()
    }

    #[test]
    fn header_rules() {
        assert_eq!(presented(None, None), Presented::Nothing);
        assert_eq!(presented(Some("  k  "), None), Presented::Key("k"));
        assert_eq!(presented(Some("   "), None), Presented::Nothing);
        assert_eq!(presented(None, Some("Bearer k")), Presented::Key("k"));
        assert_eq!(presented(None, Some("bEaReR \t k ")), Presented::Key("k"));
        assert_eq!(presented(None, Some("Basic dXNlcjpwYXNz")), Presented::Nothing);
        assert_eq!(presented(None, Some("Bearer")), Presented::Nothing);
        assert_eq!(presented(None, Some("Bearer   ")), Presented::Nothing);
        assert_eq!(presented(None, Some("Bearerk")), Presented::Nothing);
        assert_eq!(presented(Some("k"), Some("Bearer k")), Presented::Key("k"));
        assert_eq!(presented(Some("k"), Some("Bearer j")), Presented::Conflict);
        assert_eq!(presented(Some("k"), Some("Basic j")), Presented::Key("k"));
        assert_eq!(presented(Some(""), Some("Bearer j")), Presented::Key("j"));
        let bad = KeyHeaders {
            x_api_key: Some(&[0xff, 0xfe]),
            authorization: None,
        };
        assert_eq!(bad.presented(), Presented::Unreadable);
    }

    #[test]
    fn one_bearer_rule_for_keys_and_service_tokens() {
        for (value, token) in [
            ("Bearer t", Some("t")),
            ("bearer t", Some("t")),
            ("BEARER \t t \t", Some("t")),
            ("Bearer\tt", Some("t")),
            ("  Bearer t  ", Some("t")),
            ("Bearer", None),
            ("Bearer   ", None),
            ("Bearert", None),
            ("Basic t", None),
            ("", None),
            ("t", None),
        ] {
            assert_eq!(bearer_token(value), token, "{value:?}");
            // The key rule reads the same token out of the same value.
            let presented = KeyHeaders::from_strs(None, Some(value)).presented();
            let expected = token.map_or(Presented::Nothing, Presented::Key);
            assert_eq!(presented, expected, "{value:?}");
        }
        assert_eq!(bearer_value("t"), "Bearer t");
        assert_eq!(bearer_token(&bearer_value("t")), Some("t"));
    }
}
