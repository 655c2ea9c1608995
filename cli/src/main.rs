//! `keyscope`: generate and check API keys offline, and check a key against a gateway.
//!
//! ```text
//! keyscope keygen [--env live|test] [--count N]   one JSON line per key: secret, hash, hint
//! keyscope check [--env live|test] < key          validates a key read from stdin, prints its hash
//! keyscope whoami --url BASE [--require P[,P…]]… [--key-env NAME] [--timeout SECS]
//!                                                 asks BASE/me what the key may do; fails
//!                                                 naming each required permission it lacks
//! ```
//! The secret is printed once, by `keygen`, for the caller to hand to its user; store only the
//! hash. `check` and `whoami` read the key from stdin (or, for `whoami`, from the environment
//! variable `--key-env` names, `KEYSCOPE_KEY` by default) so that it never appears in a process
//! list, and never print it.

mod whoami;

use std::io::Read;
use std::process::ExitCode;

use policy_core::{ApiKey, Environment};

fn usage() -> ExitCode {
    eprintln!(
        "usage: keyscope keygen [--env live|test] [--count N]\n       \
         keyscope check [--env live|test] < key\n       \
         keyscope whoami --url BASE [--require P[,P…]]… [--key-env NAME] [--timeout SECS]   \
         (key from $KEYSCOPE_KEY or stdin)"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(command) = args.next() else {
        return usage();
    };
    let mut environment = Environment::Live;
    let mut count = 1usize;
    let mut who = whoami::Options::default();
    while let Some(flag) = args.next() {
        match (command.as_str(), flag.as_str(), args.next()) {
            ("keygen" | "check", "--env", Some(name)) => match Environment::from_name(&name) {
                Some(env) => environment = env,
                None => return usage(),
            },
            ("keygen", "--count", Some(n)) => match n.parse() {
                Ok(n) => count = n,
                Err(_) => return usage(),
            },
            ("whoami", "--url", Some(url)) => who.url = Some(url),
            ("whoami", "--require", Some(list)) => who.require.extend(
                list.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
            ),
            ("whoami", "--key-env", Some(name)) => who.key_env = name,
            ("whoami", "--timeout", Some(secs)) => match secs.parse() {
                Ok(secs) => who.timeout_secs = secs,
                Err(_) => return usage(),
            },
            _ => return usage(),
        }
    }
    match command.as_str() {
        "keygen" => keygen(environment, count),
        "check" => check(environment),
        "whoami" if who.url.is_some() => whoami::run(&who),
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
