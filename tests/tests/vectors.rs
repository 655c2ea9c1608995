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
