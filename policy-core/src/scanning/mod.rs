//! GitHub secret scanning: the partner protocol's pure half.
//!
//! ```text
//!   POST body (raw bytes), Github-Public-Key-Identifier, Github-Public-Key-Signature
//!        │
//!        ▼
//!   ReportLimits::check_size ── refuse an oversize body before hashing it (413)
//!        │
//!        ▼
//!   PublicKeySet::verify ── base64 → DER ECDSA P-256/SHA-256 over the raw body   (offline)
//!        │ Ok
//!        ▼
//!   parse_report ── JSON array of {token, type, url, source}, bounded by ReportLimits
//!        │
//!        ▼  per token
//!   classify ── not a well-formed key of this environment → false positive, no store read
//!        │ Candidate(KeyHash)
//!        ▼
//!   caller looks the hash up; a found key → LeakAction::effect_on(record, flagged_at, now)
//!        │                                   (the change + its audit event, in one batch)
//!        ▼
//!   FeedbackEntry::verdict(token, classification, found) → feedback_json ── [{"token_hash","token_type","label"}] (the raw token is never echoed)
//! ```
//!
//! Behind the `scanning` cargo feature: it carries P-256 arithmetic, which the npm package's
//! wasm does not need.

pub mod keys;
pub mod leak;
pub mod report;
pub mod signature;

pub use keys::{KeySetCache, RefreshNeed, KEY_SET_MAX_AGE_MS, KEY_SET_MIN_FETCH_INTERVAL_MS};
pub use leak::{LeakAction, LeakActionError, LeakEffect};
pub use report::{
    classify, feedback_json, parse_report, token_hash, Classification, FeedbackEntry, Label, ReportError,
    ReportLimits, ReportedToken,
};
pub use signature::{KeySetError, PublicKeySet, SignatureError, KEY_IDENTIFIER_HEADER, SIGNATURE_HEADER};
