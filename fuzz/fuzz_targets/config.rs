//! The deployment's configuration (`edge_worker::config::Config::from_vars`) over arbitrary
//! variables: environment, policy document, store mode, rate limit, origin and CORS origins,
//! and the optional parts (secret scanning, event webhooks, console framing), which never make
//! the configuration unusable.
#![no_main]

use arbitrary::Arbitrary;
use edge_worker::config::{
    Config, ConfigError, Events, Origin, Scanning, Secret, StoreMode, Vars, DEFAULT_RATE_LIMIT,
    MAX_RETRY_DELAY_SECS,
};
use libfuzzer_sys::fuzz_target;
use policy_core::{Environment, Policy};

const ALIGN: &str = include_str!("../../policy-core/policies/align.json");

/// Values worth trying besides raw text.
const WORDS: &[&str] = &[
    "live",
    "test",
    "strict",
    "kv",
    "d1",
    "off",
    "0",
    "00",
    "00000000",
    "010",
    "10",
    "revoke",
    "flag",
    "4294967295",
    "4294967296",
    "-1",
    "+5",
    " 10",
    "LIVE",
    "",
];

/// Origins and origin-like text for `KEYSCOPE_CORS_ORIGINS`.
const ORIGINS: &[&str] = &[
    "https://app.example.com",
    "http://localhost:5173",
    "https://[::1]:8443",
    "HTTPS://APP.EXAMPLE.COM",
    "https://a.test/",
    "https://user@a.test",
    "https://a.test:",
    "https://a.test:123456",
    "https://[::1",
    "https://[]",
    "*",
    "null",
    " ",
];

#[derive(Arbitrary, Debug)]
enum Text<'a> {
    Word(u8),
    Raw(&'a str),
}

impl<'a> Text<'a> {
    fn get(&self) -> &'a str {
        match self {
            Text::Word(i) => WORDS[usize::from(*i) % WORDS.len()],
            Text::Raw(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum PolicyText<'a> {
    Align,
    /// The Align document cut at a fuzzed byte.
    AlignCut(u16),
    Raw(&'a str),
}

#[derive(Arbitrary, Debug)]
enum OriginEntry<'a> {
    Known(u8),
    Raw(&'a str),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    environment: Option<Text<'a>>,
    policy: Option<PolicyText<'a>>,
    store: Option<Text<'a>>,
    rate_limit: Option<Text<'a>>,
    origin_service: bool,
    origin_url: Option<&'a str>,
    cors_origins: Option<(Vec<OriginEntry<'a>>, u8)>,
    /// An `Origin` header to ask the CORS list about.
    asked: &'a str,
    github_keys: Option<&'a str>,
    on_leak: Option<Text<'a>>,
    events_url: Option<&'a str>,
    events_secret: Option<&'a str>,
    events_retry: Option<&'a str>,
    frame_ancestors: Option<&'a str>,
}

fuzz_target!(|input: Input<'_>| {
    let policy = input.policy.as_ref().map(|p| match p {
        PolicyText::Align => ALIGN.to_owned(),
        PolicyText::AlignCut(at) => {
            let mut at = usize::from(*at) % (ALIGN.len() + 1);
            while !ALIGN.is_char_boundary(at) {
                at -= 1;
            }
            ALIGN[..at].to_owned()
        }
        PolicyText::Raw(s) => (*s).to_owned(),
    });
    let cors_origins = input.cors_origins.as_ref().map(|(entries, sep)| {
        let sep = [",", ", ", " , ", ",,"][usize::from(*sep) % 4];
        entries
            .iter()
            .map(|e| match e {
                OriginEntry::Known(i) => ORIGINS[usize::from(*i) % ORIGINS.len()],
                OriginEntry::Raw(s) => s,
            })
            .collect::<Vec<_>>()
            .join(sep)
    });
    let vars = Vars {
        environment: input.environment.as_ref().map(|t| t.get().to_owned()),
        policy,
        bundled_policy: None,
        store: input.store.as_ref().map(|t| t.get().to_owned()),
        rate_limit: input.rate_limit.as_ref().map(|t| t.get().to_owned()),
        origin_service: input.origin_service,
        origin_url: input.origin_url.map(str::to_owned),
        cors_origins,
        admin_token: None,
        events_url: input.events_url.map(str::to_owned),
        events_secret: input.events_secret.map(Secret::new),
        events_retry: input.events_retry.map(str::to_owned),
        github_keys: input.github_keys.map(str::to_owned),
        on_leak: input.on_leak.as_ref().map(|t| t.get().to_owned()),
        frame_ancestors: input.frame_ancestors.map(str::to_owned),
    };
    let environment_ok = vars
        .environment
        .as_deref()
        .is_none_or(|e| Environment::from_name(e).is_some());
    let policy_ok = vars
        .policy
        .as_deref()
        .is_none_or(|p| Policy::from_json(p).is_ok());
    let store_ok = vars
        .store
        .as_deref()
        .is_none_or(|s| StoreMode::from_name(s).is_some());
    let rate_ok = vars
        .rate_limit
        .as_deref()
        .is_none_or(|r| r == "off" || r.parse::<u32>().is_ok());

    // The retry schedule: 1-20 comma-separated whole seconds, each within the queue's 12 hours.
    let retry_ok = vars.events_retry.as_deref().is_none_or(|text| {
        let parts: Vec<&str> = text.split(',').collect();
        parts.len() <= 20
            && parts.iter().all(|p| {
                p.trim()
                    .parse::<u32>()
                    .is_ok_and(|n| (1..=MAX_RETRY_DELAY_SECS).contains(&n))
            })
    });

    match Config::from_vars(&vars) {
        Ok(config) => {
            assert!(
                environment_ok && policy_ok && store_ok && rate_ok && retry_ok,
                "{vars:?}"
            );
            assert!(!config.events_retry.is_empty() && config.events_retry.len() <= 20);
            assert!(config
                .events_retry
                .iter()
                .all(|&p| (1..=MAX_RETRY_DELAY_SECS).contains(&p)));
            let environment = vars
                .environment
                .as_deref()
                .and_then(Environment::from_name)
                .unwrap_or(Environment::Live);
            assert_eq!(config.engine.environment(), environment);
            let store = vars
                .store
                .as_deref()
                .and_then(StoreMode::from_name)
                .unwrap_or(StoreMode::Strict);
            assert_eq!(config.store, store);
            let rate = match vars.rate_limit.as_deref() {
                None => Some(DEFAULT_RATE_LIMIT),
                Some("off") => None,
                Some(n) => n.parse::<u32>().ok(),
            };
            // "0", "00", … all mean off; any other number is the limit.
            assert_eq!(config.rate_limit, rate.filter(|&n| n != 0));
            assert_ne!(config.rate_limit, Some(0), "a zero limit means off");
            // The optional parts: absent unless set; set to something unusable, refused on
            // their own (the configuration above stands).
            // A blank key set is what an unset variable looks like in some dashboards: off too.
            let keys_set = vars.github_keys.as_deref().is_some_and(|k| !k.trim().is_empty());
            match (&config.scanning, keys_set) {
                (Scanning::Off, false) | (Scanning::Refused(_), _) | (Scanning::On { .. }, true) => {}
                other => panic!("scanning {other:?}"),
            }
            let url_set = vars.events_url.as_deref().is_some_and(|u| !u.trim().is_empty());
            match &config.events {
                Events::Off => assert!(!url_set),
                Events::Unsigned => {
                    assert!(url_set && vars.events_secret.as_ref().is_none_or(Secret::is_empty))
                }
                Events::To { url, secret } => {
                    assert!(url_set && !url.is_empty() && !secret.is_empty());
                    assert_eq!(Some(url.as_str()), vars.events_url.as_deref().map(str::trim));
                }
            }
            assert!(!config.frame_ancestors.sources.is_empty());
            match (&config.origin, vars.origin_service, &vars.origin_url) {
                (Some(Origin::Service), true, _) | (None, false, None) => {}
                (Some(Origin::Url(url)), false, Some(raw)) => {
                    assert_eq!(url, raw.trim_end_matches('/'));
                }
                other => panic!("origin {other:?}"),
            }
            match (&config.cors, &vars.cors_origins) {
                (None, None) => {}
                (Some(cors), Some(list)) => {
                    let entries: Vec<&str> =
                        list.split(',').map(str::trim).filter(|e| !e.is_empty()).collect();
                    assert!(!entries.is_empty());
                    for entry in &entries {
                        assert!(cors.allows(entry), "{entry:?} of {list:?}");
                        // An accepted origin is exactly scheme://host[:port]: nothing after it.
                        let rest = entry
                            .to_ascii_lowercase()
                            .split_once("://")
                            .map(|(scheme, rest)| {
                                assert!(scheme == "http" || scheme == "https", "{entry:?}");
                                rest.to_owned()
                            })
                            .unwrap_or_else(|| panic!("{entry:?} has no scheme"));
                        assert!(
                            !rest.is_empty() && !rest.contains(['/', '@', '?', '#', '*', ' ']),
                            "{entry:?}"
                        );
                    }
                    let asked = input.asked;
                    if cors.allows(asked) {
                        assert!(
                            entries.iter().any(|e| e.eq_ignore_ascii_case(asked)),
                            "{asked:?} allowed by {list:?}"
                        );
                    }
                    let methods = cors.methods();
                    assert!(!methods.is_empty());
                    let listed: Vec<&str> = methods.split(", ").collect();
                    for (i, m) in listed.iter().enumerate() {
                        assert!(!listed[..i].contains(m), "{m} twice in {methods}");
                    }
                }
                other => panic!("cors {other:?}"),
            }
        }
        Err(err) => {
            // The first unusable variable, in the order they are read, is named with its value.
            let message = err.to_string();
            match &err {
                ConfigError::Environment(v) => {
                    assert!(!environment_ok);
                    assert_eq!(Some(v), vars.environment.as_ref());
                    assert!(message.starts_with("KEYSCOPE_ENVIRONMENT="));
                }
                ConfigError::Policy(_) => {
                    assert!(environment_ok && !policy_ok);
                    assert!(message.starts_with("KEYSCOPE_POLICY: "));
                }
                ConfigError::Store(v) => {
                    assert!(environment_ok && policy_ok && !store_ok);
                    assert_eq!(Some(v), vars.store.as_ref());
                    assert!(message.starts_with("KEYSCOPE_STORE="));
                }
                ConfigError::RateLimit(v) => {
                    assert!(environment_ok && policy_ok && store_ok && !rate_ok);
                    assert_eq!(Some(v), vars.rate_limit.as_ref());
                    assert!(message.starts_with("KEYSCOPE_RATE_LIMIT="));
                }
                ConfigError::CorsOrigins(v) => {
                    assert!(environment_ok && policy_ok && store_ok && rate_ok);
                    let list = vars.cors_origins.as_deref().unwrap_or_default();
                    assert!(list.contains(v.as_str()), "{v:?} not in {list:?}");
                    assert!(message.starts_with("KEYSCOPE_CORS_ORIGINS: "));
                }
                ConfigError::EventsRetry(v) => {
                    assert!(environment_ok && policy_ok && store_ok && rate_ok && !retry_ok);
                    assert_eq!(Some(v), vars.events_retry.as_ref());
                    assert!(message.starts_with("KEYSCOPE_EVENTS_RETRY="));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
});
