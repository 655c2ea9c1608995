//! Event webhooks: the signature header against a value computed by OpenSSL, the receiver's
//! check at the tolerance boundaries, the payload, and which answers count as delivered.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyscope_audit::{AuditAction, AuditActor, AuditEvent, AuditSource, RevokeCause};
use keyscope_webhook::{delivered, sign, verify, WebhookError, WebhookPayload, DEFAULT_TOLERANCE_SECS};
use policy_core::Timestamp;

const SECRET: &[u8] = b"whsec_keyscope_test";
const BODY: &[u8] = br#"{"type":"key.revoked"}"#;
const T: i64 = 1_700_000_000;

#[test]
fn signature_matches_openssl() {
    // printf '%s' '1700000000.{"type":"key.revoked"}' | openssl dgst -sha256 -hmac 'whsec_keyscope_test'
    assert_eq!(
        sign(SECRET, T, BODY),
        "t=1700000000,v1=372c6102e03643de691dcbc7528dbe05f6e0a0c20760ed2281d2291b0d64f683"
    );
}

#[test]
fn a_signed_body_verifies_within_the_tolerance_inclusive() {
    let header = sign(SECRET, T, BODY);
    for now in [T, T - 300, T + 300] {
        assert_eq!(
            verify(&header, SECRET, BODY, now, DEFAULT_TOLERANCE_SECS),
            Ok(()),
            "now {now}"
        );
    }
    for now in [T - 301, T + 301, i64::MIN, i64::MAX] {
        assert_eq!(
            verify(&header, SECRET, BODY, now, DEFAULT_TOLERANCE_SECS),
            Err(WebhookError::OutsideTolerance),
            "now {now}"
        );
    }
    assert_eq!(verify(&header, SECRET, BODY, T, 0), Ok(()));
    assert_eq!(
        verify(&header, SECRET, BODY, T + 1, 0),
        Err(WebhookError::OutsideTolerance)
    );
}

#[test]
fn another_body_secret_or_timestamp_fails() {
    let header = sign(SECRET, T, BODY);
    assert_eq!(
        verify(&header, SECRET, b"{}", T, 300),
        Err(WebhookError::Mismatch)
    );
    assert_eq!(
        verify(&header, b"other", BODY, T, 300),
        Err(WebhookError::Mismatch)
    );
    // Moving t (to get past the tolerance) breaks the signature, since t is signed.
    let moved = header.replace("t=1700000000", "t=1700000100");
    assert_eq!(
        verify(&moved, SECRET, BODY, T + 100, 300),
        Err(WebhookError::Mismatch)
    );
}

#[test]
fn any_matching_v1_is_enough_and_other_schemes_are_ignored() {
    let good = sign(SECRET, T, BODY);
    let v1 = good.split_once(",v1=").unwrap().1;
    let rotating = format!("t={T},v1={},v0=abc,v1={v1}", "00".repeat(32));
    assert_eq!(verify(&rotating, SECRET, BODY, T, 300), Ok(()));
    assert_eq!(
        verify(&format!(" t={T} , v1={v1} "), SECRET, BODY, T, 300),
        Ok(())
    );
    assert_eq!(
        verify(&format!("t={T},v1={}", &v1[..62]), SECRET, BODY, T, 300),
        Err(WebhookError::Mismatch)
    );
    assert_eq!(
        verify(&format!("t={T},v1=zz{}", &v1[2..]), SECRET, BODY, T, 300),
        Err(WebhookError::Mismatch)
    );
}

#[test]
fn malformed_headers_are_refused() {
    let v1 = "00".repeat(32);
    for header in [
        String::new(),
        format!("v1={v1}"),
        format!("t=abc,v1={v1}"),
        format!("t={T},t={T},v1={v1}"),
        format!("t={T},v1"),
        format!("t=,v1={v1}"),
    ] {
        assert_eq!(
            verify(&header, SECRET, BODY, T, 300),
            Err(WebhookError::MalformedHeader),
            "{header:?}"
        );
    }
    assert_eq!(
        verify(&format!("t={T}"), SECRET, BODY, T, 300),
        Err(WebhookError::NoSignature)
    );
    assert_eq!(
        verify(&format!("t={T},v0={v1}"), SECRET, BODY, T, 300),
        Err(WebhookError::NoSignature)
    );
}

#[test]
fn the_payload_is_the_audit_event_with_its_type() {
    let event = AuditEvent {
        id: "evt_1".into(),
        organization_id: "org_a".into(),
        action: AuditAction::KeyRevoked(RevokeCause::LeakReport),
        actor: AuditActor::Scanner("github".into()),
        time: Timestamp(1_700_000_000_123),
        key_id: Some("key_1".into()),
        key_hint: Some("abcd".into()),
        user_id: None,
        source: AuditSource {
            leak_url: Some("https://github.com/o/r".into()),
            ..AuditSource::default()
        },
        details: serde_json::Map::new(),
    };
    let json: serde_json::Value = serde_json::from_str(&WebhookPayload::new(&event).to_json()).unwrap();
    assert_eq!(json["type"], "key.revoked");
    assert_eq!(json["event"], serde_json::to_value(&event).unwrap());
    assert_eq!(json["event"]["cause"], "leak_report");
}

#[test]
fn only_a_2xx_answer_counts_as_delivered() {
    assert!(delivered(200) && delivered(204) && delivered(299));
    assert!(!delivered(199) && !delivered(301) && !delivered(429) && !delivered(500));
}

proptest::proptest! {
    #[test]
    fn arbitrary_headers_never_verify_and_never_panic(header in ".{0,200}", now in proptest::prelude::any::<i64>()) {
        proptest::prop_assert!(verify(&header, SECRET, BODY, now, u64::MAX).is_err());
    }
}
