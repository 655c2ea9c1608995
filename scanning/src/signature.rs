//! Verifying that a secret-scanning report comes from GitHub: an ECDSA P-256 / SHA-256
//! signature, base64 of its ASN.1 DER form, over the raw request body, made with one of the
//! keys GitHub publishes (`{"public_keys":[{"key_identifier","key","is_current"}]}`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;
use serde::Deserialize;

/// The request header naming the key that signed the body.
pub const KEY_IDENTIFIER_HEADER: &str = "Github-Public-Key-Identifier";
/// The request header holding the base64 DER signature.
pub const SIGNATURE_HEADER: &str = "Github-Public-Key-Signature";

/// The longest base64 signature looked at: a DER P-256 signature is at most 72 bytes (96 base64
/// characters); anything much longer is refused before decoding.
const MAX_SIGNATURE_B64: usize = 128;

/// GitHub's published secret-scanning public keys, parsed and ready to verify with.
#[derive(Clone, Debug)]
pub struct PublicKeySet {
    keys: Vec<PublishedKey>,
}

#[derive(Clone, Debug)]
struct PublishedKey {
    identifier: String,
    key: VerifyingKey,
    is_current: bool,
}

#[derive(Deserialize)]
struct KeySetDocument {
    public_keys: Vec<KeyDocument>,
}

#[derive(Deserialize)]
struct KeyDocument {
    key_identifier: String,
    key: String,
    #[serde(default)]
    is_current: bool,
}

/// Why a key-set document (configuration or GitHub's endpoint) was refused. The whole set is
/// refused on any fault, so a deployment never runs on half a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySetError {
    /// The document is not JSON of the shape `{"public_keys":[…]}`.
    Malformed,
    /// `public_keys` is empty: no report could ever verify.
    Empty,
    /// A key is not a PEM `PUBLIC KEY` (SPKI) on the NIST P-256 curve.
    BadKey {
        /// The identifier of the key that failed.
        key_identifier: String,
    },
    /// Two keys share an identifier.
    DuplicateIdentifier {
        /// The repeated identifier.
        key_identifier: String,
    },
}

impl fmt::Display for KeySetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySetError::Malformed => {
                f.write_str("the secret-scanning key set is not JSON of the form {\"public_keys\":[…]}")
            }
            KeySetError::Empty => f.write_str("the secret-scanning key set holds no keys"),
            KeySetError::BadKey { key_identifier } => write!(
                f,
                "the secret-scanning key {key_identifier} is not a PEM P-256 public key"
            ),
            KeySetError::DuplicateIdentifier { key_identifier } => {
                write!(
                    f,
                    "the secret-scanning key identifier {key_identifier} appears twice"
                )
            }
        }
    }
}

impl core::error::Error for KeySetError {}

/// Why a report's signature was not accepted. Every variant means: answer 4xx, change nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The key identifier names no key of the set (refresh the set, then try once more).
    UnknownKeyIdentifier,
    /// The signature header is empty, too long or not standard base64.
    MalformedBase64,
    /// The decoded bytes are not a strict DER ECDSA signature with `r` and `s` in `[1, n-1]`.
    MalformedSignature,
    /// A well-formed signature that does not match the body under the named key.
    Mismatch,
}

impl SignatureError {
    /// The HTTP status to answer with: `401` for every variant (the sender is not proven to be
    /// GitHub), so that nothing is changed and GitHub sees a client error.
    pub const fn status(self) -> u16 {
        401
    }

    /// A short machine-readable reason, for the adapter's `{"reason","message"}` answer.
    pub const fn reason(self) -> &'static str {
        match self {
            SignatureError::UnknownKeyIdentifier => "unknown_key_identifier",
            SignatureError::MalformedBase64 | SignatureError::MalformedSignature => "malformed_signature",
            SignatureError::Mismatch => "bad_signature",
        }
    }
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::UnknownKeyIdentifier => "the report names a signing key GitHub does not publish",
            SignatureError::MalformedBase64 => "the report's signature is not base64",
            SignatureError::MalformedSignature => "the report's signature is not a DER ECDSA P-256 signature",
            SignatureError::Mismatch => "the report's signature does not match its body",
        })
    }
}

impl core::error::Error for SignatureError {}

impl PublicKeySet {
    /// Parses GitHub's key-set document. Unknown fields are ignored (GitHub may add some); every
    /// key must parse, and identifiers must be distinct.
    pub fn from_json(json: &str) -> Result<PublicKeySet, KeySetError> {
        let document: KeySetDocument = serde_json::from_str(json).map_err(|_| KeySetError::Malformed)?;
        if document.public_keys.is_empty() {
            return Err(KeySetError::Empty);
        }
        let mut keys: Vec<PublishedKey> = Vec::with_capacity(document.public_keys.len());
        for entry in document.public_keys {
            if keys.iter().any(|known| known.identifier == entry.key_identifier) {
                return Err(KeySetError::DuplicateIdentifier {
                    key_identifier: entry.key_identifier,
                });
            }
            let Ok(key) = VerifyingKey::from_public_key_pem(entry.key.trim()) else {
                return Err(KeySetError::BadKey {
                    key_identifier: entry.key_identifier,
                });
            };
            keys.push(PublishedKey {
                identifier: entry.key_identifier,
                key,
                is_current: entry.is_current,
            });
        }
        Ok(PublicKeySet { keys })
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no keys (never true for a set built by [`PublicKeySet::from_json`]).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether the set holds a key with this identifier. An adapter that caches the set
    /// refreshes it when a report names an identifier it does not hold.
    pub fn contains(&self, key_identifier: &str) -> bool {
        self.keys.iter().any(|key| key.identifier == key_identifier)
    }

    /// The identifier of the key GitHub marks current, if any.
    pub fn current_identifier(&self) -> Option<&str> {
        self.keys
            .iter()
            .find(|key| key.is_current)
            .map(|key| key.identifier.as_str())
    }

    /// Verifies `signature_b64` (base64 of a DER ECDSA P-256/SHA-256 signature) over the raw
    /// request body with the key named `key_identifier`. Any published key is accepted, current
    /// or not, since GitHub keeps a retiring key listed while reports signed with it are in
    /// flight. Never panics, whatever the input.
    pub fn verify(
        &self,
        key_identifier: &str,
        signature_b64: &str,
        raw_body: &[u8],
    ) -> Result<(), SignatureError> {
        let key = self
            .keys
            .iter()
            .find(|key| key.identifier == key_identifier)
            .ok_or(SignatureError::UnknownKeyIdentifier)?;
        let signature = decode_signature(signature_b64)?;
        key.key
            .verify(raw_body, &signature)
            .map_err(|_| SignatureError::Mismatch)
    }
}

/// Base64 → strict DER → `(r, s)`. High-S signatures are accepted: GitHub's signer does not
/// normalise `s`, and malleability does not matter here (the signature authenticates the body;
/// nothing is keyed on the signature bytes).
fn decode_signature(signature_b64: &str) -> Result<Signature, SignatureError> {
    let text = signature_b64.trim();
    if text.is_empty() || text.len() > MAX_SIGNATURE_B64 {
        return Err(SignatureError::MalformedBase64);
    }
    let der = STANDARD
        .decode(text)
        .map_err(|_| SignatureError::MalformedBase64)?;
    Signature::from_der(&der).map_err(|_| SignatureError::MalformedSignature)
}
