//! keyscope for JavaScript: a thin wasm-bindgen adapter over `policy-core`.
//!
//! The compiled policy stays inside wasm; a decision crosses the boundary as a handful of
//! strings and small integers. The JavaScript half of the package (`npm/js/`) drives the
//! sans-I/O loop with the caller's async store, and adds key helpers and middleware. No
//! decision rule lives here: every answer comes from `policy_core`.
//!
//! One concern a module: `protocol` the numbers and name lists both halves read; `engine` the
//! engine and its decision slots; `lookup` the store's answers; `outcome` a finished decision's
//! result; `record` key records; `keys` the key helpers; `lifecycle` the key lifecycle plans and
//! what a key list shows; `me` the integration's `/me` check; `webhook` a receiver's check of an
//! event webhook's signature; `error` errors as JavaScript sees them.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod engine;
mod error;
mod keys;
mod lifecycle;
mod limits;
mod lookup;
mod me;
mod outcome;
mod protocol;
mod record;
mod webhook;

pub use engine::{align_policy_json, Engine};
pub use keys::{generate_key, is_key_hash, key_headers, key_id_bytes, new_key_id, parse_key};
pub use me::{check_me_answer, me_url_of};
pub use protocol::{codec, denial_fields, methods, record_fields, Step};
pub use record::KeyRecord;
pub use webhook::verify_webhook_signature;
