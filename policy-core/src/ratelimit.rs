//! Per-key rate limiting as arithmetic: a token bucket the caller keeps wherever it likes (a
//! Durable Object per key at the edge) and asks before forwarding an allowed request.

use crate::record::Timestamp;

/// A token bucket refilled continuously at `limit` tokens per second, holding at most `limit`
/// tokens: `limit` requests in any one second, with no bursts beyond it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenBucket {
    tokens: f64,
    updated: Timestamp,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn full(limit: u32, now: Timestamp) -> TokenBucket {
        TokenBucket {
            tokens: f64::from(limit),
            updated: now,
        }
    }

    /// Takes one token at `now` for a limit of `limit` per second. `Err(seconds)` when the
    /// bucket is empty: the whole seconds to wait for the next token (at least 1), for
    /// `Retry-After`. A limit of 0 refuses everything.
    pub fn take(&mut self, limit: u32, now: Timestamp) -> Result<(), u32> {
        let rate = f64::from(limit);
        // A clock going backwards refills nothing.
        let elapsed = (now.0 - self.updated.0).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.updated = Timestamp(self.updated.0.max(now.0));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        if limit == 0 {
            return Err(u32::MAX);
        }
        // INVARIANT: 0 ≤ tokens < 1 and rate ≥ 1 here, so the wait is at most 1000 ms.
        let wait_ms = ((1.0 - self.tokens) / rate * 1000.0) as u32 + 1;
        Err(wait_ms.div_ceil(1000).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_per_second_then_429_then_refill() {
        let mut bucket = TokenBucket::full(10, Timestamp(0));
        for i in 0..10 {
            assert_eq!(bucket.take(10, Timestamp(i)), Ok(()), "request {i}");
        }
        assert_eq!(bucket.take(10, Timestamp(20)), Err(1));
        // 100 ms later one token has come back.
        assert_eq!(bucket.take(10, Timestamp(120)), Ok(()));
        assert_eq!(bucket.take(10, Timestamp(121)), Err(1));
        // A long pause refills to the limit, never beyond.
        let mut later = bucket;
        for i in 0..10 {
            assert_eq!(later.take(10, Timestamp(60_000 + i)), Ok(()));
        }
        assert!(later.take(10, Timestamp(60_010)).is_err());
    }

    #[test]
    fn a_clock_going_backwards_refills_nothing() {
        let mut bucket = TokenBucket::full(1, Timestamp(10_000));
        assert_eq!(bucket.take(1, Timestamp(10_000)), Ok(()));
        assert!(bucket.take(1, Timestamp(0)).is_err());
        assert!(bucket.take(1, Timestamp(10_500)).is_err());
        assert_eq!(bucket.take(1, Timestamp(11_000)), Ok(()));
    }

    #[test]
    fn zero_refuses_everything() {
        let mut bucket = TokenBucket::full(0, Timestamp(0));
        assert!(bucket.take(0, Timestamp(5_000)).is_err());
    }
}
