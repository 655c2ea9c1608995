//! What the admin API and the console show of a key (never the secret or its hash), and the
//! pending part of a saved change.

use policy_core::{AllowedCidrs, KeyRecord, Quota, RateLimit, Scope};
use serde::Serialize;

use super::error::ServiceError;
use crate::clock::format_time;
use crate::respond::{json, Answer};
use crate::store::rows::KeyRow;
use crate::store::write::{Applied, Pending};

/// A key as the admin API shows it (the console adds to it).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    id: String,
    name: String,
    hint: String,
    organization_id: String,
    created_by: String,
    scope: Scope,
    scoped_project_id: Option<String>,
    scoped_project_ids: Option<Vec<String>>,
    permissions: Option<Vec<String>>,
    allowed_cidrs: Option<AllowedCidrs>,
    rate_limit: Option<RateLimit>,
    quota: Option<Quota>,
    created_at: String,
    last_used_at: Option<String>,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    /// When a secret-scanning report marked the key leaked (`KEYSCOPE_ON_LEAK=flag`); absent
    /// when none did.
    #[serde(skip_serializing_if = "Option::is_none")]
    leaked_at: Option<String>,
}

impl KeyView {
    /// The view of a stored row.
    pub fn of(row: KeyRow) -> Result<KeyView, ServiceError> {
        let leaked_at = row.leaked_at().map(format_time);
        let mut view = KeyView::from_record(row.into_entry()?.record);
        view.leaked_at = leaked_at;
        Ok(view)
    }

    /// The view of a record.
    pub fn from_record(r: KeyRecord) -> KeyView {
        KeyView {
            id: r.id,
            name: r.name,
            hint: r.hint,
            organization_id: r.organization_id,
            created_by: r.created_by,
            scope: r.scope,
            scoped_project_id: r.scoped_project_ids.single().map(str::to_owned),
            scoped_project_ids: (!r.scoped_project_ids.is_empty())
                .then(|| r.scoped_project_ids.as_slice().to_vec()),
            permissions: r.permissions,
            allowed_cidrs: r.allowed_cidrs,
            rate_limit: r.rate_limit,
            quota: r.quota,
            created_at: format_time(r.created_at),
            last_used_at: r.last_used_at.map(format_time),
            expires_at: r.expires_at.map(format_time),
            revoked_at: r.revoked_at.map(format_time),
            leaked_at: None,
        }
    }
}

/// A saved change's answer: its body, plus `pending` (what is saved but not yet visible
/// everywhere, and how to repair it) when anything is.
pub fn saved<T: Serialize, U>(status: u16, body: T, applied: &Applied<U>) -> Answer {
    #[derive(Serialize)]
    struct WithPending<'a, T> {
        #[serde(flatten)]
        body: T,
        #[serde(skip_serializing_if = "<[Pending]>::is_empty")]
        pending: &'a [Pending],
    }
    json(
        status,
        &WithPending {
            body,
            pending: &applied.pending,
        },
    )
}
