//! `keyscope policy test FILE VECTORS…`: conformance vector files decided under the policy
//! FILE (the files' own `policy` field is not read), by the conformance crate's native runner.

use keyscope_conformance::load_with_policy;

use super::load;
use crate::args::PolicyTestArgs;
use crate::failure::{Failure, Outcome};

/// Runs every file; prints each file's result and every failing case; fails on any failure.
pub fn run(args: &PolicyTestArgs) -> Outcome {
    let policy = load::read(&args.file).map_err(|err| err.to_string())?;
    let mut failed_files = 0usize;
    let mut cases = 0usize;
    let mut failed_cases = 0usize;
    for path in &args.vectors {
        match load_with_policy(path, policy.clone()) {
            Err(err) => {
                failed_files += 1;
                println!("FAIL {}: cannot be loaded: {err}", path.display());
            }
            Ok(loaded) => {
                let total = loaded.file.cases.len();
                let failures = loaded.run();
                cases += total;
                if failures.is_empty() {
                    println!("PASS {} ({total} cases)", path.display());
                } else {
                    failed_files += 1;
                    failed_cases += failures.len();
                    println!(
                        "FAIL {}: {} of {total} cases failed",
                        path.display(),
                        failures.len()
                    );
                    for failure in failures {
                        println!("  - {failure}");
                    }
                }
            }
        }
    }
    let files = args.vectors.len();
    if failed_files == 0 {
        println!(
            "{}: every file passed ({files} files, {cases} cases)",
            args.file.display()
        );
        Ok(())
    } else {
        println!(
            "{}: {failed_files} of {files} files failed ({failed_cases} of {cases} cases)",
            args.file.display()
        );
        Err(Failure::Reported)
    }
}
