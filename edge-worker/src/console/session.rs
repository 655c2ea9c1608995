//! Console links and sessions: the one-time link token, the session cookie and the CSRF proof
//! derived from it. Only SHA-256 digests of link tokens and cookies are stored (their rows:
//! [`crate::store::sessions`]); the CSRF proof is stored nowhere.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::keys::error::ServiceError;
use crate::keys::lifecycle::random_bytes;

/// The session cookie's name.
pub const COOKIE: &str = "keyscope_console";
/// How long a one-time link may wait to be opened: 10 minutes.
pub const LINK_LIFETIME_MS: i64 = 10 * 60 * 1000;
/// How long a session lasts from the moment its link is opened: 1 hour.
pub const SESSION_LIFETIME_MS: i64 = 60 * 60 * 1000;
/// The longest return URL a link may carry.
pub const MAX_RETURN_URL: usize = 2048;

/// A fresh secret: 32 bytes from the platform's CSPRNG, as 64 lowercase hex digits.
pub fn new_token() -> Result<String, ServiceError> {
    Ok(hex::encode(random_bytes::<32>()?))
}

/// What is stored of a link token or a session cookie: its SHA-256, lowercase hex.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The CSRF proof of a session: derived from its cookie (a digest the page cannot reverse), so
/// that the page can hold it while the cookie stays `HttpOnly`.
pub fn csrf_proof(session_token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"keyscope console csrf\0");
    hasher.update(session_token.as_bytes());
    hex::encode(hasher.finalize())
}

/// Whether `presented` equals `expected`, compared in constant time (digests first, so that
/// neither the length nor the content leaks).
pub fn same_secret(presented: &str, expected: &str) -> bool {
    let same: bool = Sha256::digest(presented.as_bytes())
        .ct_eq(&Sha256::digest(expected.as_bytes()))
        .into();
    same && !presented.is_empty()
}

/// The session cookie's value in a `Cookie` header, if present and well formed (64 hex digits).
pub fn cookie_value(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| is_token(value))
}

/// Whether `value` has the shape of a token this module makes.
pub fn is_token(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The `Set-Cookie` value that opens a session (`Secure` when served over https).
pub fn set_cookie(token: &str, secure: bool) -> String {
    let max_age = SESSION_LIFETIME_MS / 1000;
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={token}; Path=/console; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

/// Whether a return URL may be carried: an absolute http(s) URL of printable ASCII (no spaces,
/// control characters or raw non-ASCII: percent-encode them), at most [`MAX_RETURN_URL`]
/// characters — exactly what `openapi.json`'s pattern says.
pub fn is_return_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        url.get(8..)
    } else if lower.starts_with("http://") {
        url.get(7..)
    } else {
        None
    };
    url.len() <= MAX_RETURN_URL
        && rest.is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| (b'!'..=b'~').contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn the_cookie_is_found_among_others_and_must_be_a_token() {
        let header = format!("a=b; {COOKIE}={T}; c=d");
        assert_eq!(cookie_value(&header), Some(T));
        assert_eq!(cookie_value(&format!("{COOKIE}=short")), None);
        assert_eq!(cookie_value(&format!("x{COOKIE}={T}")), None);
        assert_eq!(cookie_value(""), None);
    }

    #[test]
    fn the_cookie_is_httponly_strict_and_secure_over_https() {
        let plain = set_cookie(T, false);
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(plain.contains("Path=/console") && !plain.contains("Secure"));
        assert!(set_cookie(T, true).ends_with("; Secure"));
    }

    #[test]
    fn the_csrf_proof_is_derived_and_compared_exactly() {
        let proof = csrf_proof(T);
        assert_ne!(proof, T);
        assert_ne!(proof, digest(T), "the proof is not what the table stores");
        assert!(same_secret(&proof, &proof));
        assert!(!same_secret(&proof[..63], &proof));
        assert!(!same_secret("", ""));
    }

    #[test]
    fn return_urls_are_http_or_https_only() {
        assert!(is_return_url("https://app.example/settings"));
        assert!(is_return_url("HTTP://localhost:3000/"));
        for bad in [
            "javascript:alert(1)",
            "//evil",
            "https://a b",
            "http://",
            "ftp://x",
            "https://bücher.example/",
            "https://",
        ] {
            assert!(!is_return_url(bad), "{bad}");
        }
        assert!(!is_return_url(&format!(
            "https://x/{}",
            "a".repeat(MAX_RETURN_URL)
        )));
    }
}
