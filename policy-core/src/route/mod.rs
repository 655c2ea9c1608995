//! Matching a request to an endpoint row (SPEC "Matching a request to an endpoint").
//!
//! The query string is ignored. The path must begin with `<basePath>/`. Segments are split on
//! `/`; an empty segment, `.` or `..`, or an id that is not 1–64 characters of
//! `A-Za-z0-9_-` after percent-decoding matches nothing. Nothing is normalised into another
//! route: static segments compare byte for byte, case-sensitively. `HEAD` is matched as `GET`.
//!
//! - `id.rs`: what a path parameter may hold, and its decoded form.
//! - `trie.rs`: the rows as a trie per method, walked once over the request's bytes.

mod id;
mod trie;

pub use id::{PathId, MAX_ID_LEN};
pub(crate) use trie::Router;

use crate::policy::{Endpoint, Policy};

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
        let mut param = None;
        let endpoint = self.route_into(method, target, &mut param)?;
        Some(RouteMatch { endpoint, param })
    }

    /// [`Policy::route`], writing the parameter in place (a decision keeps it in its own
    /// state, so the 65-byte id is written once rather than moved). Only the parameter the
    /// row's project-key rule reads is decoded; the others are only checked.
    #[inline(always)]
    pub(crate) fn route_into(
        &self,
        method: &str,
        target: &str,
        param: &mut Option<PathId>,
    ) -> Option<&Endpoint> {
        let found = self.router.find(method, target)?;
        let endpoint = self.endpoints.get(found.endpoint)?;
        if let Some((start, end, escaped)) = found.param {
            *param = if escaped {
                PathId::decode(target.get(start..end)?)
            } else {
                PathId::plain(target.as_bytes(), start, end)
            };
            param.as_ref()?;
        }
        Some(endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
