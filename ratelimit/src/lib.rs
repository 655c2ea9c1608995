//! # keyscope-ratelimit — per-key limits as arithmetic
//!
//! What a key's requests are held to, as numbers a caller keeps wherever it likes (a Durable
//! Object per key at the edge, a JavaScript map or Redis in the npm package) and asks before
//! forwarding an allowed request. `no_std` + `alloc`, no clock: the caller passes `now`.
//!
//! - this file: [`SlidingWindow`], the exact sliding one-second window of a rate limit;
//! - `calendar`: [`CalendarWindow`], the UTC day or month a quota counts in;
//! - `quota`: [`QuotaCounter`], a quota's count in its window;
//! - `limits`: [`Limits`] (which rate applies, [`rate_in_force`]), one request's admission under
//!   both, its `Retry-After` and denial, and the `RateLimit-Policy` / `RateLimit` header fields
//!   ([`rate_limit_headers`]).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod calendar;
pub mod limits;
pub mod quota;

use alloc::collections::VecDeque;

use policy_core::Timestamp;

pub use calendar::CalendarWindow;
pub use limits::{
    rate_in_force, rate_limit_headers, Admission, Counts, Limit, Limits, RateLimitHeaders, Refusal,
    DEFAULT_PER_SECOND, RATELIMIT_HEADER, RATELIMIT_POLICY_HEADER, RATE_POLICY_NAME, RETRY_AFTER_HEADER,
};
pub use quota::QuotaCounter;

/// The rate window's length in milliseconds: a rate limit is "requests per second".
pub const WINDOW_MS: i64 = 1000;

/// The times of the requests allowed in the last second: at most `limit` requests in any
/// one-second window, exactly (no bursts beyond it, unlike a token bucket). Holds one entry per
/// request allowed within the last second, so its size is bounded by the limit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlidingWindow {
    allowed: VecDeque<Timestamp>,
}

impl SlidingWindow {
    /// An empty window.
    pub fn new() -> SlidingWindow {
        SlidingWindow::default()
    }

    /// A window holding these admission times (as kept by [`SlidingWindow::times`]), oldest
    /// first; a caller persists a window between restarts this way.
    pub fn from_times(times: impl IntoIterator<Item = Timestamp>) -> SlidingWindow {
        let mut allowed: alloc::vec::Vec<Timestamp> = times.into_iter().collect();
        allowed.sort_unstable();
        SlidingWindow {
            allowed: allowed.into(),
        }
    }

    /// The admission times in the window (Unix ms, oldest first), for persisting it.
    pub fn times(&self) -> alloc::vec::Vec<i64> {
        self.allowed.iter().map(|t| t.0).collect()
    }

    /// Gives back one admission made at `at` (a request admitted, then denied for another
    /// reason, does not count). Nothing happens if no admission was made at `at`.
    pub fn forget(&mut self, at: Timestamp) {
        if let Some(index) = self.allowed.iter().position(|&t| t == at) {
            self.allowed.remove(index);
        }
    }

    /// Drops the admissions that left the window by `now`, and answers how many remain and the
    /// oldest of them (the window gains a place when it leaves).
    pub fn in_window(&mut self, now: Timestamp) -> (u32, Option<Timestamp>) {
        self.prune(now);
        let count = u32::try_from(self.allowed.len()).unwrap_or(u32::MAX);
        (count, self.allowed.front().copied())
    }

    /// Drops the admissions made a second or more before `now`.
    fn prune(&mut self, now: Timestamp) {
        let since = now.0.saturating_sub(WINDOW_MS);
        while self.allowed.front().is_some_and(|t| t.0 <= since) {
            self.allowed.pop_front();
        }
    }

    /// Admits one request at `now` under a limit of `limit` per second. `Err(seconds)` when
    /// `limit` requests were already admitted in the second before `now`: the whole seconds
    /// until the oldest of them leaves the window (at least 1), for `Retry-After`. A limit of 0
    /// refuses everything.
    pub fn admit(&mut self, limit: u32, now: Timestamp) -> Result<(), u32> {
        self.prune(now);
        if self.allowed.len() < limit as usize {
            self.allowed.push_back(now);
            return Ok(());
        }
        let wait_ms = self
            .allowed
            .front()
            .map_or(WINDOW_MS, |oldest| {
                oldest.0.saturating_add(WINDOW_MS).saturating_sub(now.0)
            })
            .clamp(1, WINDOW_MS);
        // INVARIANT: 1 ≤ wait_ms ≤ 1000 after the clamp, so the cast cannot truncate.
        Err((wait_ms as u32).div_ceil(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_survives_a_round_trip_through_its_times() {
        let mut window = SlidingWindow::new();
        for i in 0..10 {
            window.admit(10, Timestamp(i * 10)).unwrap();
        }
        let mut restored = SlidingWindow::from_times(window.times().into_iter().rev().map(Timestamp));
        assert_eq!(restored, window);
        assert_eq!(
            restored.admit(10, Timestamp(500)),
            Err(1),
            "the restart did not reset the limit"
        );
    }

    #[test]
    fn a_forgotten_admission_frees_its_place() {
        let mut window = SlidingWindow::new();
        for i in 0..10 {
            window.admit(10, Timestamp(i)).unwrap();
        }
        window.forget(Timestamp(3));
        window.forget(Timestamp(999)); // never admitted: nothing happens
        assert_eq!(window.admit(10, Timestamp(20)), Ok(()));
        assert!(window.admit(10, Timestamp(21)).is_err());
    }

    #[test]
    fn ten_in_a_second_then_429_until_the_oldest_leaves() {
        let mut window = SlidingWindow::new();
        for i in 0..10 {
            assert_eq!(window.admit(10, Timestamp(i * 90)), Ok(()), "request {i}");
        }
        assert_eq!(
            window.admit(10, Timestamp(900)),
            Err(1),
            "the 11th within a second"
        );
        assert_eq!(window.admit(10, Timestamp(999)), Err(1));
        assert_eq!(
            window.admit(10, Timestamp(1000)),
            Ok(()),
            "the first left the window"
        );
        assert_eq!(
            window.admit(10, Timestamp(1001)),
            Err(1),
            "the second (at 90) has not"
        );
        assert_eq!(window.admit(10, Timestamp(1090)), Ok(()));
    }

    #[test]
    fn refused_requests_do_not_count() {
        let mut window = SlidingWindow::new();
        assert_eq!(window.admit(1, Timestamp(0)), Ok(()));
        for t in 1..100 {
            assert!(window.admit(1, Timestamp(t * 5)).is_err());
        }
        assert_eq!(window.admit(1, Timestamp(1000)), Ok(()));
    }

    #[test]
    fn in_window_counts_what_is_left_and_names_the_oldest() {
        let mut window = SlidingWindow::new();
        assert_eq!(window.in_window(Timestamp(0)), (0, None));
        for t in [100, 400, 900] {
            window.admit(5, Timestamp(t)).unwrap();
        }
        assert_eq!(window.in_window(Timestamp(1000)), (3, Some(Timestamp(100))));
        assert_eq!(
            window.in_window(Timestamp(1100)),
            (2, Some(Timestamp(400))),
            "100 left at 1100"
        );
        assert_eq!(
            window.in_window(Timestamp(i64::MIN)),
            (2, Some(Timestamp(400))),
            "no overflow"
        );
    }

    #[test]
    fn zero_refuses_everything_and_memory_is_bounded() {
        let mut window = SlidingWindow::new();
        assert!(window.admit(0, Timestamp(5_000)).is_err());
        for t in 0..10_000 {
            let _ = window.admit(3, Timestamp(t));
        }
        assert!(window.allowed.len() <= 3);
    }
}
