//! What the stores hold about a key, and the answers a caller feeds back to a decision.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

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
    /// One project (`scopedProjectId`).
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    /// The key's project when `scope` is `project`.
    #[serde(default)]
    pub scoped_project_id: Option<String>,
    /// Explicit grants (can only narrow the creator's role), or `None` to inherit.
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
    /// When the key was created.
    pub created_at: Timestamp,
    /// When the key was last used (`None` = never).
    #[serde(default)]
    pub last_used_at: Option<Timestamp>,
    /// When the key was (or will be) revoked.
    #[serde(default)]
    pub revoked_at: Option<Timestamp>,
    /// When the key expires, if ever.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

/// Where a resource lives: the answer to [`crate::Step::LookupResource`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceOwner<'a> {
    /// The organization that owns the resource.
    pub organization_id: &'a str,
    /// The project that owns the resource.
    pub project_id: &'a str,
}
