//! The API key format: `<prefix>_live_` / `<prefix>_test_`, a 30-character base62 body, a
//! 6-character base62 CRC-32 checksum. The prefix is the policy's `keyPrefix` (default `ck`,
//! giving 44 characters in all).
//!
//! Everything here is offline: a malformed key, a failed checksum, a key of another prefix or
//! of the other environment is rejected before any store is asked.
//!
//! - this file: the key itself, its hash and its hint.
//! - `prefix.rs`: the deployment's key prefix.
//! - `record.rs`: what the stores hold about a key (its record, scope and times).
//! - `projects.rs`, `cidr.rs`, `limits.rs`: the key's controls (its projects, address
//!   allow-list, rate and quota).

pub mod cidr;
pub mod limits;
pub mod prefix;
pub mod projects;
pub mod record;

use core::fmt;

use sha2::{Digest, Sha256};

pub use prefix::{InvalidPrefix, KeyPrefix, MAX_PREFIX_LEN};

/// Total length of a key string with the default prefix `ck`.
pub const KEY_LEN: usize = 44;
/// Length of the environment mark after the prefix (`_live_` / `_test_`).
pub const MARK_LEN: usize = 6;
/// Length of the random body.
pub const BODY_LEN: usize = 30;
/// Length of the checksum suffix.
pub const CHECKSUM_LEN: usize = 6;
/// Length of the longest key: a 12-character prefix, the mark, the body and the checksum.
pub const MAX_KEY_LEN: usize = MAX_PREFIX_LEN + MARK_LEN + BODY_LEN + CHECKSUM_LEN;
/// Length of the hint shown in key lists (the last characters of the key).
pub const HINT_LEN: usize = 4;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// The largest multiple of 62 that fits in a byte: bytes at or above it are rejected so that
/// every base62 character is equally likely.
const UNBIASED_LIMIT: u8 = 248;

/// The length of a key under `prefix`.
pub const fn key_len(prefix: &KeyPrefix) -> usize {
    prefix.len() + MARK_LEN + BODY_LEN + CHECKSUM_LEN
}

/// The environment a key belongs to; a deployment serves exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Environment {
    /// Production keys, `<prefix>_live_`.
    #[default]
    Live,
    /// Test keys, `<prefix>_test_`.
    Test,
}

impl Environment {
    /// The mark between the prefix and the body: `_live_` or `_test_`.
    pub const fn mark(self) -> &'static str {
        match self {
            Environment::Live => "_live_",
            Environment::Test => "_test_",
        }
    }

    /// The environment's name as written in configuration and vectors (`live` / `test`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Environment::Live => "live",
            Environment::Test => "test",
        }
    }

    /// Parses `live` or `test`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "live" => Some(Environment::Live),
            "test" => Some(Environment::Test),
            _ => None,
        }
    }

    fn from_mark(mark: &[u8]) -> Option<Self> {
        match mark {
            b"_live_" => Some(Environment::Live),
            b"_test_" => Some(Environment::Test),
            _ => None,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a presented string is not a usable key. Every variant answers `401 invalid_key`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The key does not have the length of this deployment's keys.
    WrongLength,
    /// The key does not start with `<prefix>_live_` or `<prefix>_test_`.
    UnknownPrefix,
    /// The body or checksum holds a character outside `0-9A-Za-z`.
    BadCharacter,
    /// The checksum does not match the prefix and body.
    ChecksumMismatch,
    /// The key is well formed but belongs to the environment this deployment does not serve.
    WrongEnvironment {
        /// The environment the key was issued for.
        key: Environment,
    },
}

impl KeyError {
    /// A stable machine-readable code (`wrong_length`, `unknown_prefix`, `bad_character`,
    /// `checksum_mismatch`, `wrong_environment`), for adapters that expose key errors.
    pub const fn code(&self) -> &'static str {
        match self {
            KeyError::WrongLength => "wrong_length",
            KeyError::UnknownPrefix => "unknown_prefix",
            KeyError::BadCharacter => "bad_character",
            KeyError::ChecksumMismatch => "checksum_mismatch",
            KeyError::WrongEnvironment { .. } => "wrong_environment",
        }
    }
}

impl core::error::Error for KeyError {}

impl core::error::Error for GenerateError {}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::WrongLength => {
                f.write_str("the API key does not have the length of this deployment's keys")
            }
            KeyError::UnknownPrefix => {
                f.write_str("the API key does not start with this deployment's prefix and _live_ or _test_")
            }
            KeyError::BadCharacter => {
                f.write_str("an API key holds only the characters 0-9, A-Z and a-z after its prefix")
            }
            KeyError::ChecksumMismatch => f.write_str("the API key's checksum does not match"),
            KeyError::WrongEnvironment { key } => {
                write!(
                    f,
                    "the API key is a {key} key, and this deployment does not serve {key} keys"
                )
            }
        }
    }
}

/// Why [`ApiKey::generate`] could not make a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GenerateError {
    /// The random bytes supplied did not yield 30 unbiased base62 characters (each byte is
    /// accepted with probability 248/256; 64 bytes fail with probability below 10^-30).
    InsufficientEntropy,
}

impl fmt::Display for GenerateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not enough random bytes to generate an API key; supply at least 64")
    }
}

/// A syntactically valid API key whose checksum matched. Holds the key text inline; never
/// printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    text: [u8; MAX_KEY_LEN],
    len: u8,
    environment: Environment,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // INVARIANT: the secret never reaches a log through Debug.
        f.debug_struct("ApiKey")
            .field("environment", &self.environment)
            .field("hint", &self.hint())
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    /// Parses and validates a key of the default prefix `ck` offline; see
    /// [`ApiKey::parse_with`].
    pub fn parse(text: &str) -> Result<ApiKey, KeyError> {
        ApiKey::parse_with(text, &KeyPrefix::DEFAULT)
    }

    /// Parses and validates a key of `prefix` offline: length, prefix, alphabet and checksum.
    /// The environment is not checked here; see [`ApiKey::parse_for_with`].
    pub fn parse_with(text: &str, prefix: &KeyPrefix) -> Result<ApiKey, KeyError> {
        let bytes = text.as_bytes();
        let head = prefix.len();
        if bytes.len() != key_len(prefix) {
            return Err(KeyError::WrongLength);
        }
        let (start, rest) = bytes.split_at(head);
        if start != prefix.as_str().as_bytes() {
            return Err(KeyError::UnknownPrefix);
        }
        let (mark, tail) = rest.split_at(MARK_LEN);
        let environment = Environment::from_mark(mark).ok_or(KeyError::UnknownPrefix)?;
        if !tail.iter().all(u8::is_ascii_alphanumeric) {
            return Err(KeyError::BadCharacter);
        }
        let (signed, sum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
        if sum != checksum(signed) {
            return Err(KeyError::ChecksumMismatch);
        }
        let mut stored = [0u8; MAX_KEY_LEN];
        stored
            .get_mut(..bytes.len())
            .ok_or(KeyError::WrongLength)?
            .copy_from_slice(bytes);
        Ok(ApiKey {
            text: stored,
            len: bytes.len() as u8,
            environment,
        })
    }

    /// Parses a key of the default prefix and requires it to belong to `environment`.
    pub fn parse_for(text: &str, environment: Environment) -> Result<ApiKey, KeyError> {
        ApiKey::parse_for_with(text, &KeyPrefix::DEFAULT, environment)
    }

    /// Parses a key of `prefix` and requires it to belong to `environment`.
    pub fn parse_for_with(
        text: &str,
        prefix: &KeyPrefix,
        environment: Environment,
    ) -> Result<ApiKey, KeyError> {
        let key = ApiKey::parse_with(text, prefix)?;
        if key.environment != environment {
            return Err(KeyError::WrongEnvironment { key: key.environment });
        }
        Ok(key)
    }

    /// Makes a new key of the default prefix; see [`ApiKey::generate_with`].
    pub fn generate(environment: Environment, random: &[u8]) -> Result<ApiKey, GenerateError> {
        ApiKey::generate_with(&KeyPrefix::DEFAULT, environment, random)
    }

    /// Makes a new key of `prefix` for `environment` from caller-supplied CSPRNG bytes (this
    /// crate has no RNG of its own). Bytes are consumed left to right with rejection sampling,
    /// so the body is uniform over base62; 64 bytes are always enough in practice.
    pub fn generate_with(
        prefix: &KeyPrefix,
        environment: Environment,
        random: &[u8],
    ) -> Result<ApiKey, GenerateError> {
        let mut text = [0u8; MAX_KEY_LEN];
        let head = prefix.len() + MARK_LEN;
        let len = key_len(prefix);
        let start = prefix.as_str().bytes().chain(environment.mark().bytes());
        for (slot, byte) in text.iter_mut().zip(start) {
            *slot = byte;
        }
        let body = random
            .iter()
            .filter(|&&byte| byte < UNBIASED_LIMIT)
            .filter_map(|&byte| BASE62.get(usize::from(byte % 62)).copied());
        let mut filled = 0;
        for (slot, digit) in text.iter_mut().skip(head).take(BODY_LEN).zip(body) {
            *slot = digit;
            filled += 1;
        }
        if filled < BODY_LEN {
            return Err(GenerateError::InsufficientEntropy);
        }
        let sum = checksum(text.get(..head + BODY_LEN).unwrap_or_default());
        for (slot, digit) in text.iter_mut().skip(head + BODY_LEN).zip(sum) {
            *slot = digit;
        }
        Ok(ApiKey {
            text,
            len: len as u8,
            environment,
        })
    }

    /// The key's environment.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The whole key string. Show it once, at creation; never store or log it.
    pub fn expose_secret(&self) -> &str {
        // INVARIANT: `text` holds only ASCII (prefix + base62), so this never fails.
        self.text
            .get(..usize::from(self.len))
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// The last four characters, shown in key lists so a user can tell keys apart.
    pub fn hint(&self) -> &str {
        let secret = self.expose_secret();
        secret.get(secret.len().saturating_sub(HINT_LEN)..).unwrap_or("")
    }

    /// The SHA-256 of the whole key string: the only form in which a key is stored.
    pub fn hash(&self) -> KeyHash {
        KeyHash(Sha256::digest(self.text.get(..usize::from(self.len)).unwrap_or_default()).into())
    }
}

/// CRC-32 (IEEE) of `data`, written as six base62 digits, most significant first.
fn checksum(data: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut value = crc32fast::hash(data);
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62.get((value % 62) as usize).copied().unwrap_or(b'0');
        value /= 62;
    }
    out
}

/// The SHA-256 of a key: the lookup key of every store.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash([u8; 32]);

impl KeyHash {
    /// Wraps raw digest bytes (e.g. read back from a store).
    pub const fn from_bytes(bytes: [u8; 32]) -> KeyHash {
        KeyHash(bytes)
    }

    /// Parses 64 hex digits (either case), as used when importing keys by hash.
    pub fn from_hex(text: &str) -> Option<KeyHash> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(KeyHash(bytes))
    }

    /// The digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, without allocating.
    pub fn to_hex(&self) -> HexHash {
        let mut out = [0u8; 64];
        // INVARIANT: 32 bytes always encode into exactly 64 hex digits.
        let _ = hex::encode_to_slice(self.0, &mut out);
        HexHash(out)
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyHash({})", self.to_hex().as_str())
    }
}

/// A key hash as 64 lowercase hex digits, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HexHash([u8; 64]);

impl HexHash {
    /// The hex digits as a string slice.
    pub fn as_str(&self) -> &str {
        // INVARIANT: filled by hex::encode_to_slice, ASCII only.
        core::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for HexHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for HexHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_zlib_crc32_in_base62() {
        // crc32("ck_live_" + 30 zeros) computed independently, then base62-encoded by hand.
        let data = b"ck_live_000000000000000000000000000000";
        let crc = crc32fast::hash(data);
        let mut n = crc as u64;
        let mut digits = [0u8; 6];
        for d in digits.iter_mut().rev() {
            *d = BASE62[(n % 62) as usize];
            n /= 62;
        }
        assert_eq!(checksum(data), digits);
        // A known value: CRC-32 of "123456789" is 0xCBF43926 = 3421780262.
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
        assert_eq!(&checksum(b"123456789"), b"3jZRME");
    }

    #[test]
    fn generate_parse_round_trip() {
        let random: [u8; 64] = core::array::from_fn(|i| (i * 7) as u8);
        let key = ApiKey::generate(Environment::Test, &random).expect("64 bytes suffice");
        let text = key.expose_secret();
        assert_eq!(text.len(), KEY_LEN);
        assert!(text.starts_with("ck_test_"));
        assert_eq!(ApiKey::parse(text), Ok(key.clone()));
        assert_eq!(
            ApiKey::parse_for(text, Environment::Live),
            Err(KeyError::WrongEnvironment {
                key: Environment::Test
            })
        );
    }

    #[test]
    fn too_few_random_bytes_is_an_error() {
        assert_eq!(
            ApiKey::generate(Environment::Live, &[255u8; 64]),
            Err(GenerateError::InsufficientEntropy)
        );
        assert_eq!(
            ApiKey::generate(Environment::Live, &[1u8; 29]),
            Err(GenerateError::InsufficientEntropy)
        );
    }

    #[test]
    fn hash_is_sha256_of_the_key_text() {
        let key = ApiKey::generate(Environment::Live, &[5u8; 64]).expect("enough");
        let expected: [u8; 32] = Sha256::digest(key.expose_secret().as_bytes()).into();
        assert_eq!(key.hash().as_bytes(), &expected);
        let hex = key.hash().to_hex();
        assert_eq!(KeyHash::from_hex(hex.as_str()), Some(key.hash()));
        assert!(hex
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = ApiKey::generate(Environment::Live, &[9u8; 64]).expect("enough");
        let shown = alloc::format!("{key:?}");
        assert!(!shown.contains(&key.expose_secret()[8..8 + BODY_LEN]));
    }

    #[test]
    fn a_deployment_prefix_round_trips_and_refuses_other_prefixes() {
        let acme = KeyPrefix::parse("acme").expect("valid");
        let key = ApiKey::generate_with(&acme, Environment::Live, &[3u8; 64]).expect("enough");
        let text = key.expose_secret();
        assert_eq!(text.len(), 46);
        assert!(text.starts_with("acme_live_"));
        assert_eq!(ApiKey::parse_with(text, &acme), Ok(key.clone()));
        assert_eq!(ApiKey::parse(text), Err(KeyError::WrongLength));
        let ck = ApiKey::generate(Environment::Live, &[3u8; 64]).expect("enough");
        assert_eq!(
            ApiKey::parse_with(ck.expose_secret(), &acme),
            Err(KeyError::WrongLength)
        );
        // Same length, other prefix: refused by its prefix, not its checksum.
        let abcd = KeyPrefix::parse("abcd").expect("valid");
        let other = ApiKey::generate_with(&abcd, Environment::Live, &[3u8; 64]).expect("enough");
        assert_eq!(
            ApiKey::parse_with(other.expose_secret(), &acme),
            Err(KeyError::UnknownPrefix)
        );
        // The longest prefix fits.
        let long = KeyPrefix::parse("abcdefghijkl").expect("valid");
        let key = ApiKey::generate_with(&long, Environment::Test, &[9u8; 64]).expect("enough");
        assert_eq!(key.expose_secret().len(), MAX_KEY_LEN);
        assert_eq!(key.hint().len(), HINT_LEN);
        assert_eq!(
            ApiKey::parse_for_with(key.expose_secret(), &long, Environment::Test),
            Ok(key)
        );
    }
}
