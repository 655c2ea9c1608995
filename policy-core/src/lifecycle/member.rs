//! Setting a member's role.

use alloc::string::ToString;

use super::LifecycleError;
use crate::policy::Policy;

impl Policy {
    /// Checks that `role` is one of the policy's roles, as a member's role must be (their keys
    /// act with it). Member ids are path ids, checked where they are parsed.
    pub fn plan_member_role(&self, role: &str) -> Result<(), LifecycleError> {
        if self.role_grants(role).is_some() {
            Ok(())
        } else {
            Err(LifecycleError::UnknownRole {
                role: role.to_string(),
                known: self.roles().map(ToString::to_string).collect(),
            })
        }
    }
}
