//! # keyscope-scanning — GitHub secret scanning, the partner protocol's pure half
//!
//! `no_std` + `alloc`, no I/O. It carries the P-256 arithmetic, which is why it is a crate of its
//! own: policy-core (and so the npm package's wasm) never links it.
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
//!   caller looks the hash up; a found key → LeakResponse::effect_on(policy, record, flagged_at, now)
//!        │                      (policy-core's revocation plan; the change + its audit event, in one batch)
//!        ▼
//!   FeedbackEntry::verdict(token, classification, found) → feedback_json ── [{"token_hash","token_type","label"}] (the raw token is never echoed)
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod leak;
pub mod report;
pub mod signature;

pub use leak::{LeakEffect, LeakResponse, LeakResponseError};
pub use report::{
    classify, feedback_json, parse_report, token_hash, Classification, FeedbackEntry, Label, ReportError,
    ReportLimits, ReportedToken,
};
pub use signature::{KeySetError, PublicKeySet, SignatureError, KEY_IDENTIFIER_HEADER, SIGNATURE_HEADER};
