//! A secret-scanning report (`[{token, type, url, source}, …]`), the offline classification of
//! each token, and the feedback array GitHub accepts in the answer.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use policy_core::{ApiKey, Environment, HexHash, KeyHash, KeyPrefix};

/// One match GitHub found. `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct ReportedToken {
    /// The matched string, as found. Possibly a live key of ours: never log or echo it.
    pub token: String,
    /// The token type GitHub matched, e.g. `keyscope_api_key`; echoed as `token_type`.
    #[serde(rename = "type")]
    pub token_type: String,
    /// Where the token was found (a commit, issue, gist or package URL).
    #[serde(default)]
    pub url: String,
    /// The kind of place it was found in (`content`, `commit`, `pull_request`, `npm`, …).
    #[serde(default)]
    pub source: String,
}

impl fmt::Debug for ReportedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // INVARIANT: the token never reaches a log through Debug.
        f.debug_struct("ReportedToken")
            .field("token_type", &self.token_type)
            .field("url", &self.url)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Bounds on a report, checked before and while parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportLimits {
    /// The largest body accepted, in bytes.
    pub max_bytes: usize,
    /// The most tokens accepted in one report.
    pub max_tokens: usize,
}

impl ReportLimits {
    /// 1 MiB and 1,000 tokens: a 1,000-token report with long URLs is about 300 KB, and each
    /// token may cost the adapter a store read, which bounds the work one request can cause.
    pub const DEFAULT: ReportLimits = ReportLimits {
        max_bytes: 1 << 20,
        max_tokens: 1_000,
    };
}

impl ReportLimits {
    /// Refuses a body longer than `max_bytes`. Call it before verifying the signature, so an
    /// oversize body is never hashed; [`parse_report`] checks it again.
    pub const fn check_size(&self, body_len: usize) -> Result<(), ReportError> {
        if body_len > self.max_bytes {
            Err(ReportError::TooLarge)
        } else {
            Ok(())
        }
    }
}

impl Default for ReportLimits {
    fn default() -> Self {
        ReportLimits::DEFAULT
    }
}

/// Why a report body was refused (after its signature verified). Every variant answers 4xx and
/// changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportError {
    /// The body is larger than [`ReportLimits::max_bytes`] (`413`).
    TooLarge,
    /// The report holds more than [`ReportLimits::max_tokens`] tokens (`413`).
    TooManyTokens,
    /// The body is not a JSON array of `{token, type, …}` objects (`400`).
    Malformed,
    /// The array is empty: nothing to answer (`400`).
    Empty,
}

impl ReportError {
    /// The HTTP status to answer with: `413` for the size limits, `400` otherwise.
    pub const fn status(self) -> u16 {
        match self {
            ReportError::TooLarge | ReportError::TooManyTokens => 413,
            ReportError::Malformed | ReportError::Empty => 400,
        }
    }

    /// A short machine-readable reason, for the adapter's `{"reason","message"}` answer.
    pub const fn reason(self) -> &'static str {
        match self {
            ReportError::TooLarge | ReportError::TooManyTokens => "payload_too_large",
            ReportError::Malformed | ReportError::Empty => "invalid_request",
        }
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReportError::TooLarge => "the report body is larger than this endpoint accepts",
            ReportError::TooManyTokens => "the report holds more tokens than this endpoint accepts at once",
            ReportError::Malformed => {
                "the report body is not a JSON array of {token, type, url, source} objects"
            }
            ReportError::Empty => "the report holds no tokens",
        })
    }
}

impl core::error::Error for ReportError {}

/// Parses a verified report body. Verify the signature first: the body is only trusted after.
pub fn parse_report(raw_body: &[u8], limits: ReportLimits) -> Result<Vec<ReportedToken>, ReportError> {
    limits.check_size(raw_body.len())?;
    let tokens: Vec<ReportedToken> = serde_json::from_slice(raw_body).map_err(|_| ReportError::Malformed)?;
    if tokens.is_empty() {
        return Err(ReportError::Empty);
    }
    if tokens.len() > limits.max_tokens {
        return Err(ReportError::TooManyTokens);
    }
    Ok(tokens)
}

/// What a reported token is, decided offline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classification {
    /// Not a well-formed, checksum-valid key of this deployment's environment: a false positive,
    /// and no store is asked.
    NotOurs,
    /// Could be one of our keys: look this hash up. Found → true positive; not found → false.
    Candidate(KeyHash),
}

/// Classifies a token against the key prefix and the environment this deployment serves: a
/// key of another deployment (another prefix) is not ours.
pub fn classify(token: &str, prefix: &KeyPrefix, environment: Environment) -> Classification {
    match ApiKey::parse_for_with(token, prefix, environment) {
        Ok(key) => Classification::Candidate(key.hash()),
        Err(_) => Classification::NotOurs,
    }
}

/// The SHA-256 of a reported token as lowercase hex: GitHub's `token_hash`. For one of our keys
/// it equals the stored [`KeyHash`] in hex.
pub fn token_hash(token: &str) -> HexHash {
    KeyHash::from_bytes(Sha256::digest(token.as_bytes()).into()).to_hex()
}

/// GitHub's verdict labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// The token is a real key of ours (live, revoked or expired).
    TruePositive,
    /// The token is not a key of ours.
    FalsePositive,
}

/// One element of the answer. Always the hashed form: a raw token is never echoed, ours or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeedbackEntry {
    /// SHA-256 of the reported token, lowercase hex.
    pub token_hash: String,
    /// The `type` GitHub sent.
    pub token_type: String,
    /// The verdict.
    pub label: Label,
}

impl FeedbackEntry {
    /// The verdict on one token: a true positive only if it was a candidate *and* the store
    /// found its hash (`found` is ignored for [`Classification::NotOurs`], which no store saw).
    pub fn verdict(token: &ReportedToken, classification: Classification, found: bool) -> FeedbackEntry {
        let label = match classification {
            Classification::Candidate(_) if found => Label::TruePositive,
            _ => Label::FalsePositive,
        };
        FeedbackEntry::new(token, label)
    }

    /// The feedback for one reported token with a label already decided.
    pub fn new(token: &ReportedToken, label: Label) -> FeedbackEntry {
        FeedbackEntry {
            token_hash: String::from(token_hash(&token.token).as_str()),
            token_type: token.token_type.clone(),
            label,
        }
    }
}

/// Serializes the feedback array, the body of the `200` answer.
pub fn feedback_json(entries: &[FeedbackEntry]) -> String {
    // INVARIANT: plain strings and a unit enum always serialize.
    serde_json::to_string(entries).unwrap_or_else(|_| String::from("[]"))
}
