//! `keyscope whoami`: the integration side of `/me` (seed 004) — at start-up, ask the gateway
//! what the key may do and fail fast, naming every required permission it lacks.

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;

/// What `whoami` was asked.
#[derive(Debug)]
pub struct Options {
    /// The API's base URL, base path included (`…/api/v1`).
    pub url: Option<String>,
    /// The permissions the integration needs.
    pub require: Vec<String>,
    /// The environment variable holding the key (else stdin).
    pub key_env: String,
    /// How long to wait for the gateway.
    pub timeout_secs: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            url: None,
            require: Vec::new(),
            key_env: "KEYSCOPE_KEY".to_owned(),
            timeout_secs: 10,
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
    /// The gateway refused the key: status, reason code, message.
    Refused(u16, String, String),
    /// The answer was not a `/me` view.
    BadResponse,
    /// The key lacks these permissions.
    Missing {
        /// The required permissions the key lacks.
        missing: Vec<String>,
        /// The key's `/me` view.
        me: Value,
    },
}

impl std::fmt::Display for WhoamiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WhoamiError::NoKey => {
                f.write_str("no key: set KEYSCOPE_KEY (or --key-env NAME) or pipe the key on stdin")
            }
            WhoamiError::Unreachable(why) => write!(f, "could not reach the gateway: {why}"),
            WhoamiError::Refused(status, reason, message) if reason == "key_revoked" => {
                write!(f, "the key has been revoked: {message} ({status} {reason})")
            }
            WhoamiError::Refused(status, reason, message) => {
                write!(f, "the gateway refused the key: {message} ({status} {reason})")
            }
            WhoamiError::BadResponse => f.write_str("the gateway did not answer with a /me view"),
            WhoamiError::Missing { missing, me } => {
                let text = |k: &str| me.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
                let scope = if text("scope") == "project" {
                    format!("project-scoped key (project {})", text("scopedProjectId"))
                } else {
                    "organization-scoped key".to_owned()
                };
                write!(
                    f,
                    "the key lacks {} ({scope} {} in organization {}, role {})",
                    missing.join(", "),
                    text("apiKeyId"),
                    text("organizationId"),
                    text("role")
                )
            }
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
    let base = options.url.as_deref().unwrap_or_default().trim_end_matches('/');
    let url = format!("{base}/me");
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(options.timeout_secs))
        .build();
    let answer = agent
        .get(&url)
        .set("authorization", &format!("Bearer {key}"))
        .set("accept", "application/json")
        .call();
    let (status, body) = match answer {
        Ok(res) => (res.status(), res.into_string()),
        Err(ureq::Error::Status(status, res)) => (status, res.into_string()),
        // ureq's transport errors name the URL and the cause, never the request's headers.
        Err(ureq::Error::Transport(t)) => return Err(WhoamiError::Unreachable(format!("{url}: {t}"))),
    };
    let body: Value = body
        .ok()
        .and_then(|b| serde_json::from_str(&b).ok())
        .ok_or(WhoamiError::BadResponse)?;
    if !(200..300).contains(&status) {
        let field = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        return Err(WhoamiError::Refused(status, field("reason"), field("message")));
    }
    let held: Vec<&str> = body
        .get("effectivePermissions")
        .and_then(Value::as_array)
        .ok_or(WhoamiError::BadResponse)?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let missing: Vec<String> = options
        .require
        .iter()
        .filter(|p| !held.contains(&p.as_str()))
        .cloned()
        .collect();
    if missing.is_empty() {
        Ok(body)
    } else {
        Err(WhoamiError::Missing { missing, me: body })
    }
}
