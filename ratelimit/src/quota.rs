//! A quota's counter: the calendar window it counts in and how many requests it admitted there.

use policy_core::{Quota, QuotaPeriod, Timestamp};

use crate::calendar::CalendarWindow;

/// The requests a key's quota admitted in one calendar window (a [`CalendarWindow`] of the
/// quota's period): its start and the count. A request in a newer window starts the count
/// again; a request whose clock is behind (its window is older than the one held) counts in the
/// window held, so that a lagging caller never resets a newer count. Two numbers, so a caller
/// keeps it wherever it likes (`from_parts`, `window_start`, `used`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaCounter {
    window_start: Timestamp,
    used: u64,
}

impl Default for QuotaCounter {
    fn default() -> QuotaCounter {
        QuotaCounter::new()
    }
}

impl QuotaCounter {
    /// A counter that has counted nothing (every window is newer than the one it holds).
    pub const fn new() -> QuotaCounter {
        QuotaCounter {
            window_start: Timestamp(i64::MIN),
            used: 0,
        }
    }

    /// A counter holding `used` requests in the window that starts at `window_start` (as kept by
    /// [`QuotaCounter::window_start`] and [`QuotaCounter::used`]).
    pub const fn from_parts(window_start: Timestamp, used: u64) -> QuotaCounter {
        QuotaCounter { window_start, used }
    }

    /// The start of the window the count belongs to (`i64::MIN` ms for a new counter).
    pub const fn window_start(&self) -> Timestamp {
        self.window_start
    }

    /// The requests counted in that window.
    pub const fn used(&self) -> u64 {
        self.used
    }

    /// The requests counted in the window of `period` that holds `now` (0 when the counter
    /// holds an older window).
    pub fn used_at(&self, period: QuotaPeriod, now: Timestamp) -> u64 {
        let window = CalendarWindow::containing(period, now);
        if self.window_start < window.start {
            0
        } else {
            self.used
        }
    }

    /// Moves the counter to `window` if it is newer than the one held.
    fn roll(&mut self, window: CalendarWindow) {
        if self.window_start < window.start {
            *self = QuotaCounter::from_parts(window.start, 0);
        }
    }

    /// Whether one more request at `now` is within `quota`, counting nothing: `Err(seconds)`
    /// when its window's quota is used up, the whole seconds to the window's end (at least 1),
    /// for `Retry-After`.
    pub fn check(&self, quota: Quota, now: Timestamp) -> Result<(), u32> {
        if self.used_at(quota.period, now) < quota.limit {
            Ok(())
        } else {
            Err(CalendarWindow::containing(quota.period, now).retry_after(now))
        }
    }

    /// Admits one request at `now` under `quota`, counting it; a refused request counts
    /// nothing. `Err(seconds)` as [`QuotaCounter::check`].
    pub fn admit(&mut self, quota: Quota, now: Timestamp) -> Result<(), u32> {
        self.check(quota, now)?;
        self.roll(CalendarWindow::containing(quota.period, now));
        self.used = self.used.saturating_add(1);
        Ok(())
    }

    /// Gives back one admission made at `now` (a request admitted, then refused by another
    /// limit, does not count). Nothing happens when the window held is older than `now`'s.
    pub fn forget(&mut self, period: QuotaPeriod, now: Timestamp) {
        if self.used_at(period, now) > 0 {
            self.used -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{days_from_civil, DAY_MS};

    fn day(y: i64, m: u32, d: u32) -> Timestamp {
        Timestamp(days_from_civil(y, m, d) * DAY_MS)
    }

    #[test]
    fn a_day_quota_holds_then_resets_at_midnight() {
        let quota = Quota::new(3, QuotaPeriod::Day).unwrap();
        let mut counter = QuotaCounter::new();
        let morning = Timestamp(day(2026, 11, 23).0 + 8 * 3_600_000);
        for i in 0..3 {
            assert_eq!(
                counter.admit(quota, Timestamp(morning.0 + i)),
                Ok(()),
                "request {i}"
            );
        }
        // 16 hours to midnight.
        assert_eq!(counter.admit(quota, morning), Err(16 * 3_600));
        assert_eq!(counter.admit(quota, Timestamp(day(2026, 11, 24).0 - 1)), Err(1));
        assert_eq!(counter.used(), 3, "refused requests do not count");
        assert_eq!(
            counter.admit(quota, day(2026, 11, 24)),
            Ok(()),
            "a new day, a new count"
        );
        assert_eq!((counter.window_start(), counter.used()), (day(2026, 11, 24), 1));
    }

    #[test]
    fn a_month_quota_counts_in_the_calendar_month() {
        let quota = Quota::new(2, QuotaPeriod::Month).unwrap();
        let mut counter = QuotaCounter::new();
        assert_eq!(counter.admit(quota, day(2024, 2, 1)), Ok(()));
        assert_eq!(counter.admit(quota, Timestamp(day(2024, 3, 1).0 - 1)), Ok(()));
        assert_eq!(
            counter.admit(quota, day(2024, 2, 15)),
            Err(15 * 86_400),
            "to 1 March (leap year)"
        );
        assert_eq!(counter.admit(quota, day(2024, 3, 1)), Ok(()));
        assert_eq!(counter.used_at(QuotaPeriod::Month, day(2024, 3, 31)), 1);
        assert_eq!(counter.used_at(QuotaPeriod::Month, day(2024, 4, 1)), 0);
    }

    #[test]
    fn a_lagging_clock_counts_in_the_newer_window_held() {
        let quota = Quota::new(2, QuotaPeriod::Day).unwrap();
        let mut counter = QuotaCounter::new();
        counter.admit(quota, day(2026, 11, 24)).unwrap();
        // A caller whose clock is still on the 23rd does not reset the 24th's count.
        counter.admit(quota, Timestamp(day(2026, 11, 24).0 - 5)).unwrap();
        assert_eq!((counter.window_start(), counter.used()), (day(2026, 11, 24), 2));
        assert!(counter.admit(quota, day(2026, 11, 24)).is_err());
    }

    #[test]
    fn forget_gives_back_one_admission_of_the_current_window() {
        let quota = Quota::new(1, QuotaPeriod::Day).unwrap();
        let mut counter = QuotaCounter::from_parts(day(2026, 1, 1), 1);
        assert!(counter.check(quota, day(2026, 1, 1)).is_err());
        counter.forget(QuotaPeriod::Day, day(2026, 1, 1));
        assert_eq!(counter.used(), 0);
        counter.forget(QuotaPeriod::Day, day(2026, 1, 1));
        assert_eq!(counter.used(), 0, "never below zero");
        let mut old = QuotaCounter::from_parts(day(2026, 1, 1), 1);
        old.forget(QuotaPeriod::Day, day(2026, 1, 2));
        assert_eq!(old.used(), 1, "another window's count is left alone");
        assert_eq!(QuotaCounter::default(), QuotaCounter::new());
    }
}
