//! "Why was my integration refused?": a decision for a known key explained — which check
//! decided it and on which endpoint row — and a key's access table (every endpoint row: allowed,
//! under which conditions, or the reason it is not).
//!
//! Both run the real decision ([`Engine::authorize_hash`]) with the caller's key record and the
//! creator's role, so an explanation can never disagree with what the gateway answers: nothing
//! here judges a rule of its own. The access table decides, for each row, a request built from
//! the row's pattern with the key's own organization, user and project in the path.

use alloc::format;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::net::IpAddr;

use super::reason::{Cause, Denial};
use super::{Decision, Engine, Step};
use crate::key::record::{KeyRecord, ResourceOwner, Scope, Timestamp};
use crate::key::KeyHash;
use crate::policy::{Endpoint, ProjectKeyRule};

/// The check of SPEC's precedence that decided a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The key itself: presented, well formed, known, live, its creator still a member.
    Key,
    /// The client's address is in the key's allow-list.
    Address,
    /// Which endpoint the request names.
    Endpoint,
    /// The organization in the path is the key's.
    Organization,
    /// A project key's scope on the row.
    ProjectScope,
    /// The row's permission.
    Permission,
    /// The user in the path (the key's creator, or `othersPermission`).
    User,
    /// The resource the path names belongs to the key's project.
    Resource,
    /// The gateway or its stores (rate limit, availability, origin).
    Gateway,
    /// Every check passed.
    Allowed,
}

impl Check {
    /// The check's name as written in explanations (`key`, `address`, `endpoint`, `organization`,
    /// `project_scope`, `permission`, `user`, `resource`, `gateway`, `allowed`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Check::Key => "key",
            Check::Address => "address",
            Check::Endpoint => "endpoint",
            Check::Organization => "organization",
            Check::ProjectScope => "project_scope",
            Check::Permission => "permission",
            Check::User => "user",
            Check::Resource => "resource",
            Check::Gateway => "gateway",
            Check::Allowed => "allowed",
        }
    }
}

impl Cause<'_> {
    /// The check that refuses with this cause.
    pub const fn check(&self) -> Check {
        match self {
            Cause::NoKey
            | Cause::ConflictingHeaders
            | Cause::Malformed(_)
            | Cause::UnknownKey
            | Cause::Revoked
            | Cause::Expired
            | Cause::CreatorRemoved => Check::Key,
            Cause::AddressNotAllowed => Check::Address,
            Cause::UnknownEndpoint => Check::Endpoint,
            Cause::OtherOrganization => Check::Organization,
            Cause::OrganizationEndpoint | Cause::OtherProject => Check::ProjectScope,
            Cause::MissingPermission(_) => Check::Permission,
            Cause::OwnUserOnly => Check::User,
            Cause::ResourceNotVisible => Check::Resource,
            Cause::RateLimited { .. }
            | Cause::StoreUnavailable
            | Cause::StoreInconsistent
            | Cause::Misconfigured
            | Cause::OriginUnreachable
            | Cause::BodyNotAllowed => Check::Gateway,
        }
    }
}

/// What the decision came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed; on a `filtered` row, the project the origin is told to filter to.
    Allowed {
        /// The `X-Keyscope-Project-Filter` value, if any.
        project_filter: Option<String>,
    },
    /// Refused: the status, reason code and message the gateway answers.
    Denied {
        /// The HTTP status.
        status: u16,
        /// The reason code.
        reason: &'static str,
        /// The message.
        message: String,
    },
    /// Allowed only if the resource the path names belongs to the key's project: the answer
    /// depends on the resource store (`kind`, `id`), which the caller did not give.
    NeedsResource {
        /// The resource kind.
        kind: String,
        /// The resource id from the path.
        id: String,
    },
}

/// A decision explained.
#[derive(Clone, Debug)]
pub struct Explanation<'p> {
    /// What the decision came to.
    pub verdict: Verdict,
    /// The check that decided it ([`Check::Allowed`] when every check passed).
    pub check: Check,
    /// The endpoint row the request matched, if any.
    pub endpoint: Option<&'p Endpoint>,
}

impl Engine {
    /// Explains the decision for `record`, whose creator holds `role` (`None`: no longer a
    /// member), on `method` `target` at `now`. `resource` answers the resource lookup of an
    /// `own_resource` row (`None`: not asked — the verdict is then [`Verdict::NeedsResource`]);
    /// `Some(None)` means the resource is unknown. The key's own revocation and expiry are read
    /// from the record; `client` is the request's address (judged against the key's allow-list).
    #[allow(clippy::too_many_arguments)]
    pub fn explain(
        &self,
        record: &KeyRecord,
        role: Option<&str>,
        method: &str,
        target: &str,
        client: Option<IpAddr>,
        now: Timestamp,
        resource: Option<Option<ResourceOwner<'_>>>,
    ) -> Explanation<'_> {
        let endpoint = self.policy().route(method, target).map(|m| m.endpoint);
        let mut auth =
            self.authorize_hash::<&KeyRecord>(KeyHash::from_bytes([0; 32]), method, target, client, now);
        if auth.provide_key(Some(record)).is_err() {
            return unavailable(endpoint);
        }
        // A decision asks at most for the membership and then the resource.
        for _ in 0..3 {
            let answered = match auth.next() {
                Step::LookupKey(_) => return unavailable(endpoint),
                Step::LookupMembership { .. } => auth.provide_membership(role),
                Step::LookupResource { kind, id } => match resource {
                    Some(owner) => auth.provide_resource(owner),
                    None => {
                        return Explanation {
                            verdict: Verdict::NeedsResource {
                                kind: kind.into(),
                                id: id.into(),
                            },
                            check: Check::Resource,
                            endpoint,
                        }
                    }
                },
                Step::Done(Decision::Allow(allow)) => {
                    return Explanation {
                        verdict: Verdict::Allowed {
                            project_filter: allow.project_filter.map(|filter| filter.to_string()),
                        },
                        check: Check::Allowed,
                        endpoint,
                    }
                }
                Step::Done(Decision::Deny(denial)) => return denied(&denial, endpoint),
            };
            if answered.is_err() {
                return unavailable(endpoint);
            }
        }
        unavailable(endpoint)
    }

    /// Every endpoint row and what `record` (its creator holding `role`) may do there at `now`:
    /// each row decided for a request naming the key's own organization, user and (first)
    /// project, sent from an address the key's allow-list admits.
    pub fn access_table(&self, record: &KeyRecord, role: Option<&str>, now: Timestamp) -> Vec<Access<'_>> {
        let policy = self.policy();
        let client = match &record.allowed_cidrs {
            None => None,
            Some(list) => list.blocks().first().map(|block| block.network()),
        };
        policy
            .endpoints()
            .iter()
            .map(|endpoint| {
                let target = own_target(policy, endpoint, record);
                let owner = record
                    .scoped_project_ids
                    .as_slice()
                    .first()
                    .map(|project| ResourceOwner {
                        organization_id: &record.organization_id,
                        project_id: project,
                    });
                let explained =
                    self.explain(record, role, endpoint.method(), &target, client, now, Some(owner));
                Access {
                    endpoint,
                    verdict: explained.verdict,
                    check: explained.check,
                    conditions: conditions(endpoint, record),
                }
            })
            .collect()
    }
}

/// One row of a key's access table.
#[derive(Clone, Debug)]
pub struct Access<'p> {
    /// The endpoint row.
    pub endpoint: &'p Endpoint,
    /// What a request naming the key's own organization, user and project gets.
    pub verdict: Verdict,
    /// The check that decided it.
    pub check: Check,
    /// What the path must name for the verdict to hold, when allowed.
    pub conditions: Vec<Condition>,
}

/// A condition an allowed row puts on the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// The organization parameter must be the key's organization.
    OwnOrganization(String),
    /// The user parameter must be the key's creator, unless the key holds this permission
    /// (`None`: the row has no `othersPermission`).
    OwnUser {
        /// The key's creator.
        user: String,
        /// The permission that opens other users, if the row has one.
        others_permission: Option<String>,
    },
    /// The project in the path must be one of the key's (`own_path`, project keys).
    OwnProject(Vec<String>),
    /// The resource in the path must belong to one of the key's projects (`own_resource`,
    /// project keys).
    ResourceInProject(Vec<String>),
    /// The origin is told to filter to the key's projects (`filtered`, project keys).
    FilteredToProject(Vec<String>),
    /// The request must come from an address in one of these blocks (every row, keys with an
    /// allow-list).
    FromAddresses(Vec<String>),
}

fn denied<'p>(denial: &Denial<'_>, endpoint: Option<&'p Endpoint>) -> Explanation<'p> {
    Explanation {
        verdict: Verdict::Denied {
            status: denial.status(),
            reason: denial.reason().code(),
            message: denial.message(),
        },
        check: denial.cause().check(),
        endpoint,
    }
}

fn unavailable(endpoint: Option<&Endpoint>) -> Explanation<'_> {
    denied(&Denial::unavailable(), endpoint)
}

/// The request target of `endpoint` with the key's own organization, user and project in the
/// path (any other parameter: a placeholder id).
fn own_target(policy: &crate::policy::Policy, endpoint: &Endpoint, record: &KeyRecord) -> String {
    let organization = policy.organization_param();
    let user = policy.user_param();
    let rule_param = endpoint.rule_param();
    let segments: Vec<&str> = endpoint
        .pattern()
        .split('/')
        .map(|segment| match segment.strip_prefix(':') {
            None => segment,
            Some(name) if Some(name) == organization => &record.organization_id,
            Some(name) if Some(name) == user => &record.created_by,
            Some(name) if Some(name) == rule_param && endpoint.project_key() == ProjectKeyRule::OwnPath => {
                record
                    .scoped_project_ids
                    .as_slice()
                    .first()
                    .map_or("any", String::as_str)
            }
            Some(_) => "any",
        })
        .collect();
    format!("{}{}", policy.base_path(), segments.join("/"))
}

fn conditions(endpoint: &Endpoint, record: &KeyRecord) -> Vec<Condition> {
    let mut out = Vec::new();
    if endpoint.names_organization() {
        out.push(Condition::OwnOrganization(record.organization_id.clone()));
    }
    if endpoint.names_user() {
        out.push(Condition::OwnUser {
            user: record.created_by.clone(),
            others_permission: endpoint.others_permission().map(|p| p.name().into()),
        });
    }
    if record.scope == Scope::Project && !record.scoped_project_ids.is_empty() {
        let projects = record.scoped_project_ids.as_slice().to_vec();
        match endpoint.project_key() {
            ProjectKeyRule::OwnPath => out.push(Condition::OwnProject(projects)),
            ProjectKeyRule::OwnResource => out.push(Condition::ResourceInProject(projects)),
            ProjectKeyRule::Filtered => out.push(Condition::FilteredToProject(projects)),
            ProjectKeyRule::Allow | ProjectKeyRule::Deny => {}
        }
    }
    if let Some(list) = &record.allowed_cidrs {
        out.push(Condition::FromAddresses(
            list.blocks().iter().map(ToString::to_string).collect(),
        ));
    }
    out
}
