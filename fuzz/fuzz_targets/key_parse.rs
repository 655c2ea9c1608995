//! Key parsing: `ApiKey::parse`, `ApiKey::parse_for` and `KeyHash::from_hex` over arbitrary
//! text, and over valid keys with one byte changed (which the checksum must always catch).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use policy_core::{ApiKey, Environment, KeyError, KeyHash};

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// Any text, as a key and as a hash.
    Text(&'a str),
    /// A key generated from these bytes, with one byte replaced.
    Flipped {
        test: bool,
        random: Vec<u8>,
        at: u8,
        byte: u8,
    },
}

const ENVIRONMENTS: [Environment; 2] = [Environment::Live, Environment::Test];

fn check_text(text: &str) {
    match ApiKey::parse(text) {
        Ok(key) => {
            assert_eq!(key.expose_secret(), text);
            assert_eq!(key.hint(), &text[text.len() - 4..]);
            assert!(!format!("{key:?}").contains(text), "Debug prints the key");
            for env in ENVIRONMENTS {
                match ApiKey::parse_for(text, env) {
                    Ok(again) => {
                        assert_eq!(env, key.environment());
                        assert_eq!(again, key);
                    }
                    Err(err) => {
                        assert_ne!(env, key.environment());
                        assert_eq!(
                            err,
                            KeyError::WrongEnvironment {
                                key: key.environment()
                            }
                        );
                    }
                }
            }
            let hash = key.hash();
            assert_eq!(KeyHash::from_hex(hash.to_hex().as_str()), Some(hash));
        }
        Err(err) => {
            for env in ENVIRONMENTS {
                assert_eq!(ApiKey::parse_for(text, env), Err(err));
            }
            // The message is fixed per variant: it never quotes what was presented.
            if text.starts_with("ck_") && text.len() >= 12 {
                assert!(!err.to_string().contains(text), "an error echoes the key");
            }
        }
    }
    match KeyHash::from_hex(text) {
        Some(hash) => {
            assert_eq!(text.len(), 64);
            assert_eq!(hash.to_hex().as_str(), text.to_ascii_lowercase());
            assert_eq!(KeyHash::from_bytes(*hash.as_bytes()), hash);
        }
        None => assert!(text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit())),
    }
}

fuzz_target!(|input: Input<'_>| match input {
    Input::Text(text) => check_text(text),
    Input::Flipped {
        test,
        random,
        at,
        byte,
    } => {
        let env = if test {
            Environment::Test
        } else {
            Environment::Live
        };
        let Ok(key) = ApiKey::generate(env, &random) else {
            return;
        };
        let secret = key.expose_secret();
        assert_eq!(ApiKey::parse_for(secret, env).as_ref(), Ok(&key));
        let mut bytes = secret.as_bytes().to_vec();
        let at = usize::from(at) % bytes.len();
        if bytes[at] == byte {
            return;
        }
        bytes[at] = byte;
        if let Ok(changed) = std::str::from_utf8(&bytes) {
            assert!(
                ApiKey::parse(changed).is_err(),
                "a one-byte change passed the checksum"
            );
            check_text(changed);
        }
    }
});
