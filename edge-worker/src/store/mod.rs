//! The stores: D1 (the source of truth), KV (hot-path projections of D1 rows) and the
//! `KeyState` Durable Objects (each key's authoritative mutable state and rate-limit window).
//!
//! | module | job |
//! |---|---|
//! | [`layout`] | every binding, KV key name and D1 query, named once |
//! | [`rows`] | D1 rows and KV values ↔ `KeyRecord` |
//! | [`read`] | the hot path's reads (KV or D1) |
//! | [`write`] | the write path: plans applied as one D1 batch, then projections |
//! | [`keystate`] | the Durable Object and its client |
//! | [`sessions`] | the key console's links and sessions |

use std::fmt;

pub mod keystate;
pub mod layout;
pub mod read;
pub mod rows;
pub mod sessions;
pub mod usage;
pub mod write;

/// Why a store could not answer or apply a change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// A binding is missing from the deployment.
    Unbound(&'static str),
    /// KV answered with an error.
    Kv(String),
    /// D1 answered with an error, or a row that does not fit the schema.
    D1(String),
    /// A key's Durable Object failed or answered something else.
    KeyState(String),
    /// A write collided with an existing key id or hash.
    Conflict(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unbound(binding) => write!(f, "the {binding} binding is not configured"),
            StoreError::Kv(err) => write!(f, "KV: {err}"),
            StoreError::D1(err) => write!(f, "D1: {err}"),
            StoreError::KeyState(err) => write!(f, "key state: {err}"),
            StoreError::Conflict(err) => write!(f, "conflict: {err}"),
        }
    }
}

impl std::error::Error for StoreError {}
