//! `keyscope keygen` and `keyscope check`: keys offline, of the default prefix `ck` or of a
//! policy's `keyPrefix`.

use std::io::Read;

use policy_core::{ApiKey, KeyPrefix};

use crate::args::{CheckArgs, KeygenArgs};
use crate::failure::{Failure, Outcome};
use crate::policy::load;

/// The prefix of the policy at `path`, or `ck`.
fn prefix_of(path: Option<&std::path::Path>) -> Result<KeyPrefix, Failure> {
    match path {
        None => Ok(KeyPrefix::DEFAULT),
        Some(path) => {
            let policy = load::read(path).map_err(|err| err.to_string())?;
            Ok(*policy.key_prefix())
        }
    }
}

/// Prints `--count` new keys, one JSON line each: secret, hash, hint, environment.
pub fn keygen(args: &KeygenArgs) -> Outcome {
    let prefix = prefix_of(args.policy.as_deref())?;
    for _ in 0..args.count {
        let mut random = [0u8; 64];
        getrandom::getrandom(&mut random)
            .map_err(|err| format!("the operating system's random source failed: {err}"))?;
        let key = ApiKey::generate_with(&prefix, args.environment, &random).map_err(|err| err.to_string())?;
        let line = serde_json::json!({
            "secret": key.expose_secret(),
            "hash": key.hash().to_hex().as_str(),
            "hint": key.hint(),
            "environment": args.environment.as_str(),
        });
        println!("{line}");
    }
    Ok(())
}

/// Validates the key on stdin: prints `{"valid": true, "hash", "hint"}`, or `{"valid": false,
/// "error"}` and fails. The key itself is never printed.
pub fn check(args: &CheckArgs) -> Outcome {
    let prefix = prefix_of(args.policy.as_deref())?;
    let mut text = String::new();
    if std::io::stdin().read_to_string(&mut text).is_err() {
        return Err("could not read the key from stdin".to_owned().into());
    }
    match ApiKey::parse_for_with(text.trim(), &prefix, args.environment) {
        Ok(key) => {
            println!(
                "{}",
                serde_json::json!({"valid": true, "hash": key.hash().to_hex().as_str(), "hint": key.hint()})
            );
            Ok(())
        }
        Err(err) => {
            println!(
                "{}",
                serde_json::json!({"valid": false, "error": err.to_string()})
            );
            Err(Failure::Reported)
        }
    }
}
