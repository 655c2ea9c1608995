//! Matching a request to an endpoint row (SPEC "Matching a request to an endpoint").
//!
//! The query string is ignored. The path must begin with `<basePath>/`. Segments are split on
//! `/`; an empty segment, `.` or `..`, or an id that is not 1–64 characters of
//! `A-Za-z0-9_-` after percent-decoding matches nothing. Nothing is normalised into another
//! route: static segments compare byte for byte, case-sensitively. `HEAD` is matched as `GET`.

use core::fmt;

use percent_encoding::percent_decode;

use crate::policy::{Endpoint, MethodKey, Policy, Segment, MAX_SEGMENTS};

/// The longest id a path parameter may hold.
pub const MAX_ID_LEN: usize = 64;

fn is_id_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// A decoded path parameter, stored inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PathId {
    len: u8,
    bytes: [u8; MAX_ID_LEN],
}

impl PathId {
    /// Whether `text`, taken as it is (not percent-decoded), is an id a path can name: 1–64
    /// characters of `A-Za-z0-9_-`. Stores use it to refuse ids no request could reach.
    pub fn is_valid(text: &str) -> bool {
        !text.is_empty() && text.len() <= MAX_ID_LEN && text.bytes().all(is_id_byte)
    }

    /// Percent-decodes `raw` and checks it is 1–64 characters of `A-Za-z0-9_-`.
    pub fn decode(raw: &str) -> Option<PathId> {
        let mut id = PathId {
            len: 0,
            bytes: [0; MAX_ID_LEN],
        };
        for byte in percent_decode(raw.as_bytes()) {
            let slot = id.bytes.get_mut(usize::from(id.len))?;
            if !is_id_byte(byte) {
                return None;
            }
            *slot = byte;
            id.len += 1;
        }
        (id.len > 0).then_some(id)
    }

    /// The decoded id.
    pub fn as_str(&self) -> &str {
        // INVARIANT: only ASCII alphanumerics, `_` and `-` are ever stored.
        let bytes = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
        core::str::from_utf8(bytes).unwrap_or("")
    }
}

impl fmt::Debug for PathId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PathId({:?})", self.as_str())
    }
}

/// A request matched to an endpoint row.
#[derive(Clone, Copy, Debug)]
pub struct RouteMatch<'p> {
    /// The matched row.
    pub endpoint: &'p Endpoint,
    /// The decoded value of the parameter the row's project-key rule reads (the project id of
    /// an `own_path` row, the resource id of an `own_resource` row).
    pub param: Option<PathId>,
}

impl Policy {
    /// Matches `method` and `target` (path, optionally with a query string) to an endpoint row;
    /// `None` is `404 not_found`.
    pub fn route(&self, method: &str, target: &str) -> Option<RouteMatch<'_>> {
        let rest = target.strip_prefix(self.base_path())?.strip_prefix('/')?;

        // One pass over the bytes: split on '/', stop at the query. Paths are short and this is
        // the hot path, so no `str` pattern machinery.
        let mut segments: [&str; MAX_SEGMENTS] = [""; MAX_SEGMENTS];
        let mut count = 0;
        let mut start = 0;
        let bytes = rest.as_bytes();
        let mut at = 0;
        loop {
            let byte = bytes.get(at).copied();
            if matches!(byte, Some(b'/' | b'?') | None) {
                // INVARIANT: `start` and `at` sit at ASCII delimiters or the ends: char boundaries.
                let segment = rest.get(start..at)?;
                if segment.is_empty() || segment == "." || segment == ".." {
                    return None;
                }
                *segments.get_mut(count)? = segment;
                count += 1;
                if byte != Some(b'/') {
                    break;
                }
                start = at + 1;
            }
            at += 1;
        }
        let segments = segments.get(..count)?;
        let method = MethodKey::of(if method == "HEAD" { "GET" } else { method })?;
        let routes = self.routes.iter().find(|r| r.method == method)?;
        routes.by_len.get(count)?.iter().find_map(|&index| {
            let endpoint = self.endpoints.get(index)?;
            let wanted = endpoint.project_key.param();
            let mut param = None;
            for (pos, (pattern, actual)) in endpoint.segments.iter().zip(segments).enumerate() {
                match pattern {
                    Segment::Static(text) => {
                        // Length and first byte reject most candidates without a memcmp call.
                        let (text, actual) = (text.as_bytes(), actual.as_bytes());
                        if text.len() != actual.len() || text.first() != actual.first() || text != actual {
                            return None;
                        }
                    }
                    Segment::Param => {
                        let id = PathId::decode(actual)?;
                        if wanted == Some(pos) {
                            param = Some(id);
                        }
                    }
                }
            }
            Some(RouteMatch { endpoint, param })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_decoded_and_checked() {
        assert_eq!(PathId::decode("p1").map(|p| p.as_str().len()), Some(2));
        assert_eq!(PathId::decode("p%31").as_ref().map(PathId::as_str), Some("p1"));
        assert!(PathId::decode("").is_none());
        assert!(PathId::decode("a%2Fb").is_none());
        assert!(PathId::decode("a.b").is_none());
        assert!(PathId::decode("%zz").is_none());
        assert!(PathId::decode(&"a".repeat(64)).is_some());
        assert!(PathId::is_valid(&"a".repeat(64)) && PathId::is_valid("te_1-x"));
        assert!(!PathId::is_valid(&"a".repeat(65)) && !PathId::is_valid("") && !PathId::is_valid("a%31"));
        assert!(PathId::decode(&"a".repeat(65)).is_none());
        assert!(PathId::decode("é").is_none());
    }

    #[test]
    fn align_routes() {
        let policy = Policy::align();
        let pattern = |m: &str, t: &str| policy.route(m, t).map(|r| r.endpoint.pattern());
        assert_eq!(pattern("GET", "/api/v1/me"), Some("/me"));
        assert_eq!(pattern("HEAD", "/api/v1/projects?x=/y"), Some("/projects"));
        assert_eq!(pattern("GET", "/api/v1/projects/"), None);
        assert_eq!(pattern("GET", "/api/v1//projects"), None);
        assert_eq!(pattern("GET", "/api/v1/projects/./entries"), None);
        assert_eq!(pattern("GET", "/api/v1/Projects"), None);
        assert_eq!(pattern("get", "/api/v1/projects"), None);
        assert_eq!(pattern("PUT", "/api/v1/projects"), None);
        assert_eq!(pattern("GET", "/api/v2/projects"), None);
        assert_eq!(pattern("GET", "/api/v1"), None);
        assert_eq!(pattern("GET", "/api/v1projects"), None);
        let m = policy
            .route("POST", "/api/v1/time-entries/te%5F1/approve")
            .expect("matches");
        assert_eq!(m.param.as_ref().map(PathId::as_str), Some("te_1"));
    }
}
