//! Which audit facts each change implies: its action (and, for a revocation, its cause), who
//! acted, the key or member it is about, and its details — in the core's own types. The adapter
//! turns each fact into its stored audit event, adding what only it knows: the event's id, the
//! request's source, the time it writes, and the surface it came through (`details.via`).
//!
//! | change | facts |
//! |---|---|
//! | create ([`Fact::key_created`]) | `key.created` {name, scope} by the creator |
//! | rotate ([`RotationPlan::facts`]) | `key.rotated` (old) {newKeyId, gracePeriodSeconds}; `key.created` (new) {name, scope, rotatedFrom}; with a grace period, `key.revoked` cause `rotation_grace_ended` (old) {revokedAt, rotatedTo}, recorded now since nothing runs when the period ends |
//! | revoke ([`RevocationPlan::facts`]) | `key.revoked` cause `user` {revokedAt}; nothing when nothing changed |
//! | import ([`Fact::key_imported`]) | `key.imported` {name, createdBy} by the service token |
//! | a member's role ([`Fact::member_put`]) | `member.added` {role} or `member.role_changed` {previousRole, role}; nothing when the role stays |
//! | a member's removal ([`Fact::member_removed`]) | `member.removed` {previousRole} |

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::{GracePeriod, RevocationPlan, RotationPlan};
use crate::key::record::{KeyRecord, Timestamp};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FactAction {
    /// A key was created.
    KeyCreated,
    /// A key was rotated (the fact names the old key).
    KeyRotated,
    /// A key was revoked, and why.
    KeyRevoked(FactCause),
    /// A key was imported by hash.
    KeyImported,
    /// A key's allow-list or limits changed.
    KeyControlsChanged,
    /// A user became a member.
    MemberAdded,
    /// A member's role changed.
    MemberRoleChanged,
    /// A member was removed.
    MemberRemoved,
}

/// Why a key was revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FactCause {
    /// A member revoked it.
    User,
    /// A rotation's grace period ends (scheduled by the rotation).
    RotationGraceEnded,
}

/// Who acted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FactActor {
    /// A member, by user id: the plans authorized them.
    User(String),
    /// The deployment's service token: no user acts (imports, membership changes).
    ServiceToken,
}

/// One detail's value; the adapter writes it in its own form (a time as RFC 3339, say).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FactDetail {
    /// Text.
    Text(String),
    /// A moment.
    Time(Timestamp),
    /// A number of seconds.
    Seconds(u32),
    /// A count (a limit's size).
    Count(u64),
    /// A list of texts.
    List(Vec<String>),
    /// Nothing (written as `null`).
    Null,
}

impl FactDetail {
    fn text(value: &str) -> FactDetail {
        FactDetail::Text(value.to_string())
    }

    fn text_or_null(value: Option<&str>) -> FactDetail {
        value.map_or(FactDetail::Null, FactDetail::text)
    }
}

/// One audit fact a change implies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    /// The organization it happened in.
    pub organization_id: String,
    /// What happened.
    pub action: FactAction,
    /// Who did it.
    pub actor: FactActor,
    /// The key it is about (id, hint), for key facts.
    pub key: Option<(String, String)>,
    /// The member it is about, for member facts.
    pub user_id: Option<String>,
    /// The action's own facts, by name, in order.
    pub details: Vec<(&'static str, FactDetail)>,
}

impl Fact {
    fn about_key(action: FactAction, actor: FactActor, key: &KeyRecord) -> Fact {
        Fact {
            organization_id: key.organization_id.clone(),
            action,
            actor,
            key: Some((key.id.clone(), key.hint.clone())),
            user_id: None,
            details: Vec::new(),
        }
    }

    fn about_member(organization_id: &str, action: FactAction, user_id: &str) -> Fact {
        Fact {
            organization_id: organization_id.to_string(),
            action,
            actor: FactActor::ServiceToken,
            key: None,
            user_id: Some(user_id.to_string()),
            details: Vec::new(),
        }
    }

    fn with(mut self, name: &'static str, value: FactDetail) -> Fact {
        self.details.push((name, value));
        self
    }

    /// `key.created` for a key just planned ([`crate::Policy::plan_create`]): its creator acted.
    pub fn key_created(key: &KeyRecord) -> Fact {
        Fact::about_key(
            FactAction::KeyCreated,
            FactActor::User(key.created_by.clone()),
            key,
        )
        .with("name", FactDetail::text(&key.name))
        .with("scope", FactDetail::text(key.scope.as_str()))
    }

    /// `key.controls_changed` when `actor` changed `before`'s allow-list or limits into
    /// `after`'s, with the controls as they now are (`allowedCidrs`, `rateLimitPerSecond`,
    /// `quotaLimit`, `quotaPeriod`, null where absent); nothing when they did not change.
    pub fn controls_changed(actor: &str, before: &KeyRecord, after: &KeyRecord) -> Vec<Fact> {
        if (&before.allowed_cidrs, before.rate_limit, before.quota)
            == (&after.allowed_cidrs, after.rate_limit, after.quota)
        {
            return Vec::new();
        }
        let cidrs = after.allowed_cidrs.as_ref().map_or(FactDetail::Null, |list| {
            FactDetail::List(list.blocks().iter().map(ToString::to_string).collect())
        });
        let count = |n: Option<u64>| n.map_or(FactDetail::Null, FactDetail::Count);
        vec![Fact::about_key(
            FactAction::KeyControlsChanged,
            FactActor::User(actor.to_string()),
            after,
        )
        .with("allowedCidrs", cidrs)
        .with(
            "rateLimitPerSecond",
            count(after.rate_limit.map(|r| u64::from(r.per_second))),
        )
        .with("quotaLimit", count(after.quota.map(|q| q.limit)))
        .with(
            "quotaPeriod",
            FactDetail::text_or_null(after.quota.map(|q| q.period.as_str())),
        )]
    }

    /// `key.imported` for an imported key ([`crate::Policy::plan_import`]): the service token
    /// acted.
    pub fn key_imported(key: &KeyRecord) -> Fact {
        Fact::about_key(FactAction::KeyImported, FactActor::ServiceToken, key)
            .with("name", FactDetail::text(&key.name))
            .with("createdBy", FactDetail::text(&key.created_by))
    }

    /// A member's role set to `role`, where they held `before` (`None`: not a member):
    /// `member.added`, `member.role_changed`, or nothing when the role stays.
    pub fn member_put(organization_id: &str, user_id: &str, before: Option<&str>, role: &str) -> Vec<Fact> {
        match before {
            None => vec![
                Fact::about_member(organization_id, FactAction::MemberAdded, user_id)
                    .with("role", FactDetail::text(role)),
            ],
            Some(previous) if previous != role => {
                vec![
                    Fact::about_member(organization_id, FactAction::MemberRoleChanged, user_id)
                        .with("previousRole", FactDetail::text(previous))
                        .with("role", FactDetail::text(role)),
                ]
            }
            Some(_) => Vec::new(),
        }
    }

    /// `member.removed`, with the role they held (`None` when it could not be read; a removal
    /// that finds no member records nothing, which the store decides as it deletes).
    pub fn member_removed(organization_id: &str, user_id: &str, previous: Option<&str>) -> Fact {
        Fact::about_member(organization_id, FactAction::MemberRemoved, user_id)
            .with("previousRole", FactDetail::text_or_null(previous))
    }
}

impl RotationPlan {
    /// The facts of this rotation of `old`, by the member who rotated it (the new key's
    /// creator).
    pub fn facts(&self, old: &KeyRecord) -> Vec<Fact> {
        let by = || FactActor::User(self.new.created_by.clone());
        let grace = self.grace.map_or(FactDetail::Null, |g: GracePeriod| {
            FactDetail::Seconds(g.seconds())
        });
        let mut facts = vec![
            Fact::about_key(FactAction::KeyRotated, by(), old)
                .with("newKeyId", FactDetail::text(&self.new.id))
                .with("gracePeriodSeconds", grace),
            Fact::about_key(FactAction::KeyCreated, by(), &self.new)
                .with("name", FactDetail::text(&self.new.name))
                .with("scope", FactDetail::text(self.new.scope.as_str()))
                .with("rotatedFrom", FactDetail::text(&old.id)),
        ];
        if let Some(revoked_at) = self.old_revoked_at {
            facts.push(
                Fact::about_key(FactAction::KeyRevoked(FactCause::RotationGraceEnded), by(), old)
                    .with("revokedAt", FactDetail::Time(revoked_at))
                    .with("rotatedTo", FactDetail::text(&self.new.id)),
            );
        }
        facts
    }
}

impl RevocationPlan {
    /// The facts of this revocation of `key` by the member `actor`: none when nothing changed.
    pub fn facts(&self, actor: &str, key: &KeyRecord) -> Vec<Fact> {
        if !self.changed {
            return Vec::new();
        }
        vec![Fact::about_key(
            FactAction::KeyRevoked(FactCause::User),
            FactActor::User(actor.to_string()),
            key,
        )
        .with("revokedAt", FactDetail::Time(self.revoked_at))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::projects::ProjectIds;
    use crate::key::record::Scope;
    use crate::lifecycle::{Actor, KeyMaterial};
    use crate::policy::Policy;

    const NOW: Timestamp = Timestamp(1_800_000_000_000);

    fn key(created_by: &str) -> KeyRecord {
        KeyRecord {
            id: "key_old".into(),
            name: "CI".into(),
            hint: "abcd".into(),
            organization_id: "org".into(),
            created_by: created_by.into(),
            scope: Scope::Project,
            scoped_project_ids: ProjectIds::one("p1"),
            allowed_cidrs: None,
            rate_limit: None,
            quota: None,
            permissions: None,
            created_at: Timestamp(0),
            last_used_at: None,
            revoked_at: None,
            expires_at: None,
        }
    }

    fn text(value: &str) -> FactDetail {
        FactDetail::Text(value.into())
    }

    #[test]
    fn a_creation_is_one_fact_by_the_creator() {
        let fact = Fact::key_created(&key("u_eng"));
        assert_eq!(fact.action, FactAction::KeyCreated);
        assert_eq!(fact.actor, FactActor::User("u_eng".into()));
        assert_eq!(fact.key, Some(("key_old".into(), "abcd".into())));
        assert_eq!(fact.organization_id, "org");
        assert_eq!(
            fact.details,
            vec![("name", text("CI")), ("scope", text("project"))]
        );
    }

    #[test]
    fn a_rotation_records_the_rotation_the_new_key_and_a_scheduled_end() {
        let policy = Policy::align().unwrap();
        let old = key("u_eng");
        let actor = Actor {
            user_id: "u_boss",
            role: Some("admin"),
        };
        let material = KeyMaterial {
            id: "key_new",
            hint: "wxyz",
        };
        let grace = GracePeriod::from_seconds(60).ok();
        let plan = policy.plan_rotate(actor, &old, grace, material, NOW).unwrap();
        let facts = plan.facts(&old);
        let actions: Vec<FactAction> = facts.iter().map(|f| f.action).collect();
        assert_eq!(
            actions,
            vec![
                FactAction::KeyRotated,
                FactAction::KeyCreated,
                FactAction::KeyRevoked(FactCause::RotationGraceEnded)
            ]
        );
        assert!(facts.iter().all(|f| f.actor == FactActor::User("u_boss".into())));
        assert_eq!(
            facts[0].details,
            vec![
                ("newKeyId", text("key_new")),
                ("gracePeriodSeconds", FactDetail::Seconds(60))
            ]
        );
        assert_eq!(facts[1].key, Some(("key_new".into(), "wxyz".into())));
        assert_eq!(facts[1].details[2], ("rotatedFrom", text("key_old")));
        assert_eq!(
            facts[2].details,
            vec![
                ("revokedAt", FactDetail::Time(Timestamp(NOW.0 + 60_000))),
                ("rotatedTo", text("key_new"))
            ]
        );
        let without = policy.plan_rotate(actor, &old, None, material, NOW).unwrap();
        let facts = without.facts(&old);
        assert_eq!(facts.len(), 2, "no grace period, no scheduled end");
        assert_eq!(facts[0].details[1], ("gracePeriodSeconds", FactDetail::Null));
    }

    #[test]
    fn a_revocation_that_changes_nothing_records_nothing() {
        let policy = Policy::align().unwrap();
        let actor = Actor {
            user_id: "u_eng",
            role: Some("engineer"),
        };
        let mut k = key("u_eng");
        let plan = policy.plan_revoke(actor, &k, NOW).unwrap();
        let facts = plan.facts("u_eng", &k);
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].action, FactAction::KeyRevoked(FactCause::User));
        assert_eq!(facts[0].details, vec![("revokedAt", FactDetail::Time(NOW))]);
        k.revoked_at = Some(Timestamp(5));
        let plan = policy.plan_revoke(actor, &k, NOW).unwrap();
        assert!(plan.facts("u_eng", &k).is_empty());
    }

    #[test]
    fn imports_and_members_are_the_service_tokens() {
        let imported = Fact::key_imported(&key("u_eng"));
        assert_eq!(
            (imported.action, &imported.actor),
            (FactAction::KeyImported, &FactActor::ServiceToken)
        );
        assert_eq!(
            imported.details,
            vec![("name", text("CI")), ("createdBy", text("u_eng"))]
        );

        let added = Fact::member_put("org", "u_1", None, "engineer");
        assert_eq!(added.len(), 1);
        assert_eq!(
            (added[0].action, added[0].user_id.as_deref()),
            (FactAction::MemberAdded, Some("u_1"))
        );
        assert_eq!(added[0].details, vec![("role", text("engineer"))]);
        assert_eq!(added[0].actor, FactActor::ServiceToken);
        let changed = Fact::member_put("org", "u_1", Some("member"), "engineer");
        assert_eq!(changed[0].action, FactAction::MemberRoleChanged);
        assert_eq!(
            changed[0].details,
            vec![("previousRole", text("member")), ("role", text("engineer"))]
        );
        assert!(Fact::member_put("org", "u_1", Some("engineer"), "engineer").is_empty());
        let removed = Fact::member_removed("org", "u_1", Some("admin"));
        assert_eq!(removed.action, FactAction::MemberRemoved);
        assert_eq!(removed.details, vec![("previousRole", text("admin"))]);
        assert_eq!(
            Fact::member_removed("org", "u_1", None).details,
            vec![("previousRole", FactDetail::Null)]
        );
    }
}
