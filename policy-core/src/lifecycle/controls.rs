//! A key's controls as a request asks for them (SPEC "Key controls"): its projects, its address
//! allow-list, its rate and quota. Checked here once for every surface (admin API, console,
//! npm plans, import); changing the allow-list and the limits of a live key is planned here too.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::{check_id, LifecycleError};
use crate::key::cidr::AllowedCidrs;
use crate::key::limits::{Quota, RateLimit};
use crate::key::projects::ProjectIds;
use crate::key::record::KeyRecord;
use crate::policy::Policy;

/// A key's controls as asked: `scopedProjectId` or `scopedProjectIds` (not both), the
/// allow-list's blocks as written, and the limits (already in bounds: [`RateLimit`] and
/// [`Quota`] refuse values outside them when read).
#[derive(Clone, Copy, Debug, Default)]
pub struct ControlsAsk<'a> {
    /// One project, as before.
    pub scoped_project_id: Option<&'a str>,
    /// Several projects (1–50, distinct).
    pub scoped_project_ids: Option<&'a [String]>,
    /// The address allow-list (1–20 IPv4 or IPv6 CIDR blocks).
    pub allowed_cidrs: Option<&'a [String]>,
    /// The key's own rate.
    pub rate_limit: Option<RateLimit>,
    /// The key's quota.
    pub quota: Option<Quota>,
}

/// A key's controls, checked. As JSON (`scopedProjectIds`, `allowedCidrs`, `rateLimit`,
/// `quota`, each left out when absent; unknown fields ignored, as in every stored record) it is
/// the form stores keep them in beside a record's other fields (D1's `controls` column, the npm
/// binding's `controls` field).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Controls {
    /// The key's projects (empty: none named).
    #[serde(
        rename = "scopedProjectIds",
        default,
        skip_serializing_if = "ProjectIds::is_empty"
    )]
    pub projects: ProjectIds,
    /// The address allow-list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_cidrs: Option<AllowedCidrs>,
    /// The key's own rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// The key's quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,
}

impl Controls {
    /// No control at all (nothing to store).
    pub fn is_empty(&self) -> bool {
        self.projects.is_empty()
            && self.allowed_cidrs.is_none()
            && self.rate_limit.is_none()
            && self.quota.is_none()
    }
}

impl ControlsAsk<'_> {
    /// The controls, or the first thing wrong with them: both project fields, a project id
    /// that is no id, too many or repeated projects, an empty list or a malformed block.
    /// Whether the scope wants projects is judged with the key's other rules
    /// ([`crate::check_scope_project`]).
    pub fn check(&self) -> Result<Controls, LifecycleError> {
        let projects = match (self.scoped_project_id, self.scoped_project_ids) {
            (Some(_), Some(_)) => return Err(LifecycleError::ProjectFieldsBoth),
            (None, None) => ProjectIds::none(),
            (Some(one), None) => {
                check_id("scopedProjectId", one)?;
                ProjectIds::one(one)
            }
            (None, Some(many)) => {
                for id in many {
                    check_id("scopedProjectIds", id)?;
                }
                if many.is_empty() {
                    return Err(LifecycleError::ProjectRequired);
                }
                ProjectIds::new(many.to_vec()).map_err(LifecycleError::InvalidProjects)?
            }
        };
        Ok(Controls {
            projects,
            allowed_cidrs: check_cidrs(self.allowed_cidrs)?,
            rate_limit: self.rate_limit,
            quota: self.quota,
        })
    }
}

fn check_cidrs(blocks: Option<&[String]>) -> Result<Option<AllowedCidrs>, LifecycleError> {
    blocks
        .map(AllowedCidrs::parse)
        .transpose()
        .map_err(LifecycleError::InvalidCidrs)
}

/// A change to a live key's allow-list and limits: for each, `None` leaves it as it is,
/// `Some(None)` removes it, `Some(Some(_))` sets it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ControlsChange<'a> {
    /// The address allow-list's blocks as written.
    pub allowed_cidrs: Option<Option<&'a [String]>>,
    /// The key's own rate.
    pub rate_limit: Option<Option<RateLimit>>,
    /// The key's quota.
    pub quota: Option<Option<Quota>>,
}

impl ControlsChange<'_> {
    /// Whether the change changes nothing.
    pub fn is_empty(&self) -> bool {
        self.allowed_cidrs.is_none() && self.rate_limit.is_none() && self.quota.is_none()
    }
}

impl Policy {
    /// Plans a change of `key`'s allow-list and limits by `actor`: the record to store. Who may
    /// is who may revoke or rotate it (its creator, or a role that manages every key); a revoked
    /// or expired key keeps its controls.
    pub fn plan_controls_change(
        &self,
        key: &KeyRecord,
        actor: super::Actor<'_>,
        change: &ControlsChange<'_>,
        now: crate::Timestamp,
    ) -> Result<KeyRecord, LifecycleError> {
        check_id("actingUserId", actor.user_id)?;
        self.check_key_change(key, actor.user_id, actor.role)?;
        match super::KeyStatus::of_state(key.revoked_at, key.expires_at, now) {
            super::KeyStatus::Revoked => return Err(LifecycleError::KeyRevoked),
            super::KeyStatus::Expired => return Err(LifecycleError::KeyExpired),
            super::KeyStatus::Active | super::KeyStatus::CreatorLeft => {}
        }
        let mut next = key.clone();
        if let Some(blocks) = change.allowed_cidrs {
            next.allowed_cidrs = check_cidrs(blocks)?;
        }
        if let Some(rate) = change.rate_limit {
            next.rate_limit = rate;
        }
        if let Some(quota) = change.quota {
            next.quota = quota;
        }
        Ok(next)
    }
}

/// The blocks of an allow-list as written back (canonical form), for views.
pub fn cidr_texts(list: &AllowedCidrs) -> Vec<String> {
    list.blocks().iter().map(|b| alloc::format!("{b}")).collect()
}
