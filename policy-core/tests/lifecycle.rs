//! Who may create, revoke and rotate which keys (SPEC "Keys"), and the lifecycle plans, with the
//! Align policy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use policy_core::{
    Actor, ControlsAsk, ControlsChange, CreateKey, ErrorKind, Fact, FactAction, GracePeriod, Grants,
    ImportError, ImportedKey, KeyHash, KeyMaterial, KeyRecord, LifecycleError, NewKey, Policy, ProjectIds,
    RevocationPlan, Scope, Timestamp, EARLIEST_TIME, LATEST_TIME, MAX_GRACE_SECONDS, MAX_IMPORT_KEYS,
};

fn new_key<'a>(
    role: Option<&'a str>,
    scope: Scope,
    project: Option<&'a str>,
    grants: Grants<'a>,
) -> NewKey<'a> {
    let projects = Box::leak(Box::new(project.map_or_else(ProjectIds::none, ProjectIds::one)));
    NewKey {
        acting_role: role,
        scope,
        projects,
        grants,
    }
}

#[test]
fn creation_rules_per_role() {
    let policy = Policy::align().unwrap();
    for role in ["member", "engineer", "manager", "admin"] {
        let org = policy.check_new_key(&new_key(Some(role), Scope::Organization, None, Grants::Inherit));
        let project = policy.check_new_key(&new_key(Some(role), Scope::Project, Some("p1"), Grants::Inherit));
        assert_eq!(org.is_ok(), role == "admin", "{role} organization key");
        assert_eq!(
            project.is_ok(),
            role == "admin" || role == "engineer",
            "{role} project key"
        );
        if let Err(err) = org {
            assert!(err.is_forbidden());
            assert_eq!(
                err.to_string(),
                format!("a user with role {role} may not create organization-scoped keys")
            );
        }
    }
    let outsider = policy.check_new_key(&new_key(None, Scope::Project, Some("p1"), Grants::Inherit));
    assert_eq!(outsider, Err(LifecycleError::NotAMember));
}

#[test]
fn projects_are_required_exactly_for_project_keys() {
    let policy = Policy::align().unwrap();
    let missing = policy.check_new_key(&new_key(Some("admin"), Scope::Project, None, Grants::Inherit));
    assert_eq!(missing, Err(LifecycleError::ProjectRequired));
    let stray = policy.check_new_key(&new_key(
        Some("admin"),
        Scope::Organization,
        Some("p1"),
        Grants::Inherit,
    ));
    assert_eq!(stray, Err(LifecycleError::ProjectNotAllowed));
    assert!(!stray.unwrap_err().is_forbidden(), "a bad request, not a refusal");
}

#[test]
fn presets_resolve_and_full_inherits() {
    let policy = Policy::align().unwrap();
    let read = policy
        .check_new_key(&new_key(
            Some("admin"),
            Scope::Organization,
            None,
            Grants::Preset("read"),
        ))
        .unwrap()
        .unwrap();
    assert!(
        read.iter().all(|p| p.starts_with("read:") || p == "search"),
        "{read:?}"
    );
    assert!(read.contains(&"search".to_string()));
    let write = policy
        .check_new_key(&new_key(
            Some("engineer"),
            Scope::Project,
            Some("p"),
            Grants::Preset("write"),
        ))
        .unwrap()
        .unwrap();
    assert!(write.contains(&"write:entry".to_string()) && write.contains(&"write:time_entry".to_string()));
    let full = policy.check_new_key(&new_key(
        Some("admin"),
        Scope::Organization,
        None,
        Grants::Preset("full"),
    ));
    assert_eq!(full, Ok(None));
    let unknown = policy.check_new_key(&new_key(
        Some("admin"),
        Scope::Organization,
        None,
        Grants::Preset("root"),
    ));
    assert!(matches!(unknown, Err(LifecycleError::UnknownPreset { ref known, .. }) if known.len() == 3));
}

#[test]
fn grants_beyond_the_role_are_refused_by_name() {
    let policy = Policy::align().unwrap();
    let asked = vec![
        "read:project".to_string(),
        "approve:time_entry".to_string(),
        "invite:user".to_string(),
    ];
    let err = policy
        .check_new_key(&new_key(
            Some("engineer"),
            Scope::Project,
            Some("p1"),
            Grants::Explicit(&asked),
        ))
        .unwrap_err();
    assert_eq!(
        err,
        LifecycleError::BeyondRole {
            role: "engineer".into(),
            permissions: vec!["approve:time_entry".into(), "invite:user".into()],
        }
    );
    assert!(err.is_forbidden());
    assert!(err.to_string().contains("approve:time_entry, invite:user"));
    let typo = vec!["reed:project".to_string()];
    let err = policy
        .check_new_key(&new_key(
            Some("admin"),
            Scope::Organization,
            None,
            Grants::Explicit(&typo),
        ))
        .unwrap_err();
    assert_eq!(err, LifecycleError::UnknownPermissions(typo.clone()));
    let narrow = vec!["search".to_string(), "read:project".to_string()];
    let ok = policy.check_new_key(&new_key(
        Some("member"),
        Scope::Organization,
        None,
        Grants::Explicit(&narrow),
    ));
    assert!(ok.is_err(), "members may not create organization keys at all");
    let ok = policy
        .check_new_key(&new_key(
            Some("engineer"),
            Scope::Project,
            Some("p1"),
            Grants::Explicit(&narrow),
        ))
        .unwrap();
    assert_eq!(
        ok,
        Some(vec!["read:project".to_string(), "search".to_string()]),
        "policy order"
    );
}

#[test]
fn the_creator_or_an_admin_may_change_a_key() {
    let policy = Policy::align().unwrap();
    let key = KeyRecord {
        id: "k".into(),
        name: "n".into(),
        hint: "abcd".into(),
        organization_id: "org".into(),
        created_by: "u_eng".into(),
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
    };
    assert_eq!(policy.check_key_change(&key, "u_eng", Some("engineer")), Ok(()));
    assert_eq!(policy.check_key_change(&key, "u_boss", Some("admin")), Ok(()));
    assert_eq!(
        policy.check_key_change(&key, "u_other", Some("manager")),
        Err(LifecycleError::NotYours)
    );
    assert_eq!(
        policy.check_key_change(&key, "u_eng", None),
        Err(LifecycleError::NotAMember)
    );
}

// ---- Plans ------------------------------------------------------------------------------------

const DAY: i64 = 24 * 3600 * 1000;
/// 2026-01-01T00:00:00Z.
const NOW: Timestamp = Timestamp(1_767_225_600_000);

fn at(offset_ms: i64) -> Timestamp {
    Timestamp(NOW.0 + offset_ms)
}

fn actor<'a>(user_id: &'a str, role: &'a str) -> Actor<'a> {
    Actor {
        user_id,
        role: Some(role),
    }
}

const MATERIAL: KeyMaterial<'static> = KeyMaterial {
    id: "key_new",
    hint: "wxyz",
};

fn ask(name: &str) -> CreateKey<'_> {
    CreateKey {
        name,
        scope: Scope::Project,
        controls: ControlsAsk {
            scoped_project_id: Some("p1"),
            ..ControlsAsk::default()
        },
        grants: Grants::Inherit,
        expires_at: None,
    }
}

fn record(created_by: &str, scope: Scope) -> KeyRecord {
    KeyRecord {
        id: "key_old".into(),
        name: "CI".into(),
        hint: "abcd".into(),
        organization_id: "org".into(),
        created_by: created_by.into(),
        scope,
        scoped_project_ids: if scope == Scope::Project {
            ProjectIds::one("p1")
        } else {
            ProjectIds::none()
        },
        allowed_cidrs: None,
        rate_limit: None,
        quota: None,
        permissions: Some(vec!["read:project".into()]),
        created_at: at(-DAY),
        last_used_at: Some(at(-1000)),
        revoked_at: None,
        expires_at: Some(at(7 * DAY)),
    }
}

#[test]
fn a_created_key_is_the_actor_s_with_the_material() {
    let policy = Policy::align().unwrap();
    let mut create = ask("CI");
    create.expires_at = Some(at(DAY));
    let key = policy
        .plan_create("org", actor("u_eng", "engineer"), &create, MATERIAL, NOW)
        .unwrap();
    assert_eq!(
        key,
        KeyRecord {
            id: "key_new".into(),
            name: "CI".into(),
            hint: "wxyz".into(),
            organization_id: "org".into(),
            created_by: "u_eng".into(),
            scope: Scope::Project,
            scoped_project_ids: ProjectIds::one("p1"),
            allowed_cidrs: None,
            rate_limit: None,
            quota: None,
            permissions: None,
            created_at: NOW,
            last_used_at: None,
            revoked_at: None,
            expires_at: Some(at(DAY)),
        }
    );
}

#[test]
fn names_hold_1_to_100_characters_and_are_not_blank() {
    let policy = Policy::align().unwrap();
    let plan = |name: &str| policy.plan_create("org", actor("u", "admin"), &ask(name), MATERIAL, NOW);
    assert!(plan(&"é".repeat(100)).is_ok(), "100 characters (200 bytes)");
    let err = plan(&"a".repeat(101)).unwrap_err();
    assert_eq!(err, LifecycleError::InvalidName);
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.to_string(), "name must be 1-100 characters and not blank");
    assert_eq!(plan(""), Err(LifecycleError::InvalidName));
    assert_eq!(plan(" \t "), Err(LifecycleError::InvalidName));
    assert!(plan("a").is_ok());
}

#[test]
fn hints_hold_1_to_8_characters() {
    let policy = Policy::align().unwrap();
    let plan = |hint: &str| {
        policy.plan_create(
            "org",
            actor("u", "admin"),
            &ask("CI"),
            KeyMaterial { id: "k", hint },
            NOW,
        )
    };
    assert!(plan("12345678").is_ok());
    assert_eq!(plan("123456789"), Err(LifecycleError::InvalidHint));
    assert_eq!(plan(""), Err(LifecycleError::InvalidHint));
}

#[test]
fn ids_are_path_ids_and_name_their_field() {
    let policy = Policy::align().unwrap();
    let err = policy
        .plan_create("org", actor("u 1", "admin"), &ask("CI"), MATERIAL, NOW)
        .unwrap_err();
    assert_eq!(
        err,
        LifecycleError::InvalidId {
            field: "actingUserId"
        }
    );
    assert!(err
        .to_string()
        .starts_with("actingUserId must be 1-64 characters"));
    let bad_material = KeyMaterial { id: "", hint: "abcd" };
    let err = policy
        .plan_create("org", actor("u", "admin"), &ask("CI"), bad_material, NOW)
        .unwrap_err();
    assert_eq!(err, LifecycleError::InvalidId { field: "id" });
    let mut create = ask("CI");
    create.controls.scoped_project_id = Some("p/1");
    let err = policy
        .plan_create("org", actor("u", "admin"), &create, MATERIAL, NOW)
        .unwrap_err();
    assert_eq!(
        err,
        LifecycleError::InvalidId {
            field: "scopedProjectId"
        }
    );
    let err = policy
        .plan_create(&"o".repeat(65), actor("u", "admin"), &ask("CI"), MATERIAL, NOW)
        .unwrap_err();
    assert_eq!(
        err,
        LifecycleError::InvalidId {
            field: "organizationId"
        }
    );
}

#[test]
fn expiry_must_be_in_the_future_and_before_the_year_10000() {
    let policy = Policy::align().unwrap();
    let plan = |expires_at| {
        let mut create = ask("CI");
        create.expires_at = Some(expires_at);
        policy.plan_create("org", actor("u", "admin"), &create, MATERIAL, NOW)
    };
    let err = plan(NOW).unwrap_err();
    assert_eq!(
        err,
        LifecycleError::ExpiryNotInFuture,
        "expiring exactly now is expired"
    );
    assert_eq!(err.to_string(), "expiresAt must be in the future");
    assert_eq!(plan(at(-1)), Err(LifecycleError::ExpiryNotInFuture));
    assert!(plan(at(1)).is_ok());
    assert!(plan(LATEST_TIME).is_ok());
    assert_eq!(
        plan(Timestamp(LATEST_TIME.0 + 1)),
        Err(LifecycleError::TimeOutOfRange { field: "expiresAt" })
    );
}

#[test]
fn creation_checks_the_actor_s_role() {
    let policy = Policy::align().unwrap();
    let mut org_key = ask("CI");
    org_key.scope = Scope::Organization;
    org_key.controls.scoped_project_id = None;
    let err = policy
        .plan_create("org", actor("u", "engineer"), &org_key, MATERIAL, NOW)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(err.kind().status(), 403);
    let outsider = Actor {
        user_id: "u",
        role: None,
    };
    assert_eq!(
        policy.plan_create("org", outsider, &ask("CI"), MATERIAL, NOW),
        Err(LifecycleError::NotAMember)
    );
    let stranger = actor("u", "owner");
    assert_eq!(
        policy.plan_create("org", stranger, &ask("CI"), MATERIAL, NOW),
        Err(LifecycleError::NotAMember),
        "a role the policy does not define is no membership"
    );
    let empty = vec![String::new()];
    let mut create = ask("CI");
    create.grants = Grants::Explicit(&empty);
    let err = policy
        .plan_create("org", actor("u", "admin"), &create, MATERIAL, NOW)
        .unwrap_err();
    assert_eq!(err, LifecycleError::UnknownPermissions(empty.clone()));
    assert_eq!(err.to_string(), "permissions names unknown permissions: \"\"");
}

#[test]
fn the_admin_notion_is_may_create_organization_keys() {
    let policy = Policy::align().unwrap();
    for role in policy.roles() {
        assert_eq!(
            policy.may_manage_every_key(role),
            policy.may_create_key(role, Scope::Organization),
            "{role}"
        );
    }
    assert!(policy.may_manage_every_key("admin"));
    assert!(!policy.may_manage_every_key("engineer"));
    assert!(!policy.may_manage_every_key("nobody"));
}

#[test]
fn revoking_is_now_unless_already_revoked_earlier() {
    let policy = Policy::align().unwrap();
    let key = record("u_eng", Scope::Project);
    let plan = policy.plan_revoke(actor("u_eng", "engineer"), &key, NOW).unwrap();
    assert_eq!(
        plan,
        RevocationPlan {
            revoked_at: NOW,
            changed: true
        }
    );
    let mut revoked = key.clone();
    revoked.revoked_at = Some(at(-DAY));
    let plan = policy
        .plan_revoke(actor("u_eng", "engineer"), &revoked, NOW)
        .unwrap();
    assert_eq!(
        plan,
        RevocationPlan {
            revoked_at: at(-DAY),
            changed: false
        },
        "an earlier revocation is never moved later"
    );
    revoked.revoked_at = Some(NOW);
    let plan = policy
        .plan_revoke(actor("u_eng", "engineer"), &revoked, NOW)
        .unwrap();
    assert!(!plan.changed, "revoked exactly now is revoked");
    let mut scheduled = key.clone();
    scheduled.revoked_at = Some(at(DAY));
    let plan = policy
        .plan_revoke(actor("u_boss", "admin"), &scheduled, NOW)
        .unwrap();
    assert_eq!(
        plan,
        RevocationPlan {
            revoked_at: NOW,
            changed: true
        },
        "a scheduled revocation is brought forward"
    );
}

#[test]
fn a_leaked_key_is_revoked_by_the_same_timing_rule_without_a_role_check() {
    let policy = Policy::align().unwrap();
    let key = record("u_gone", Scope::Organization);
    // No actor: the scanner acts, whoever created the key and whatever their role.
    assert_eq!(
        policy.plan_revoke_leaked(&key, NOW),
        RevocationPlan {
            revoked_at: NOW,
            changed: true
        }
    );
    let mut earlier = key.clone();
    earlier.revoked_at = Some(at(-DAY));
    assert_eq!(
        policy.plan_revoke_leaked(&earlier, NOW),
        RevocationPlan {
            revoked_at: at(-DAY),
            changed: false
        },
        "never moved later"
    );
    let mut scheduled = key;
    scheduled.revoked_at = Some(at(DAY));
    assert_eq!(
        policy.plan_revoke_leaked(&scheduled, NOW).revoked_at,
        NOW,
        "brought forward"
    );
}

#[test]
fn only_the_creator_or_an_admin_may_revoke() {
    let policy = Policy::align().unwrap();
    let key = record("u_eng", Scope::Project);
    let err = policy
        .plan_revoke(actor("u_other", "engineer"), &key, NOW)
        .unwrap_err();
    assert_eq!(err, LifecycleError::NotYours);
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let gone = Actor {
        user_id: "u_eng",
        role: None,
    };
    assert_eq!(
        policy.plan_revoke(gone, &key, NOW),
        Err(LifecycleError::NotAMember)
    );
}

#[test]
fn rotation_copies_settings_to_the_actor() {
    let policy = Policy::align().unwrap();
    let old = record("u_eng", Scope::Project);
    let plan = policy
        .plan_rotate(actor("u_boss", "admin"), &old, None, MATERIAL, NOW)
        .unwrap();
    assert_eq!(
        plan.new,
        KeyRecord {
            id: "key_new".into(),
            hint: "wxyz".into(),
            created_by: "u_boss".into(),
            created_at: NOW,
            last_used_at: None,
            revoked_at: None,
            ..old.clone()
        }
    );
    assert_eq!(
        plan.old_revoked_at, None,
        "without a grace period both keys work on"
    );
}

#[test]
fn rotation_grace_is_at_most_30_days() {
    let policy = Policy::align().unwrap();
    let old = record("u_eng", Scope::Project);
    // The period's rule is `GracePeriod`'s; the plan takes the period it made.
    let rotate = |grace: Option<u64>| {
        let grace = grace.map(GracePeriod::from_seconds).transpose()?;
        policy.plan_rotate(actor("u_eng", "engineer"), &old, grace, MATERIAL, NOW)
    };
    let thirty_days: u32 = 30 * 24 * 3600;
    let thirty_days_u64 = u64::from(thirty_days);
    assert_eq!(
        rotate(Some(thirty_days_u64)).unwrap().old_revoked_at,
        Some(at(30 * DAY))
    );
    let err = rotate(Some(thirty_days_u64 + 1)).unwrap_err();
    assert_eq!(
        err,
        LifecycleError::GraceTooLong {
            seconds: thirty_days_u64 + 1
        }
    );
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(err
        .to_string()
        .starts_with("gracePeriodSeconds is at most 2592000"));
    assert_eq!(
        rotate(Some(0)).unwrap().old_revoked_at,
        Some(NOW),
        "0 revokes at once"
    );
    assert_eq!(rotate(Some(60)).unwrap().old_revoked_at, Some(at(60_000)));
    assert_eq!(MAX_GRACE_SECONDS, thirty_days);
}

#[test]
fn rotation_refuses_revoked_and_expired_keys_but_not_scheduled_revocations() {
    let policy = Policy::align().unwrap();
    let rotate = |old: &KeyRecord, grace: Option<u64>| {
        let grace = grace.map(|s| GracePeriod::from_seconds(s).unwrap());
        policy.plan_rotate(actor("u_eng", "engineer"), old, grace, MATERIAL, NOW)
    };
    let mut old = record("u_eng", Scope::Project);
    old.revoked_at = Some(NOW);
    let err = rotate(&old, None).unwrap_err();
    assert_eq!(err, LifecycleError::KeyRevoked);
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.kind().status(), 409);
    old.revoked_at = Some(at(-DAY));
    assert_eq!(rotate(&old, None), Err(LifecycleError::KeyRevoked));
    old.revoked_at = Some(at(1000));
    let plan = rotate(&old, None).unwrap();
    assert_eq!(plan.old_revoked_at, None, "the scheduled revocation stays");
    assert_eq!(plan.new.revoked_at, None);
    let plan = rotate(&old, Some(60)).unwrap();
    assert_eq!(
        plan.old_revoked_at,
        Some(at(1000)),
        "never later than the scheduled revocation"
    );
    let plan = rotate(&old, Some(0)).unwrap();
    assert_eq!(
        plan.old_revoked_at,
        Some(NOW),
        "sooner than the scheduled revocation"
    );
    let mut expired = record("u_eng", Scope::Project);
    expired.expires_at = Some(NOW);
    let err = rotate(&expired, None).unwrap_err();
    assert_eq!(err, LifecycleError::KeyExpired);
    assert_eq!(err.kind(), ErrorKind::Conflict);
}

#[test]
fn rotation_checks_the_copied_settings_against_the_actor_s_role() {
    let policy = Policy::align().unwrap();
    // An engineer cannot rotate an organization key, whether or not they made it once (as admin).
    let org_key = record("u_admin", Scope::Organization);
    let err = policy
        .plan_rotate(actor("u_eng", "engineer"), &org_key, None, MATERIAL, NOW)
        .unwrap_err();
    assert_eq!(err, LifecycleError::NotYours);
    let demoted = actor("u_admin", "engineer");
    let err = policy
        .plan_rotate(demoted, &org_key, None, MATERIAL, NOW)
        .unwrap_err();
    assert_eq!(
        err,
        LifecycleError::MayNotCreate {
            role: "engineer".into(),
            scope: Scope::Organization
        }
    );
    // An admin rotating a key with grants beyond the admin's role is refused by name.
    let mut wide = record("u_eng", Scope::Project);
    wide.permissions = Some(vec!["read:project".into(), "no:such".into()]);
    let err = policy
        .plan_rotate(actor("u_boss", "admin"), &wide, None, MATERIAL, NOW)
        .unwrap_err();
    assert_eq!(err, LifecycleError::UnknownPermissions(vec!["no:such".into()]));
    // A manager may not create keys at all, so may not rotate even their own.
    let own = record("u_mgr", Scope::Project);
    let err = policy
        .plan_rotate(actor("u_mgr", "manager"), &own, None, MATERIAL, NOW)
        .unwrap_err();
    assert!(matches!(err, LifecycleError::MayNotCreate { .. }), "{err:?}");
    assert_eq!(
        policy.plan_rotate(actor("u_x", "member"), &own, None, MATERIAL, NOW),
        Err(LifecycleError::NotYours)
    );
}

#[test]
fn member_roles_are_the_policy_s() {
    let policy = Policy::align().unwrap();
    for role in ["member", "engineer", "manager", "admin"] {
        assert_eq!(policy.plan_member_role(role), Ok(()));
    }
    let err = policy.plan_member_role("").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(
        err.to_string(),
        "role \"\" is unknown; roles: admin, engineer, manager, member"
    );
    assert!(policy.plan_member_role("Admin").is_err());
}

// ---- Imports ----------------------------------------------------------------------------------

const HASH_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const HASH_B: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

fn imported(id: &'static str, key_hash: &'static str) -> ImportedKey<'static> {
    ImportedKey {
        id,
        key_hash,
        hint: "abcd",
        name: "legacy",
        created_by: "u_gone",
        creator_role: None,
        scope: Scope::Organization,
        controls: ControlsAsk::default(),
        permissions: None,
        created_at: None,
        last_used_at: None,
        revoked_at: None,
        expires_at: None,
    }
}

fn one_error(policy: &Policy, key: ImportedKey<'_>) -> LifecycleError {
    match policy.plan_import("org", &[imported("k0", HASH_A), key], NOW) {
        Err(ImportError::Key { index: 1, error }) => error,
        other => panic!("expected an error at keys[1], got {other:?}"),
    }
}

#[test]
fn imports_carry_state() {
    let policy = Policy::align().unwrap();
    let mut old = imported("k1", HASH_B);
    old.created_at = Some(EARLIEST_TIME);
    old.last_used_at = Some(at(-DAY));
    old.revoked_at = Some(at(-DAY));
    old.expires_at = Some(at(-2 * DAY));
    let narrow = vec!["search".to_string(), "read:project".to_string()];
    old.permissions = Some(&narrow);
    let plan = policy
        .plan_import("org", &[imported("k0", HASH_A), old], NOW)
        .unwrap();
    assert_eq!(plan.len(), 2);
    assert_eq!(plan[0].record.created_at, NOW, "no createdAt: now");
    assert_eq!(plan[0].hash, KeyHash::from_hex(HASH_A).unwrap());
    assert_eq!(
        plan[1].hash.to_hex().as_str(),
        HASH_B.to_lowercase(),
        "either case"
    );
    let r = &plan[1].record;
    assert_eq!(
        (r.created_at, r.last_used_at, r.revoked_at, r.expires_at),
        (EARLIEST_TIME, Some(at(-DAY)), Some(at(-DAY)), Some(at(-2 * DAY))),
        "past revocations and expiries are state"
    );
    assert_eq!(r.permissions, Some(narrow.clone()), "grants are kept as given");
    assert_eq!((r.id.as_str(), r.organization_id.as_str()), ("k1", "org"));
    assert_eq!(r.created_by, "u_gone", "a creator who left is kept");
}

#[test]
fn imports_refuse_garbage_by_index() {
    let policy = Policy::align().unwrap();
    let err = policy
        .plan_import("org", &[imported("k0", HASH_A), imported("k1", "abc")], NOW)
        .unwrap_err();
    assert_eq!(
        err,
        ImportError::Key {
            index: 1,
            error: LifecycleError::InvalidKeyHash
        }
    );
    assert_eq!(err.to_string(), "keys[1].keyHash must be 64 hex digits (SHA-256)");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    let not_hex = "g".repeat(64);
    let mut key = imported("k1", "x");
    key.key_hash = &not_hex;
    assert_eq!(one_error(&policy, key), LifecycleError::InvalidKeyHash);
    let long = "a".repeat(66);
    key.key_hash = &long;
    assert_eq!(one_error(&policy, key), LifecycleError::InvalidKeyHash);

    let base = imported("k1", HASH_B);
    let with = |f: &dyn Fn(&mut ImportedKey<'static>)| {
        let mut k = base;
        f(&mut k);
        one_error(&policy, k)
    };
    assert_eq!(
        with(&|k| k.id = "key 1"),
        LifecycleError::InvalidId { field: "id" }
    );
    assert_eq!(
        with(&|k| k.created_by = ""),
        LifecycleError::InvalidId { field: "createdBy" }
    );
    assert_eq!(with(&|k| k.name = "  "), LifecycleError::InvalidName);
    assert_eq!(with(&|k| k.hint = "123456789"), LifecycleError::InvalidHint);
    assert_eq!(
        with(&|k| k.controls.scoped_project_id = Some("p1")),
        LifecycleError::ProjectNotAllowed
    );
    assert_eq!(
        with(&|k| k.scope = Scope::Project),
        LifecycleError::ProjectRequired
    );
    // Year 0006, and the edges of the range.
    assert_eq!(
        with(&|k| k.created_at = Some(Timestamp(-62_977_564_800_000))),
        LifecycleError::TimeOutOfRange { field: "createdAt" }
    );
    assert_eq!(
        with(&|k| k.revoked_at = Some(Timestamp(EARLIEST_TIME.0 - 1))),
        LifecycleError::TimeOutOfRange { field: "revokedAt" }
    );
    assert_eq!(
        with(&|k| k.expires_at = Some(Timestamp(LATEST_TIME.0 + 1))),
        LifecycleError::TimeOutOfRange { field: "expiresAt" }
    );
    assert_eq!(
        with(&|k| k.last_used_at = Some(Timestamp(0))),
        LifecycleError::TimeOutOfRange { field: "lastUsedAt" }
    );
    let mut edges = base;
    edges.expires_at = Some(LATEST_TIME);
    edges.revoked_at = Some(EARLIEST_TIME);
    assert!(policy.plan_import("org", &[edges], NOW).is_ok());

    static EMPTY_NAME: [String; 1] = [String::new()];
    assert_eq!(
        with(&|k| k.permissions = Some(&EMPTY_NAME)),
        LifecycleError::MalformedPermissions(vec![String::new()])
    );
    // A name the policy does not define is state (an older policy's): kept, it grants nothing.
    let retired = vec!["reed:project".to_string()];
    let mut k = base;
    k.permissions = Some(&retired);
    let plan = policy.plan_import("org", &[k], NOW).unwrap();
    assert_eq!(plan[0].record.permissions, Some(retired.clone()));
}

#[test]
fn imports_refuse_repeated_ids_and_hashes() {
    let policy = Policy::align().unwrap();
    let err = policy
        .plan_import("org", &[imported("k0", HASH_A), imported("k0", HASH_B)], NOW)
        .unwrap_err();
    assert_eq!(
        err,
        ImportError::Key {
            index: 1,
            error: LifecycleError::Duplicate {
                field: "id",
                first: 0
            }
        }
    );
    assert_eq!(err.to_string(), "keys[1].id repeats that of keys[0]");
    assert_eq!(err.kind(), ErrorKind::Conflict, "as for a key already stored");
    let upper = HASH_A.to_uppercase();
    let mut again = imported("k1", HASH_B);
    again.key_hash = &upper;
    let err = policy
        .plan_import("org", &[imported("k0", HASH_A), again], NOW)
        .unwrap_err();
    assert_eq!(
        err,
        ImportError::Key {
            index: 1,
            error: LifecycleError::Duplicate {
                field: "keyHash",
                first: 0
            }
        },
        "the same hash in another case"
    );
}

#[test]
fn imports_hold_1_to_1000_keys() {
    let policy = Policy::align().unwrap();
    assert_eq!(policy.plan_import("org", &[], NOW), Err(ImportError::Empty));
    let ids: Vec<String> = (0..=MAX_IMPORT_KEYS).map(|i| format!("k{i}")).collect();
    let hashes: Vec<String> = (0..=MAX_IMPORT_KEYS).map(|i| format!("{i:064x}")).collect();
    let keys: Vec<ImportedKey<'_>> = ids
        .iter()
        .zip(&hashes)
        .map(|(id, hash)| ImportedKey {
            id,
            key_hash: hash,
            ..imported("x", HASH_A)
        })
        .collect();
    assert_eq!(
        policy
            .plan_import("org", &keys[..MAX_IMPORT_KEYS], NOW)
            .unwrap()
            .len(),
        1000
    );
    let err = policy.plan_import("org", &keys, NOW).unwrap_err();
    assert_eq!(err, ImportError::TooMany { given: 1001 });
    assert_eq!(err.to_string(), "keys holds 1 to 1000 keys");
}

#[test]
fn an_imported_key_may_exceed_its_creator_s_current_role() {
    // Made before a downgrade: the key is state, and acts with the current role, never more.
    let policy = Policy::align().unwrap();
    let mut key = imported("k1", HASH_B);
    key.creator_role = Some("member");
    assert!(policy.plan_import("org", &[key], NOW).is_ok());
    let mut project = imported("k2", HASH_A);
    project.scope = Scope::Project;
    project.controls.scoped_project_id = Some("p1");
    project.creator_role = Some("engineer");
    let beyond = vec!["approve:time_entry".to_string()];
    project.permissions = Some(&beyond);
    let plan = policy.plan_import("org", &[project], NOW).unwrap();
    assert_eq!(plan[0].record.permissions, Some(beyond));
}

#[test]
fn errors_are_errors() {
    fn assert_error<E: core::error::Error>(_: &E) {}
    assert_error(&LifecycleError::KeyRevoked);
    assert_error(&ImportError::Empty);
}

#[test]
fn messages_start_with_the_field_they_name() {
    let errors = [
        LifecycleError::InvalidId { field: "createdBy" },
        LifecycleError::InvalidName,
        LifecycleError::InvalidHint,
        LifecycleError::InvalidKeyHash,
        LifecycleError::TimeOutOfRange { field: "revokedAt" },
        LifecycleError::ExpiryNotInFuture,
        LifecycleError::GraceTooLong { seconds: 1 },
        LifecycleError::UnknownPermissions(vec!["x".into()]),
        LifecycleError::UnknownPreset {
            preset: "x".into(),
            known: vec![],
        },
        LifecycleError::UnknownRole {
            role: "x".into(),
            known: vec![],
        },
        LifecycleError::Duplicate {
            field: "id",
            first: 0,
        },
    ];
    for err in errors {
        let field = err.field().unwrap();
        assert!(err.to_string().starts_with(field), "{err}");
    }
    assert_eq!(LifecycleError::KeyRevoked.field(), None);
    assert_eq!(LifecycleError::ProjectRequired.field(), None);
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn controls_are_checked_once_for_every_surface() {
    let many = strings(&["p2", "p1"]);
    let ask = ControlsAsk {
        scoped_project_ids: Some(&many),
        ..ControlsAsk::default()
    };
    let controls = ask.check().unwrap();
    assert_eq!(
        controls.projects.as_slice(),
        strings(&["p1", "p2"]).as_slice(),
        "sorted"
    );
    let both = ControlsAsk {
        scoped_project_id: Some("p1"),
        scoped_project_ids: Some(&many),
        ..ControlsAsk::default()
    };
    assert_eq!(both.check().unwrap_err(), LifecycleError::ProjectFieldsBoth);
    assert_eq!(both.check().unwrap_err().code(), "project_fields_both");
    let twice = strings(&["p1", "p1"]);
    let err = ControlsAsk {
        scoped_project_ids: Some(&twice),
        ..ControlsAsk::default()
    }
    .check()
    .unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("invalid_projects", Some("scopedProjectIds"))
    );
    let bad_id = strings(&["p/1"]);
    let err = ControlsAsk {
        scoped_project_ids: Some(&bad_id),
        ..ControlsAsk::default()
    }
    .check()
    .unwrap_err();
    assert_eq!(
        err,
        LifecycleError::InvalidId {
            field: "scopedProjectIds"
        }
    );
    let empty: Vec<String> = Vec::new();
    let err = ControlsAsk {
        scoped_project_ids: Some(&empty),
        ..ControlsAsk::default()
    }
    .check()
    .unwrap_err();
    assert_eq!(err, LifecycleError::ProjectRequired);
    let cidrs = strings(&["10.0.0.0/8", "nonsense"]);
    let err = ControlsAsk {
        allowed_cidrs: Some(&cidrs),
        ..ControlsAsk::default()
    }
    .check()
    .unwrap_err();
    assert_eq!((err.code(), err.field()), ("invalid_cidrs", Some("allowedCidrs")));
    assert!(err.to_string().contains("nonsense"), "{err}");
}

#[test]
fn several_projects_make_a_project_key_and_an_organization_key_names_none() {
    let policy = Policy::align().unwrap();
    let many = strings(&["p3", "p1"]);
    let mut create = ask("CI");
    create.controls = ControlsAsk {
        scoped_project_ids: Some(&many),
        ..ControlsAsk::default()
    };
    let record = policy
        .plan_create("org", actor("u", "engineer"), &create, MATERIAL, NOW)
        .unwrap();
    assert_eq!(
        record.scoped_project_ids.as_slice(),
        strings(&["p1", "p3"]).as_slice()
    );
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(
        json["scopedProjectId"],
        serde_json::Value::Null,
        "two projects: no single one"
    );
    assert_eq!(json["scopedProjectIds"], serde_json::json!(["p1", "p3"]));
    let back: KeyRecord = serde_json::from_value(json).unwrap();
    assert_eq!(back, record, "a record written with both fields reads back");
    create.scope = Scope::Organization;
    let err = policy
        .plan_create("org", actor("u", "admin"), &create, MATERIAL, NOW)
        .unwrap_err();
    assert_eq!(err, LifecycleError::ProjectNotAllowed);
}

#[test]
fn controls_change_is_the_creator_s_or_an_admin_s_and_audited() {
    let policy = Policy::align().unwrap();
    let key = record("u_eng", Scope::Organization);
    let cidrs = strings(&["203.0.113.7/24"]);
    let change = ControlsChange {
        allowed_cidrs: Some(Some(&cidrs)),
        rate_limit: Some(Some(policy_core::RateLimit::new(5).unwrap())),
        quota: None,
    };
    let next = policy
        .plan_controls_change(&key, actor("u_eng", "engineer"), &change, NOW)
        .unwrap();
    assert_eq!(
        next.allowed_cidrs.as_ref().unwrap().blocks()[0].to_string(),
        "203.0.113.0/24"
    );
    assert_eq!(next.rate_limit.unwrap().per_second, 5);
    assert_eq!(
        policy.plan_controls_change(&key, actor("u_other", "engineer"), &change, NOW),
        Err(LifecycleError::NotYours)
    );
    assert!(policy
        .plan_controls_change(&key, actor("u_admin", "admin"), &change, NOW)
        .is_ok());
    let facts = Fact::controls_changed("u_eng", &key, &next);
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0].action, FactAction::KeyControlsChanged);
    assert!(
        Fact::controls_changed("u_eng", &next, &next).is_empty(),
        "no change, no event"
    );
    let removed = policy
        .plan_controls_change(
            &next,
            actor("u_eng", "engineer"),
            &ControlsChange {
                allowed_cidrs: Some(None),
                ..ControlsChange::default()
            },
            NOW,
        )
        .unwrap();
    assert_eq!(
        (removed.allowed_cidrs, removed.rate_limit),
        (None, next.rate_limit),
        "null removes, absent keeps"
    );
    let mut revoked = key.clone();
    revoked.revoked_at = Some(at(-1));
    assert_eq!(
        policy.plan_controls_change(&revoked, actor("u_eng", "engineer"), &change, NOW),
        Err(LifecycleError::KeyRevoked)
    );
}
