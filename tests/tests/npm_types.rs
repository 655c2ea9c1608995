//! The npm package's hand-written types (`npm/js/api.d.cts`) against the Rust types they
//! describe: the fields of a key record and of the `/me` view as serde writes them, the reason
//! codes a decision gives, and the key error codes. A field or code added on one side only fails
//! here, so the types cannot drift from the engine.

use std::collections::BTreeSet;

use policy_core::{KeyError, KeyRecord, MeView, ProjectIds, Reason, Scope, Timestamp};

const TYPES: &str = include_str!("../../npm/js/api.d.cts");

/// The property names of `export interface <name> { … }` (its top level only).
fn interface_fields(name: &str) -> BTreeSet<String> {
    let start = TYPES
        .find(&format!("export interface {name} {{"))
        .unwrap_or_else(|| panic!("api.d.cts declares interface {name}"));
    let body = &TYPES[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find("\n}").unwrap()];
    body.lines()
        .filter_map(|line| {
            let line = line.strip_prefix("  ")?;
            if line.starts_with(' ') || line.starts_with('/') || line.starts_with('*') {
                return None;
            }
            let line = line.strip_prefix("readonly ").unwrap_or(line);
            let end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
            matches!(&line[end..end + 1], ":" | "?").then(|| line[..end].to_owned())
        })
        .collect()
}

/// The string literals of `export type <name> = "a" | "b" …;`.
fn union(name: &str) -> BTreeSet<String> {
    let start = TYPES
        .find(&format!("export type {name} ="))
        .unwrap_or_else(|| panic!("api.d.cts declares type {name}"));
    let body = &TYPES[start..];
    let body = &body[..body.find(';').unwrap()];
    body.split('"').skip(1).step_by(2).map(str::to_owned).collect()
}

/// The keys of a JSON object.
fn keys(json: &str) -> BTreeSet<String> {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    value.as_object().unwrap().keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_key_record_has_the_fields_the_rust_record_has() {
    let record = KeyRecord {
        id: "key_1".into(),
        name: "CI".into(),
        hint: "abcd".into(),
        organization_id: "org_1".into(),
        created_by: "u_1".into(),
        scope: Scope::Project,
        scoped_project_ids: ProjectIds::one("p_1"),
        allowed_cidrs: None,
        rate_limit: None,
        quota: None,
        permissions: Some(vec!["read:project".into()]),
        created_at: Timestamp(1),
        last_used_at: Some(Timestamp(2)),
        revoked_at: Some(Timestamp(3)),
        expires_at: Some(Timestamp(4)),
    };
    let json = serde_json::to_string(&record).unwrap();
    assert_eq!(interface_fields("KeyRecordInput"), keys(&json));
}

#[test]
fn the_me_view_has_the_fields_the_rust_view_has() {
    let permissions = vec!["read:project".to_owned()];
    let view = MeView {
        api_key_id: "key_1",
        scope: Scope::Organization,
        scoped_project_id: None,
        scoped_project_ids: None,
        allowed_cidrs: None,
        rate_limit: None,
        quota: None,
        permissions: Some(&permissions),
        organization_id: "org_1",
        role: "admin",
        effective_permissions: vec!["read:project"],
        name: "CI",
        hint: "abcd",
    };
    assert_eq!(interface_fields("MeView"), keys(&view.to_json()));
}

#[test]
fn the_reason_codes_are_the_decisions_reasons() {
    // `bad_gateway` and `invalid_request` are the gateway's forwarding answers (an origin that
    // failed, a body on a bodiless method); a decision, which is all npm makes, never gives them.
    let forwarding = set(&["bad_gateway", "invalid_request"]);
    let decided: BTreeSet<String> = Reason::ALL
        .iter()
        .map(|reason| reason.code().to_owned())
        .filter(|code| !forwarding.contains(code))
        .collect();
    assert_eq!(union("Reason"), decided);
}

#[test]
fn the_key_error_codes_are_the_rust_key_errors() {
    let rust = [
        KeyError::WrongLength,
        KeyError::UnknownPrefix,
        KeyError::BadCharacter,
        KeyError::ChecksumMismatch,
        KeyError::WrongEnvironment {
            key: policy_core::Environment::Test,
        },
    ];
    let mut codes: BTreeSet<String> = rust.iter().map(|e| e.code().to_owned()).collect();
    // JavaScript's own: a key that is not a string at all.
    codes.insert("not_a_string".into());
    assert_eq!(union("KeyErrorCode"), codes);
}
