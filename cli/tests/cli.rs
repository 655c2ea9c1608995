//! The CLI makes keys that policy-core accepts, and checks keys without echoing them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Stdio};

fn keyscope(args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyscope"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("writes");
    let out = child.wait_with_output().expect("finishes");
    (
        out.status.success(),
        String::from_utf8(out.stdout).expect("utf-8"),
    )
}

#[test]
fn keygen_then_check() {
    let (ok, out) = keyscope(&["keygen", "--env", "test", "--count", "3"], "");
    assert!(ok);
    let keys: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(keys.len(), 3);
    assert_ne!(keys[0]["secret"], keys[1]["secret"], "fresh randomness each time");
    for key in &keys {
        let secret = key["secret"].as_str().unwrap();
        assert!(secret.starts_with("ck_test_") && secret.len() == 44);
        let (ok, out) = keyscope(&["check", "--env", "test"], secret);
        assert!(ok);
        let checked: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(checked["hash"], key["hash"]);
        assert!(!out.contains(&secret[8..]), "check never echoes the key");
        let (ok, _) = keyscope(&["check"], secret);
        assert!(!ok, "a test key is not a live key");
    }
    let (ok, out) = keyscope(&["check"], "ck_live_nope");
    assert!(!ok && out.contains("\"valid\":false"));
    let (ok, _) = keyscope(&["frobnicate"], "");
    assert!(!ok);
}
