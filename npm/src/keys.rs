//! The key helpers: generating a key and a key id from the caller's random bytes, validating a
//! key offline, checking a key hash's form, and the headers that carry a key. The key itself
//! never appears in an error.

use policy_core::{
    key_id, ApiKey, Environment, KeyHash, KeyPrefix, AUTHORIZATION_HEADER, BEARER_SCHEME, KEY_HEADER,
    KEY_HEADER_NAME, KEY_ID_RANDOM_BYTES,
};
use wasm_bindgen::prelude::*;

use crate::error::named_error;

/// The key prefix `prefix` names (`ck` when absent); a `TypeError` for an invalid one.
fn prefix_of(prefix: Option<String>) -> Result<KeyPrefix, JsValue> {
    match prefix.as_deref() {
        None => Ok(KeyPrefix::DEFAULT),
        Some(text) => KeyPrefix::parse(text)
            .map_err(|e| named_error("TypeError", &format!("key prefix {text:?}: {e}"), None)),
    }
}

/// A new key of `prefix` (default `ck`) for `environment` (`live` / `test`) from `random` (at
/// least 64 bytes from a CSPRNG, e.g. `crypto.getRandomValues`), as `[secret, hash, hint]`.
#[wasm_bindgen(js_name = generateKey)]
pub fn generate_key(
    environment: &str,
    random: &[u8],
    prefix: Option<String>,
) -> Result<Vec<String>, JsValue> {
    let environment = Environment::from_name(environment)
        .ok_or_else(|| named_error("TypeError", &format!("unknown environment {environment:?}"), None))?;
    let prefix = prefix_of(prefix)?;
    let key = ApiKey::generate_with(&prefix, environment, random)
        .map_err(|e| named_error("RangeError", &e.to_string(), None))?;
    Ok(key_parts(&key))
}

/// Validates `text` offline as a key of `prefix` (default `ck`): length, prefix, alphabet,
/// checksum, and the environment when given; returns `[secret, hash, hint, environment]`. Throws an `Error` named `KeyError`
/// whose `code` says why (`wrong_length`, `unknown_prefix`, `bad_character`,
/// `checksum_mismatch`, `wrong_environment`); the message never echoes the key.
#[wasm_bindgen(js_name = parseKey)]
pub fn parse_key(
    text: &str,
    environment: Option<String>,
    prefix: Option<String>,
) -> Result<Vec<String>, JsValue> {
    let prefix = prefix_of(prefix)?;
    let parsed = match environment.as_deref() {
        None => ApiKey::parse_with(text, &prefix),
        Some(name) => {
            let environment = Environment::from_name(name)
                .ok_or_else(|| named_error("TypeError", &format!("unknown environment {name:?}"), None))?;
            ApiKey::parse_for_with(text, &prefix, environment)
        }
    };
    let key = parsed.map_err(|e| named_error("KeyError", &e.to_string(), Some(("code", e.code()))))?;
    let mut parts = key_parts(&key);
    parts.push(key.environment().as_str().to_owned());
    Ok(parts)
}

/// Whether `hash` is a well-formed key hash (64 hex digits).
#[wasm_bindgen(js_name = isKeyHash)]
pub fn is_key_hash(hash: &str) -> bool {
    KeyHash::from_hex(hash).is_some()
}

/// A new key id (`key_` and 24 hex digits) from `random`: exactly `keyIdBytes()` bytes from a
/// CSPRNG. Throws a `RangeError` for another length.
#[wasm_bindgen(js_name = newKeyId)]
pub fn new_key_id(random: &[u8]) -> Result<String, JsValue> {
    let bytes: &[u8; KEY_ID_RANDOM_BYTES] = random.try_into().map_err(|_| {
        named_error(
            "RangeError",
            &format!(
                "a key id takes {KEY_ID_RANDOM_BYTES} random bytes, not {}",
                random.len()
            ),
            None,
        )
    })?;
    Ok(key_id(bytes))
}

/// How many random bytes `newKeyId` takes.
#[wasm_bindgen(js_name = keyIdBytes)]
pub fn key_id_bytes() -> usize {
    KEY_ID_RANDOM_BYTES
}

/// The headers that carry a key, as policy-core names them: `[the key header (lower case), its
/// written form, the Authorization header (lower case), the Bearer scheme]`.
#[wasm_bindgen(js_name = keyHeaders)]
pub fn key_headers() -> Vec<String> {
    [KEY_HEADER, KEY_HEADER_NAME, AUTHORIZATION_HEADER, BEARER_SCHEME]
        .map(str::to_owned)
        .to_vec()
}

/// `[secret, hash, hint]`: what `generateKey` and `parseKey` answer with.
fn key_parts(key: &ApiKey) -> Vec<String> {
    vec![
        key.expose_secret().to_owned(),
        key.hash().to_hex().as_str().to_owned(),
        key.hint().to_owned(),
    ]
}
