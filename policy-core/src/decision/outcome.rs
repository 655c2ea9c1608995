//! What a decision tells its caller: the next step ([`Step`]), the result ([`Decision`]) and,
//! for an allowed request, what the origin is told ([`Allow`]).

use super::identity::{
    IDENTITY_KEY_ID, IDENTITY_ORGANIZATION_ID, IDENTITY_PROJECT_FILTER, IDENTITY_ROLE, IDENTITY_SCOPE,
    IDENTITY_USER_ID,
};
use alloc::borrow::Cow;
use alloc::string::ToString;

use super::prepared::RoleId;
use super::reason::Denial;
use crate::key::projects::ProjectFilter;
use crate::key::record::Scope;
use crate::key::KeyHash;
use crate::policy::{Endpoint, PermissionSet};

/// What the decision needs next, or its result.
#[derive(Clone, Copy, Debug)]
pub enum Step<'a> {
    /// Look up the key record stored under this hash and call
    /// [`Authorization::provide_key`](super::Authorization::provide_key).
    LookupKey(KeyHash),
    /// Look up the current role of the key's creator and call
    /// [`Authorization::provide_membership`](super::Authorization::provide_membership).
    LookupMembership {
        /// The key's organization.
        organization_id: &'a str,
        /// The key's creator.
        user_id: &'a str,
    },
    /// Look up who owns a resource and call [`Authorization::provide_resource`](super::Authorization::provide_resource).
    LookupResource {
        /// The resource kind, e.g. `time_entry`.
        kind: &'a str,
        /// The resource id from the path (percent-decoded).
        id: &'a str,
    },
    /// The decision is made.
    Done(Decision<'a>),
}

/// The result of a decision.
#[derive(Clone, Copy, Debug)]
pub enum Decision<'a> {
    /// The request may proceed.
    Allow(Allow<'a>),
    /// The request is refused.
    Deny(Denial<'a>),
}

impl<'a> Decision<'a> {
    /// The allow, if allowed.
    pub fn allowed(self) -> Option<Allow<'a>> {
        match self {
            Decision::Allow(allow) => Some(allow),
            Decision::Deny(_) => None,
        }
    }

    /// The denial, if denied.
    pub fn denied(self) -> Option<Denial<'a>> {
        match self {
            Decision::Allow(_) => None,
            Decision::Deny(denial) => Some(denial),
        }
    }
}

/// What an allowed request carries on: the identity the origin is told, and what to do.
#[derive(Clone, Copy, Debug)]
pub struct Allow<'a> {
    /// The key's id.
    pub key_id: &'a str,
    /// The key's organization.
    pub organization_id: &'a str,
    /// The key's creator, whose current role the key acts with.
    pub user_id: &'a str,
    /// The creator's current role.
    pub role: &'a str,
    /// The same role by identity: its position in [`Policy::roles`](crate::Policy::roles) (and the policy's stamp).
    pub role_id: RoleId,
    /// The key's scope.
    pub scope: Scope,
    /// On a "filtered" row, the projects the origin must filter to.
    pub project_filter: Option<ProjectFilter<'a>>,
    /// The endpoint row that matched.
    pub endpoint: &'a Endpoint,
    /// The key's effective permissions.
    pub effective_permissions: PermissionSet,
}

impl<'a> Allow<'a> {
    /// Whether the gateway answers this request itself with the `/me` view rather than
    /// forwarding it.
    pub fn serves_me(&self) -> bool {
        self.endpoint.serves_me()
    }

    /// The identity headers the origin receives (SPEC "What the origin receives"), in order.
    /// A key of one project names it as it is stored; several are joined (`p1,p2`).
    pub fn identity_headers(&self) -> impl Iterator<Item = (&'static str, Cow<'a, str>)> {
        let fixed = [
            (IDENTITY_KEY_ID, self.key_id),
            (IDENTITY_ORGANIZATION_ID, self.organization_id),
            (IDENTITY_USER_ID, self.user_id),
            (IDENTITY_ROLE, self.role),
            (IDENTITY_SCOPE, self.scope.as_str()),
        ];
        let filter = self.project_filter.map(|filter| {
            let value = match filter.ids() {
                [one] => Cow::Borrowed(one.as_str()),
                _ => Cow::Owned(filter.to_string()),
            };
            (IDENTITY_PROJECT_FILTER, value)
        });
        fixed
            .into_iter()
            .map(|(name, value)| (name, Cow::Borrowed(value)))
            .chain(filter)
    }
}
