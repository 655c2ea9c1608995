//! The decision, as a state machine the caller drives (sans-I/O).
//!
//! [`Engine::authorize`] judges everything that needs no store (the key headers, the key's
//! format, checksum and environment, and which endpoint the request names), then asks for what
//! it needs next through [`Authorization::next`]: the key record for a hash, the creator's
//! current role, the project owning a resource. The caller fetches each answer however it likes
//! (KV, D1, a JS callback, a map) and feeds it back with `provide_*`. Checks run in SPEC's
//! precedence order and the first failure wins.

use crate::credentials::{KeyHeaders, Presented};
use crate::key::{ApiKey, Environment, KeyError, KeyHash};
use crate::me::MeView;
use crate::permissions::PermissionSet;
use crate::policy::{CompiledRule, Endpoint, Policy};
use crate::prepared::{KeySource, KeyState, PreparedKey, RoleId};
use crate::reason::{Cause, Denial};
use crate::record::{KeyRecord, ResourceOwner, Scope, Timestamp};
use crate::route::PathId;

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
}

/// What the decision needs next, or its result.
#[derive(Clone, Copy, Debug)]
pub enum Step<'a> {
    /// Look up the key record stored under this hash and call
    /// [`Authorization::provide_key`].
    LookupKey(KeyHash),
    /// Look up the current role of the key's creator and call
    /// [`Authorization::provide_membership`].
    LookupMembership {
        /// The key's organization.
        organization_id: &'a str,
        /// The key's creator.
        user_id: &'a str,
    },
    /// Look up who owns a resource and call [`Authorization::provide_resource`].
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
    /// The key's scope.
    pub scope: Scope,
    /// On a "filtered" row, the project the origin must filter to.
    pub project_filter: Option<&'a str>,
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
    pub fn identity_headers(&self) -> impl Iterator<Item = (&'static str, &'a str)> {
        let fixed = [
            (IDENTITY_KEY_ID, self.key_id),
            (IDENTITY_ORGANIZATION_ID, self.organization_id),
            (IDENTITY_USER_ID, self.user_id),
            (IDENTITY_ROLE, self.role),
            (IDENTITY_SCOPE, self.scope.as_str()),
        ];
        fixed
            .into_iter()
            .chain(self.project_filter.map(|p| (IDENTITY_PROJECT_FILTER, p)))
    }
}

/// The prefix of every identity header; a client-sent header with it is dropped.
pub const IDENTITY_HEADER_PREFIX: &str = "x-keyscope-";
/// Identity header: the key id.
pub const IDENTITY_KEY_ID: &str = "X-Keyscope-Key-Id";
/// Identity header: the organization.
pub const IDENTITY_ORGANIZATION_ID: &str = "X-Keyscope-Organization-Id";
/// Identity header: the key's creator.
pub const IDENTITY_USER_ID: &str = "X-Keyscope-User-Id";
/// Identity header: the creator's current role.
pub const IDENTITY_ROLE: &str = "X-Keyscope-Role";
/// Identity header: the key's scope.
pub const IDENTITY_SCOPE: &str = "X-Keyscope-Scope";
/// Identity header: the project to filter to, on "filtered" rows.
pub const IDENTITY_PROJECT_FILTER: &str = "X-Keyscope-Project-Filter";

/// Whether a header (any case) is one the edge sets itself and a client may never send.
pub fn is_identity_header(name: &str) -> bool {
    name.as_bytes()
        .get(..IDENTITY_HEADER_PREFIX.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(IDENTITY_HEADER_PREFIX.as_bytes()))
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
/// records in memory) or a [`PreparedKey`] compiled once (see [`KeySource`]).
#[derive(Debug)]
pub struct Authorization<'p, R> {
    policy: &'p Policy,
    now: Timestamp,
    /// The matched row (`None`: no row matches) and the decoded parameter its rule reads.
    endpoint: Option<&'p Endpoint>,
    param: Option<PathId>,
    record: Option<R>,
    role: usize,
    effective: PermissionSet,
    phase: Phase<'p>,
}

#[derive(Clone, Copy, Debug)]
enum Phase<'p> {
    AwaitKey(KeyHash),
    AwaitMembership,
    AwaitResource,
    Allowed,
    Denied(Cause<'p>),
}

impl Engine {
    /// An engine for `policy`, serving keys of `environment`.
    pub fn new(policy: Policy, environment: Environment) -> Engine {
        Engine { policy, environment }
    }

    /// The Align policy, serving live keys.
    pub fn align() -> Engine {
        Engine::new(Policy::align(), Environment::Live)
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
    pub fn authorize<R: KeySource>(&self, request: &Request<'_>, now: Timestamp) -> Authorization<'_, R> {
        match self.presented_key(&request.headers) {
            Ok(hash) => self.authorize_hash(hash, request.method, request.target, now),
            Err(cause) => Authorization {
                policy: &self.policy,
                now,
                endpoint: None,
                param: None,
                record: None,
                role: 0,
                effective: PermissionSet::EMPTY,
                phase: Phase::Denied(cause),
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
            Presented::Key(text) => match ApiKey::parse_for(text, self.environment) {
                Ok(key) => Ok(key.hash()),
                Err(err) => Err(Cause::Malformed(err)),
            },
        }
    }

    /// Starts a decision for a key that [`Engine::presented_key`] already checked and hashed
    /// (e.g. by a caller that caches by hash); everything after the offline key checks is the
    /// same as [`Engine::authorize`].
    pub fn authorize_hash<R: KeySource>(
        &self,
        hash: KeyHash,
        method: &str,
        target: &str,
        now: Timestamp,
    ) -> Authorization<'_, R> {
        // Routed before the decision is built, so that the decision is built once, in place
        // (routing into a field of a built decision makes the compiler copy all of it).
        let mut param = None;
        let endpoint = self.policy.route_into(method, target, &mut param);
        Authorization {
            policy: &self.policy,
            now,
            endpoint,
            param,
            record: None,
            role: 0,
            effective: PermissionSet::EMPTY,
            phase: Phase::AwaitKey(hash),
        }
    }

    /// Runs a whole decision against a synchronous [`Directory`]; a directory error denies
    /// with `503 unavailable`.
    pub fn decide<'s, D: Directory<'s>>(
        &self,
        directory: &'s D,
        request: &Request<'_>,
        now: Timestamp,
    ) -> Authorization<'_, D::Record> {
        let mut auth = self.authorize(request, now);
        loop {
            let result = match auth.next() {
                Step::Done(_) => return auth,
                Step::LookupKey(hash) => directory.key(&hash).map(|r| auth.provide_key(r)),
                Step::LookupMembership {
                    organization_id,
                    user_id,
                } => directory
                    .role(organization_id, user_id)
                    .map(|role| auth.provide_membership(role)),
                Step::LookupResource { kind, id } => directory
                    .resource(kind, id)
                    .map(|owner| auth.provide_resource(owner)),
            };
            // A failed lookup (or, impossibly, an answer out of order) never allows.
            if !matches!(result, Ok(Ok(()))) {
                auth.store_failed();
            }
        }
    }
}

/// A synchronous key directory, for callers whose stores are in memory (tests, benchmarks,
/// embedded uses). Async callers drive [`Authorization`] themselves.
pub trait Directory<'s> {
    /// How a key is handed over: a raw record or a prepared key.
    type Record: KeySource;
    /// A lookup failure (denies with `503 unavailable`).
    type Error;
    /// The record stored under `hash`.
    fn key(&'s self, hash: &KeyHash) -> Result<Option<Self::Record>, Self::Error>;
    /// The current role of `user_id` in `organization_id`, or `None` if not a member.
    fn role(&'s self, organization_id: &str, user_id: &str) -> Result<Option<&'s str>, Self::Error>;
    /// Who owns the resource `kind`/`id`, or `None` if unknown.
    fn resource(&'s self, kind: &str, id: &str) -> Result<Option<ResourceOwner<'s>>, Self::Error>;
}

impl<'p, R: KeySource> Authorization<'p, R> {
    /// What the decision needs next, or its result.
    pub fn next(&self) -> Step<'_> {
        match self.phase {
            Phase::AwaitKey(hash) => Step::LookupKey(hash),
            Phase::AwaitMembership => match self.record() {
                Some(record) => Step::LookupMembership {
                    organization_id: &record.organization_id,
                    user_id: &record.created_by,
                },
                None => Step::Done(Decision::Deny(Denial::new(Cause::StoreInconsistent))),
            },
            Phase::AwaitResource => match (self.endpoint, self.param.as_ref()) {
                (Some(endpoint), Some(id)) => match &endpoint.project_key {
                    CompiledRule::OwnResource { kind, .. } => Step::LookupResource {
                        kind,
                        id: id.as_str(),
                    },
                    _ => Step::Done(Decision::Deny(Denial::new(Cause::StoreInconsistent))),
                },
                _ => Step::Done(Decision::Deny(Denial::new(Cause::StoreInconsistent))),
            },
            Phase::Allowed | Phase::Denied(_) => match self.decision() {
                Some(decision) => Step::Done(decision),
                None => Step::Done(Decision::Deny(Denial::new(Cause::StoreInconsistent))),
            },
        }
    }

    /// The decision, once made (`None` while a lookup is outstanding).
    pub fn decision(&self) -> Option<Decision<'_>> {
        match self.phase {
            Phase::Denied(cause) => Some(Decision::Deny(Denial::new(cause))),
            Phase::Allowed => self.allow().map(Decision::Allow),
            _ => None,
        }
    }

    /// The key's `/me` view, once the request is allowed.
    pub fn me(&self) -> Option<MeView<'_>> {
        let allow = self.allow()?;
        let record = self.record()?;
        Some(MeView::new(
            self.policy,
            record,
            allow.role,
            allow.effective_permissions,
        ))
    }

    /// The key record, once the store provided it.
    pub fn record(&self) -> Option<&KeyRecord> {
        self.record.as_ref().map(KeySource::key_record)
    }

    fn allow(&self) -> Option<Allow<'_>> {
        if !matches!(self.phase, Phase::Allowed) {
            return None;
        }
        let record = self.record()?;
        let endpoint = self.endpoint?;
        let project_filter = match (record.scope, &endpoint.project_key) {
            (Scope::Project, CompiledRule::Filtered) => record.scoped_project_id.as_deref(),
            _ => None,
        };
        Some(Allow {
            key_id: &record.id,
            organization_id: &record.organization_id,
            user_id: &record.created_by,
            role: self.policy.role_name(self.role),
            scope: record.scope,
            project_filter,
            endpoint,
            effective_permissions: self.effective,
        })
    }

    /// Answers [`Step::LookupKey`]: the record stored under the hash, or `None` if unknown.
    /// The record's own `revokedAt` / `expiresAt` are its state.
    pub fn provide_key(&mut self, record: Option<R>) -> Result<(), StepError> {
        if !matches!(self.phase, Phase::AwaitKey(_)) {
            return Err(StepError::NotAwaitingKey);
        }
        match record {
            None => self.phase = Phase::Denied(Cause::UnknownKey),
            Some(record) => {
                let state = KeyState::of(record.key_record());
                self.accept_key(record, state);
            }
        }
        Ok(())
    }

    /// Answers [`Step::LookupKey`] with a key the caller holds (typically a [`PreparedKey`]
    /// from its cache) and the key's current revocation and expiry, read from the authoritative
    /// store; the `revokedAt` / `expiresAt` inside the held record are ignored. An unknown key is
    /// answered with `provide_key(None)`.
    pub fn provide_prepared(&mut self, key: R, state: KeyState) -> Result<(), StepError> {
        if !matches!(self.phase, Phase::AwaitKey(_)) {
            return Err(StepError::NotAwaitingKey);
        }
        self.accept_key(key, state);
        Ok(())
    }

    /// Revoked → expired → a project key without its project (a broken store).
    fn accept_key(&mut self, key: R, state: KeyState) {
        let record = key.key_record();
        self.phase = if state.revoked_at.is_some_and(|t| t <= self.now) {
            Phase::Denied(Cause::Revoked)
        } else if state.expires_at.is_some_and(|t| t <= self.now) {
            Phase::Denied(Cause::Expired)
        } else if record.scope == Scope::Project && record.scoped_project_id.is_none() {
            Phase::Denied(Cause::StoreInconsistent)
        } else {
            Phase::AwaitMembership
        };
        self.record = Some(key);
    }

    /// Answers [`Step::LookupMembership`]: the creator's current role name, or `None` if the
    /// creator is no longer a member.
    pub fn provide_membership(&mut self, role: Option<&str>) -> Result<(), StepError> {
        if !matches!(self.phase, Phase::AwaitMembership) {
            return Err(StepError::NotAwaitingMembership);
        }
        match role {
            None => self.phase = Phase::Denied(Cause::CreatorRemoved),
            Some(role) => match self.policy.role_index(role) {
                Some(index) => self.accept_role(index),
                None => self.phase = Phase::Denied(Cause::StoreInconsistent),
            },
        }
        Ok(())
    }

    /// Answers [`Step::LookupMembership`] with a role resolved once by [`Policy::role_id`], or
    /// `None` if the creator is no longer a member. A role of another policy (a different
    /// [`Policy::stamp`]) denies `503 unavailable`.
    pub fn provide_role(&mut self, role: Option<RoleId>) -> Result<(), StepError> {
        if !matches!(self.phase, Phase::AwaitMembership) {
            return Err(StepError::NotAwaitingMembership);
        }
        match role {
            None => self.phase = Phase::Denied(Cause::CreatorRemoved),
            Some(role) if role.stamp == self.policy.stamp() => self.accept_role(role.index),
            Some(_) => self.phase = Phase::Denied(Cause::StoreInconsistent),
        }
        Ok(())
    }

    /// The creator holds role number `role`: the key's effective permissions, then the
    /// endpoint checks.
    fn accept_role(&mut self, role: usize) {
        let Some(key) = self.record.as_ref() else {
            self.phase = Phase::Denied(Cause::StoreInconsistent);
            return;
        };
        let record = key.key_record();
        let explicit = match key.prepared() {
            Some(prepared) if prepared.stamp() == self.policy.stamp() => prepared.grants(),
            _ => record
                .permissions
                .as_ref()
                .map(|names| self.policy.permission_set(names.iter().map(|g| g.as_str()))),
        };
        let role_grants = self.policy.role_grants_at(role);
        self.role = role;
        self.effective = match explicit {
            None => role_grants,
            Some(grants) => role_grants.intersect(grants),
        };
        self.phase = self.judge_endpoint(record);
    }

    /// Endpoint known → scope → permission → (resource visibility, asked next).
    fn judge_endpoint(&self, record: &KeyRecord) -> Phase<'p> {
        let Some(endpoint) = self.endpoint else {
            return Phase::Denied(Cause::UnknownEndpoint);
        };
        let project_key = record.scope == Scope::Project;
        if project_key {
            match &endpoint.project_key {
                CompiledRule::Deny => return Phase::Denied(Cause::OrganizationEndpoint),
                CompiledRule::OwnPath { .. } => {
                    let in_path = self.param.as_ref().map(|p| p.as_str());
                    if in_path != record.scoped_project_id.as_deref() {
                        return Phase::Denied(Cause::OtherProject);
                    }
                }
                CompiledRule::Allow | CompiledRule::Filtered | CompiledRule::OwnResource { .. } => {}
            }
        }
        if let Some(permission) = endpoint.permission {
            if !self.effective.contains(permission) {
                let name = self.policy.permission_name(permission).unwrap_or("");
                return Phase::Denied(Cause::MissingPermission(name));
            }
        }
        if project_key && matches!(endpoint.project_key, CompiledRule::OwnResource { .. }) {
            return Phase::AwaitResource;
        }
        Phase::Allowed
    }

    /// Answers [`Step::LookupResource`]: who owns the resource, or `None` if unknown.
    pub fn provide_resource(&mut self, owner: Option<ResourceOwner<'_>>) -> Result<(), StepError> {
        if !matches!(self.phase, Phase::AwaitResource) {
            return Err(StepError::NotAwaitingResource);
        }
        let visible = match (owner, self.record()) {
            (Some(owner), Some(record)) => {
                owner.organization_id == record.organization_id
                    && Some(owner.project_id) == record.scoped_project_id.as_deref()
            }
            _ => false,
        };
        self.phase = if visible {
            Phase::Allowed
        } else {
            Phase::Denied(Cause::ResourceNotVisible)
        };
        Ok(())
    }

    /// Records that a lookup failed: the decision becomes `503 unavailable` (fail closed).
    pub fn store_failed(&mut self) {
        self.phase = Phase::Denied(Cause::StoreUnavailable);
    }
}
