//! The authoritative answer for a key's mutable state, at every location: one Durable Object
//! per key id (class `KeyState`, binding `KEY_STATE`).
//!
//! The object answers, in one hop, "is this key still revoked-or-not, and with which creator
//! role" — read from D1 (the source of truth) and cached in the object — and admits the request
//! under the key's limits: its rate ([`SlidingWindow`]) and its quota ([`QuotaCounter`]), both
//! persisted in the object's storage so a restart cannot reset a limit (keyscope-ratelimit's
//! [`Limits::admit`] judges and counts).
//!
//! Writes that change a key's state (revocation, its creator's role change or removal, its
//! allow-list or limits) bracket
//! their D1 batch with [`KeyStateClient::begin`] and [`KeyStateClient::commit`]:
//!
//! 1. `begin` records a lease (persisted) and drops the cached state. While any lease is
//!    unexpired the object reads D1 on every check and caches nothing, so no check can cache a
//!    read taken before the write committed.
//! 2. the D1 batch commits;
//! 3. `commit` releases the lease and drops the cache again: the next check reads D1 afresh.
//!
//! If `begin` fails, the write is not made (nothing changed). If `commit` fails, the lease
//! simply expires after [`LEASE_MS`] and the object goes back to caching — decisions were on D1's
//! state all along. A check that cannot read D1 answers `503` (the gateway then denies
//! `503 unavailable`): never fail open.
//!
//! - this file: what the object answers (the wire types both sides read);
//! - `client.rs`: the caller's side, one stub per key id;
//! - `object.rs`: the object itself — state, limits, the organization's cap, usage;
//! - `storage.rs`: its raw storage writes (the deferred `put`, the alarm).

mod client;
mod object;
mod storage;

use keyscope_ratelimit::Counts as LimitCounts;
use policy_core::{Exceeded, Timestamp};
use serde::{Deserialize, Serialize};

pub use client::KeyStateClient;
pub use object::{lease_batch, KeyState};

/// How long a write's lease keeps the object reading D1 on every check, at most. D1 queries
/// time out well within it, so a lease that was never released cannot outlive its write.
pub const LEASE_MS: i64 = 60_000;

/// A key's mutable state as D1 holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MutableState {
    /// When the key was (or will be) revoked.
    pub revoked_at: Option<Timestamp>,
    /// The creator's current role in the key's organization; `None` once removed.
    pub role: Option<String>,
    /// The key's `controls` column (allow-list, rate, quota, projects beyond one), which a
    /// change can rewrite: the isolate's cached key is brought up to it.
    #[serde(default)]
    pub controls: Option<String>,
}

/// The answer to one check.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// The key's state, or `None` when D1 has no key with this id.
    pub state: Option<MutableState>,
    /// The rate-limit admission.
    pub admission: Admission,
}

/// What the limiter said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Admission {
    /// No limit was asked for (disabled, or the key is unknown).
    NotAsked,
    /// Admitted at this time (a denial refunds it with [`KeyStateClient::refund`]).
    Admitted {
        /// The time the counters recorded.
        at: Timestamp,
        /// The counters after the request (for the `RateLimit` header field).
        counts: CountsWire,
    },
    /// Over a limit: retry after this many seconds.
    Limited {
        /// `Retry-After`, in seconds.
        retry_after: u32,
        /// The limit reached.
        limit: Exceeded,
        /// The counters (the request not counted).
        counts: CountsWire,
    },
}

/// keyscope-ratelimit's counts as the object answers them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountsWire {
    in_second: u32,
    oldest_in_second: Option<i64>,
    in_period: u64,
}

impl From<LimitCounts> for CountsWire {
    fn from(c: LimitCounts) -> CountsWire {
        CountsWire {
            in_second: c.in_second,
            oldest_in_second: c.oldest_in_second.map(Timestamp::millis),
            in_period: c.in_period,
        }
    }
}

impl From<CountsWire> for LimitCounts {
    fn from(c: CountsWire) -> LimitCounts {
        LimitCounts {
            in_second: c.in_second,
            oldest_in_second: c.oldest_in_second.map(Timestamp),
            in_period: c.in_period,
        }
    }
}

/// A write's lease on a key's state, released by [`KeyStateClient::commit`].
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Lease {
    /// When the lease expires (Unix ms); identifies it.
    pub until: i64,
}
