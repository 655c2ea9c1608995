//! A request matched to its endpoint row: the router (`crate::route`) finds the row and where
//! its parameters are; [`Policy::route`] decodes them for a caller that wants the values.

use super::{Endpoint, Policy};
use crate::route::{PathId, Span};

/// A request matched to an endpoint row.
#[derive(Clone, Copy, Debug)]
pub struct RouteMatch<'p> {
    /// The matched row.
    pub endpoint: &'p Endpoint,
    /// The decoded value of the parameter the row's project-key rule reads (the project id of
    /// an `own_path` row, the resource id of an `own_resource` row).
    pub param: Option<PathId>,
    /// The decoded organization parameter, on a row whose pattern holds it.
    pub organization: Option<PathId>,
    /// The decoded user parameter, on a row whose pattern holds it.
    pub user: Option<PathId>,
}

/// A request matched to an endpoint row, as a decision keeps it: the row, and where in the target
/// the parameters it reads are. Nothing is decoded or copied here; each check reads the span it
/// needs (`crate::route::Span`), so a row's size does not grow with its parameters.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Routed<'p> {
    /// The matched row.
    pub(crate) endpoint: &'p Endpoint,
    /// The parameter the row's project-key rule reads (`own_path`, `own_resource` rows).
    pub(crate) param: Option<Span>,
    /// The organization the path names, on a row whose pattern holds the organization
    /// parameter.
    pub(crate) organization: Option<Span>,
    /// The user the path names, on a row whose pattern holds the user parameter.
    pub(crate) user: Option<Span>,
}

impl Policy {
    /// Matches `method` and `target` (path, optionally with a query string) to an endpoint row;
    /// `None` is `404 not_found`.
    pub fn route(&self, method: &str, target: &str) -> Option<RouteMatch<'_>> {
        let routed = self.route_into(method, target)?;
        let decoded = |span: Option<Span>| match span {
            None => Some(None),
            Some(span) => span.decode(target).map(Some),
        };
        Some(RouteMatch {
            endpoint: routed.endpoint,
            param: decoded(routed.param)?,
            organization: decoded(routed.organization)?,
            user: decoded(routed.user)?,
        })
    }

    /// [`Policy::route`] in the form a decision keeps: the row and its parameters' spans.
    #[inline(always)]
    pub(crate) fn route_into(&self, method: &str, target: &str) -> Option<Routed<'_>> {
        let found = self.router.find(method, target)?;
        let endpoint = self.endpoints.get(found.row)?;
        Some(Routed {
            endpoint,
            param: found.param,
            organization: found.organization,
            user: found.user,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_routes() {
        let policy = Policy::align().unwrap();
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
