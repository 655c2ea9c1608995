//! `keyscope`: generate and check API keys offline, check a key against a gateway, and work with
//! policy documents.
//!
//! ```text
//! keyscope keygen [--env live|test] [--count N] [--policy FILE]
//!                                        one JSON line per key: secret, hash, hint
//! keyscope check [--env live|test] [--policy FILE] < key
//!                                        validates a key read from stdin, prints its hash
//! keyscope whoami --url BASE [--require P[,P…]]… [--key-env NAME] [--timeout SECS]
//!                                        asks BASE/me what the key may do; fails naming each
//!                                        required permission it lacks
//! keyscope policy check FILE [--json]    validates a policy; prints its endpoint table
//! keyscope policy explain --policy FILE --key RECORD.json (--role ROLE | --no-member)
//!                         [--now RFC3339] [--table | METHOD PATH] [--json]
//!                                        a decision and the check that made it, or a key's
//!                                        access table
//! keyscope policy test FILE VECTORS…     runs conformance vector files under the policy
//! keyscope policy from-openapi DOC [-o OUT] …
//!                                        a draft policy from an OpenAPI 3.0 / 3.1 document
//! ```
//! The secret is printed once, by `keygen`, for the caller to hand to its user; store only the
//! hash. `check` and `whoami` read the key from stdin (or, for `whoami`, from the environment
//! variable `--key-env` names, `KEYSCOPE_KEY` by default) so that it never appears in a process
//! list, and never print it. Exit codes: 0 success, 1 a failure the command reports, 2 a usage
//! error.

mod args;
mod failure;
mod keys;
mod policy;
mod record;
mod table;
mod whoami;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use failure::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (name, outcome) = match cli.command {
        Command::Keygen(args) => ("keygen", keys::keygen(&args)),
        Command::Check(args) => ("check", keys::check(&args)),
        Command::Whoami(args) => return whoami::run(&args.into()),
        Command::Policy(command) => (command.name(), policy::run(command)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Reported) => ExitCode::FAILURE,
        Err(Failure::Message(message)) => {
            eprintln!("keyscope {name}: {message}");
            ExitCode::FAILURE
        }
    }
}
