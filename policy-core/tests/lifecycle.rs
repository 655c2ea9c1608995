//! Who may create, revoke and rotate which keys (SPEC "Keys"), with the Align policy.

use policy_core::{Grants, KeyRecord, LifecycleError, NewKey, Policy, Scope, Timestamp};

fn new_key<'a>(
    role: Option<&'a str>,
    scope: Scope,
    project: Option<&'a str>,
    grants: Grants<'a>,
) -> NewKey<'a> {
    NewKey {
        acting_role: role,
        scope,
        project_id: project,
        grants,
    }
}

#[test]
fn creation_rules_per_role() {
    let policy = Policy::align();
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
    let policy = Policy::align();
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
    let policy = Policy::align();
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
    let policy = Policy::align();
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
    let policy = Policy::align();
    let key = KeyRecord {
        id: "k".into(),
        name: "n".into(),
        hint: "abcd".into(),
        organization_id: "org".into(),
        created_by: "u_eng".into(),
        scope: Scope::Project,
        scoped_project_id: Some("p1".into()),
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
