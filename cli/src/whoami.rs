//! `keyscope whoami`: the integration side of `/me` (seed 004) — at start-up, ask the gateway
//! what the key may do and fail fast, naming every required permission it lacks. The URL, the
//! Bearer header and the judgment of the answer are policy-core's (`check_me`), as for npm's
//! `checkKey`.

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use policy_core::{bearer_value, check_me, me_url, KeyUnfit, AUTHORIZATION_HEADER};
use serde_json::Value;

use crate::args::WhoamiArgs;

/// What `whoami` was asked.
#[derive(Debug)]
pub struct Options {
    /// The API's base URL, base path included (`…/api/v1`).
    pub url: String,
    /// The permissions the integration needs.
    pub require: Vec<String>,
    /// The environment variable holding the key (else stdin).
    pub key_env: String,
    /// How long to wait for the gateway.
    pub timeout_secs: u64,
}

impl From<WhoamiArgs> for Options {
    /// `--require` may list several permissions, comma-separated, and be repeated.
    fn from(args: WhoamiArgs) -> Options {
        Options {
            url: args.url,
            require: args
                .require
                .iter()
                .flat_map(|list| list.split(','))
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            key_env: args.key_env,
            timeout_secs: args.timeout,
        }
    }
}

/// Why the key is not fit for the integration.
#[derive(Debug)]
#[non_exhaustive]
pub enum WhoamiError {
    /// No key in the environment variable nor on stdin.
    NoKey,
    /// The gateway could not be reached (or did not answer in time).
    Unreachable(String),
    /// The gateway's answer says the key is unfit (policy-core's judgment of `/me`: refused, not
    /// a `/me` view, or lacking required permissions).
    Unfit(KeyUnfit),
}

impl std::fmt::Display for WhoamiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WhoamiError::NoKey => {
                f.write_str("no key: set KEYSCOPE_KEY (or --key-env NAME) or pipe the key on stdin")
            }
            WhoamiError::Unreachable(why) => write!(f, "could not reach the gateway: {why}"),
            WhoamiError::Unfit(unfit) => unfit.fmt(f),
        }
    }
}

impl std::error::Error for WhoamiError {}

/// Runs `whoami`: prints the `/me` view on success (it never contains the key).
pub fn run(options: &Options) -> ExitCode {
    match check(options) {
        Ok(me) => {
            println!("{me}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("keyscope whoami: {err}");
            ExitCode::FAILURE
        }
    }
}

fn read_key(options: &Options) -> Result<String, WhoamiError> {
    let key = match std::env::var(&options.key_env) {
        Ok(key) => key,
        Err(_) => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|_| WhoamiError::NoKey)?;
            text
        }
    };
    let key = key.trim().to_owned();
    if key.is_empty() {
        return Err(WhoamiError::NoKey);
    }
    Ok(key)
}

fn check(options: &Options) -> Result<Value, WhoamiError> {
    let key = read_key(options)?;
    let url = me_url(&options.url);
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(options.timeout_secs))
        .build();
    let answer = agent
        .get(&url)
        .set(AUTHORIZATION_HEADER, &bearer_value(&key))
        .set("accept", "application/json")
        .call();
    let (status, body) = match answer {
        Ok(res) => (res.status(), res.into_string()),
        Err(ureq::Error::Status(status, res)) => (status, res.into_string()),
        // ureq's transport errors name the URL and the cause, never the request's headers.
        Err(ureq::Error::Transport(t)) => return Err(WhoamiError::Unreachable(format!("{url}: {t}"))),
    };
    // A body that cannot be read is judged as an empty one (not a `/me` view).
    check_me(status, &body.unwrap_or_default(), &options.require).map_err(WhoamiError::Unfit)
}
