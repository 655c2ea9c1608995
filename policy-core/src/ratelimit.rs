//! Per-key rate limiting as arithmetic: a sliding one-second window the caller keeps wherever it
//! likes (a Durable Object per key at the edge) and asks before forwarding an allowed request.

use alloc::collections::VecDeque;

use crate::record::Timestamp;

/// The window's length: a limit is "requests per second".
const WINDOW_MS: i64 = 1000;

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

    /// Admits one request at `now` under a limit of `limit` per second. `Err(seconds)` when
    /// `limit` requests were already admitted in the second before `now`: the whole seconds
    /// until the oldest of them leaves the window (at least 1), for `Retry-After`. A limit of 0
    /// refuses everything.
    pub fn admit(&mut self, limit: u32, now: Timestamp) -> Result<(), u32> {
        while self.allowed.front().is_some_and(|t| t.0 <= now.0 - WINDOW_MS) {
            self.allowed.pop_front();
        }
        if self.allowed.len() < limit as usize {
            self.allowed.push_back(now);
            return Ok(());
        }
        let wait_ms = self
            .allowed
            .front()
            .map_or(WINDOW_MS, |oldest| oldest.0 + WINDOW_MS - now.0)
            .clamp(1, WINDOW_MS);
        // INVARIANT: 1 ≤ wait_ms ≤ 1000 after the clamp, so the cast cannot truncate.
        Err((wait_ms as u32).div_ceil(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn zero_refuses_everything_and_memory_is_bounded() {
        let mut window = SlidingWindow::new();
        assert!(window.admit(0, Timestamp(5_000)).is_err());
        for t in 0..10_000 {
            let _ = window.admit(3, Timestamp(t));
        }
        assert!(window.allowed.len() <= 3);
    }
}
