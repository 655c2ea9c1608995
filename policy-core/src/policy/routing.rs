//! A request matched to its endpoint row: the router (`crate::route`) finds the row and where
//! its parameter is; this file decodes the parameter the row's project-key rule reads and pairs
//! it with that rule, so a rule that needs an id always has one.

use super::{CompiledRule, Endpoint, Policy};
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

/// A request matched to an endpoint row, with what its project-key rule reads from the path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Routed<'p> {
    /// The matched row.
    pub(crate) endpoint: &'p Endpoint,
    /// What the row lets a project key do, with the id it needs.
    pub(crate) rule: ProjectRule<'p>,
    /// The organization the path names, on a row whose pattern holds the organization
    /// parameter.
    pub(crate) organization: Option<PathId>,
    /// The user the path names, on a row whose pattern holds the user parameter.
    pub(crate) user: Option<PathId>,
}

/// A row's project-key rule, holding the decoded parameter it reads.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ProjectRule<'p> {
    /// Any project key may call it.
    Allow,
    /// Any project key may call it; the origin filters to the key's project.
    Filtered,
    /// Only the key's own project, named by this id in the path.
    OwnPath(PathId),
    /// Only a resource of the key's own project: its kind and the id in the path.
    OwnResource {
        /// The resource kind, e.g. `time_entry`.
        kind: &'p str,
        /// The resource id from the path (percent-decoded).
        id: PathId,
    },
    /// Project keys may not call it.
    Deny,
}

impl Policy {
    /// Matches `method` and `target` (path, optionally with a query string) to an endpoint row;
    /// `None` is `404 not_found`.
    pub fn route(&self, method: &str, target: &str) -> Option<RouteMatch<'_>> {
        let routed = self.route_into(method, target)?;
        let param = match routed.rule {
            ProjectRule::OwnPath(id) | ProjectRule::OwnResource { id, .. } => Some(id),
            ProjectRule::Allow | ProjectRule::Filtered | ProjectRule::Deny => None,
        };
        Some(RouteMatch {
            endpoint: routed.endpoint,
            param,
            organization: routed.organization,
            user: routed.user,
        })
    }

    /// [`Policy::route`] in the form a decision keeps: the row's rule with its parameter. Only
    /// the parameter the rule reads is decoded; the others are only checked.
    #[inline(always)]
    pub(crate) fn route_into(&self, method: &str, target: &str) -> Option<Routed<'_>> {
        let found = self.router.find(method, target)?;
        let endpoint = self.endpoints.get(found.row)?;
        let rule = match &endpoint.project_key {
            CompiledRule::Allow => ProjectRule::Allow,
            CompiledRule::Filtered => ProjectRule::Filtered,
            CompiledRule::Deny => ProjectRule::Deny,
            CompiledRule::OwnPath { .. } => ProjectRule::OwnPath(param_of(target, found.param)?),
            CompiledRule::OwnResource { kind, .. } => ProjectRule::OwnResource {
                kind,
                id: param_of(target, found.param)?,
            },
        };
        let optional = |span: Option<Span>| match span {
            None => Some(None),
            Some(span) => param_of(target, Some(span)).map(Some),
        };
        Some(Routed {
            endpoint,
            rule,
            organization: optional(found.organization)?,
            user: optional(found.user)?,
        })
    }
}

/// The decoded parameter the router located in `target` (`escaped`: it holds a `%` escape).
#[inline(always)]
fn param_of(target: &str, found: Option<Span>) -> Option<PathId> {
    match found? {
        (start, end, true) => PathId::decode(target.get(start..end)?),
        (start, end, false) => PathId::plain(target.as_bytes(), start, end),
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
