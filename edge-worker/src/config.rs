//! The deployment's configuration, read once per isolate: which keys it accepts, the policy,
//! where key state is read, the rate limit, where allowed requests go, which browser origins
//! may call the gateway (CORS), and the optional parts: the admin API's token, event webhooks,
//! secret scanning and who may frame the console. Every variable is read here and nowhere
//! else, each by one rule.
//!
//! A core variable that cannot be used makes every request answer `503 unavailable` (logged
//! once per request). An optional part that is not configured is absent; one configured with
//! something unusable answers `503` on its own routes only.

use std::fmt;
use std::sync::OnceLock;

use keyscope_scanning::{LeakResponse, PublicKeySet};
use policy_core::{Engine, Environment, Policy};
use wasm_bindgen::JsValue;
use worker::Env;

use crate::console::assets::{frame_ancestors, FRAME_ANCESTORS_VAR};

/// Where the hot path reads a key and its state (`KEYSCOPE_STORE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreMode {
    /// The default. A key's immutable fields from KV (cached in the isolate); its revocation
    /// and creator role from the key's Durable Object, which reads D1: strongly consistent at
    /// every location, one object hop per request.
    Strict,
    /// Everything from KV, as Cloudflare's edge caches it: a revocation or role change reaches
    /// other locations within KV's cache time (about 60 s). No object hop unless rate limited.
    Kv,
    /// Everything from D1 on every request: strongly consistent, one D1 query per request.
    D1,
}

impl StoreMode {
    /// Parses `KEYSCOPE_STORE` (`strict`, `kv` or `d1`).
    pub fn from_name(name: &str) -> Option<StoreMode> {
        match name {
            "strict" => Some(StoreMode::Strict),
            "kv" => Some(StoreMode::Kv),
            "d1" => Some(StoreMode::D1),
            _ => None,
        }
    }
}

/// Where allowed requests go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The service binding named `ORIGIN`.
    Service,
    /// A base URL (`ORIGIN_URL`).
    Url(String),
}

/// The default rate limit (seed 003: 10 requests per second per key).
pub const DEFAULT_RATE_LIMIT: u32 = 10;

/// A secret's text: never written out (`Debug` shows only whether it is empty).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret's text.
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The secret itself, for the one comparison or signature that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(empty)"
        } else {
            "Secret(..)"
        })
    }
}

/// Where saved audit events are published (`KEYSCOPE_EVENTS_URL`, `KEYSCOPE_EVENTS_SECRET`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Events {
    /// No URL: events stay in the audit log only.
    Off,
    /// A URL without a secret: nothing is sent (never an unsigned delivery), and each publish
    /// says so in the log.
    Unsigned,
    /// Deliveries to `url`, signed with `secret`.
    To {
        /// The receiver.
        url: String,
        /// The signing secret.
        secret: Secret,
    },
}

/// Secret scanning (`KEYSCOPE_GITHUB_KEYS`, `KEYSCOPE_ON_LEAK`).
#[derive(Clone, Debug)]
pub enum Scanning {
    /// No key set: the endpoint is absent (`404 not_found`).
    Off,
    /// Set to something unusable: the endpoint answers `503 unavailable` with this message.
    Refused(String),
    /// Reports are verified with `keys`; a reported key is revoked or flagged per `on_leak`.
    On {
        /// GitHub's published keys.
        keys: PublicKeySet,
        /// What a verified report does.
        on_leak: LeakResponse,
    },
}

/// Who may frame the key console (`KEYSCOPE_CONSOLE_FRAME_ANCESTORS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameAncestors {
    /// The CSP `frame-ancestors` sources (`'none'` unless configured).
    pub sources: String,
    /// Whether a configured value was refused (framing is then denied, and each page says so
    /// in the log).
    pub refused: bool,
}

/// Everything read from the deployment's variables.
#[derive(Debug)]
pub struct Config {
    /// The compiled policy and the key environment.
    pub engine: Engine,
    /// Where key state is read.
    pub store: StoreMode,
    /// Requests per second per key; `None` when disabled.
    pub rate_limit: Option<u32>,
    /// Where allowed requests go (`None`: allowed requests answer `503 unavailable`,
    /// "misconfigured").
    pub origin: Option<Origin>,
    /// The browser origins the gateway answers CORS for (`None`: the gateway does no CORS).
    pub cors: Option<Cors>,
    /// The admin API's service token (`None`: the admin API is not configured).
    pub admin_token: Option<Secret>,
    /// Where saved audit events are published.
    pub events: Events,
    /// The pauses before each retry of a delivery, in seconds (`KEYSCOPE_EVENTS_RETRY`): a
    /// delivery is tried once, then once after each pause, then dead-lettered.
    pub events_retry: Vec<u32>,
    /// The secret-scanning endpoint.
    pub scanning: Scanning,
    /// Who may frame the key console.
    pub frame_ancestors: FrameAncestors,
}

/// The headers a browser may send on a cross-origin call (the key headers and a JSON body).
pub const CORS_ALLOW_HEADERS: &str = "X-Api-Key, Authorization, Content-Type";
/// How long a browser may cache a preflight answer, in seconds.
pub const CORS_MAX_AGE: &str = "600";
/// The response headers browser code may read besides the safelisted ones.
pub const CORS_EXPOSE_HEADERS: &str = "Retry-After, WWW-Authenticate, RateLimit-Policy, RateLimit";

/// CORS for the gateway (`KEYSCOPE_CORS_ORIGINS`, ARCHITECTURE.md "Choices").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cors {
    /// The allowed origins, lowercase, as a browser writes them (`https://app.example.com`).
    origins: Vec<String>,
    /// The methods the policy's endpoints use, for `Access-Control-Allow-Methods`.
    methods: String,
}

impl Cors {
    /// Parses a comma-separated list of origins; `methods` are the policy's.
    pub fn parse<'m>(list: &str, methods: impl IntoIterator<Item = &'m str>) -> Result<Cors, ConfigError> {
        let mut origins: Vec<String> = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let origin = entry.to_ascii_lowercase();
            if !is_origin(&origin) {
                return Err(ConfigError::CorsOrigins(entry.into()));
            }
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        if origins.is_empty() {
            return Err(ConfigError::CorsOrigins(list.into()));
        }
        let mut unique: Vec<&str> = Vec::new();
        for method in methods {
            if !unique.contains(&method) {
                unique.push(method);
            }
        }
        Ok(Cors {
            origins,
            methods: unique.join(", "),
        })
    }

    /// Whether a request's `Origin` header names an allowed origin.
    pub fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    /// `Access-Control-Allow-Methods` for a preflight.
    pub fn methods(&self) -> &str {
        &self.methods
    }
}

/// Whether `text` is a serialized origin: `http` or `https`, a host, an optional port, nothing
/// else (no path, no trailing `/`, no credentials, no wildcard).
fn is_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    let (host_ok, port) = match rest.strip_prefix('[') {
        // An IPv6 literal: `[…]`, then an optional `:port`.
        Some(literal) => {
            let Some((inside, tail)) = literal.split_once(']') else {
                return false;
            };
            let port = match tail.strip_prefix(':') {
                Some(port) => Some(port),
                None if tail.is_empty() => None,
                None => return false,
            };
            let ok = !inside.is_empty()
                && inside
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.'));
            (ok, port)
        }
        None => {
            let (host, port) = match rest.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            };
            let ok = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
            (ok, port)
        }
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()));
    host_ok && port_ok
}

/// A variable the deployment set to something unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `KEYSCOPE_ENVIRONMENT` is neither `live` nor `test`.
    Environment(String),
    /// `KEYSCOPE_POLICY` is not a valid policy document.
    Policy(String),
    /// The policy bundled at build time (`KEYSCOPE_POLICY_FILE`) is not a valid policy
    /// document (the build checks it; this is a bundle made some other way).
    BundledPolicy(String),
    /// Both a bundled policy and `KEYSCOPE_POLICY` are set: which one decides is not for the
    /// gateway to guess.
    PolicyTwice,
    /// `KEYSCOPE_STORE` names no store mode.
    Store(String),
    /// `KEYSCOPE_RATE_LIMIT` is not a whole number or `off`.
    RateLimit(String),
    /// `KEYSCOPE_CORS_ORIGINS` has an entry that is not an origin, or none at all.
    CorsOrigins(String),
    /// `KEYSCOPE_EVENTS_RETRY` is not 1–20 comma-separated whole seconds, each 1–43,200.
    EventsRetry(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Environment(v) => {
                write!(f, "KEYSCOPE_ENVIRONMENT={v:?} (expected \"live\" or \"test\")")
            }
            ConfigError::Policy(e) => write!(f, "KEYSCOPE_POLICY: {e}"),
            ConfigError::BundledPolicy(e) => write!(f, "the bundled policy (KEYSCOPE_POLICY_FILE): {e}"),
            ConfigError::PolicyTwice => f.write_str(
                "KEYSCOPE_POLICY is set, and a policy was bundled at build time (KEYSCOPE_POLICY_FILE): keep one",
            ),
            ConfigError::Store(v) => {
                write!(f, "KEYSCOPE_STORE={v:?} (expected \"strict\", \"kv\" or \"d1\")")
            }
            ConfigError::RateLimit(v) => {
                write!(
                    f,
                    "KEYSCOPE_RATE_LIMIT={v:?} (expected a whole number or \"off\")"
                )
            }
            ConfigError::EventsRetry(v) => write!(
                f,
                "KEYSCOPE_EVENTS_RETRY={v:?} (expected 1-20 comma-separated whole seconds, each 1-43200, e.g. \"30,120,600\")"
            ),
            ConfigError::CorsOrigins(v) => write!(
                f,
                "KEYSCOPE_CORS_ORIGINS: {v:?} is not an origin (expected e.g. https://app.example.com, comma-separated)"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The variables [`Config::from_vars`] reads, as text.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    /// `KEYSCOPE_ENVIRONMENT`.
    pub environment: Option<String>,
    /// `KEYSCOPE_POLICY`.
    pub policy: Option<String>,
    /// The policy bundled at build time from `KEYSCOPE_POLICY_FILE` (see
    /// [`BUNDLED_POLICY_GLOBAL`]).
    pub bundled_policy: Option<String>,
    /// `KEYSCOPE_STORE`.
    pub store: Option<String>,
    /// `KEYSCOPE_RATE_LIMIT`.
    pub rate_limit: Option<String>,
    /// Whether the `ORIGIN` service binding exists.
    pub origin_service: bool,
    /// `ORIGIN_URL`.
    pub origin_url: Option<String>,
    /// `KEYSCOPE_CORS_ORIGINS`.
    pub cors_origins: Option<String>,
    /// `KEYSCOPE_ADMIN_TOKEN` (a secret).
    pub admin_token: Option<Secret>,
    /// `KEYSCOPE_EVENTS_URL`.
    pub events_url: Option<String>,
    /// `KEYSCOPE_EVENTS_SECRET` (a secret or a var).
    pub events_secret: Option<Secret>,
    /// `KEYSCOPE_EVENTS_RETRY`.
    pub events_retry: Option<String>,
    /// `KEYSCOPE_GITHUB_KEYS` (a secret or a var).
    pub github_keys: Option<String>,
    /// `KEYSCOPE_ON_LEAK`.
    pub on_leak: Option<String>,
    /// `KEYSCOPE_CONSOLE_FRAME_ANCESTORS`.
    pub frame_ancestors: Option<String>,
}

/// `KEYSCOPE_RATE_LIMIT`: unset is [`DEFAULT_RATE_LIMIT`]; `off` or a whole number, where any
/// spelling of zero (`0`, `00`, …) is off too, so that a zero limit never refuses every request.
pub fn rate_limit(text: Option<&str>) -> Result<Option<u32>, ConfigError> {
    match text {
        None => Ok(Some(DEFAULT_RATE_LIMIT)),
        Some("off") => Ok(None),
        Some(text) => match text.parse::<u32>() {
            Ok(0) => Ok(None),
            Ok(limit) => Ok(Some(limit)),
            Err(_) => Err(ConfigError::RateLimit(text.into())),
        },
    }
}

/// The default pauses between delivery tries, in seconds: 30 s growing to 6 h, eight deliveries
/// in all over about 10 hours (each pause is below Cloudflare Queues' 12-hour delay limit).
pub const DEFAULT_EVENTS_RETRY: [u32; 7] = [30, 120, 600, 1_800, 3_600, 10_800, 21_600];

/// The longest pause a queue message may be delayed by (Cloudflare Queues: 12 hours).
pub const MAX_RETRY_DELAY_SECS: u32 = 43_200;

/// `KEYSCOPE_EVENTS_RETRY`: unset is [`DEFAULT_EVENTS_RETRY`]; else 1–20 comma-separated whole
/// seconds, each 1 to [`MAX_RETRY_DELAY_SECS`].
pub fn events_retry(text: Option<&str>) -> Result<Vec<u32>, ConfigError> {
    let Some(text) = text else {
        return Ok(DEFAULT_EVENTS_RETRY.to_vec());
    };
    let bad = || ConfigError::EventsRetry(text.into());
    let pauses = text
        .split(',')
        .map(|part| match part.trim().parse::<u32>() {
            Ok(secs) if (1..=MAX_RETRY_DELAY_SECS).contains(&secs) => Ok(secs),
            _ => Err(bad()),
        })
        .collect::<Result<Vec<u32>, ConfigError>>()?;
    if pauses.len() > 20 {
        return Err(bad());
    }
    Ok(pauses)
}

/// `KEYSCOPE_EVENTS_URL` and `KEYSCOPE_EVENTS_SECRET`: a blank URL is none.
pub fn events(url: Option<&str>, secret: Option<&Secret>) -> Events {
    match (url.map(str::trim).filter(|u| !u.is_empty()), secret) {
        (None, _) => Events::Off,
        (Some(url), Some(secret)) if !secret.is_empty() => Events::To {
            url: url.to_owned(),
            secret: secret.clone(),
        },
        (Some(_), _) => Events::Unsigned,
    }
}

/// `KEYSCOPE_GITHUB_KEYS` and `KEYSCOPE_ON_LEAK`: without a key set the endpoint is absent,
/// unless `KEYSCOPE_ON_LEAK` says it was meant to be there and is unusable.
pub fn scanning(github_keys: Option<&str>, on_leak: Option<&str>) -> Scanning {
    let on_leak = match LeakResponse::parse(on_leak) {
        Ok(action) => action,
        Err(e) => return Scanning::Refused(e.to_string()),
    };
    // A blank value is what an unset variable looks like in some dashboards: absent too.
    let Some(text) = github_keys.filter(|text| !text.trim().is_empty()) else {
        return Scanning::Off;
    };
    match PublicKeySet::from_json(text) {
        Ok(keys) => Scanning::On { keys, on_leak },
        Err(e) => Scanning::Refused(format!(
            "KEYSCOPE_GITHUB_KEYS is not GitHub's key-set document: {e}"
        )),
    }
}

impl Config {
    /// The isolate's configuration, read from `env` the first time.
    pub fn get(env: &Env) -> Result<&'static Config, &'static ConfigError> {
        static CONFIG: OnceLock<Result<Config, ConfigError>> = OnceLock::new();
        CONFIG
            .get_or_init(|| Config::from_vars(&Vars::read(env)))
            .as_ref()
    }

    /// Builds the configuration from its variables (native-testable).
    pub fn from_vars(vars: &Vars) -> Result<Config, ConfigError> {
        let environment = match vars.environment.as_deref() {
            None => Environment::Live,
            Some(name) => {
                Environment::from_name(name).ok_or_else(|| ConfigError::Environment(name.into()))?
            }
        };
        let policy = match (vars.bundled_policy.as_deref(), vars.policy.as_deref()) {
            (Some(_), Some(_)) => return Err(ConfigError::PolicyTwice),
            (Some(document), None) => {
                Policy::from_json(document).map_err(|e| ConfigError::BundledPolicy(e.to_string()))?
            }
            (None, Some(document)) => {
                Policy::from_json(document).map_err(|e| ConfigError::Policy(e.to_string()))?
            }
            (None, None) => Policy::align().map_err(|e| ConfigError::Policy(e.to_string()))?,
        };
        let store = match vars.store.as_deref() {
            None => StoreMode::Strict,
            Some(name) => StoreMode::from_name(name).ok_or_else(|| ConfigError::Store(name.into()))?,
        };
        let rate_limit = rate_limit(vars.rate_limit.as_deref())?;
        let origin = match (&vars.origin_url, vars.origin_service) {
            (_, true) => Some(Origin::Service),
            (Some(url), false) => Some(Origin::Url(url.trim_end_matches('/').to_owned())),
            (None, false) => None,
        };
        let cors = match vars.cors_origins.as_deref() {
            None => None,
            Some(list) => Some(Cors::parse(list, policy.endpoints().iter().map(|e| e.method()))?),
        };
        let (sources, refused) = frame_ancestors(vars.frame_ancestors.as_deref());
        Ok(Config {
            engine: Engine::new(policy, environment),
            store,
            rate_limit,
            origin,
            cors,
            admin_token: vars.admin_token.clone(),
            events: events(vars.events_url.as_deref(), vars.events_secret.as_ref()),
            events_retry: events_retry(vars.events_retry.as_deref())?,
            scanning: scanning(vars.github_keys.as_deref(), vars.on_leak.as_deref()),
            frame_ancestors: FrameAncestors { sources, refused },
        })
    }
}

/// The global the worker's entry module (`edge-worker/js/entry.mjs`) sets to the policy text
/// bundled at build time, or `null` for none: a module of the bundle, so no variable's size
/// limit applies to it.
pub const BUNDLED_POLICY_GLOBAL: &str = "KEYSCOPE_BUNDLED_POLICY";

/// The bundled policy text, if the entry module set one.
fn bundled_policy() -> Option<String> {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(BUNDLED_POLICY_GLOBAL))
        .ok()
        .and_then(|v| v.as_string())
}

impl Vars {
    /// Reads the variables from the platform.
    pub fn read(env: &Env) -> Vars {
        let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
        let secret = |name: &str| env.secret(name).ok().map(|v| v.to_string());
        let secret_or_var = |name: &str| secret(name).or_else(|| var(name));
        Vars {
            environment: var("KEYSCOPE_ENVIRONMENT"),
            policy: var("KEYSCOPE_POLICY"),
            bundled_policy: bundled_policy(),
            store: var("KEYSCOPE_STORE"),
            rate_limit: var("KEYSCOPE_RATE_LIMIT"),
            origin_service: env.service("ORIGIN").is_ok(),
            origin_url: var("ORIGIN_URL"),
            cors_origins: var("KEYSCOPE_CORS_ORIGINS"),
            admin_token: secret("KEYSCOPE_ADMIN_TOKEN").map(Secret),
            events_url: var("KEYSCOPE_EVENTS_URL"),
            events_retry: var("KEYSCOPE_EVENTS_RETRY"),
            events_secret: secret_or_var("KEYSCOPE_EVENTS_SECRET").map(Secret),
            github_keys: secret_or_var("KEYSCOPE_GITHUB_KEYS"),
            on_leak: var("KEYSCOPE_ON_LEAK"),
            frame_ancestors: var(FRAME_ANCESTORS_VAR),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            origin_url: Some("http://origin.test/".into()),
            ..Vars::default()
        }
    }

    #[test]
    fn defaults_are_strict_live_align_ten_per_second() {
        let config = Config::from_vars(&vars()).unwrap();
        assert_eq!(config.store, StoreMode::Strict);
        assert_eq!(config.rate_limit, Some(10));
        assert_eq!(config.engine.environment(), Environment::Live);
        assert_eq!(config.origin, Some(Origin::Url("http://origin.test".into())));
        assert_eq!(config.cors, None, "no CORS unless asked");
    }

    #[test]
    fn cors_origins_are_a_list_of_origins_and_the_methods_come_from_the_policy() {
        let mut v = vars();
        v.cors_origins =
            Some(" https://App.example.com , http://localhost:5173,,https://app.example.com".into());
        let cors = Config::from_vars(&v).unwrap().cors.unwrap();
        assert!(cors.allows("https://app.example.com"));
        assert!(cors.allows("HTTPS://APP.EXAMPLE.COM"));
        assert!(cors.allows("http://localhost:5173"));
        assert!(!cors.allows("http://localhost:5174"));
        assert!(!cors.allows("https://app.example.com.evil.test"));
        assert!(!cors.allows("null"));
        let methods: Vec<&str> = cors.methods().split(", ").collect();
        for method in ["GET", "POST", "DELETE"] {
            assert!(methods.contains(&method), "{method} in {methods:?}");
        }
        let mut sorted = methods.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), methods.len(), "each method once");
    }

    #[test]
    fn a_cors_entry_that_is_not_an_origin_is_refused() {
        for bad in [
            "",
            " , ",
            "*",
            "app.example.com",
            "https://app.example.com/",
            "https://a.test/x",
            "ftp://a.test",
            "https://",
            "https://a.test:http",
            "https://user@a.test",
        ] {
            let mut v = vars();
            v.cors_origins = Some(bad.into());
            assert!(
                matches!(Config::from_vars(&v), Err(ConfigError::CorsOrigins(_))),
                "{bad:?}"
            );
        }
        let mut v = vars();
        v.cors_origins = Some("https://[::1]:8443, http://127.0.0.1:3000".into());
        let cors = Config::from_vars(&v).unwrap().cors.unwrap();
        assert!(cors.allows("https://[::1]:8443"));
    }

    #[test]
    fn every_bad_variable_is_named() {
        let bad = |f: fn(&mut Vars)| {
            let mut v = vars();
            f(&mut v);
            Config::from_vars(&v).unwrap_err()
        };
        assert_eq!(
            bad(|v| v.store = Some("redis".into())),
            ConfigError::Store("redis".into())
        );
        assert_eq!(
            bad(|v| v.rate_limit = Some("ten".into())),
            ConfigError::RateLimit("ten".into())
        );
        assert_eq!(
            bad(|v| v.environment = Some("prod".into())),
            ConfigError::Environment("prod".into())
        );
        assert!(matches!(
            bad(|v| v.policy = Some("{}".into())),
            ConfigError::Policy(_)
        ));
        let broken = bad(|v| v.bundled_policy = Some(r#"{"basePath": "/x"}"#.into()));
        assert!(matches!(broken, ConfigError::BundledPolicy(_)));
        assert!(broken
            .to_string()
            .starts_with("the bundled policy (KEYSCOPE_POLICY_FILE): "));
        assert_eq!(
            bad(|v| {
                v.bundled_policy = Some(policy_core::ALIGN_POLICY_JSON.into());
                v.policy = Some(policy_core::ALIGN_POLICY_JSON.into());
            }),
            ConfigError::PolicyTwice
        );
    }

    #[test]
    fn a_bundled_policy_is_the_deployments_policy() {
        let mut v = vars();
        v.bundled_policy = Some(
            r#"{"keyPrefix": "acme", "basePath": "/v2", "permissions": ["read:x"],
                "roles": {"owner": ["read:x"]}, "keyCreators": {"organization": ["owner"], "project": []},
                "endpoints": [{"method": "GET", "path": "/x", "permission": "read:x", "projectKey": "deny"}]}"#
                .into(),
        );
        let config = Config::from_vars(&v).unwrap();
        assert_eq!(config.engine.policy().base_path(), "/v2");
        assert_eq!(config.engine.policy().key_prefix().as_str(), "acme");
    }

    #[test]
    fn every_spelling_of_zero_switches_the_limit_off() {
        // Found by the `config` fuzz target: "00000000" parsed to a limit of 0 (every request
        // refused) while "0" meant off.
        for off in ["off", "0", "00", "00000000", "+0"] {
            assert_eq!(rate_limit(Some(off)), Ok(None), "{off:?}");
        }
        assert_eq!(rate_limit(Some("010")), Ok(Some(10)));
        assert_eq!(rate_limit(None), Ok(Some(DEFAULT_RATE_LIMIT)));
        for bad in ["", "-0", " 0", "0x10", "OFF", "4294967296"] {
            assert_eq!(
                rate_limit(Some(bad)),
                Err(ConfigError::RateLimit(bad.into())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_optional_parts_are_absent_unless_configured() {
        let config = Config::from_vars(&vars()).unwrap();
        assert_eq!(config.admin_token, None);
        assert_eq!(config.events, Events::Off);
        assert!(matches!(config.scanning, Scanning::Off));
        assert_eq!(config.frame_ancestors.sources, "'none'");
        assert!(!config.frame_ancestors.refused);
    }

    #[test]
    fn the_retry_schedule_is_whole_seconds_within_the_queue_limit() {
        assert_eq!(events_retry(None).unwrap(), DEFAULT_EVENTS_RETRY.to_vec());
        assert_eq!(events_retry(Some("1, 2,3")).unwrap(), vec![1, 2, 3]);
        assert_eq!(events_retry(Some("43200")).unwrap(), vec![43_200]);
        for bad in ["", "0", "43201", "1,,2", "1.5", "-1", "x", &["1"; 21].join(",")] {
            assert!(events_retry(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn events_are_sent_only_signed() {
        let secret = Secret::new("whsec_1");
        assert_eq!(events(Some("  "), Some(&secret)), Events::Off);
        assert_eq!(events(Some("https://h.test/x"), None), Events::Unsigned);
        assert_eq!(
            events(Some("https://h.test/x"), Some(&Secret::new(""))),
            Events::Unsigned
        );
        assert_eq!(
            events(Some(" https://h.test/x "), Some(&secret)),
            Events::To {
                url: "https://h.test/x".into(),
                secret,
            }
        );
    }

    #[test]
    fn scanning_set_to_something_unusable_is_refused_not_absent() {
        assert!(matches!(scanning(None, None), Scanning::Off));
        assert!(matches!(scanning(None, Some("flag")), Scanning::Off));
        match scanning(Some("not json"), None) {
            Scanning::Refused(message) => assert!(message.starts_with("KEYSCOPE_GITHUB_KEYS"), "{message}"),
            other => panic!("{other:?}"),
        }
        match scanning(None, Some("delete")) {
            Scanning::Refused(message) => assert!(message.contains("KEYSCOPE_ON_LEAK"), "{message}"),
            other => panic!("{other:?}"),
        }
        // An unusable optional part never makes the whole deployment unusable.
        let mut v = vars();
        v.github_keys = Some("{}".into());
        v.on_leak = Some("delete".into());
        v.frame_ancestors = Some("'none' 'self'".into());
        let config = Config::from_vars(&v).unwrap();
        assert!(matches!(config.scanning, Scanning::Refused(_)));
        assert!(config.frame_ancestors.refused);
    }

    #[test]
    fn secrets_are_never_written_out() {
        let mut v = vars();
        v.admin_token = Some(Secret::new("hunter2-admin"));
        v.events_url = Some("https://h.test/x".into());
        v.events_secret = Some(Secret::new("hunter2-events"));
        let config = Config::from_vars(&v).unwrap();
        let printed = format!("{v:?} {config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert_eq!(
            config.admin_token.as_ref().map(Secret::expose),
            Some("hunter2-admin")
        );
    }

    #[test]
    fn the_limit_can_be_switched_off_and_a_service_binding_wins() {
        let mut v = vars();
        v.rate_limit = Some("off".into());
        v.origin_service = true;
        v.store = Some("d1".into());
        let config = Config::from_vars(&v).unwrap();
        assert_eq!(config.rate_limit, None);
        assert_eq!(config.origin, Some(Origin::Service));
        assert_eq!(config.store, StoreMode::D1);
    }
}
