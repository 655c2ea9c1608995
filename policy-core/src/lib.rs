//! # policy-core — keyscope's decision engine
//!
//! Decides, for every request to an HTTP API, whether the API key presented may make it, and if
//! not, exactly why. It is `no_std` + `alloc`, does no I/O, reads no clock and owns no RNG:
//! the caller drives it, like a rustls connection.
//!
//! ```text
//!        request (method, target, key headers), now
//!                          │
//!                          ▼
//!   Engine::authorize ── headers → key format/checksum/environment → route   (offline)
//!                          │
//!             ┌────────────┴─────────── Authorization::next() ──────────────┐
//!             ▼                               ▼                             ▼
//!   Step::LookupKey(hash)       Step::LookupMembership{org,user}   Step::LookupResource{kind,id}
//!     caller reads KV/D1/map      caller reads the creator's role    caller reads the owner
//!             │ provide_key                   │ provide_membership          │ provide_resource
//!             └────────────────────┬──────────┴─────────────────────────────┘
//!                                  ▼
//!                 Step::Done(Decision::Allow(identity, filter) | Decision::Deny(status, reason, message))
//! ```
//!
//! Checks run in SPEC's precedence order, first failure wins: key present → well-formed and
//! checksum valid → known → not revoked / not expired / creator still a member → endpoint known
//! → (the key's address allow-list) → scope → permission → resource visibility. A lookup the caller cannot complete is reported
//! with [`Authorization::store_failed`], which denies `503 unavailable`: never fail open.
//!
//! ## Modules
//!
//! ```text
//!   key/         the key format, its hash and hint; record.rs: what the stores hold about a key;
//!                its controls: projects.rs, cidr.rs (address allow-lists), limits.rs
//!   credentials  which key the request's headers present
//!   route/       path patterns, ids and the routing trie (a leaf: knows no policy)
//!   policy/      the document, its validation and compiled form, permissions, a request's row
//!   decision/    the state machine above; reason.rs: denials; prepared.rs: keys compiled once
//!   me           the `/me` view
//!   lifecycle/   the rules of creating, rotating, revoking, importing keys and changing controls
//! ```
//!
//! Each depends only on those above it (`lifecycle` on `key` and `policy`). What serves one
//! adapter lives beside this crate: `keyscope-audit` (audit events), `keyscope-webhook` (signed
//! event webhooks), `keyscope-scanning` (GitHub secret scanning) and `keyscope-ratelimit` (the
//! rate window).
//!
//! ```
//! use policy_core::{ApiKey, Decision, Engine, Environment, KeyHeaders, KeyRecord, ProjectIds, Request, Scope, Step, Timestamp};
//!
//! let engine = Engine::align().unwrap();
//! let key = ApiKey::generate(Environment::Live, &[7u8; 64]).unwrap();
//! let record = KeyRecord {
//!     id: "key_1".into(), name: "CI".into(), hint: key.hint().into(),
//!     organization_id: "org_a".into(), created_by: "u_1".into(),
//!     scope: Scope::Project, scoped_project_ids: ProjectIds::one("p1"), permissions: None,
//!     created_at: Timestamp(0), last_used_at: None, revoked_at: None, expires_at: None,
//!     allowed_cidrs: None, rate_limit: None, quota: None,
//! };
//! let request = Request {
//!     method: "GET",
//!     target: "/api/v1/projects/p1/entries",
//!     headers: KeyHeaders::from_strs(Some(key.expose_secret()), None),
//!     client: None,
//! };
//! let mut auth = engine.authorize(&request, Timestamp(1));
//! loop {
//!     match auth.next() {
//!         Step::LookupKey(hash) => {
//!             let found = (hash == key.hash()).then_some(&record);
//!             auth.provide_key(found).unwrap();
//!         }
//!         Step::LookupMembership { .. } => auth.provide_membership(Some("engineer")).unwrap(),
//!         Step::LookupResource { .. } => auth.provide_resource(None).unwrap(),
//!         Step::Done(Decision::Allow(allow)) => { assert_eq!(allow.role, "engineer"); break }
//!         Step::Done(Decision::Deny(denial)) => panic!("{denial}"),
//!     }
//! }
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code, unused_must_use)]
#![deny(missing_docs)]

extern crate alloc;

pub mod credentials;
pub mod decision;
pub mod key;
pub mod lifecycle;
pub mod me;
pub mod policy;
pub mod route;

pub use credentials::{
    bearer_token, bearer_value, KeyHeaders, Presented, AUTHORIZATION_HEADER, BEARER_SCHEME, KEY_HEADER,
    KEY_HEADER_NAME,
};
pub use decision::explain::{Access, Check, Condition, Explanation, Verdict};
pub use decision::prepared::{KeySource, KeyState, PreparedKey, RoleId};
pub use decision::reason::{Cause, Denial, Exceeded, Reason, WWW_AUTHENTICATE};
pub use decision::{
    is_identity_header, target_of_url, Allow, Authorization, Decision, Engine, Request, Step, StepError,
    IDENTITY_HEADER_PREFIX,
};
pub use key::cidr::{client_address, AllowedCidrs, Cidr, CidrError, MAX_CIDRS};
pub use key::limits::{
    LimitError, OrganizationLimits, Quota, QuotaPeriod, RateLimit, MAX_PER_SECOND, MAX_QUOTA,
};
pub use key::projects::{ProjectFilter, ProjectIds, ProjectIdsError, MAX_PROJECTS};
pub use key::record::{
    reconcile_projects, KeyRecord, ProjectFieldsDisagree, ResourceOwner, Scope, Timestamp,
};
pub use key::{ApiKey, Environment, GenerateError, HexHash, InvalidPrefix, KeyError, KeyHash, KeyPrefix};
pub use lifecycle::{
    check_scope_project, key_id, Actor, Controls, ControlsAsk, ControlsChange, CreateKey, ErrorKind, Fact,
    FactAction, FactActor, FactCause, FactDetail, GracePeriod, Grants, ImportError, ImportedKey,
    KeyAbilities, KeyMaterial, KeyStanding, KeyStatus, LifecycleError, NewKey, PlannedImport, RevocationPlan,
    RotationPlan, EARLIEST_TIME, KEY_ID_PREFIX, KEY_ID_RANDOM_BYTES, LATEST_TIME, MAX_GRACE_SECONDS,
    MAX_HINT_CHARS, MAX_IMPORT_KEYS, MAX_NAME_CHARS,
};
pub use me::{check_me, me_url, KeyUnfit, MeView, MissingPermissions, ME_PATH};
pub use policy::{
    path_is_under, Endpoint, InvalidField, Permission, PermissionSet, Policy, PolicyDocument, PolicyError,
    RouteMatch, ALIGN_POLICY_JSON,
};
pub use route::PathId;
