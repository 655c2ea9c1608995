//! Matching a request to an endpoint row (SPEC "Matching a request to an endpoint").
//!
//! The query string is ignored. The path must begin with `<basePath>/`. Segments are split on
//! `/`; an empty segment, `.` or `..`, or an id that is not 1–64 characters of
//! `A-Za-z0-9_-` after percent-decoding matches nothing. Nothing is normalised into another
//! route: static segments compare byte for byte, case-sensitively. `HEAD` is matched as `GET`.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use percent_encoding::percent_decode;

use crate::policy::{Endpoint, Policy, Segment, MAX_SEGMENTS};

/// The longest id a path parameter may hold.
pub const MAX_ID_LEN: usize = 64;

/// Whether an id may hold `byte`: `A-Za-z0-9_-`.
#[inline]
fn is_id_byte(byte: u8) -> bool {
    matches!(byte, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-')
}

/// Whether `raw` (no `%` in it) is an id as it stands.
#[inline]
fn is_plain_id(raw: &[u8]) -> bool {
    !raw.is_empty() && raw.len() <= MAX_ID_LEN && raw.iter().all(|&b| is_id_byte(b))
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
        is_plain_id(text.as_bytes())
    }

    /// Percent-decodes `raw` and checks it is 1–64 characters of `A-Za-z0-9_-`.
    pub fn decode(raw: &str) -> Option<PathId> {
        let raw = raw.as_bytes();
        let mut id = PathId {
            len: 0,
            bytes: [0; MAX_ID_LEN],
        };
        if !raw.contains(&b'%') {
            if !is_plain_id(raw) {
                return None;
            }
            id.bytes.get_mut(..raw.len())?.copy_from_slice(raw);
            id.len = u8::try_from(raw.len()).ok()?;
            return Some(id);
        }
        for byte in percent_decode(raw) {
            let slot = id.bytes.get_mut(usize::from(id.len))?;
            if !is_id_byte(byte) {
                return None;
            }
            *slot = byte;
            id.len += 1;
        }
        (id.len > 0).then_some(id)
    }

    /// [`PathId::decode`] into `slot`, in place; `false` (and `slot` unspecified) when `raw`
    /// is not a valid id.
    #[inline]
    fn decode_into(raw: &str, slot: &mut Option<PathId>) -> bool {
        let bytes = raw.as_bytes();
        if bytes.contains(&b'%') {
            *slot = PathId::decode(raw);
            return slot.is_some();
        }
        if !is_plain_id(bytes) {
            return false;
        }
        let id = slot.insert(PathId {
            len: 0,
            bytes: [0; MAX_ID_LEN],
        });
        match (id.bytes.get_mut(..bytes.len()), u8::try_from(bytes.len())) {
            (Some(dest), Ok(len)) => {
                dest.copy_from_slice(bytes);
                id.len = len;
                true
            }
            _ => false,
        }
    }

    /// Whether `raw` percent-decodes to a valid id (what [`PathId::decode`] checks, without
    /// keeping the id).
    fn check(raw: &str) -> bool {
        let bytes = raw.as_bytes();
        if bytes.contains(&b'%') {
            PathId::decode(raw).is_some()
        } else {
            is_plain_id(bytes)
        }
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

/// The endpoint rows indexed for matching: by method, then by segment count; within such a
/// bucket by the packed key (length, first and last byte) of the first segment, so that
/// finding the candidate row costs a few integer comparisons before any byte comparison.
/// Rows of one method and segment count never overlap (the policy refuses it), so at most one
/// candidate matches and the order candidates are tried in does not matter.
#[derive(Clone, Debug, Default)]
pub(crate) struct Router {
    methods: Vec<MethodTable>,
}

#[derive(Clone, Debug)]
struct MethodTable {
    key: u64,
    name: Box<str>,
    by_len: Vec<Bucket>,
}

#[derive(Clone, Debug, Default)]
struct Bucket {
    /// The first segment's key of each candidate (0 when it is a parameter).
    firsts: Vec<u32>,
    candidates: Vec<Candidate>,
}

#[derive(Clone, Debug)]
struct Candidate {
    endpoint: usize,
    /// The packed key of each static segment; 0 at a parameter and past the end.
    keys: [u32; MAX_SEGMENTS],
    /// `u32::MAX` at a static segment, 0 at a parameter and past the end.
    masks: [u32; MAX_SEGMENTS],
}

/// A method name packed into an integer: up to seven bytes and the length. Names longer than
/// seven bytes share a key with others of the same start and length and are compared in full.
#[inline]
fn method_key(method: &[u8]) -> u64 {
    let mut key = (method.len() as u64) << 56;
    for (i, &b) in method.iter().take(7).enumerate() {
        key |= u64::from(b) << (8 * i);
    }
    key
}

/// `HEAD` and `GET`, packed.
const HEAD: u64 = 4 << 56 | 0x4441_4548;
const GET: u64 = 3 << 56 | 0x54_4547;

/// A segment's packed key (length, first byte, last byte, and a bit so no key is 0), or `None`
/// for a segment that matches nothing: empty, `.` or `..`.
#[inline]
fn segment_key(segment: &[u8]) -> Option<u32> {
    let (&first, &last) = (segment.first()?, segment.last()?);
    if first == b'.' && (segment.len() == 1 || (segment.len() == 2 && last == b'.')) {
        return None;
    }
    let len = (segment.len() & 0xff) as u32;
    Some(1 << 31 | len | u32::from(first) << 8 | u32::from(last) << 16)
}

impl Router {
    /// Indexes `endpoints`.
    pub(crate) fn new(endpoints: &[Endpoint]) -> Router {
        let mut methods: Vec<MethodTable> = Vec::new();
        for (i, endpoint) in endpoints.iter().enumerate() {
            let name = endpoint.method();
            let at = match methods.iter().position(|t| *t.name == *name) {
                Some(at) => at,
                None => {
                    methods.push(MethodTable {
                        key: method_key(name.as_bytes()),
                        name: name.into(),
                        by_len: Vec::new(),
                    });
                    methods.len() - 1
                }
            };
            let Some(table) = methods.get_mut(at) else {
                continue;
            };
            let len = endpoint.segments.len();
            if table.by_len.len() <= len {
                table.by_len.resize(len + 1, Bucket::default());
            }
            let mut candidate = Candidate {
                endpoint: i,
                keys: [0; MAX_SEGMENTS],
                masks: [0; MAX_SEGMENTS],
            };
            for (pos, segment) in endpoint.segments.iter().enumerate() {
                if let (Segment::Static(text), Some(key), Some(mask)) =
                    (segment, candidate.keys.get_mut(pos), candidate.masks.get_mut(pos))
                {
                    *key = segment_key(text.as_bytes()).unwrap_or(0);
                    *mask = u32::MAX;
                }
            }
            if let Some(bucket) = table.by_len.get_mut(len) {
                bucket.firsts.push(candidate.keys.first().copied().unwrap_or(0));
                bucket.candidates.push(candidate);
            }
        }
        Router { methods }
    }

    /// The rows of `method` (`HEAD` is `GET`), bucketed by segment count.
    #[inline]
    fn method(&self, method: &str) -> Option<&[Bucket]> {
        let key = match method_key(method.as_bytes()) {
            HEAD if method == "HEAD" => GET,
            key => key,
        };
        let table = self.methods.iter().find(|t| t.key == key)?;
        (method.len() <= 7 || *table.name == *method || (key == GET && method == "HEAD"))
            .then_some(table.by_len.as_slice())
    }
}

impl Policy {
    /// Matches `method` and `target` (path, optionally with a query string) to an endpoint row;
    /// `None` is `404 not_found`.
    pub fn route(&self, method: &str, target: &str) -> Option<RouteMatch<'_>> {
        let mut param = None;
        let endpoint = self.route_into(method, target, &mut param)?;
        Some(RouteMatch { endpoint, param })
    }

    /// [`Policy::route`], writing the parameter in place (a decision keeps it in its own
    /// state, so the 65-byte id is written once rather than moved).
    pub(crate) fn route_into(
        &self,
        method: &str,
        target: &str,
        param: &mut Option<PathId>,
    ) -> Option<&Endpoint> {
        let rest = target.strip_prefix(self.base_path())?.strip_prefix('/')?;
        let buckets = self.router.method(method)?;

        // One pass over the path: split on '/', stop at the query, key each segment (an empty,
        // `.` or `..` segment matches nothing).
        let mut segments: [&str; MAX_SEGMENTS] = [""; MAX_SEGMENTS];
        let mut keys = [0u32; MAX_SEGMENTS];
        let mut count = 0;
        let mut tail = rest;
        loop {
            let end = tail
                .bytes()
                .position(|b| b == b'/' || b == b'?')
                .unwrap_or(tail.len());
            // INVARIANT: `end` sits at an ASCII delimiter or the end: a char boundary.
            let segment = tail.get(..end)?;
            *keys.get_mut(count)? = segment_key(segment.as_bytes())?;
            *segments.get_mut(count)? = segment;
            count += 1;
            match tail.as_bytes().get(end) {
                Some(b'/') => tail = tail.get(end + 1..)?,
                _ => break,
            }
        }
        let bucket = buckets.get(count)?;
        let first = keys.first().copied().unwrap_or(0);
        bucket
            .firsts
            .iter()
            .zip(&bucket.candidates)
            .filter(|(&f, _)| f == first || f == 0)
            .find_map(|(_, candidate)| self.try_candidate(candidate, &keys, &segments, count, param))
    }

    /// Whether the request's segments match `candidate`: every static segment byte for byte,
    /// every parameter a valid id (decoded if the row's rule reads it).
    #[inline]
    fn try_candidate<'p>(
        &'p self,
        candidate: &Candidate,
        keys: &[u32; MAX_SEGMENTS],
        segments: &[&str; MAX_SEGMENTS],
        count: usize,
        param: &mut Option<PathId>,
    ) -> Option<&'p Endpoint> {
        // All lanes, no early exit: past `count` both sides are 0.
        let differ = keys
            .iter()
            .zip(&candidate.masks)
            .zip(&candidate.keys)
            .fold(0, |acc, ((got, mask), want)| acc | ((got & mask) ^ want));
        if differ != 0 {
            return None;
        }
        let endpoint = self.endpoints.get(candidate.endpoint)?;
        let wanted = endpoint.project_key.param();
        for (pos, (pattern, actual)) in endpoint.segments.iter().zip(segments.get(..count)?).enumerate() {
            match pattern {
                Segment::Static(text) => {
                    if text.as_bytes() != actual.as_bytes() {
                        return None;
                    }
                }
                Segment::Param if wanted == Some(pos) => {
                    if !PathId::decode_into(actual, param) {
                        *param = None;
                        return None;
                    }
                }
                Segment::Param => {
                    if !PathId::check(actual) {
                        return None;
                    }
                }
            }
        }
        Some(endpoint)
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
