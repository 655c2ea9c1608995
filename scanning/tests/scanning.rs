//! GitHub secret scanning: signature verification against fixed vectors (GitHub's published
//! sample, and key pairs made here), report parsing and limits, classification, feedback, and
//! the leak rule.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use keyscope_scanning::{
    classify, feedback_json, parse_report, token_hash, Classification, FeedbackEntry, KeySetError, Label,
    LeakEffect, LeakResponse, LeakResponseError, PublicKeySet, ReportError, ReportLimits, SignatureError,
};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey as _, LineEnding};
use policy_core::{ApiKey, Environment, KeyPrefix, KeyRecord, Policy, ProjectIds, Scope, Timestamp};

// ── GitHub's own sample (docs: "Implement signature verification in your secret alert
// service"), with the key set its public-keys endpoint published for it. ──

const GITHUB_KEYS: &str = r#"{"public_keys":[
  {"key_identifier":"90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a",
   "key":"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9MJJHnMfn2+H4xL4YaPDA4RpJqUq\nkCmRCBnYERxZanmcpzQSXs1X/AljlKkbJ8qpVIW4clayyef9gWhFbNHWAA==\n-----END PUBLIC KEY-----\n",
   "is_current":false},
  {"key_identifier":"bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c",
   "key":"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYAGMWO8XgCamYKMJS6jc/qgvSlAd\nAjPuDPRcXU22YxgBrz+zoN19MzuRyW87qEt9/AmtoNP5GrobzUvQSyJFVw==\n-----END PUBLIC KEY-----\n",
   "is_current":true}]}"#;
const GITHUB_ID: &str = "bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c";
const GITHUB_OLD_ID: &str = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a";
const GITHUB_BODY: &str = r#"[{"source":"commit","token":"some_token","type":"some_type","url":"https://example.com/base-repo-url/"}]"#;
const GITHUB_SIGNATURE: &str =
    "MEQCIQDaMKqrGnE27S0kgMrEK0eYBmyG0LeZismAEz/BgZyt7AIfXt9fErtRS4XaeSt/AO1RtBY66YcAdjxji410VQV4xg==";

#[test]
fn githubs_published_sample_verifies() {
    let keys = PublicKeySet::from_json(GITHUB_KEYS).unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys.current_identifier(), Some(GITHUB_ID));
    assert!(keys.contains(GITHUB_OLD_ID));
    assert_eq!(
        keys.verify(GITHUB_ID, GITHUB_SIGNATURE, GITHUB_BODY.as_bytes()),
        Ok(())
    );
}

#[test]
fn githubs_sample_fails_with_the_other_key_or_another_body() {
    let keys = PublicKeySet::from_json(GITHUB_KEYS).unwrap();
    assert_eq!(
        keys.verify(GITHUB_OLD_ID, GITHUB_SIGNATURE, GITHUB_BODY.as_bytes()),
        Err(SignatureError::Mismatch)
    );
    // The raw body is what is signed: a re-serialised or newline-terminated body fails.
    let with_newline = format!("{GITHUB_BODY}\n");
    assert_eq!(
        keys.verify(GITHUB_ID, GITHUB_SIGNATURE, with_newline.as_bytes()),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        keys.verify("no-such-key", GITHUB_SIGNATURE, GITHUB_BODY.as_bytes()),
        Err(SignatureError::UnknownKeyIdentifier)
    );
}

#[test]
fn every_single_bit_flip_of_body_or_signature_fails() {
    let keys = PublicKeySet::from_json(GITHUB_KEYS).unwrap();
    let body = GITHUB_BODY.as_bytes();
    // One bit per byte (bit = byte index mod 8), so every byte and every bit position is hit
    // without thousands of debug-build verifications.
    for index in 0..body.len() {
        let mut flipped = body.to_vec();
        flipped[index] ^= 1 << (index % 8);
        assert_eq!(
            keys.verify(GITHUB_ID, GITHUB_SIGNATURE, &flipped),
            Err(SignatureError::Mismatch),
            "body byte {index}"
        );
    }
    let der = STANDARD.decode(GITHUB_SIGNATURE).unwrap();
    for index in 0..der.len() {
        let mut flipped = der.clone();
        flipped[index] ^= 1 << (index % 8);
        let result = keys.verify(GITHUB_ID, &STANDARD.encode(&flipped), body);
        assert!(
            matches!(
                result,
                Err(SignatureError::Mismatch | SignatureError::MalformedSignature)
            ),
            "signature byte {index}: {result:?}"
        );
    }
}

// ── Key pairs made here. ──

/// A fixed key pair (the private scalar is 0x11…11), so signatures are deterministic (RFC 6979).
fn fixed_signer() -> SigningKey {
    SigningKey::from_slice(&[0x11; 32]).unwrap()
}

fn key_set(entries: &[(&str, &SigningKey, bool)]) -> String {
    let keys: Vec<serde_json::Value> = entries
        .iter()
        .map(|(id, signer, current)| {
            let pem = signer.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
            serde_json::json!({"key_identifier": id, "key": pem, "is_current": current})
        })
        .collect();
    serde_json::json!({ "public_keys": keys }).to_string()
}

fn sign_b64(signer: &SigningKey, body: &[u8]) -> String {
    let signature: Signature = signer.sign(body);
    STANDARD.encode(signature.to_der().as_bytes())
}

#[test]
fn a_freshly_generated_key_pair_signs_and_verifies_and_a_wrong_key_fails() {
    let signer = SigningKey::random(&mut rand_core::OsRng);
    let other = SigningKey::random(&mut rand_core::OsRng);
    let keys = PublicKeySet::from_json(&key_set(&[("k1", &signer, true), ("k2", &other, false)])).unwrap();
    let body = br#"[{"token":"ck_live_x","type":"keyscope_api_key","url":"https://github.com/a/b","source":"content"}]"#;
    let signature = sign_b64(&signer, body);
    assert_eq!(keys.verify("k1", &signature, body), Ok(()));
    assert_eq!(keys.verify("k2", &signature, body), Err(SignatureError::Mismatch));
    assert_eq!(
        keys.verify("k3", &signature, body),
        Err(SignatureError::UnknownKeyIdentifier)
    );
    assert_eq!(
        keys.verify("k1", &sign_b64(&other, body), body),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        keys.verify("k1", &signature, &body[..body.len() - 1]),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn high_s_signatures_are_accepted() {
    // GitHub's signer does not normalise s; refusing high-S would refuse about half its reports.
    let signer = fixed_signer();
    let keys = PublicKeySet::from_json(&key_set(&[("k", &signer, true)])).unwrap();
    let body = b"[]";
    let signature: Signature = signer.sign(body);
    let (r, s) = signature.split_scalars();
    let flipped = Signature::from_scalars(r, -s).unwrap();
    let (high, low) = match signature.normalize_s() {
        None => (flipped, signature),
        Some(_) => (signature, flipped),
    };
    assert!(high.normalize_s().is_some(), "the high-S form is not normalised");
    for form in [high, low] {
        assert_eq!(
            keys.verify("k", &STANDARD.encode(form.to_der().as_bytes()), body),
            Ok(())
        );
    }
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` from raw content bytes (no validation here).
fn der(r: &[u8], s: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30, (4 + r.len() + s.len()) as u8, 0x02, r.len() as u8];
    out.extend_from_slice(r);
    out.extend_from_slice(&[0x02, s.len() as u8]);
    out.extend_from_slice(s);
    out
}

#[test]
fn der_edge_cases_are_refused_cleanly() {
    let signer = fixed_signer();
    let keys = PublicKeySet::from_json(&key_set(&[("k", &signer, true)])).unwrap();
    let body = b"[]";
    let good = STANDARD.decode(sign_b64(&signer, body)).unwrap();
    assert_eq!(keys.verify("k", &STANDARD.encode(&good), body), Ok(()));
    // secp256r1's group order n.
    let n = hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551").unwrap();
    let mut n_padded = vec![0];
    n_padded.extend_from_slice(&n);

    let mut trailing = good.clone();
    trailing.push(0);
    let mut wrong_tag = good.clone();
    wrong_tag[0] = 0x31;
    let mut long_length = good.clone();
    long_length[1] += 1;
    let raw_r_s = {
        let signature = Signature::from_der(&good).unwrap();
        signature.to_bytes().to_vec()
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated by one byte", good[..good.len() - 1].to_vec()),
        ("only the sequence header", good[..2].to_vec()),
        ("a trailing byte", trailing),
        ("a SET tag instead of SEQUENCE", wrong_tag),
        ("a length past the end", long_length),
        ("raw r||s instead of DER", raw_r_s),
        ("r zero", der(&[0], &[1])),
        ("s zero", der(&[1], &[0])),
        ("r and s zero", der(&[0], &[0])),
        ("r equal to n", der(&n_padded, &[1])),
        ("s equal to n", der(&[1], &n_padded)),
        ("r negative", der(&[0x80], &[1])),
        ("r with a needless leading zero", der(&[0, 1], &[1])),
        ("r longer than 33 bytes", der(&[1; 34], &[1])),
        ("an empty sequence", vec![0x30, 0]),
        ("a lone zero byte", vec![0]),
    ];
    for (name, bytes) in cases {
        assert_eq!(
            keys.verify("k", &STANDARD.encode(&bytes), body),
            Err(SignatureError::MalformedSignature),
            "{name}"
        );
    }
}

#[test]
fn base64_garbage_is_refused_cleanly() {
    let signer = fixed_signer();
    let keys = PublicKeySet::from_json(&key_set(&[("k", &signer, true)])).unwrap();
    let good = sign_b64(&signer, b"[]");
    let unpadded = good.trim_end_matches('=').to_string();
    let cases = [
        String::new(),
        "   ".to_string(),
        "!!!!".to_string(),
        "not base64 at all".to_string(),
        "====".to_string(),
        "A".to_string(),
        format!("{}\u{e9}", &good[..good.len() - 1]),
        "QUFB".repeat(40),
    ];
    for case in &cases {
        assert_eq!(
            keys.verify("k", case, b"[]"),
            Err(SignatureError::MalformedBase64),
            "{case:?}"
        );
    }
    if unpadded != good {
        assert_eq!(
            keys.verify("k", &unpadded, b"[]"),
            Err(SignatureError::MalformedBase64)
        );
    }
    // Valid base64 that decodes to something that is not a signature.
    assert_eq!(
        keys.verify("k", "QUJD", b"[]"),
        Err(SignatureError::MalformedSignature)
    );
    // Surrounding whitespace (a header value) is tolerated.
    assert_eq!(keys.verify("k", &format!(" {good} "), b"[]"), Ok(()));
}

#[test]
fn key_set_documents_are_refused_whole_on_any_fault() {
    let signer = fixed_signer();
    assert_eq!(
        PublicKeySet::from_json("not json").unwrap_err(),
        KeySetError::Malformed
    );
    assert_eq!(PublicKeySet::from_json("[]").unwrap_err(), KeySetError::Malformed);
    assert_eq!(
        PublicKeySet::from_json(r#"{"public_keys":[]}"#).unwrap_err(),
        KeySetError::Empty
    );
    assert_eq!(
        PublicKeySet::from_json(&key_set(&[("k", &signer, true), ("k", &signer, false)])).unwrap_err(),
        KeySetError::DuplicateIdentifier {
            key_identifier: "k".into()
        }
    );
    let bad_pem = r#"{"public_keys":[{"key_identifier":"k","key":"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n","is_current":true}]}"#;
    assert_eq!(
        PublicKeySet::from_json(bad_pem).unwrap_err(),
        KeySetError::BadKey {
            key_identifier: "k".into()
        }
    );
    // A real P-384 key (made once with `openssl ecparam -name secp384r1 -genkey | openssl ec
    // -pubout`): GitHub publishes P-256 only, so the set is refused, not half-accepted.
    let p384 = "-----BEGIN PUBLIC KEY-----\\nMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAENZaGMd/0hBHsYWpKH6T5DNyAAuldHDSh\\nIGDf2C4iYmDewd5StYRW5o8GsOIVX8EfIkZhAtDOtYcFnCU3qpAdNNoQYot9SlyV\\nYFPj1lZ8rhrjnjSXBEXBf9qGSdHfePFX\\n-----END PUBLIC KEY-----\\n";
    let p384_set =
        format!(r#"{{"public_keys":[{{"key_identifier":"k","key":"{p384}","is_current":true}}]}}"#);
    assert_eq!(
        PublicKeySet::from_json(&p384_set).unwrap_err(),
        KeySetError::BadKey {
            key_identifier: "k".into()
        }
    );
    // A compressed P-256 point (openssl ec -pubout -conv_form compressed) is a valid key.
    let compressed = "-----BEGIN PUBLIC KEY-----\\nMDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADu5+y2niodfbFmlr0eee6Wjor+krz\\nSivGGljgCQ19W6g=\\n-----END PUBLIC KEY-----\\n";
    let compressed_set =
        format!(r#"{{"public_keys":[{{"key_identifier":"k","key":"{compressed}","is_current":true}}]}}"#);
    assert_eq!(PublicKeySet::from_json(&compressed_set).unwrap().len(), 1);
    // Unknown fields (GitHub may add some) are ignored; is_current may be absent.
    let extra = r#"{"public_keys":[{"key_identifier":"k","key":"KEY","added":"2024"}],"more":1}"#.replace(
        "KEY",
        &signer
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap()
            .replace('\n', "\\n"),
    );
    let keys = PublicKeySet::from_json(&extra).unwrap();
    assert_eq!(keys.current_identifier(), None);
    assert_eq!(keys.verify("k", &sign_b64(&signer, b"x"), b"x"), Ok(()));
}

// ── Reports. ──

fn report_of(count: usize) -> String {
    let entries: Vec<String> = (0..count)
        .map(|i| {
            format!(
                r#"{{"token":"ck_live_token_{i:05}","type":"keyscope_api_key","url":"https://github.com/octo/repo/blob/0123456789abcdef0123456789abcdef01234567/config/{i}.env","source":"content"}}"#
            )
        })
        .collect();
    format!("[{}]", entries.join(","))
}

#[test]
fn a_thousand_token_report_parses_within_the_default_limits() {
    let body = report_of(1_000);
    assert!(
        body.len() < ReportLimits::DEFAULT.max_bytes / 4,
        "{} bytes",
        body.len()
    );
    let tokens = parse_report(body.as_bytes(), ReportLimits::DEFAULT).unwrap();
    assert_eq!(tokens.len(), 1_000);
    assert_eq!(tokens[999].token, "ck_live_token_00999");
    assert_eq!(tokens[999].token_type, "keyscope_api_key");
    assert_eq!(tokens[999].source, "content");
    assert!(tokens[999].url.ends_with("/999.env"));
}

#[test]
fn reports_beyond_the_limits_are_refused() {
    assert_eq!(
        parse_report(report_of(1_001).as_bytes(), ReportLimits::DEFAULT),
        Err(ReportError::TooManyTokens)
    );
    let limits = ReportLimits {
        max_bytes: 1_000,
        max_tokens: 1_000,
    };
    let body = report_of(10);
    assert!(body.len() > 1_000);
    assert_eq!(parse_report(body.as_bytes(), limits), Err(ReportError::TooLarge));
    assert_eq!(limits.check_size(1_000), Ok(()));
    assert_eq!(limits.check_size(1_001), Err(ReportError::TooLarge));
    assert_eq!(
        (ReportError::TooLarge.status(), ReportError::TooLarge.reason()),
        (413, "payload_too_large")
    );
    assert_eq!(
        (
            ReportError::TooManyTokens.status(),
            ReportError::TooManyTokens.reason()
        ),
        (413, "payload_too_large")
    );
    assert_eq!(
        (ReportError::Malformed.status(), ReportError::Malformed.reason()),
        (400, "invalid_request")
    );
    for error in [
        SignatureError::UnknownKeyIdentifier,
        SignatureError::MalformedBase64,
        SignatureError::MalformedSignature,
        SignatureError::Mismatch,
    ] {
        assert_eq!(error.status(), 401, "{error}");
    }
}

#[test]
fn malformed_reports_are_refused() {
    let cases: [&[u8]; 10] = [
        b"",
        b"not json",
        b"{}",
        br#"{"token":"a","type":"b"}"#,
        br#"[{"type":"b"}]"#,
        br#"[{"token":"a"}]"#,
        br#"[{"token":1,"type":"b"}]"#,
        br#"[{"token":"a","type":"b"},]"#,
        br#"[{"token":"a","type":"b"}"#,
        b"\xff\xfe",
    ];
    for body in cases {
        assert_eq!(
            parse_report(body, ReportLimits::DEFAULT),
            Err(ReportError::Malformed),
            "{body:?}"
        );
    }
    assert_eq!(
        parse_report(b"[]", ReportLimits::DEFAULT),
        Err(ReportError::Empty)
    );
    // url and source may be missing; unknown fields are ignored.
    let tokens = parse_report(
        br#"[{"token":"a","type":"b","extra":true}]"#,
        ReportLimits::DEFAULT,
    )
    .unwrap();
    assert_eq!((tokens[0].url.as_str(), tokens[0].source.as_str()), ("", ""));
}

#[test]
fn a_reported_token_never_shows_in_debug() {
    let tokens = parse_report(GITHUB_BODY.as_bytes(), ReportLimits::DEFAULT).unwrap();
    let shown = format!("{:?}", tokens[0]);
    assert!(!shown.contains("some_token"), "{shown}");
    assert!(shown.contains("some_type"));
}

fn live_key() -> ApiKey {
    ApiKey::generate(Environment::Live, &[7u8; 64]).unwrap()
}

#[test]
fn only_well_formed_keys_of_this_environment_are_candidates() {
    let key = live_key();
    assert_eq!(
        classify(key.expose_secret(), &KeyPrefix::DEFAULT, Environment::Live),
        Classification::Candidate(key.hash())
    );
    // Ours in form, but the other environment: not a token this deployment issued.
    assert_eq!(
        classify(key.expose_secret(), &KeyPrefix::DEFAULT, Environment::Test),
        Classification::NotOurs
    );
    let mut broken = key.expose_secret().to_string();
    let last = broken.pop().unwrap();
    broken.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        classify(&broken, &KeyPrefix::DEFAULT, Environment::Live),
        Classification::NotOurs
    );
    for token in ["some_token", "", "ck_live_", &format!("{} ", key.expose_secret())] {
        assert_eq!(
            classify(token, &KeyPrefix::DEFAULT, Environment::Live),
            Classification::NotOurs,
            "{token:?}"
        );
    }
}

#[test]
fn a_key_of_another_deployments_prefix_is_not_ours() {
    let acme = KeyPrefix::parse("acme").unwrap();
    let ours = ApiKey::generate_with(&acme, Environment::Live, &[7u8; 64]).unwrap();
    assert_eq!(
        classify(ours.expose_secret(), &acme, Environment::Live),
        Classification::Candidate(ours.hash())
    );
    // A default-prefix key is well formed, but another deployment's.
    assert_eq!(
        classify(live_key().expose_secret(), &acme, Environment::Live),
        Classification::NotOurs
    );
    assert_eq!(
        classify(ours.expose_secret(), &KeyPrefix::DEFAULT, Environment::Live),
        Classification::NotOurs
    );
}

#[test]
fn token_hash_is_sha256_hex_and_equals_the_stored_key_hash() {
    // printf '%s' 'some_token' | sha256sum
    assert_eq!(
        token_hash("some_token").as_str(),
        "9a45520a1213f15016d2d768b5fb3d904492a44ee274b44d4de8803e00fb536a"
    );
    let key = live_key();
    assert_eq!(token_hash(key.expose_secret()), key.hash().to_hex());
}

#[test]
fn feedback_is_githubs_array_and_never_echoes_a_token() {
    let key = live_key();
    let body = format!(
        r#"[{{"token":"{}","type":"keyscope_api_key","url":"u","source":"content"}},{{"token":"some_token","type":"some_type","url":"u","source":"commit"}}]"#,
        key.expose_secret()
    );
    let tokens = parse_report(body.as_bytes(), ReportLimits::DEFAULT).unwrap();
    let entries = vec![
        FeedbackEntry::new(&tokens[0], Label::TruePositive),
        FeedbackEntry::new(&tokens[1], Label::FalsePositive),
    ];
    let json = feedback_json(&entries);
    assert_eq!(
        json,
        format!(
            r#"[{{"token_hash":"{}","token_type":"keyscope_api_key","label":"true_positive"}},{{"token_hash":"9a45520a1213f15016d2d768b5fb3d904492a44ee274b44d4de8803e00fb536a","token_type":"some_type","label":"false_positive"}}]"#,
            key.hash().to_hex()
        )
    );
    assert!(!json.contains(key.expose_secret()));
    assert!(!json.contains("some_token"));
    assert!(!json.contains("token_raw"));
}

// ── The leak rule. ──

fn record(revoked_at: Option<i64>) -> KeyRecord {
    KeyRecord {
        id: "key_1".into(),
        name: "CI".into(),
        hint: "abcd".into(),
        organization_id: "org_a".into(),
        created_by: "u_1".into(),
        scope: Scope::Organization,
        scoped_project_ids: ProjectIds::none(),
        allowed_cidrs: None,
        rate_limit: None,
        quota: None,
        permissions: None,
        created_at: Timestamp(0),
        last_used_at: None,
        revoked_at: revoked_at.map(Timestamp),
        expires_at: None,
    }
}

#[test]
fn keyscope_on_leak_parses_revoke_by_default_and_flag() {
    assert_eq!(LeakResponse::parse(None), Ok(LeakResponse::Revoke));
    assert_eq!(LeakResponse::parse(Some("")), Ok(LeakResponse::Revoke));
    assert_eq!(LeakResponse::parse(Some(" \t ")), Ok(LeakResponse::Revoke));
    assert_eq!(LeakResponse::parse(Some("revoke")), Ok(LeakResponse::Revoke));
    assert_eq!(LeakResponse::parse(Some(" flag ")), Ok(LeakResponse::Flag));
    for bad in ["Revoke", "FLAG", "delete", "revoke,flag"] {
        assert_eq!(LeakResponse::parse(Some(bad)), Err(LeakResponseError), "{bad}");
    }
    assert_eq!(LeakResponse::default(), LeakResponse::Revoke);
    assert_eq!(LeakResponse::Flag.to_string(), "flag");
}

#[test]
fn revoke_mode_revokes_now_unless_revoked_earlier() {
    let policy = Policy::align().unwrap();
    let now = Timestamp(1_000);
    let revoke = LeakResponse::Revoke;
    assert_eq!(
        revoke.effect_on(&policy, &record(None), None, now),
        LeakEffect::Revoke { revoked_at: now }
    );
    // A rotation's scheduled revocation is brought forward.
    assert_eq!(
        revoke.effect_on(&policy, &record(Some(5_000)), None, now),
        LeakEffect::Revoke { revoked_at: now }
    );
    // Already revoked (earlier, or exactly now): a repeated report changes nothing.
    assert_eq!(
        revoke.effect_on(&policy, &record(Some(999)), None, now),
        LeakEffect::AlreadyRevoked
    );
    assert_eq!(
        revoke.effect_on(&policy, &record(Some(1_000)), None, now),
        LeakEffect::AlreadyRevoked
    );
    // A flagged key is revoked once the deployment switches to revoke.
    assert_eq!(
        revoke.effect_on(&policy, &record(None), Some(Timestamp(10)), now),
        LeakEffect::Revoke { revoked_at: now }
    );
    assert!(LeakEffect::Revoke { revoked_at: now }.changes_anything());
    assert!(!LeakEffect::AlreadyRevoked.changes_anything());
}

#[test]
fn flag_mode_marks_once_and_never_revokes() {
    let policy = Policy::align().unwrap();
    let now = Timestamp(1_000);
    let flag = LeakResponse::Flag;
    assert_eq!(
        flag.effect_on(&policy, &record(None), None, now),
        LeakEffect::Flag { at: now }
    );
    assert_eq!(
        flag.effect_on(&policy, &record(None), Some(Timestamp(10)), now),
        LeakEffect::AlreadyFlagged
    );
    assert_eq!(
        flag.effect_on(&policy, &record(Some(5_000)), None, now),
        LeakEffect::Flag { at: now }
    );
    assert_eq!(
        flag.effect_on(&policy, &record(Some(10)), None, now),
        LeakEffect::AlreadyRevoked
    );
    assert!(!LeakEffect::AlreadyFlagged.changes_anything());
}

#[test]
fn both_modes_follow_the_one_revocation_plan() {
    let policy = Policy::align().unwrap();
    let now = Timestamp(1_000);
    for revoked_at in [None, Some(10), Some(1_000), Some(1_001), Some(5_000)] {
        let key = record(revoked_at);
        let plan = policy.plan_revoke_leaked(&key, now);
        let revoke = LeakResponse::Revoke.effect_on(&policy, &key, None, now);
        let flag = LeakResponse::Flag.effect_on(&policy, &key, None, now);
        if plan.changed {
            assert_eq!(
                revoke,
                LeakEffect::Revoke {
                    revoked_at: plan.revoked_at
                },
                "{revoked_at:?}"
            );
            assert_eq!(flag, LeakEffect::Flag { at: now }, "{revoked_at:?}");
        } else {
            assert_eq!(revoke, LeakEffect::AlreadyRevoked, "{revoked_at:?}");
            assert_eq!(flag, LeakEffect::AlreadyRevoked, "{revoked_at:?}");
        }
    }
}

// ── Verdicts. ──

#[test]
fn a_verdict_is_true_only_for_a_candidate_the_store_found() {
    let key = live_key();
    let body = format!(
        r#"[{{"token":"{}","type":"t"}},{{"token":"some_token","type":"t"}}]"#,
        key.expose_secret()
    );
    let tokens = parse_report(body.as_bytes(), ReportLimits::DEFAULT).unwrap();
    let ours = classify(&tokens[0].token, &KeyPrefix::DEFAULT, Environment::Live);
    let theirs = classify(&tokens[1].token, &KeyPrefix::DEFAULT, Environment::Live);
    assert_eq!(
        FeedbackEntry::verdict(&tokens[0], ours, true).label,
        Label::TruePositive
    );
    assert_eq!(
        FeedbackEntry::verdict(&tokens[0], ours, false).label,
        Label::FalsePositive
    );
    // A token that is not ours is false whatever a (mistaken) lookup said.
    assert_eq!(
        FeedbackEntry::verdict(&tokens[1], theirs, true).label,
        Label::FalsePositive
    );
}

// ── No input panics. ──

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_signatures_and_bodies_are_refused_without_panicking(
        signature in ".{0,140}",
        der_bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
    ) {
        let keys = PublicKeySet::from_json(GITHUB_KEYS).unwrap();
        proptest::prop_assert!(keys.verify(GITHUB_ID, &signature, &body).is_err());
        proptest::prop_assert!(keys.verify(GITHUB_ID, &STANDARD.encode(&der_bytes), &body).is_err());
        let _ = parse_report(&body, ReportLimits::DEFAULT);
        let _ = PublicKeySet::from_json(&String::from_utf8_lossy(&body));
    }
}
