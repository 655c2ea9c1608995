//! The CLI makes keys that policy-core accepts — of the default prefix or of a policy's — and
//! checks keys without echoing them; every command has its help.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{keyscope, scratch, write, WORKSPACES_POLICY};

#[test]
fn keygen_then_check() {
    let run = keyscope(&["keygen", "--env", "test", "--count", "3"], "");
    assert!(run.ok(), "{}", run.said());
    let keys: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(keys.len(), 3);
    assert_ne!(keys[0]["secret"], keys[1]["secret"], "fresh randomness each time");
    for key in &keys {
        let secret = key["secret"].as_str().unwrap();
        assert!(secret.starts_with("ck_test_") && secret.len() == 44);
        let run = keyscope(&["check", "--env", "test"], secret);
        assert!(run.ok(), "{}", run.said());
        let checked: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(checked["hash"], key["hash"]);
        assert!(!run.stdout.contains(&secret[8..]), "check never echoes the key");
        assert!(!keyscope(&["check"], secret).ok(), "a test key is not a live key");
    }
    let run = keyscope(&["check"], "ck_live_nope");
    assert!(!run.ok() && run.stdout.contains("\"valid\":false"));
    assert_eq!(
        keyscope(&["frobnicate"], "").code,
        Some(2),
        "an unknown command is a usage error"
    );
    assert_eq!(keyscope(&["keygen", "--env", "prod"], "").code, Some(2));
    assert_eq!(keyscope(&["keygen", "--count", "x"], "").code, Some(2));
}

#[test]
fn keys_take_the_policys_prefix() {
    let run = keyscope(&["keygen", "--policy", WORKSPACES_POLICY, "--count", "2"], "");
    assert!(run.ok(), "{}", run.said());
    for line in run.stdout.lines() {
        let key: serde_json::Value = serde_json::from_str(line).unwrap();
        let secret = key["secret"].as_str().unwrap();
        assert!(secret.starts_with("clk_live_") && secret.len() == 45, "{secret}");
        let checked = keyscope(&["check", "--policy", WORKSPACES_POLICY], secret);
        assert!(checked.ok(), "{}", checked.said());
        let checked: serde_json::Value = serde_json::from_str(&checked.stdout).unwrap();
        assert_eq!(checked["hash"], key["hash"]);
        assert_eq!(checked["hint"], key["hint"]);
        // Without the policy, a clk_ key is not a key.
        assert!(!keyscope(&["check"], secret).ok());
    }
    // A default-prefix key is refused under the policy.
    let default = keyscope(&["keygen"], "");
    let secret: serde_json::Value = serde_json::from_str(default.stdout.trim()).unwrap();
    let refused = keyscope(
        &["check", "--policy", WORKSPACES_POLICY],
        secret["secret"].as_str().unwrap(),
    );
    assert_eq!(refused.code, Some(1), "{}", refused.said());
    let answer: serde_json::Value = serde_json::from_str(&refused.stdout).unwrap();
    assert_eq!(answer["valid"], false);
    // A test key under the policy is refused for live, accepted for test.
    let test = keyscope(&["keygen", "--policy", WORKSPACES_POLICY, "--env", "test"], "");
    let test: serde_json::Value = serde_json::from_str(test.stdout.trim()).unwrap();
    let secret = test["secret"].as_str().unwrap();
    assert!(secret.starts_with("clk_test_"));
    assert!(!keyscope(&["check", "--policy", WORKSPACES_POLICY], secret).ok());
    assert!(keyscope(&["check", "--policy", WORKSPACES_POLICY, "--env", "test"], secret).ok());
}

#[test]
fn a_bad_policy_makes_no_keys() {
    let dir = scratch("bad-prefix");
    let bad = write(
        &dir,
        "policy.json",
        &common::workspaces_policy().replace("\"keyPrefix\": \"clk\"", "\"keyPrefix\": \"9x\""),
    );
    let run = keyscope(&["keygen", "--policy", &bad], "");
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("keyPrefix"), "{}", run.said());
    let missing = keyscope(&["check", "--policy", "no/such/policy.json"], "x");
    assert_eq!(missing.code, Some(1));
    assert!(
        missing.stderr.contains("no/such/policy.json"),
        "{}",
        missing.said()
    );
}

#[test]
fn every_command_has_its_help() {
    let commands: [&[&str]; 9] = [
        &[],
        &["keygen"],
        &["check"],
        &["whoami"],
        &["policy"],
        &["policy", "check"],
        &["policy", "explain"],
        &["policy", "test"],
        &["policy", "from-openapi"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let run = keyscope(&args, "");
        assert!(run.ok(), "{args:?}: {}", run.said());
        assert!(run.stdout.contains("Usage: keyscope"), "{args:?}: {}", run.said());
    }
    let help = |args: &[&str]| keyscope(args, "").stdout;
    assert!(help(&["keygen", "--help"]).contains("--policy <FILE>"));
    assert!(help(&["check", "--help"]).contains("--env <live|test>"));
    assert!(help(&["whoami", "--help"]).contains("--require"));
    assert!(help(&["policy", "check", "--help"]).contains("--json"));
    let explain = help(&["policy", "explain", "--help"]);
    for flag in [
        "--key <RECORD.json>",
        "--role <ROLE>",
        "--no-member",
        "--now <RFC3339>",
        "--table",
        "--resource-project",
    ] {
        assert!(explain.contains(flag), "{flag}: {explain}");
    }
    assert!(help(&["policy", "test", "--help"]).contains("<VECTORS>..."));
    let openapi = help(&["policy", "from-openapi", "--help"]);
    for flag in [
        "--organization-param",
        "--user-param",
        "--project-param",
        "--prefix",
        "--base-path",
        "-o, --output",
    ] {
        assert!(openapi.contains(flag), "{flag}: {openapi}");
    }
    assert_eq!(
        keyscope(&["policy"], "").code,
        Some(2),
        "a policy subcommand is needed"
    );
}
