//! The `/me` view: what a key can learn about itself (seed 004 fields plus ours), and the
//! integration's check of it (`check`).

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use crate::key::cidr::AllowedCidrs;
use crate::key::limits::{Quota, RateLimit};
use crate::key::record::{KeyRecord, Scope};
use crate::policy::{PermissionSet, Policy};

mod check;

pub use check::{check_me, me_url, KeyUnfit, MissingPermissions, ME_PATH};

/// The body of `GET /me`: `apiKeyId`, `scope`, `scopedProjectId`, `scopedProjectIds`, `permissions` (the explicit
/// grants, or null when inheriting), `organizationId`, plus `role`, `effectivePermissions`,
/// `name`, `hint` and the key's controls (`allowedCidrs`, `rateLimit`, `quota`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeView<'a> {
    /// The key's id.
    pub api_key_id: &'a str,
    /// `organization` or `project`.
    pub scope: Scope,
    /// The key's project when it has exactly one, else null.
    pub scoped_project_id: Option<&'a str>,
    /// The key's projects (sorted), or null for organization keys.
    pub scoped_project_ids: Option<&'a [String]>,
    /// The explicit grants as stored, or null when the key inherits its creator's role.
    pub permissions: Option<&'a [String]>,
    /// The key's organization.
    pub organization_id: &'a str,
    /// The creator's current role.
    pub role: &'a str,
    /// What the key may do now: role ∩ explicit grants, in policy order.
    pub effective_permissions: Vec<&'a str>,
    /// The key's name.
    pub name: &'a str,
    /// The last four characters of the key.
    pub hint: &'a str,
    /// The addresses the key may be used from (null: any).
    pub allowed_cidrs: Option<&'a AllowedCidrs>,
    /// The key's own rate (null: the deployment's default).
    pub rate_limit: Option<RateLimit>,
    /// The key's quota (null: none).
    pub quota: Option<Quota>,
}

impl<'a> MeView<'a> {
    /// Builds the view of `record` acting with `role`.
    pub fn new(
        policy: &'a Policy,
        record: &'a KeyRecord,
        role: &'a str,
        effective: PermissionSet,
    ) -> MeView<'a> {
        MeView {
            api_key_id: &record.id,
            scope: record.scope,
            scoped_project_id: match record.scope {
                Scope::Project => record.scoped_project_ids.single(),
                Scope::Organization => None,
            },
            scoped_project_ids: match record.scope {
                Scope::Project => Some(record.scoped_project_ids.as_slice()),
                Scope::Organization => None,
            },
            allowed_cidrs: record.allowed_cidrs.as_ref(),
            rate_limit: record.rate_limit,
            quota: record.quota,
            permissions: record.permissions.as_deref(),
            organization_id: &record.organization_id,
            role,
            effective_permissions: policy.permission_names(effective).collect(),
            name: &record.name,
            hint: &record.hint,
        }
    }

    /// The view as a JSON body.
    pub fn to_json(&self) -> String {
        // INVARIANT: strings, options and a vector always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }
}
