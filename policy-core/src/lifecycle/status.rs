//! A key's status at `now`: what a key list shows and what the gateway would answer, in the
//! gateway's order — revoked (its revocation time has come), then expired, then its creator no
//! longer a member (SPEC: "removing the creator from the organization stops all their keys").
//! Every surface that shows or acts on a key's state asks here, so that a screen cannot call a
//! key "Active" that the gateway refuses.

use serde::Serialize;

use super::Actor;
use crate::key::record::{KeyRecord, Timestamp};
use crate::policy::Policy;

/// Where a key stands at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// It works (a revocation may be scheduled later: a rotation's grace period).
    Active,
    /// Its revocation time has come (`revokedAt <= now`): `401 key_revoked`, for ever.
    Revoked,
    /// Its expiry has come (`expiresAt <= now`): `401 key_revoked` ("expired").
    Expired,
    /// Its creator is not a member of the organization (removed, or holding a role the policy
    /// does not define): the key stops working, `401 key_revoked`, and works again only if they
    /// return.
    CreatorLeft,
}

/// Whether a revocation time has come at `now` (SPEC: revoked when `revokedAt <= now`).
pub(crate) fn revoked_by(revoked_at: Option<Timestamp>, now: Timestamp) -> bool {
    revoked_at.is_some_and(|t| t <= now)
}

impl KeyStatus {
    /// The status from a key's state alone (its creator not considered): revoked, then expired,
    /// else active. A key expiring exactly `now` is expired.
    pub fn of_state(
        revoked_at: Option<Timestamp>,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> KeyStatus {
        if revoked_by(revoked_at, now) {
            KeyStatus::Revoked
        } else if expires_at.is_some_and(|t| t <= now) {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }

    /// `active`, `revoked`, `expired` or `creator_left`.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Revoked => "revoked",
            KeyStatus::Expired => "expired",
            KeyStatus::CreatorLeft => "creator_left",
        }
    }

    /// Whether the key is accepted by the gateway (as far as its state and creator go).
    pub const fn works(self) -> bool {
        matches!(self, KeyStatus::Active)
    }

    /// Whether a key in this status may be rotated ([`Policy::plan_rotate`] refuses a revoked or
    /// expired key with a `409`; a key whose creator left may be rotated by an admin, giving a
    /// key that works again).
    pub const fn may_rotate(self) -> bool {
        matches!(self, KeyStatus::Active | KeyStatus::CreatorLeft)
    }

    /// Whether revoking a key in this status changes anything (a revoked key stays as it is).
    pub const fn may_revoke(self) -> bool {
        !matches!(self, KeyStatus::Revoked)
    }
}

/// What a key list shows a member about a key: its preset, its status at `now`, and what they
/// may do with it — so that a screen decides nothing. Serialized in camelCase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyStanding<'p> {
    /// The preset its grants amount to ([`Policy::preset_of`]).
    pub preset: Option<&'p str>,
    /// Its status ([`Policy::key_status`]).
    pub status: KeyStatus,
    /// The viewer may revoke or rotate it at all ([`Policy::check_key_change`]).
    pub can_change: bool,
    /// … and rotating it now would be planned ([`KeyStatus::may_rotate`]).
    pub can_rotate: bool,
    /// … and revoking it now would change something ([`KeyStatus::may_revoke`]).
    pub can_revoke: bool,
    /// … and its allow-list and limits may be changed now
    /// ([`Policy::plan_controls_change`]: not once revoked or expired).
    pub can_edit_controls: bool,
}

impl Policy {
    /// Where `key` (whose creator holds `creator_role`) stands for `viewer` at `now`.
    pub fn key_standing(
        &self,
        key: &KeyRecord,
        creator_role: Option<&str>,
        viewer: Actor<'_>,
        now: Timestamp,
    ) -> KeyStanding<'_> {
        let status = self.key_status(key, creator_role, now);
        let can_change = self.check_key_change(key, viewer.user_id, viewer.role).is_ok();
        KeyStanding {
            preset: self.preset_of(key.permissions.as_deref()),
            status,
            can_change,
            can_rotate: can_change && status.may_rotate(),
            can_revoke: can_change && status.may_revoke(),
            can_edit_controls: can_change && status.may_rotate(),
        }
    }

    /// The status of `key` at `now`, with its creator's current role (`None`: not a member).
    /// A role the policy does not define is no member ([`Policy::member_role`]).
    pub fn key_status(&self, key: &KeyRecord, creator_role: Option<&str>, now: Timestamp) -> KeyStatus {
        match KeyStatus::of_state(key.revoked_at, key.expires_at, now) {
            KeyStatus::Active if self.member_role(creator_role).is_none() => KeyStatus::CreatorLeft,
            status => status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::projects::ProjectIds;
    use crate::key::record::Scope;

    fn key(revoked_at: Option<i64>, expires_at: Option<i64>) -> KeyRecord {
        KeyRecord {
            id: "key_1".into(),
            name: "CI".into(),
            hint: "abcd".into(),
            organization_id: "org".into(),
            created_by: "u".into(),
            scope: Scope::Organization,
            scoped_project_ids: ProjectIds::none(),
            allowed_cidrs: None,
            rate_limit: None,
            quota: None,
            permissions: None,
            created_at: Timestamp(0),
            last_used_at: None,
            revoked_at: revoked_at.map(Timestamp),
            expires_at: expires_at.map(Timestamp),
        }
    }

    #[test]
    fn revoked_then_expired_then_creator_at_now() {
        let policy = Policy::align().unwrap();
        let now = Timestamp(100);
        let status = |r, e, role| policy.key_status(&key(r, e), role, now);
        assert_eq!(status(None, None, Some("member")), KeyStatus::Active);
        assert_eq!(
            status(Some(101), None, Some("member")),
            KeyStatus::Active,
            "scheduled"
        );
        assert_eq!(
            status(Some(100), None, Some("member")),
            KeyStatus::Revoked,
            "at now"
        );
        assert_eq!(
            status(None, Some(100), Some("member")),
            KeyStatus::Expired,
            "at now"
        );
        assert_eq!(status(None, Some(101), Some("member")), KeyStatus::Active);
        assert_eq!(
            status(Some(50), Some(10), None),
            KeyStatus::Revoked,
            "revoked first"
        );
        assert_eq!(
            status(None, Some(10), None),
            KeyStatus::Expired,
            "expired before creator"
        );
        assert_eq!(status(None, None, None), KeyStatus::CreatorLeft);
        assert_eq!(status(Some(101), None, None), KeyStatus::CreatorLeft);
        assert_eq!(
            status(None, None, Some("intern")),
            KeyStatus::CreatorLeft,
            "unknown role"
        );
    }

    #[test]
    fn a_standing_is_the_status_the_preset_and_what_the_viewer_may_do() {
        let policy = Policy::align().unwrap();
        let now = Timestamp(100);
        let viewer = |user_id, role| Actor {
            user_id,
            role: Some(role),
        };
        let own = policy.key_standing(&key(None, None), Some("engineer"), viewer("u", "engineer"), now);
        assert_eq!(
            own,
            KeyStanding {
                preset: Some("full"),
                status: KeyStatus::Active,
                can_change: true,
                can_rotate: true,
                can_revoke: true,
                can_edit_controls: true
            }
        );
        let other = policy.key_standing(&key(None, None), Some("engineer"), viewer("x", "engineer"), now);
        assert_eq!(
            (
                other.can_change,
                other.can_rotate,
                other.can_revoke,
                other.can_edit_controls
            ),
            (false, false, false, false)
        );
        let expired = policy.key_standing(
            &key(None, Some(50)),
            Some("engineer"),
            viewer("u", "engineer"),
            now,
        );
        assert_eq!(
            (expired.status, expired.can_rotate, expired.can_revoke),
            (KeyStatus::Expired, false, true)
        );
        let revoked = policy.key_standing(&key(Some(50), None), Some("engineer"), viewer("x", "admin"), now);
        assert_eq!(
            (
                revoked.can_change,
                revoked.can_rotate,
                revoked.can_revoke,
                revoked.can_edit_controls
            ),
            (true, false, false, false)
        );
        let left = policy.key_standing(&key(None, None), None, viewer("x", "admin"), now);
        assert_eq!(
            (left.status, left.can_rotate, left.can_revoke),
            (KeyStatus::CreatorLeft, true, true)
        );
        assert_eq!(
            serde_json::to_value(left).unwrap(),
            serde_json::json!({"preset": "full", "status": "creator_left", "canChange": true, "canRotate": true, "canRevoke": true, "canEditControls": true})
        );
    }

    #[test]
    fn what_each_status_allows() {
        use KeyStatus::*;
        let row = |s: KeyStatus| (s.as_str(), s.works(), s.may_rotate(), s.may_revoke());
        assert_eq!(row(Active), ("active", true, true, true));
        assert_eq!(row(Revoked), ("revoked", false, false, false));
        assert_eq!(row(Expired), ("expired", false, false, true));
        assert_eq!(row(CreatorLeft), ("creator_left", false, true, true));
        assert_eq!(serde_json::to_string(&CreatorLeft).unwrap(), "\"creator_left\"");
    }
}
