//! What the admin API shows of a member (keys and saved changes: [`crate::keys::view`]).

use serde::Serialize;

/// A member as the admin API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView<'a> {
    /// The organization.
    pub organization_id: &'a str,
    /// The user.
    pub user_id: &'a str,
    /// Their role.
    pub role: &'a str,
}
