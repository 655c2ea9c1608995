//! When to fetch GitHub's key set again. The adapter fetches (where the deployment allows
//! outbound requests) and keeps the last good set; this decides when, so a flood of reports
//! naming an unknown identifier cannot turn into a flood of fetches.

use crate::record::Timestamp;

/// A set older than this is refreshed on the next report (one hour).
pub const KEY_SET_MAX_AGE_MS: i64 = 60 * 60 * 1000;

/// Fetches are at least this far apart, whatever the reason (one minute).
pub const KEY_SET_MIN_FETCH_INTERVAL_MS: i64 = 60 * 1000;

/// Why a report might need a fresh key set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshNeed {
    /// The report names a key identifier the cached set does not hold (GitHub rotated keys).
    UnknownIdentifier,
    /// The named key is in the set: refresh only if the set is old.
    Routine,
}

/// The cache's state: when the set in use was fetched and when a fetch was last tried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeySetCache {
    /// When the set in use was fetched (`None`: it came from configuration only).
    pub fetched_at: Option<Timestamp>,
    /// When a fetch was last attempted, successful or not.
    pub last_attempt: Option<Timestamp>,
}

impl KeySetCache {
    /// Whether to fetch now. Never more often than [`KEY_SET_MIN_FETCH_INTERVAL_MS`]; then at
    /// once for an unknown identifier, or when the set in use is older than
    /// [`KEY_SET_MAX_AGE_MS`] (or was never fetched). A failed or refused fetch keeps the set in
    /// use: a stale set is better than none, and a report it cannot verify is refused anyway.
    pub fn should_fetch(&self, need: RefreshNeed, now: Timestamp) -> bool {
        if self
            .last_attempt
            .is_some_and(|at| now.millis().saturating_sub(at.millis()) < KEY_SET_MIN_FETCH_INTERVAL_MS)
        {
            return false;
        }
        match (need, self.fetched_at) {
            (RefreshNeed::UnknownIdentifier, _) | (RefreshNeed::Routine, None) => true,
            (RefreshNeed::Routine, Some(at)) => {
                now.millis().saturating_sub(at.millis()) >= KEY_SET_MAX_AGE_MS
            }
        }
    }
}
