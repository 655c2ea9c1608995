//! Usage per key and hour: what a key's Durable Object counts for every request it sees (allowed,
//! and denied by reason), keeps until it is written to D1 in one batch, and what the admin API
//! reads back by hour or day.
//!
//! Counting is where the request already goes: the object's check counts the request as allowed
//! when it answers; a request denied after that is moved to its reason by the refund the gateway
//! already sends off the answer's path ([`Outcome`]). Unknown keys are never counted (they reach
//! no object). The counts ride the object's deferred storage write with its limit counters, so a
//! restart loses at most the same 50 ms; they are written to D1 by the object's alarm
//! ([`WRITE_AFTER_MS`] after the first count since the last write), as additions, so a write
//! that fails is tried again with the counts that accumulated meanwhile.

use std::collections::BTreeMap;

use policy_core::{Reason, Timestamp};
use serde::{Deserialize, Serialize};

/// One hour, in Unix milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
/// One day, in Unix milliseconds.
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// How long usage is kept in D1.
pub const RETENTION_MS: i64 = 90 * DAY_MS;
/// How long after its first uncommitted count an object writes its usage to D1, at most.
pub const WRITE_AFTER_MS: i64 = 60_000;

/// What a request came to, as usage counts it: allowed, or denied for one of the reasons a
/// known key can be denied for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Allowed.
    Allowed,
    /// `401 key_revoked`.
    KeyRevoked,
    /// `403 scope_violation`.
    ScopeViolation,
    /// `403 forbidden`.
    Forbidden,
    /// `404 not_found`.
    NotFound,
    /// `429 rate_limited`.
    RateLimited,
    /// `503 unavailable`.
    Unavailable,
}

impl Outcome {
    /// Every outcome, in the order of [`Counts`] and the `key_usage` columns.
    pub const ALL: [Outcome; 7] = [
        Outcome::Allowed,
        Outcome::KeyRevoked,
        Outcome::ScopeViolation,
        Outcome::Forbidden,
        Outcome::NotFound,
        Outcome::RateLimited,
        Outcome::Unavailable,
    ];

    /// The column (and the reason code of a denial).
    pub const fn name(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::KeyRevoked => "key_revoked",
            Outcome::ScopeViolation => "scope_violation",
            Outcome::Forbidden => "forbidden",
            Outcome::NotFound => "not_found",
            Outcome::RateLimited => "rate_limited",
            Outcome::Unavailable => "unavailable",
        }
    }

    /// The outcome of a request denied with `reason`; `None` for the reasons no known key's
    /// request is counted under (no key, an invalid one) — and for the gateway's own answers to
    /// an allowed request (an origin that failed, a body it cannot forward), which count as
    /// allowed.
    pub const fn of_denial(reason: Reason) -> Option<Outcome> {
        match reason {
            Reason::KeyRevoked => Some(Outcome::KeyRevoked),
            Reason::ScopeViolation => Some(Outcome::ScopeViolation),
            Reason::Forbidden => Some(Outcome::Forbidden),
            Reason::NotFound => Some(Outcome::NotFound),
            Reason::RateLimited => Some(Outcome::RateLimited),
            Reason::Unavailable => Some(Outcome::Unavailable),
            Reason::MissingKey | Reason::InvalidKey => None,
            Reason::BadGateway | Reason::InvalidRequest => Some(Outcome::Allowed),
        }
    }

    /// Adds `n` to this outcome's count in `counts`.
    fn add(self, counts: &mut Counts, n: i64) {
        let index = Outcome::ALL.iter().position(|&o| o == self);
        if let Some(count) = index.and_then(|i| counts.get_mut(i)) {
            *count += n;
        }
    }
}

/// How usage is read back: by hour or by UTC day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// One bucket per hour.
    Hour,
    /// One bucket per UTC day.
    Day,
}

impl Granularity {
    /// A bucket's length in milliseconds.
    pub const fn millis(self) -> i64 {
        match self {
            Granularity::Hour => HOUR_MS,
            Granularity::Day => DAY_MS,
        }
    }

    /// `hour` or `day`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
        }
    }

    /// The start of the bucket that holds `at`.
    pub fn start_of(self, at: i64) -> i64 {
        at.div_euclid(self.millis()) * self.millis()
    }
}

/// One bucket of a key's usage as the admin API and the console show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    /// The bucket's start (RFC 3339).
    pub start: String,
    /// Allowed requests.
    pub allowed: i64,
    /// Denied requests, by reason.
    pub denied: serde_json::Map<String, serde_json::Value>,
}

/// Stored hourly rows (`(hour, counts)`, oldest first) as buckets of `granularity`: only
/// buckets with traffic, oldest first.
pub fn buckets(rows: &[(i64, Counts)], granularity: Granularity) -> Vec<Bucket> {
    let mut summed: BTreeMap<i64, Counts> = BTreeMap::new();
    for (hour, counts) in rows {
        let bucket = summed.entry(granularity.start_of(*hour)).or_default();
        for (sum, count) in bucket.iter_mut().zip(counts) {
            *sum += count;
        }
    }
    summed
        .into_iter()
        .filter(|(_, counts)| counts.iter().any(|&c| c != 0))
        .map(|(start, counts)| Bucket {
            start: crate::clock::format_time(Timestamp(start)),
            allowed: counts.first().copied().unwrap_or(0),
            denied: denied_of(&counts),
        })
        .collect()
}

/// The denied counts of `counts` by reason code.
pub fn denied_of(counts: &Counts) -> serde_json::Map<String, serde_json::Value> {
    Outcome::ALL
        .iter()
        .zip(counts)
        .filter(|(o, _)| **o != Outcome::Allowed)
        .map(|(o, &c)| (o.name().to_owned(), c.into()))
        .collect()
}

/// One hour's counts, in [`Outcome::ALL`] order. Pending counts are changes to add to what D1
/// holds: a request recounted after its hour was written makes `allowed` negative there.
pub type Counts = [i64; 7];

/// The start of the hour that holds `at`.
pub fn hour_of(at: Timestamp) -> i64 {
    at.0.div_euclid(HOUR_MS) * HOUR_MS
}

/// A key's counts not yet written to D1, by hour.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    hours: BTreeMap<i64, Counts>,
}

impl Pending {
    /// Nothing pending.
    pub fn is_empty(&self) -> bool {
        self.hours.is_empty()
    }

    /// Counts one request that came to `outcome` at `at`.
    pub fn count(&mut self, outcome: Outcome, at: Timestamp) {
        let counts = self.hours.entry(hour_of(at)).or_default();
        outcome.add(counts, 1);
    }

    /// Moves one request counted as allowed at `at` to `outcome` (it was denied after the
    /// object counted it). If that count was already written, the move is written as a change:
    /// one fewer allowed (D1 never goes below zero), one more denied.
    pub fn recount(&mut self, outcome: Outcome, at: Timestamp) {
        let counts = self.hours.entry(hour_of(at)).or_default();
        outcome.add(counts, 1);
        Outcome::Allowed.add(counts, -1);
        if counts.iter().all(|&c| c == 0) {
            self.hours.remove(&hour_of(at));
        }
    }

    /// The pending counts as stored (oldest hour first).
    pub fn to_hours(&self) -> Vec<(i64, Counts)> {
        self.hours.iter().map(|(h, c)| (*h, *c)).collect()
    }

    /// Pending counts as [`Pending::to_hours`] stored them.
    pub fn from_hours(hours: Vec<(i64, Counts)>) -> Pending {
        Pending {
            hours: hours.into_iter().collect(),
        }
    }

    /// The pending hours and their counts, oldest first.
    pub fn hours(&self) -> impl Iterator<Item = (i64, &Counts)> {
        self.hours.iter().map(|(hour, counts)| (*hour, counts))
    }

    /// Forgets what `written` held (a snapshot taken before a write that succeeded); counts
    /// made since stay pending.
    pub fn written(&mut self, written: &Pending) {
        for (hour, done) in &written.hours {
            if let Some(counts) = self.hours.get_mut(hour) {
                for (count, done) in counts.iter_mut().zip(done) {
                    *count -= *done;
                }
                if counts.iter().all(|&c| c == 0) {
                    self.hours.remove(hour);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 1_764_000_000_000 / HOUR_MS * HOUR_MS;

    #[test]
    fn counts_go_to_their_hour_and_a_denial_moves_one() {
        let mut p = Pending::default();
        p.count(Outcome::Allowed, Timestamp(H + 5));
        p.count(Outcome::Allowed, Timestamp(H + 10));
        p.count(Outcome::RateLimited, Timestamp(H + HOUR_MS));
        p.recount(Outcome::Forbidden, Timestamp(H + 10));
        let hours: Vec<(i64, Counts)> = p.hours().map(|(h, c)| (h, *c)).collect();
        assert_eq!(
            hours,
            vec![(H, [1, 0, 0, 1, 0, 0, 0]), (H + HOUR_MS, [0, 0, 0, 0, 0, 1, 0])]
        );
        assert_eq!(hour_of(Timestamp(H - 1)), H - HOUR_MS);
    }

    #[test]
    fn what_was_written_is_forgotten_and_later_counts_stay() {
        let mut p = Pending::default();
        p.count(Outcome::Allowed, Timestamp(H));
        let snapshot = p.clone();
        p.count(Outcome::Allowed, Timestamp(H + 1));
        p.written(&snapshot);
        assert_eq!(p.hours().map(|(_, c)| c[0]).collect::<Vec<_>>(), vec![1]);
        p.written(&p.clone());
        assert!(p.is_empty());
        // A denial that arrives after its allowed count was written: a change of -1 / +1.
        p.recount(Outcome::NotFound, Timestamp(H));
        assert_eq!(p.hours().next().map(|(_, c)| *c), Some([-1, 0, 0, 0, 1, 0, 0]));
    }

    #[test]
    fn only_a_known_key_s_denials_are_counted_and_forwarding_errors_are_allowed() {
        assert_eq!(Outcome::of_denial(Reason::InvalidKey), None);
        assert_eq!(Outcome::of_denial(Reason::MissingKey), None);
        assert_eq!(Outcome::of_denial(Reason::BadGateway), Some(Outcome::Allowed));
        assert_eq!(
            Outcome::of_denial(Reason::ScopeViolation),
            Some(Outcome::ScopeViolation)
        );
        for o in Outcome::ALL.into_iter().filter(|&o| o != Outcome::Allowed) {
            assert_eq!(
                Outcome::of_denial(match o {
                    Outcome::KeyRevoked => Reason::KeyRevoked,
                    Outcome::ScopeViolation => Reason::ScopeViolation,
                    Outcome::Forbidden => Reason::Forbidden,
                    Outcome::NotFound => Reason::NotFound,
                    Outcome::RateLimited => Reason::RateLimited,
                    Outcome::Unavailable => Reason::Unavailable,
                    Outcome::Allowed => unreachable!(),
                }),
                Some(o)
            );
        }
    }
}
