//! Runs every `tests/vectors/*.json` file against policy-core natively.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyscope_conformance::{load, vector_files};

#[test]
fn every_vector_file_passes() {
    let files = vector_files();
    assert!(!files.is_empty(), "no vector files found");
    let mut failures = Vec::new();
    let mut cases = 0;
    for path in &files {
        match load(path) {
            Ok(loaded) => {
                cases += loaded.file.cases.len();
                failures.extend(loaded.run());
            }
            Err(err) => failures.push(err.to_string()),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cases >= 500, "expected several hundred cases, found {cases}");
    println!("{cases} conformance cases passed across {} files", files.len());
}

#[test]
fn unknown_fields_are_rejected() {
    let dir = std::env::temp_dir().join(format!("keyscope-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = r#"{"description":"d","cases":[{"name":"n","method":"GET","path":"/api/v1/me","headers":{},
        "expect":{"allow":false,"status":401,"reason":"missing_key"}}]}"#;
    let typo = good.replace("\"reason\"", "\"reasn\"");
    let top = good.replace("\"description\"", "\"descripton\"");
    std::fs::write(dir.join("good.json"), good).unwrap();
    std::fs::write(dir.join("typo.json"), typo).unwrap();
    std::fs::write(dir.join("top.json"), top).unwrap();
    let good = load(&dir.join("good.json")).expect("a valid file loads");
    assert!(good.run().is_empty());
    assert!(
        load(&dir.join("typo.json")).is_err(),
        "a typo inside expect must be an error"
    );
    assert!(
        load(&dir.join("top.json")).is_err(),
        "a typo at the top level must be an error"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_wrong_expectation_fails() {
    // The runner must be able to fail: flip one expectation and check it is reported.
    let dir = std::env::temp_dir().join(format!("keyscope-vectors-flip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let flipped = r#"{"description":"d","cases":[{"name":"n","method":"GET","path":"/api/v1/me","headers":{},
        "expect":{"allow":false,"status":401,"reason":"invalid_key"}}]}"#;
    std::fs::write(dir.join("flipped.json"), flipped).unwrap();
    let loaded = load(&dir.join("flipped.json")).unwrap();
    assert_eq!(loaded.run().len(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_examples_vector_files_pass_under_their_policies() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut cases = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let file = entry.unwrap().path().join("vectors.json");
        if !file.exists() {
            continue;
        }
        let loaded = load(&file).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            loaded.file.policy.is_some(),
            "{}: names its policy",
            file.display()
        );
        let failures = loaded.run();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        cases += loaded.file.cases.len();
    }
    assert!(cases >= 100, "examples/*/vectors.json: {cases} cases");
}

#[test]
fn a_case_of_another_tenant_fails_when_its_policy_forgets_the_tenant() {
    // The tenant rule is the policy's: the same file under a policy without organizationParam
    // must report the cross-tenant cases.
    let dir = std::env::temp_dir().join(format!("keyscope-vectors-tenant-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    let vectors = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let mut policy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vectors.join("policies/workspaces.json")).unwrap())
            .unwrap();
    policy.as_object_mut().unwrap().remove("organizationParam");
    // Without it, `param` can no longer be left out where the workspace was the other id.
    for row in policy["endpoints"].as_array_mut().unwrap() {
        let rule = row["projectKey"].as_str().unwrap().to_owned();
        if (rule == "own_path" || rule == "own_resource") && row.get("param").is_none() {
            let path = row["path"].as_str().unwrap().to_owned();
            let id = path
                .split('/')
                .filter_map(|s| s.strip_prefix(':'))
                .find(|n| *n != "workspaceId" && *n != "userId")
                .unwrap()
                .to_owned();
            row["param"] = id.into();
        }
    }
    std::fs::write(dir.join("policies/workspaces.json"), policy.to_string()).unwrap();
    std::fs::copy(vectors.join("workspaces.json"), dir.join("workspaces.json")).unwrap();
    let failures = load(&dir.join("workspaces.json")).unwrap().run();
    assert!(failures.len() > 50, "{} failures", failures.len());
    assert!(failures.iter().any(|f| f.contains("ws_b")));
    std::fs::remove_dir_all(&dir).ok();
}
