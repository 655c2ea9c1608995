//! What the stores hold about a key, and the answers a caller feeds back to a decision.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::key::cidr::AllowedCidrs;
use crate::key::limits::{Quota, RateLimit};
use crate::key::projects::ProjectIds;

/// A point in time as Unix milliseconds. The engine has no clock: callers pass `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Unix milliseconds.
    pub const fn millis(self) -> i64 {
        self.0
    }
}

/// What data a key can see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Every project of the organization.
    Organization,
    /// Some projects of the organization (`scopedProjectIds`).
    Project,
}

impl Scope {
    /// `organization` or `project`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Organization => "organization",
            Scope::Project => "project",
        }
    }

    /// Parses `organization` or `project`.
    pub fn from_name(name: &str) -> Option<Scope> {
        match name {
            "organization" => Some(Scope::Organization),
            "project" => Some(Scope::Project),
            _ => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key's metadata as the stores hold it (never the secret; the hash is the lookup key).
/// Serialized in camelCase with times as Unix milliseconds. Unknown fields are ignored when it
/// is read: a stored record may come from a newer version during a rollout.
///
/// Its projects are read from `scopedProjectIds` or `scopedProjectId` (one id, as before); a
/// record giving both must give the same projects. It is written with both: `scopedProjectId`
/// is the id when there is exactly one, `null` otherwise (SPEC "Key controls").
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RecordWire")]
pub struct KeyRecord {
    /// Stable key id (shown in `/me` as `apiKeyId`).
    pub id: String,
    /// Human name, e.g. "CI".
    pub name: String,
    /// Last four characters of the key.
    pub hint: String,
    /// The organization the key belongs to.
    pub organization_id: String,
    /// The user who created the key; the key acts with this user's current role.
    pub created_by: String,
    /// Organization- or project-scoped.
    pub scope: Scope,
    /// The key's projects when `scope` is `project` (1–50); empty for organization keys.
    pub scoped_project_ids: ProjectIds,
    /// Explicit grants (can only narrow the creator's role), or `None` to inherit.
    pub permissions: Option<Vec<String>>,
    /// When the key was created.
    pub created_at: Timestamp,
    /// When the key was last used (`None` = never).
    pub last_used_at: Option<Timestamp>,
    /// When the key was (or will be) revoked.
    pub revoked_at: Option<Timestamp>,
    /// When the key expires, if ever.
    pub expires_at: Option<Timestamp>,
    /// The client addresses the key may be used from (`None`: any).
    pub allowed_cidrs: Option<AllowedCidrs>,
    /// The key's own rate, overriding the deployment's default.
    pub rate_limit: Option<RateLimit>,
    /// The key's quota per UTC day or month.
    pub quota: Option<Quota>,
}

/// A stored record as read: both project fields, reconciled by [`KeyRecord::try_from`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordWire {
    id: String,
    name: String,
    hint: String,
    organization_id: String,
    created_by: String,
    scope: Scope,
    #[serde(default)]
    scoped_project_id: Option<String>,
    #[serde(default)]
    scoped_project_ids: Option<ProjectIds>,
    #[serde(default)]
    permissions: Option<Vec<String>>,
    created_at: Timestamp,
    #[serde(default)]
    last_used_at: Option<Timestamp>,
    #[serde(default)]
    revoked_at: Option<Timestamp>,
    #[serde(default)]
    expires_at: Option<Timestamp>,
    #[serde(default)]
    allowed_cidrs: Option<AllowedCidrs>,
    #[serde(default)]
    rate_limit: Option<RateLimit>,
    #[serde(default)]
    quota: Option<Quota>,
}

/// A record whose `scopedProjectId` and `scopedProjectIds` name different projects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectFieldsDisagree;

impl fmt::Display for ProjectFieldsDisagree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("scopedProjectId and scopedProjectIds name different projects")
    }
}

/// The projects of a record that may give `scopedProjectId`, `scopedProjectIds`, or both when
/// they agree (what every output writes).
pub fn reconcile_projects(
    one: Option<String>,
    many: Option<ProjectIds>,
) -> Result<ProjectIds, ProjectFieldsDisagree> {
    match (one, many) {
        (None, None) => Ok(ProjectIds::none()),
        (Some(one), None) => Ok(ProjectIds::one(one)),
        (None, Some(many)) => Ok(many),
        (Some(one), Some(many)) if many.single() == Some(one.as_str()) => Ok(many),
        (Some(_), Some(_)) => Err(ProjectFieldsDisagree),
    }
}

impl TryFrom<RecordWire> for KeyRecord {
    type Error = ProjectFieldsDisagree;
    fn try_from(w: RecordWire) -> Result<KeyRecord, ProjectFieldsDisagree> {
        Ok(KeyRecord {
            scoped_project_ids: reconcile_projects(w.scoped_project_id, w.scoped_project_ids)?,
            id: w.id,
            name: w.name,
            hint: w.hint,
            organization_id: w.organization_id,
            created_by: w.created_by,
            scope: w.scope,
            permissions: w.permissions,
            created_at: w.created_at,
            last_used_at: w.last_used_at,
            revoked_at: w.revoked_at,
            expires_at: w.expires_at,
            allowed_cidrs: w.allowed_cidrs,
            rate_limit: w.rate_limit,
            quota: w.quota,
        })
    }
}

/// A record as written: every field, both project fields.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecordOut<'a> {
    id: &'a str,
    name: &'a str,
    hint: &'a str,
    organization_id: &'a str,
    created_by: &'a str,
    scope: Scope,
    scoped_project_id: Option<&'a str>,
    scoped_project_ids: Option<&'a ProjectIds>,
    permissions: Option<&'a [String]>,
    created_at: Timestamp,
    last_used_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
    expires_at: Option<Timestamp>,
    allowed_cidrs: Option<&'a AllowedCidrs>,
    rate_limit: Option<RateLimit>,
    quota: Option<Quota>,
}

impl Serialize for KeyRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let projects = &self.scoped_project_ids;
        RecordOut {
            id: &self.id,
            name: &self.name,
            hint: &self.hint,
            organization_id: &self.organization_id,
            created_by: &self.created_by,
            scope: self.scope,
            scoped_project_id: projects.single(),
            scoped_project_ids: (!projects.is_empty()).then_some(projects),
            permissions: self.permissions.as_deref(),
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
            expires_at: self.expires_at,
            allowed_cidrs: self.allowed_cidrs.as_ref(),
            rate_limit: self.rate_limit,
            quota: self.quota,
        }
        .serialize(serializer)
    }
}

/// Where a resource lives: the answer to [`crate::Step::LookupResource`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceOwner<'a> {
    /// The organization that owns the resource.
    pub organization_id: &'a str,
    /// The project that owns the resource.
    pub project_id: &'a str,
}
