//! The decision, as a state machine the caller drives (sans-I/O).
//!
//! [`Engine::authorize`] judges everything that needs no store (the key headers, the key's
//! format, checksum and environment, and which endpoint the request names), then asks for what
//! it needs next through [`Authorization::next`]: the key record for a hash, the creator's
//! current role, the project owning a resource. The caller fetches each answer however it likes
//! (KV, D1, a JS callback, a map) and feeds it back with `provide_*`. Checks run in SPEC's
//! precedence order and the first failure wins.
//!
//! Each phase of a decision holds what it has learnt and nothing else (the key once the store
//! gave it; the role, the endpoint row and the effective permissions once they are judged), so a
//! decision cannot be in a state its data contradicts.
//!
//! - this file: the engine, the steps, and the decision's phases.
//! - `reason.rs`: the denials: reason codes, statuses and messages.
//! - `outcome.rs`: what the caller is told: the next step, the decision, an allow's identity.
//! - `identity.rs`: the identity headers the origin receives, and which headers a client may
//!   not send.
//! - `prepared.rs`: a key compiled once for a policy, and a role resolved once.
//! - `explain.rs`: a decision explained (the check that decided it), and a key's access table.

pub mod explain;
pub mod identity;
pub mod outcome;
pub mod prepared;
pub mod reason;

use core::net::IpAddr;

use crate::credentials::{KeyHeaders, Presented};
use crate::key::record::{KeyRecord, ResourceOwner, Scope, Timestamp};
use crate::key::{ApiKey, Environment, KeyError, KeyHash};
use crate::me::MeView;
use crate::policy::{CompiledRule, Endpoint, PermissionSet, Policy, Role, Routed};
use crate::route::PathId;
pub use identity::{
    is_identity_header, IDENTITY_HEADER_PREFIX, IDENTITY_KEY_ID, IDENTITY_ORGANIZATION_ID,
    IDENTITY_PROJECT_FILTER, IDENTITY_ROLE, IDENTITY_SCOPE, IDENTITY_USER_ID,
};
pub use outcome::{Allow, Decision, Step};
use prepared::{KeySource, KeyState, PreparedKey, RoleId};
use reason::{Cause, Denial};

/// A compiled policy and the key environment a deployment serves.
#[derive(Clone, Debug)]
pub struct Engine {
    policy: Policy,
    environment: Environment,
}

/// The request target (path and query) of an absolute URL, exactly as written: no dot-segment
/// or percent-encoding normalisation, so that matching sees what the client sent. A URL without
/// a path has the target `/`. A string that already starts with `/` is a target and is returned
/// as is (even when its query holds a URL).
pub fn target_of_url(url: &str) -> &str {
    if url.starts_with('/') {
        return url;
    }
    let after_scheme = url
        .as_bytes()
        .windows(3)
        .position(|w| w == b"://")
        .map_or(0, |i| i + 3);
    let rest = url.get(after_scheme..).unwrap_or("");
    match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes().get(i) == Some(&b'/') => rest.get(i..).unwrap_or("/"),
        _ => "/",
    }
}

/// The parts of an HTTP request a decision reads.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The method, as sent (matching is case-sensitive).
    pub method: &'a str,
    /// The request target: path, optionally followed by `?query`.
    pub target: &'a str,
    /// The key-carrying headers.
    pub headers: KeyHeaders<'a>,
    /// The client's address, when known (see [`crate::client_address`]); a key with an address
    /// allow-list is refused without one.
    pub client: Option<IpAddr>,
}

/// A provide call that does not answer the step the decision is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepError {
    /// The decision is not waiting for a key record.
    NotAwaitingKey,
    /// The decision is not waiting for a membership.
    NotAwaitingMembership,
    /// The decision is not waiting for a resource owner.
    NotAwaitingResource,
}

impl core::error::Error for StepError {}

impl core::fmt::Display for StepError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let what = match self {
            StepError::NotAwaitingKey => "a key record",
            StepError::NotAwaitingMembership => "a membership",
            StepError::NotAwaitingResource => "a resource owner",
        };
        write!(f, "the decision is not waiting for {what}")
    }
}

/// One decision in progress. `R` is how the caller hands over the key: a raw record (an owned
/// [`KeyRecord`] for async adapters, a `&KeyRecord` or `Rc<KeyRecord>` for callers that keep
/// records in memory) or a [`PreparedKey`] compiled once (see [`KeySource`]). `'p` is the
/// engine's and the request target's: the decision reads the path's parameters where they stand.
#[derive(Debug)]
pub struct Authorization<'p, R> {
    policy: &'p Policy,
    now: Timestamp,
    /// The request target the route's spans point into.
    target: &'p str,
    /// The request's row as routed offline, with where its parameters are (`None`: no row
    /// matches, which is judged once the key is: SPEC's precedence puts the key first).
    route: Option<Routed<'p>>,
    phase: Phase<'p, R>,
}

/// Where a decision is, and what it holds there.
#[derive(Debug)]
enum Phase<'p, R> {
    /// Waiting for the key stored under this hash (the client's address is judged once the
    /// key is known).
    AwaitKey(KeyHash, Option<IpAddr>),
    /// Refused before the store gave a key (no key, a malformed one, an unknown one, or a
    /// failed lookup).
    Refused(Cause<'p>),
    /// The store gave this key; what has been judged since is the stage.
    Keyed(R, Stage<'p>),
}

/// Where a decision about a key the store gave is, and what it holds there (the key is
/// beside it, in [`Phase::Keyed`], so that moving on never moves the key).
#[derive(Clone, Copy, Debug)]
#[repr(u8)]
enum Stage<'p> {
    /// The key is live: waiting for its creator's current role (then the client's address is
    /// judged against the key's allow-list).
    AwaitMembership {
        /// The client's address, when known.
        client: Option<IpAddr>,
    },
    /// In scope and permitted: waiting for the owner of the resource the path names.
    AwaitResource {
        /// What is granted if the resource is the key's.
        granted: Granted<'p>,
        /// The resource kind, e.g. `time_entry`.
        kind: &'p str,
        /// The resource id from the path.
        id: PathId,
    },
    /// The request may proceed.
    Allowed(Granted<'p>),
    /// The request is refused.
    Denied(Cause<'p>),
}

/// What the key, acting with its creator's role, is granted on the request's endpoint row.
#[derive(Clone, Copy, Debug)]
struct Granted<'p> {
    endpoint: &'p Endpoint,
    /// The creator's role: its position in the policy's roles and its name.
    role: (usize, &'p str),
    effective: PermissionSet,
}

impl Engine {
    /// An engine for `policy`, serving keys of `environment`.
    pub fn new(policy: Policy, environment: Environment) -> Engine {
        Engine { policy, environment }
    }

    /// The Align policy, serving live keys (an `Err` only if the shipped document were
    /// invalid: see [`Policy::align`]).
    pub fn align() -> Result<Engine, crate::policy::PolicyError> {
        Ok(Engine::new(Policy::align()?, Environment::Live))
    }

    /// The compiled policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Compiles a key record once for this engine's policy (see [`PreparedKey`]).
    pub fn prepare(&self, record: KeyRecord) -> PreparedKey {
        self.policy.prepare(record)
    }

    /// The environment served.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// Starts a decision: judges the headers, the key's format and the endpoint offline, then
    /// waits for the caller (see [`Authorization::next`]).
    pub fn authorize<'a, R: KeySource>(
        &'a self,
        request: &Request<'a>,
        now: Timestamp,
    ) -> Authorization<'a, R> {
        let presented = self.presented_key(&request.headers);
        self.authorize_presented(presented, request.method, request.target, request.client, now)
    }

    /// Starts a decision from what [`Engine::presented_key`] found in the headers: the same as
    /// [`Engine::authorize`], for a caller whose header values do not live as long as the
    /// decision (only the target is kept).
    pub fn authorize_presented<'a, R: KeySource>(
        &'a self,
        presented: Result<KeyHash, Cause<'static>>,
        method: &str,
        target: &'a str,
        client: Option<IpAddr>,
        now: Timestamp,
    ) -> Authorization<'a, R> {
        match presented {
            Ok(hash) => self.authorize_hash(hash, method, target, client, now),
            Err(cause) => Authorization {
                policy: &self.policy,
                now,
                target,
                route: None,
                phase: Phase::Refused(cause),
            },
        }
    }

    /// The offline key checks on their own: which key the headers present, whether it is well
    /// formed, passes its checksum and belongs to this deployment's environment. `Ok` is the
    /// hash to look the key up by.
    pub fn presented_key(&self, headers: &KeyHeaders<'_>) -> Result<KeyHash, Cause<'static>> {
        match headers.presented() {
            Presented::Nothing => Err(Cause::NoKey),
            Presented::Conflict => Err(Cause::ConflictingHeaders),
            Presented::Unreadable => Err(Cause::Malformed(KeyError::BadCharacter)),
            Presented::Key(text) => {
                match ApiKey::parse_for_with(text, self.policy.key_prefix(), self.environment) {
                    Ok(key) => Ok(key.hash()),
                    Err(err) => Err(Cause::Malformed(err)),
                }
            }
        }
    }

    /// Starts a decision for a key that [`Engine::presented_key`] already checked and hashed
    /// (e.g. by a caller that caches by hash); everything after the offline key checks is the
    /// same as [`Engine::authorize`].
    pub fn authorize_hash<'a, R: KeySource>(
        &'a self,
        hash: KeyHash,
        method: &str,
        target: &'a str,
        client: Option<IpAddr>,
        now: Timestamp,
    ) -> Authorization<'a, R> {
        Authorization {
            policy: &self.policy,
            now,
            target,
            route: self.policy.route_into(method, target),
            phase: Phase::AwaitKey(hash, client),
        }
    }
}

impl<'p, R: KeySource> Authorization<'p, R> {
    /// What the decision needs next, or its result.
    pub fn next(&self) -> Step<'_> {
        match &self.phase {
            Phase::AwaitKey(hash, _) => Step::LookupKey(*hash),
            Phase::Refused(cause) => Step::Done(Decision::Deny(Denial::new(*cause))),
            Phase::Keyed(key, stage) => match stage {
                Stage::AwaitMembership { .. } => {
                    let record = key.key_record();
                    Step::LookupMembership {
                        organization_id: &record.organization_id,
                        user_id: &record.created_by,
                    }
                }
                Stage::AwaitResource { kind, id, .. } => Step::LookupResource {
                    kind,
                    id: id.as_str(),
                },
                Stage::Allowed(granted) => Step::Done(Decision::Allow(self.allow_of(key, granted))),
                Stage::Denied(cause) => Step::Done(Decision::Deny(Denial::new(*cause))),
            },
        }
    }

    /// The decision, once made (`None` while a lookup is outstanding).
    pub fn decision(&self) -> Option<Decision<'_>> {
        match &self.phase {
            Phase::Refused(cause) | Phase::Keyed(_, Stage::Denied(cause)) => {
                Some(Decision::Deny(Denial::new(*cause)))
            }
            Phase::Keyed(key, Stage::Allowed(granted)) => Some(Decision::Allow(self.allow_of(key, granted))),
            Phase::AwaitKey(..)
            | Phase::Keyed(_, Stage::AwaitMembership { .. } | Stage::AwaitResource { .. }) => None,
        }
    }

    /// The key's `/me` view, once the request is allowed.
    pub fn me(&self) -> Option<MeView<'_>> {
        let Phase::Keyed(key, Stage::Allowed(granted)) = &self.phase else {
            return None;
        };
        Some(MeView::new(
            self.policy,
            key.key_record(),
            granted.role.1,
            granted.effective,
        ))
    }

    /// The key record, once the store provided it (also on a denial that came after).
    pub fn record(&self) -> Option<&KeyRecord> {
        match &self.phase {
            Phase::Keyed(key, _) => Some(key.key_record()),
            Phase::AwaitKey(..) | Phase::Refused(_) => None,
        }
    }

    fn allow_of<'a>(&'a self, key: &'a R, granted: &Granted<'a>) -> Allow<'a> {
        let record = key.key_record();
        let endpoint = granted.endpoint;
        let project_filter = match (record.scope, &endpoint.project_key) {
            (Scope::Project, CompiledRule::Filtered) => Some(record.scoped_project_ids.filter()),
            _ => None,
        };
        let (role, role_name) = granted.role;
        Allow {
            key_id: &record.id,
            organization_id: &record.organization_id,
            user_id: &record.created_by,
            role: role_name,
            role_id: RoleId {
                index: role,
                stamp: self.policy.stamp(),
            },
            scope: record.scope,
            project_filter,
            endpoint,
            effective_permissions: granted.effective,
        }
    }

    /// Answers [`Step::LookupKey`]: the record stored under the hash, or `None` if unknown.
    /// The record's own `revokedAt` / `expiresAt` are its state.
    pub fn provide_key(&mut self, record: Option<R>) -> Result<(), StepError> {
        let Phase::AwaitKey(_, client) = self.phase else {
            return Err(StepError::NotAwaitingKey);
        };
        match record {
            None => self.phase = Phase::Refused(Cause::UnknownKey),
            Some(record) => {
                let state = KeyState::of(record.key_record());
                self.accept_key(record, state, client);
            }
        }
        Ok(())
    }

    /// Answers [`Step::LookupKey`] with a key the caller holds (typically a [`PreparedKey`]
    /// from its cache) and the key's current revocation and expiry, read from the authoritative
    /// store; the `revokedAt` / `expiresAt` inside the held record are ignored. An unknown key is
    /// answered with `provide_key(None)`.
    pub fn provide_prepared(&mut self, key: R, state: KeyState) -> Result<(), StepError> {
        let Phase::AwaitKey(_, client) = self.phase else {
            return Err(StepError::NotAwaitingKey);
        };
        self.accept_key(key, state, client);
        Ok(())
    }

    /// Revoked → expired → a project key without its project (a broken store). Each phase is
    /// written whole where it is decided (a stage chosen first and stored after is copied in
    /// at its largest size).
    #[inline(always)]
    fn accept_key(&mut self, key: R, state: KeyState, client: Option<IpAddr>) {
        let record = key.key_record();
        let cause = if state.revoked_at.is_some_and(|t| t <= self.now) {
            Cause::Revoked
        } else if state.expires_at.is_some_and(|t| t <= self.now) {
            Cause::Expired
        } else if record.scope == Scope::Project && record.scoped_project_ids.is_empty() {
            Cause::StoreInconsistent
        } else {
            self.phase = Phase::Keyed(key, Stage::AwaitMembership { client });
            return;
        };
        self.phase = Phase::Keyed(key, Stage::Denied(cause));
    }

    /// Answers [`Step::LookupMembership`]: the creator's current role name, or `None` if the
    /// creator is no longer a member.
    pub fn provide_membership(&mut self, role: Option<&str>) -> Result<(), StepError> {
        let policy = self.policy;
        self.answer_membership(|| match role {
            None => Err(Cause::CreatorRemoved),
            Some(name) => policy.find_role(name).ok_or(Cause::StoreInconsistent),
        })
    }

    /// Answers [`Step::LookupMembership`] with a role resolved once by [`Policy::role_id`], or
    /// `None` if the creator is no longer a member. A role of another policy (a different
    /// [`Policy::stamp`]) denies `503 unavailable`.
    pub fn provide_role(&mut self, role: Option<RoleId>) -> Result<(), StepError> {
        let policy = self.policy;
        self.answer_membership(|| match role {
            None => Err(Cause::CreatorRemoved),
            Some(role) if role.stamp == policy.stamp() => policy
                .role_at(role.index)
                .map(|found| (role.index, found))
                .ok_or(Cause::StoreInconsistent),
            Some(_) => Err(Cause::StoreInconsistent),
        })
    }

    /// Answers [`Step::LookupMembership`] with the creator's role as `role` finds it (its index
    /// and definition, or why there is none), then judges the endpoint.
    #[inline(always)]
    fn answer_membership(
        &mut self,
        role: impl FnOnce() -> Result<(usize, &'p Role), Cause<'p>>,
    ) -> Result<(), StepError> {
        let Phase::Keyed(key, stage) = &mut self.phase else {
            return Err(StepError::NotAwaitingMembership);
        };
        let Stage::AwaitMembership { client } = *stage else {
            return Err(StepError::NotAwaitingMembership);
        };
        match role() {
            // The address right after the key checks, before anything about the endpoint.
            Ok(_)
                if key
                    .key_record()
                    .allowed_cidrs
                    .as_ref()
                    .is_some_and(|list| !list.admits(client)) =>
            {
                *stage = Stage::Denied(Cause::AddressNotAllowed)
            }
            Ok((index, role)) => {
                let request = self.route.as_ref().map(|route| (route, self.target));
                judge(self.policy, request, &*key, (index, role), stage)
            }
            Err(cause) => *stage = Stage::Denied(cause),
        }
        Ok(())
    }

    /// Answers [`Step::LookupResource`]: who owns the resource, or `None` if unknown.
    pub fn provide_resource(&mut self, owner: Option<ResourceOwner<'_>>) -> Result<(), StepError> {
        let Phase::Keyed(key, stage) = &mut self.phase else {
            return Err(StepError::NotAwaitingResource);
        };
        let Stage::AwaitResource { granted, .. } = *stage else {
            return Err(StepError::NotAwaitingResource);
        };
        let record = key.key_record();
        let visible = owner.is_some_and(|owner| {
            owner.organization_id == record.organization_id
                && record.scoped_project_ids.contains(owner.project_id)
        });
        *stage = if visible {
            Stage::Allowed(granted)
        } else {
            Stage::Denied(Cause::ResourceNotVisible)
        };
        Ok(())
    }

    /// Records that a lookup failed: the decision becomes `503 unavailable` (fail closed). The
    /// key, if the store gave it, stays readable through [`Authorization::record`].
    pub fn store_failed(&mut self) {
        match &mut self.phase {
            Phase::Keyed(_, stage) => *stage = Stage::Denied(Cause::StoreUnavailable),
            phase @ (Phase::AwaitKey(..) | Phase::Refused(_)) => {
                *phase = Phase::Refused(Cause::StoreUnavailable)
            }
        }
    }
}

/// The creator holds `role`: the key's effective permissions, then endpoint known →
/// organization in the path → project scope → permission → user in the path → (resource
/// visibility, asked next). Writes the next stage in place (a stage
/// returned by value is built aside and copied in whole).
#[inline(always)]
fn judge<'p, R: KeySource>(
    policy: &'p Policy,
    request: Option<(&Routed<'p>, &str)>,
    key: &R,
    (index, role): (usize, &'p Role),
    stage: &mut Stage<'p>,
) {
    let record = key.key_record();
    let explicit = match key.prepared() {
        Some(prepared) if prepared.stamp() == policy.stamp() => prepared.grants(),
        _ => record
            .permissions
            .as_ref()
            .map(|names| policy.permission_set(names.iter().map(|g| g.as_str()))),
    };
    let effective = match explicit {
        None => role.grants(),
        Some(grants) => role.grants().intersect(grants),
    };
    let Some((route, target)) = request else {
        *stage = Stage::Denied(Cause::UnknownEndpoint);
        return;
    };
    if let Some(organization) = route.organization {
        if !organization.names(target, &record.organization_id) {
            *stage = Stage::Denied(Cause::OtherOrganization);
            return;
        }
    }
    let mut resource = None;
    if record.scope == Scope::Project {
        // The trie records the span of every parameter a row's rule reads, so `param` is
        // there on the rows that need it; a missing or undecodable one matches nothing.
        match &route.endpoint.project_key {
            CompiledRule::Deny => {
                *stage = Stage::Denied(Cause::OrganizationEndpoint);
                return;
            }
            CompiledRule::OwnPath { .. } => {
                // One project (the common case) is compared where the path holds it.
                let own = &record.scoped_project_ids;
                if !route.param.is_some_and(|param| match own.single() {
                    Some(one) => param.names(target, one),
                    None => param.decode(target).is_some_and(|id| own.contains(id.as_str())),
                }) {
                    *stage = Stage::Denied(Cause::OtherProject);
                    return;
                }
            }
            CompiledRule::OwnResource { kind, .. } => {
                let Some(id) = route.param.and_then(|param| param.decode(target)) else {
                    *stage = Stage::Denied(Cause::UnknownEndpoint);
                    return;
                };
                resource = Some((&**kind, id));
            }
            CompiledRule::Allow | CompiledRule::Filtered => {}
        }
    }
    if let Some(permission) = route.endpoint.permission() {
        if !effective.contains(permission.index()) {
            *stage = Stage::Denied(Cause::MissingPermission(permission));
            return;
        }
    }
    if let Some(user) = route.user {
        if !user.names(target, &record.created_by) {
            let denied = match route.endpoint.others_permission() {
                None => Some(Cause::OwnUserOnly),
                Some(others) if !effective.contains(others.index()) => Some(Cause::MissingPermission(others)),
                Some(_) => None,
            };
            if let Some(cause) = denied {
                *stage = Stage::Denied(cause);
                return;
            }
        }
    }
    let granted = Granted {
        endpoint: route.endpoint,
        role: (index, role.name()),
        effective,
    };
    match resource {
        None => *stage = Stage::Allowed(granted),
        Some((kind, id)) => *stage = Stage::AwaitResource { granted, kind, id },
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod sizes {
    use super::*;

    /// A decision is built, moved and matched on every request, so its size is part of every
    /// decision's cost: the route keeps where its parameters are, not copies of them, and a
    /// decision with a tenant and a user in the path is no larger than one of Align's was.
    #[test]
    fn a_decision_stays_small_whatever_the_path_holds() {
        assert!(core::mem::size_of::<Option<Routed<'static>>>() <= 48);
        let size = core::mem::size_of::<Authorization<'static, &PreparedKey>>();
        assert!(size <= 256, "{size}");
    }
}
