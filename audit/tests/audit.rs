//! Audit events: the action names and causes, actors, the stored JSON form (which a newer
//! version's extra fields do not break), the filter's action names, and the pagination cursor.
//! What the filters and the cursor select is the store's query: tests/e2e/audit.test.mjs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyscope_audit::{
    AuditAction, AuditActor, AuditCursor, AuditEvent, AuditFilter, AuditParseError, AuditSource, RevokeCause,
    ACTION_NAMES, MAX_PAGE_SIZE,
};
use policy_core::Timestamp;

fn leak_revocation() -> AuditEvent {
    AuditEvent {
        id: "evt_1".into(),
        organization_id: "org_a".into(),
        action: AuditAction::KeyRevoked(RevokeCause::LeakReport),
        actor: AuditActor::Scanner("github".into()),
        time: Timestamp(1_700_000_000_123),
        key_id: Some("key_1".into()),
        key_hint: Some("abcd".into()),
        user_id: None,
        source: AuditSource {
            leak_url: Some("https://github.com/octo/repo/blob/abc/.env".into()),
            leak_source: Some("content".into()),
            ..AuditSource::default()
        },
        details: serde_json::Map::new(),
    }
}

#[test]
fn every_action_has_one_name_and_parses_back() {
    let all = [
        AuditAction::KeyCreated,
        AuditAction::KeyRotated,
        AuditAction::KeyRevoked(RevokeCause::User),
        AuditAction::KeyImported,
        AuditAction::KeyLeakFlagged,
        AuditAction::MemberAdded,
        AuditAction::MemberRoleChanged,
        AuditAction::MemberRemoved,
        AuditAction::KeyExpiring,
        AuditAction::KeyRotationGraceEnding,
        AuditAction::EventDeliveryFailed,
        AuditAction::KeyControlsChanged,
    ];
    let names: Vec<&str> = all.iter().map(|action| action.as_str()).collect();
    assert_eq!(names, ACTION_NAMES);
    for action in all {
        let cause = action.cause().map(RevokeCause::as_str);
        assert_eq!(AuditAction::from_parts(action.as_str(), cause), Ok(action));
        assert_eq!(AuditFilter::action_name(action.as_str()), Ok(action.as_str()));
    }
    for cause in [
        RevokeCause::User,
        RevokeCause::RotationGraceEnded,
        RevokeCause::LeakReport,
    ] {
        let action = AuditAction::KeyRevoked(cause);
        assert_eq!(
            AuditAction::from_parts("key.revoked", Some(cause.as_str())),
            Ok(action)
        );
        assert!(action.is_key_event());
    }
    assert!(!AuditAction::MemberAdded.is_key_event());
    // Never written, so never offered as a filter.
    assert_eq!(
        AuditFilter::action_name("console.session_opened"),
        Err(AuditParseError::UnknownAction)
    );
    assert_eq!(MAX_PAGE_SIZE, 100);
}

#[test]
fn a_revocation_needs_a_cause_and_nothing_else_takes_one() {
    assert_eq!(
        AuditAction::from_parts("key.revoked", None),
        Err(AuditParseError::BadCause)
    );
    assert_eq!(
        AuditAction::from_parts("key.revoked", Some("boredom")),
        Err(AuditParseError::BadCause)
    );
    assert_eq!(
        AuditAction::from_parts("key.created", Some("user")),
        Err(AuditParseError::BadCause)
    );
    assert_eq!(
        AuditAction::from_parts("key.deleted", None),
        Err(AuditParseError::UnknownAction)
    );
    assert_eq!(
        AuditFilter::action_name("KEY.CREATED"),
        Err(AuditParseError::UnknownAction)
    );
}

#[test]
fn actors_are_written_as_one_string() {
    let cases = [
        (AuditActor::User("u_1".into()), "user:u_1"),
        (AuditActor::User("auth0|abc:def".into()), "user:auth0|abc:def"),
        (AuditActor::ServiceToken, "service_token"),
        (AuditActor::System, "system"),
        (AuditActor::Scanner("github".into()), "scanner:github"),
    ];
    for (actor, text) in cases {
        assert_eq!(actor.to_string(), text);
        assert_eq!(text.parse::<AuditActor>(), Ok(actor.clone()));
        assert_eq!(serde_json::to_string(&actor).unwrap(), format!("\"{text}\""));
    }
    for bad in [
        "",
        "user:",
        "user",
        "scanner:",
        "admin:x",
        "service_token:x",
        "USER:u",
    ] {
        assert_eq!(
            bad.parse::<AuditActor>(),
            Err(AuditParseError::BadActor),
            "{bad:?}"
        );
    }
}

#[test]
fn an_event_is_stored_as_flat_camel_case_json_with_times_in_ms() {
    let event = leak_revocation();
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "id": "evt_1",
            "organizationId": "org_a",
            "action": "key.revoked",
            "cause": "leak_report",
            "actor": "scanner:github",
            "time": 1_700_000_000_123_i64,
            "keyId": "key_1",
            "keyHint": "abcd",
            "userId": null,
            "source": {"leakUrl": "https://github.com/octo/repo/blob/abc/.env", "leakSource": "content"},
            "details": {}
        })
    );
    let back: AuditEvent = serde_json::from_value(json).unwrap();
    assert_eq!(back, event);
}

#[test]
fn member_events_round_trip_with_details_and_a_client_source() {
    let mut details = serde_json::Map::new();
    details.insert("from".into(), "engineer".into());
    details.insert("to".into(), "admin".into());
    let event = AuditEvent {
        id: "evt_2".into(),
        organization_id: "org_a".into(),
        action: AuditAction::MemberRoleChanged,
        actor: AuditActor::ServiceToken,
        time: Timestamp(5),
        key_id: None,
        key_hint: None,
        user_id: Some("u_2".into()),
        source: AuditSource {
            ip: Some("203.0.113.7".into()),
            user_agent: Some("curl/8".into()),
            ..Default::default()
        },
        details,
    };
    let text = serde_json::to_string(&event).unwrap();
    assert!(!text.contains("cause"));
    assert_eq!(serde_json::from_str::<AuditEvent>(&text).unwrap(), event);
}

#[test]
fn stored_events_with_bad_fields_are_refused() {
    let base = serde_json::to_value(leak_revocation()).unwrap();
    let mut no_cause = base.clone();
    no_cause.as_object_mut().unwrap().remove("cause");
    let mut bad_actor = base.clone();
    bad_actor["actor"] = "someone".into();
    let mut bad_action = base;
    bad_action["action"] = "key.exploded".into();
    for value in [no_cause, bad_actor, bad_action] {
        assert!(
            serde_json::from_value::<AuditEvent>(value.clone()).is_err(),
            "{value}"
        );
    }
}

#[test]
fn an_event_a_newer_version_wrote_with_extra_fields_still_reads() {
    let event = leak_revocation();
    let mut stored = serde_json::to_value(&event).unwrap();
    stored["region"] = "eu".into();
    stored["source"]["asn"] = 13335.into();
    let text = stored.to_string();
    // The audit log is read back with serde_json from the store's text column.
    assert_eq!(serde_json::from_str::<AuditEvent>(&text).unwrap(), event);
}

#[test]
fn cursors_round_trip_in_their_one_form() {
    let cursor = AuditCursor {
        time: Timestamp(1_700_000_000_123),
        id: "evt_7a".into(),
    };
    let text = cursor.encode();
    assert_eq!(text, "1700000000123.evt_7a");
    assert_eq!(AuditCursor::decode(&text), Ok(cursor));
    let negative = AuditCursor {
        time: Timestamp(-5),
        id: "e".into(),
    };
    assert_eq!(AuditCursor::decode(&negative.encode()), Ok(negative));
}

#[test]
fn cursors_not_in_that_form_are_refused() {
    let cases = [
        String::new(),
        "!!!".into(),
        "nodot".into(),
        "12.".into(),
        ".evt".into(),
        "+12.evt".into(),
        "012.evt".into(),
        "abc.evt".into(),
        "99999999999999999999.evt".into(),
        "12.evt_1?".into(),
        "12.evt.1".into(),
        format!("12.{}", "e".repeat(65)),
        "A".repeat(600),
    ];
    for case in &cases {
        assert_eq!(
            AuditCursor::decode(case),
            Err(AuditParseError::BadCursor),
            "{case:?}"
        );
    }
}

#[test]
fn the_cursor_after_an_event_names_its_time_and_id() {
    let event = leak_revocation();
    let cursor = AuditCursor::after(&event);
    assert_eq!(cursor.encode(), "1700000000123.evt_1");
    assert_eq!(AuditCursor::decode(&cursor.encode()), Ok(cursor));
}

proptest::proptest! {
    #[test]
    fn arbitrary_cursor_text_decodes_only_to_what_encodes_back(text in ".{0,80}") {
        if let Ok(cursor) = AuditCursor::decode(&text) {
            proptest::prop_assert_eq!(cursor.encode(), text);
        }
    }

    #[test]
    fn every_cursor_round_trips(time in proptest::prelude::any::<i64>(), id in "[A-Za-z0-9_-]{1,64}") {
        let cursor = AuditCursor { time: Timestamp(time), id };
        proptest::prop_assert_eq!(AuditCursor::decode(&cursor.encode()), Ok(cursor));
    }
}
