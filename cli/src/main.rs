//! `keyscope`: generate and check API keys offline.
//!
//! ```text
//! keyscope keygen [--env live|test] [--count N]   one JSON line per key: secret, hash, hint
//! keyscope check [--env live|test] < key          validates a key read from stdin, prints its hash
//! ```
//! The secret is printed once, by `keygen`, for the caller to hand to its user; store only the
//! hash. `check` reads the key from stdin so that it never appears in a process list.

use std::io::Read;
use std::process::ExitCode;

use policy_core::{ApiKey, Environment};

fn usage() -> ExitCode {
    eprintln!(
        "usage: keyscope keygen [--env live|test] [--count N]\n       keyscope check [--env live|test] < key"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        return usage();
    };
    let mut environment = Environment::Live;
    let mut count = 1usize;
    let mut rest = args.iter().skip(1);
    while let Some(flag) = rest.next() {
        match (flag.as_str(), rest.next()) {
            ("--env", Some(name)) => match Environment::from_name(name) {
                Some(env) => environment = env,
                None => return usage(),
            },
            ("--count", Some(n)) => match n.parse() {
                Ok(n) => count = n,
                Err(_) => return usage(),
            },
            _ => return usage(),
        }
    }
    match command.as_str() {
        "keygen" => keygen(environment, count),
        "check" => check(environment),
        _ => usage(),
    }
}

fn keygen(environment: Environment, count: usize) -> ExitCode {
    for _ in 0..count {
        let mut random = [0u8; 64];
        if let Err(err) = getrandom::getrandom(&mut random) {
            eprintln!("keyscope: the operating system's random source failed: {err}");
            return ExitCode::FAILURE;
        }
        let key = match ApiKey::generate(environment, &random) {
            Ok(key) => key,
            Err(err) => {
                eprintln!("keyscope: {err}");
                return ExitCode::FAILURE;
            }
        };
        let line = serde_json::json!({
            "secret": key.expose_secret(),
            "hash": key.hash().to_hex().as_str(),
            "hint": key.hint(),
            "environment": environment.as_str(),
        });
        println!("{line}");
    }
    ExitCode::SUCCESS
}

fn check(environment: Environment) -> ExitCode {
    let mut text = String::new();
    if std::io::stdin().read_to_string(&mut text).is_err() {
        eprintln!("keyscope: could not read the key from stdin");
        return ExitCode::FAILURE;
    }
    match ApiKey::parse_for(text.trim(), environment) {
        Ok(key) => {
            println!(
                "{}",
                serde_json::json!({"valid": true, "hash": key.hash().to_hex().as_str(), "hint": key.hint()})
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            println!(
                "{}",
                serde_json::json!({"valid": false, "error": err.to_string()})
            );
            ExitCode::FAILURE
        }
    }
}
