//! The limits a key's requests are held to (the rate in force and the key's quota), one
//! request's admission under both, and what the answer says about them: `Retry-After`, the
//! denial, and the `RateLimit-Policy` and `RateLimit` header fields of
//! draft-ietf-httpapi-ratelimit-headers. Every surface (the edge worker, the npm package's
//! limiters) writes these from here, so they say the same thing.
//!
//! ```text
//! RateLimit-Policy: "second";q=10;w=1, "day";q=1000;w=86400
//! RateLimit: "second";r=9;t=1, "day";r=999;t=3600
//! ```

use alloc::string::String;
use core::fmt::Write;

use policy_core::{Denial, Exceeded, Quota, RateLimit, Timestamp};

use crate::calendar::CalendarWindow;
use crate::quota::QuotaCounter;
use crate::{SlidingWindow, WINDOW_MS};

/// The header field that names the limits in force.
pub const RATELIMIT_POLICY_HEADER: &str = "RateLimit-Policy";
/// The header field that says what is left of each limit.
pub const RATELIMIT_HEADER: &str = "RateLimit";
/// The header field of a `429`: whole seconds until a retry can succeed.
pub const RETRY_AFTER_HEADER: &str = "Retry-After";
/// The deployment's default rate, per second per key, when it sets none (the edge's
/// `KEYSCOPE_RATE_LIMIT` unset, the npm middleware's `defaultPerSecond` absent).
pub const DEFAULT_PER_SECOND: u32 = 10;

/// The name of the rate's item in both header fields (the quota's is its period, `day` or
/// `month`).
pub const RATE_POLICY_NAME: &str = "second";

/// The rate a key's requests are held to, per second: the key's own `rateLimit` if it has one,
/// else the deployment's default; a default of `None` (or 0, as `off` is spelled) means no rate
/// limit.
pub fn rate_in_force(rate_limit: Option<RateLimit>, default_per_second: Option<u32>) -> Option<u32> {
    match rate_limit {
        Some(rate) => Some(rate.per_second),
        None => default_per_second.filter(|&n| n > 0),
    }
}

/// Which of a key's limits refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limit {
    /// The rate in force (the key's own or the deployment's default).
    Rate,
    /// The key's quota.
    Quota,
}

/// The limits a key's requests are held to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Requests per second ([`rate_in_force`]); `None`: no rate limit.
    pub per_second: Option<u32>,
    /// The key's quota; `None`: none.
    pub quota: Option<Quota>,
}

/// What a key's counters hold once a request was judged (the request included when admitted):
/// what a limiter reports, wherever it keeps the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// The requests admitted in the one-second window that ends at `now`.
    pub in_second: u32,
    /// The oldest of them (its time, Unix ms), if any: the window gains a place when it leaves.
    pub oldest_in_second: Option<Timestamp>,
    /// The requests the quota counted in its current calendar window.
    pub in_period: u64,
}

/// A refused request: the limit it reached and when to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The limit reached, as the denial's message names it.
    pub exceeded: Exceeded,
    /// Whole seconds until a retry can succeed (at least 1): `Retry-After`.
    pub retry_after: u32,
}

impl Refusal {
    /// Which of the key's limits it was.
    pub const fn limit(&self) -> Limit {
        match self.exceeded {
            Exceeded::Rate { .. } => Limit::Rate,
            Exceeded::Quota { .. } | Exceeded::Organization { .. } => Limit::Quota,
        }
    }

    /// The `429 rate_limited` denial (its body says which limit and when to retry).
    pub const fn denial(&self) -> Denial<'static> {
        Denial::rate_limited(self.retry_after, self.exceeded)
    }
}

/// One request judged under a key's limits: what the counters hold afterwards and, when it was
/// refused, why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    /// The counters after the request (counted only when admitted).
    pub counts: Counts,
    /// `None` when admitted.
    pub refused: Option<Refusal>,
}

/// The two header fields an answer carries: `RateLimit-Policy` and `RateLimit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// `RateLimit-Policy`: each limit in force, its quota `q` and window `w` in seconds.
    pub policy: String,
    /// `RateLimit`: each limit's remaining requests `r` and seconds to its reset `t`.
    pub state: String,
}

/// The header fields for a key with `rate_limit` and `quota` under the deployment's
/// `default_per_second`, once its counters report `counts` at `now`; `None` when no limit
/// applies (no header is written then). The one function every surface writes them with.
pub fn rate_limit_headers(
    rate_limit: Option<RateLimit>,
    quota: Option<Quota>,
    default_per_second: Option<u32>,
    counts: &Counts,
    now: Timestamp,
) -> Option<RateLimitHeaders> {
    Limits::of(rate_limit, quota, default_per_second).headers(counts, now)
}

impl Limits {
    /// The limits of a key with `rate_limit` and `quota` under the deployment's
    /// `default_per_second` (see [`rate_in_force`]).
    pub fn of(
        rate_limit: Option<RateLimit>,
        quota: Option<Quota>,
        default_per_second: Option<u32>,
    ) -> Limits {
        Limits {
            per_second: rate_in_force(rate_limit, default_per_second),
            quota,
        }
    }

    /// Whether no limit applies (nothing to count, no header to write).
    pub const fn is_unlimited(&self) -> bool {
        self.per_second.is_none() && self.quota.is_none()
    }

    /// The calendar window the quota counts in at `now`, if the key has a quota.
    pub fn quota_window(&self, now: Timestamp) -> Option<CalendarWindow> {
        self.quota.map(|q| CalendarWindow::containing(q.period, now))
    }

    /// The refusal by `limit` of a request at `now` whose counters hold `counts` (that limit
    /// being reached), or `None` if the key has no such limit. Its `Retry-After`: for the rate,
    /// the whole seconds until the oldest admission leaves the one-second window; for the
    /// quota, until its window ends; at least 1 either way.
    pub fn refusal(&self, limit: Limit, counts: &Counts, now: Timestamp) -> Option<Refusal> {
        match limit {
            Limit::Rate => self.per_second.map(|per_second| Refusal {
                exceeded: Exceeded::Rate { per_second },
                retry_after: rate_reset_secs(counts, now).max(1),
            }),
            Limit::Quota => self.quota.map(|quota| Refusal {
                exceeded: Exceeded::Quota {
                    limit: quota.limit,
                    period: quota.period,
                },
                retry_after: CalendarWindow::containing(quota.period, now).retry_after(now),
            }),
        }
    }

    /// Whether a request at `now` is refused, its counters holding `before` (not counting it):
    /// the quota first (when both are reached, the quota's later retry is the one that can
    /// succeed), then the rate. A limiter that keeps its counters elsewhere (in Redis, in a
    /// JavaScript map) applies this same rule, atomically with the count.
    pub fn judge(&self, before: &Counts, now: Timestamp) -> Option<Refusal> {
        if self.quota.is_some_and(|quota| before.in_period >= quota.limit) {
            return self.refusal(Limit::Quota, before, now);
        }
        if self.per_second.is_some_and(|limit| before.in_second >= limit) {
            return self.refusal(Limit::Rate, before, now);
        }
        None
    }

    /// Judges and counts one request at `now` against `window` (the rate's) and `counter` (the
    /// quota's), which the caller keeps per key: admitted, it counts in both; refused by one
    /// limit, it counts in neither.
    pub fn admit(&self, window: &mut SlidingWindow, counter: &mut QuotaCounter, now: Timestamp) -> Admission {
        let (in_second, oldest_in_second) = match self.per_second {
            Some(_) => window.in_window(now),
            None => (0, None),
        };
        let before = Counts {
            in_second,
            oldest_in_second,
            in_period: self.quota.map_or(0, |q| counter.used_at(q.period, now)),
        };
        if let Some(refused) = self.judge(&before, now) {
            return Admission {
                counts: before,
                refused: Some(refused),
            };
        }
        if let Some(limit) = self.per_second {
            // Cannot refuse: `judge` saw room in the same window.
            let _ = window.admit(limit, now);
        }
        if let Some(quota) = self.quota {
            let _ = counter.admit(quota, now);
        }
        Admission {
            counts: Counts {
                in_second: before
                    .in_second
                    .saturating_add(u32::from(self.per_second.is_some())),
                oldest_in_second: match (self.per_second, before.oldest_in_second) {
                    (None, _) => None,
                    (Some(_), Some(oldest)) => Some(oldest.min(now)),
                    (Some(_), None) => Some(now),
                },
                in_period: before.in_period.saturating_add(u64::from(self.quota.is_some())),
            },
            refused: None,
        }
    }

    /// The header fields once the counters report `counts` at `now`: the rate (`"second"`,
    /// `w=1`) and the quota (`"day"` or `"month"`, `w` its window's length in seconds), each
    /// that applies; `r` the requests left (0 when reached), `t` the whole seconds to its reset
    /// (rounded up; 0 when nothing is counted). `None` when no limit applies.
    pub fn headers(&self, counts: &Counts, now: Timestamp) -> Option<RateLimitHeaders> {
        if self.is_unlimited() {
            return None;
        }
        let mut policy = String::new();
        let mut state = String::new();
        // INVARIANT: writing to a String cannot fail.
        if let Some(limit) = self.per_second {
            let _ = write!(policy, "\"{RATE_POLICY_NAME}\";q={limit};w={}", WINDOW_MS / 1000);
            let _ = write!(
                state,
                "\"{RATE_POLICY_NAME}\";r={};t={}",
                limit.saturating_sub(counts.in_second),
                rate_reset_secs(counts, now)
            );
        }
        if let Some(quota) = self.quota {
            let window = CalendarWindow::containing(quota.period, now);
            let separator = if policy.is_empty() { "" } else { ", " };
            let name = quota.period.as_str();
            let _ = write!(
                policy,
                "{separator}\"{name}\";q={};w={}",
                quota.limit,
                window.length_secs()
            );
            let _ = write!(
                state,
                "{separator}\"{name}\";r={};t={}",
                quota.limit.saturating_sub(counts.in_period),
                window.secs_to_end(now)
            );
        }
        Some(RateLimitHeaders { policy, state })
    }
}

/// The whole seconds (rounded up, 0–1) until the oldest admission leaves the one-second window;
/// 0 when the window is empty.
fn rate_reset_secs(counts: &Counts, now: Timestamp) -> u32 {
    counts.oldest_in_second.map_or(0, |oldest| {
        let wait_ms = oldest
            .0
            .saturating_add(WINDOW_MS)
            .saturating_sub(now.0)
            .clamp(0, WINDOW_MS);
        // INVARIANT: 0 ≤ wait_ms ≤ 1000 after the clamp, so the cast cannot truncate.
        (wait_ms as u32).div_ceil(1000)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{days_from_civil, DAY_MS};
    use policy_core::QuotaPeriod;

    fn at(y: i64, m: u32, d: u32, h: i64) -> Timestamp {
        Timestamp(days_from_civil(y, m, d) * DAY_MS + h * 3_600_000)
    }

    fn rate(n: u32) -> Option<RateLimit> {
        Some(RateLimit::new(n).unwrap())
    }

    fn quota(n: u64, period: QuotaPeriod) -> Option<Quota> {
        Some(Quota::new(n, period).unwrap())
    }

    #[test]
    fn the_key_s_own_rate_overrides_the_default_and_off_means_none() {
        assert_eq!(rate_in_force(rate(5), Some(10)), Some(5));
        assert_eq!(
            rate_in_force(rate(50), Some(10)),
            Some(50),
            "above the default too"
        );
        assert_eq!(rate_in_force(None, Some(10)), Some(10));
        assert_eq!(rate_in_force(None, None), None, "default off");
        assert_eq!(
            rate_in_force(None, Some(0)),
            None,
            "0 is off, never refuse-everything"
        );
        assert_eq!(
            rate_in_force(rate(3), None),
            Some(3),
            "a key's own rate applies with the default off"
        );
        assert!(Limits::of(None, None, None).is_unlimited());
        assert!(!Limits::of(None, quota(1, QuotaPeriod::Day), None).is_unlimited());
    }

    #[test]
    fn the_brief_s_example_headers() {
        let now = at(2026, 11, 23, 23);
        let counts = Counts {
            in_second: 1,
            oldest_in_second: Some(now),
            in_period: 1,
        };
        let h = rate_limit_headers(None, quota(1000, QuotaPeriod::Day), Some(10), &counts, now).unwrap();
        assert_eq!(h.policy, r#""second";q=10;w=1, "day";q=1000;w=86400"#);
        assert_eq!(h.state, r#""second";r=9;t=1, "day";r=999;t=3600"#);
    }

    #[test]
    fn headers_list_only_the_limits_that_apply() {
        let now = at(2024, 2, 10, 0);
        let counts = Counts {
            in_second: 0,
            oldest_in_second: None,
            in_period: 7,
        };
        let month = rate_limit_headers(None, quota(100, QuotaPeriod::Month), None, &counts, now).unwrap();
        assert_eq!(
            month.policy, r#""month";q=100;w=2505600"#,
            "29 days of February 2024"
        );
        assert_eq!(month.state, r#""month";r=93;t=1728000"#, "20 days to 1 March");
        let second = rate_limit_headers(rate(3), None, None, &counts, now).unwrap();
        assert_eq!(second.policy, r#""second";q=3;w=1"#);
        assert_eq!(
            second.state, r#""second";r=3;t=0"#,
            "nothing counted: nothing to reset"
        );
        assert_eq!(rate_limit_headers(None, None, None, &counts, now), None);
        assert_eq!(rate_limit_headers(None, None, Some(0), &counts, now), None);
        // Over-full counters (a limit lowered meanwhile) say 0 left, never wrap.
        let full = Counts {
            in_second: 9,
            oldest_in_second: Some(now),
            in_period: 500,
        };
        let h = rate_limit_headers(rate(2), quota(100, QuotaPeriod::Month), None, &full, now).unwrap();
        assert_eq!(h.state, r#""second";r=0;t=1, "month";r=0;t=1728000"#);
    }

    #[test]
    fn rate_then_429_with_retry_after_and_headers() {
        let limits = Limits::of(None, None, Some(2));
        let (mut window, mut counter) = (SlidingWindow::new(), QuotaCounter::new());
        let t0 = at(2026, 11, 23, 12);
        let first = limits.admit(&mut window, &mut counter, t0);
        assert_eq!(first.refused, None);
        assert_eq!(
            limits.headers(&first.counts, t0).unwrap().state,
            r#""second";r=1;t=1"#
        );
        let second = limits.admit(&mut window, &mut counter, Timestamp(t0.0 + 400));
        assert_eq!(
            limits
                .headers(&second.counts, Timestamp(t0.0 + 400))
                .unwrap()
                .state,
            r#""second";r=0;t=1"#
        );
        let third = limits.admit(&mut window, &mut counter, Timestamp(t0.0 + 999));
        let refused = third.refused.unwrap();
        assert_eq!(refused.exceeded, Exceeded::Rate { per_second: 2 });
        assert_eq!(refused.retry_after, 1);
        assert_eq!(refused.limit(), Limit::Rate);
        assert_eq!(
            refused.denial().to_json(),
            r#"{"reason":"rate_limited","message":"Too many requests for this key: its rate limit is 2 per second; retry after 1 second(s)."}"#
        );
        assert_eq!(third.counts.in_second, 2, "the refused request is not counted");
        assert_eq!(
            limits
                .admit(&mut window, &mut counter, Timestamp(t0.0 + 1000))
                .refused,
            None
        );
    }

    #[test]
    fn a_request_refused_by_one_limit_consumes_none_of_the_other() {
        let now = at(2026, 11, 23, 22);
        // The quota refuses: the rate's window gains nothing.
        let limits = Limits::of(rate(5), quota(2, QuotaPeriod::Day), None);
        let (mut window, mut counter) = (SlidingWindow::new(), QuotaCounter::new());
        for i in 0..2 {
            assert_eq!(
                limits
                    .admit(&mut window, &mut counter, Timestamp(now.0 + i))
                    .refused,
                None
            );
        }
        let refused = limits.admit(&mut window, &mut counter, Timestamp(now.0 + 2));
        let r = refused.refused.unwrap();
        assert_eq!(
            r.exceeded,
            Exceeded::Quota {
                limit: 2,
                period: QuotaPeriod::Day
            }
        );
        assert_eq!(r.retry_after, 7_200);
        assert_eq!(
            window.times().len(),
            2,
            "the quota's refusal took no place in the rate window"
        );
        assert_eq!(
            r.denial().to_json(),
            r#"{"reason":"rate_limited","message":"This key's quota of 2 requests per day is used up; retry after 7200 second(s)."}"#
        );
        let h = limits.headers(&refused.counts, Timestamp(now.0 + 2)).unwrap();
        assert_eq!(h.policy, r#""second";q=5;w=1, "day";q=2;w=86400"#);
        assert_eq!(h.state, r#""second";r=3;t=1, "day";r=0;t=7200"#);

        // The rate refuses: the quota counts nothing.
        let limits = Limits::of(rate(1), quota(10, QuotaPeriod::Month), None);
        let (mut window, mut counter) = (SlidingWindow::new(), QuotaCounter::new());
        assert_eq!(limits.admit(&mut window, &mut counter, now).refused, None);
        for i in 1..5 {
            let a = limits.admit(&mut window, &mut counter, Timestamp(now.0 + i * 100));
            assert_eq!(a.refused.unwrap().limit(), Limit::Rate);
        }
        assert_eq!(
            counter.used(),
            1,
            "the rate's refusals took nothing from the quota"
        );
        assert_eq!(
            limits
                .admit(&mut window, &mut counter, Timestamp(now.0 + 1000))
                .counts
                .in_period,
            2
        );
    }

    #[test]
    fn when_both_are_reached_the_quota_is_the_one_named() {
        let now = at(2026, 1, 31, 12);
        let limits = Limits::of(rate(1), quota(1, QuotaPeriod::Month), None);
        let (mut window, mut counter) = (SlidingWindow::new(), QuotaCounter::new());
        limits.admit(&mut window, &mut counter, now);
        let a = limits.admit(&mut window, &mut counter, Timestamp(now.0 + 1));
        let r = a.refused.unwrap();
        assert_eq!(r.limit(), Limit::Quota);
        assert_eq!(
            r.retry_after,
            12 * 3_600,
            "to 1 February (a started second counts whole)"
        );
        assert!(r.denial().message().contains("per month"), "{}", r.denial());
        assert_eq!(r.denial().retry_after(), Some(r.retry_after));
        assert_eq!(r.denial().status(), 429);
    }

    #[test]
    fn a_new_window_resets_the_quota_and_judge_matches_admit() {
        let limits = Limits::of(None, quota(1, QuotaPeriod::Day), None);
        let (mut window, mut counter) = (SlidingWindow::new(), QuotaCounter::new());
        let day1 = at(2026, 12, 31, 23);
        assert_eq!(limits.admit(&mut window, &mut counter, day1).refused, None);
        assert!(limits.admit(&mut window, &mut counter, day1).refused.is_some());
        let next_year = at(2027, 1, 1, 0);
        let a = limits.admit(&mut window, &mut counter, next_year);
        assert_eq!(a.refused, None, "midnight of a new year opens a new day");
        assert_eq!(a.counts.in_period, 1);
        assert_eq!(window.times().len(), 0, "no rate in force: no rate window kept");
        // `judge` is the rule a foreign limiter applies: the same refusal `admit` gives.
        let full = Counts {
            in_second: 0,
            oldest_in_second: None,
            in_period: 1,
        };
        assert_eq!(
            limits.judge(&full, next_year),
            limits.admit(&mut window, &mut counter, next_year).refused
        );
        assert_eq!(limits.judge(&Counts::default(), next_year), None);
        assert_eq!(
            limits.refusal(Limit::Rate, &full, next_year),
            None,
            "no rate in force"
        );
        assert_eq!(limits.quota_window(next_year).map(|w| w.start), Some(next_year));
    }
}
