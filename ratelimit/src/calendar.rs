//! The UTC calendar windows a quota counts in: a day (00:00 UTC to the next 00:00 UTC) or a
//! month (the first of the month, 00:00 UTC, to the first of the next), by the proleptic
//! Gregorian calendar's civil-from-days arithmetic (no leap seconds, as Unix time has none).
//! Every input has an answer, before 1970 and near the ends of `i64` included.

use policy_core::{QuotaPeriod, Timestamp};

/// Milliseconds in a UTC day.
pub const DAY_MS: i64 = 86_400_000;

/// The window of `period` that holds some instant: from `start` (included) to `end` (excluded),
/// both Unix milliseconds at 00:00 UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CalendarWindow {
    /// 00:00 UTC of the day, or of the month's first day.
    pub start: Timestamp,
    /// 00:00 UTC of the next day, or of the next month's first day.
    pub end: Timestamp,
}

impl CalendarWindow {
    /// The window of `period` that holds `now`.
    pub fn containing(period: QuotaPeriod, now: Timestamp) -> CalendarWindow {
        let day = now.0.div_euclid(DAY_MS);
        let (start_day, end_day) = match period {
            QuotaPeriod::Day => (day, day + 1),
            QuotaPeriod::Month => {
                let (year, month, _) = civil_from_days(day);
                let (next_year, next_month) = if month == 12 {
                    (year + 1, 1)
                } else {
                    (year, month + 1)
                };
                (
                    days_from_civil(year, month, 1),
                    days_from_civil(next_year, next_month, 1),
                )
            }
        };
        CalendarWindow {
            start: Timestamp(start_day.saturating_mul(DAY_MS)),
            end: Timestamp(end_day.saturating_mul(DAY_MS)),
        }
    }

    /// Whether `t` lies in the window.
    pub const fn contains(&self, t: Timestamp) -> bool {
        self.start.0 <= t.0 && t.0 < self.end.0
    }

    /// The window's length in whole seconds: 86,400 for a day; 28, 29, 30 or 31 days for a
    /// month (a header's `w`).
    pub fn length_secs(&self) -> u64 {
        self.end.0.abs_diff(self.start.0) / 1000
    }

    /// The whole seconds from `now` to the window's end, rounded up (a request at the end may
    /// count in the next window); 0 from the end on.
    pub fn secs_to_end(&self, now: Timestamp) -> u64 {
        if now.0 >= self.end.0 {
            return 0;
        }
        self.end.0.abs_diff(now.0).div_ceil(1000)
    }

    /// The `Retry-After` of a request refused because this window's quota is used up: the
    /// whole seconds to its end, at least 1.
    pub fn retry_after(&self, now: Timestamp) -> u32 {
        u32::try_from(self.secs_to_end(now).max(1)).unwrap_or(u32::MAX)
    }
}

/// `(year, month 1–12, day 1–31)` of the day `days` after 1970-01-01 (negative: before).
pub const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's `civil_from_days`: eras of 400 years (146,097 days) starting on 1 March,
    // so that the leap day is the last day of a year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146_096
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year, 0..=365
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let day = doy - (153 * mp + 2) / 5 + 1; // 1..=31
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // 1..=12
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    // INVARIANT: 1 ≤ day ≤ 31 and 1 ≤ month ≤ 12 (above), so the casts cannot truncate.
    (year, month as u32, day as u32)
}

/// The days from 1970-01-01 to `year`-`month`-`day` (`month` 1–12, `day` 1–31; negative: before).
pub const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = month as i64;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix ms of `y-m-d h:min:s.ms` UTC, by the arithmetic under test's inverse.
    fn at(y: i64, m: u32, d: u32, h: i64, min: i64, s: i64, ms: i64) -> Timestamp {
        Timestamp(days_from_civil(y, m, d) * DAY_MS + ((h * 60 + min) * 60 + s) * 1000 + ms)
    }

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        // 2000-03-01 is day 11,017; 2026-11-23T12:00:00Z (the vectors' `now`) is 1,795,435,200 s.
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(at(2026, 11, 23, 12, 0, 0, 0), Timestamp(1_795_435_200_000));
        assert_eq!(civil_from_days(1_795_435_200_000 / DAY_MS), (2026, 11, 23));
    }

    #[test]
    fn days_round_trip_over_many_centuries() {
        // Every day from 1600 to 2400, and both directions agree day by day.
        let first = days_from_civil(1600, 1, 1);
        let last = days_from_civil(2400, 12, 31);
        let mut expected = civil_from_days(first);
        assert_eq!(expected, (1600, 1, 1));
        for day in first..=last {
            let (y, m, d) = civil_from_days(day);
            assert_eq!((y, m, d), expected, "day {day}");
            assert_eq!(days_from_civil(y, m, d), day);
            // The next date by hand: month lengths and the Gregorian leap rule.
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            expected = if d < len {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
    }

    #[test]
    fn a_day_runs_from_midnight_to_midnight_utc() {
        let now = at(2026, 11, 23, 12, 34, 56, 789);
        let w = CalendarWindow::containing(QuotaPeriod::Day, now);
        assert_eq!(w.start, at(2026, 11, 23, 0, 0, 0, 0));
        assert_eq!(w.end, at(2026, 11, 24, 0, 0, 0, 0));
        assert_eq!(w.length_secs(), 86_400);
        assert!(w.contains(w.start) && w.contains(Timestamp(w.end.0 - 1)) && !w.contains(w.end));
        // Midnight itself opens the new day; the millisecond before closes the old one.
        let midnight = at(2026, 11, 24, 0, 0, 0, 0);
        assert_eq!(
            CalendarWindow::containing(QuotaPeriod::Day, midnight).start,
            midnight
        );
        assert_eq!(
            CalendarWindow::containing(QuotaPeriod::Day, Timestamp(midnight.0 - 1)),
            w
        );
    }

    #[test]
    fn month_ends_leap_years_and_year_ends() {
        let month = |y, m, d| CalendarWindow::containing(QuotaPeriod::Month, at(y, m, d, 13, 0, 0, 0));
        let days = |w: CalendarWindow| w.length_secs() / 86_400;
        assert_eq!(days(month(2024, 2, 29)), 29, "2024 is a leap year");
        assert_eq!(days(month(2025, 2, 1)), 28);
        assert_eq!(days(month(2000, 2, 10)), 29, "divisible by 400: leap");
        assert_eq!(days(month(1900, 2, 10)), 28, "divisible by 100 only: not leap");
        assert_eq!(days(month(2100, 2, 10)), 28);
        assert_eq!(days(month(2026, 4, 30)), 30);
        assert_eq!(days(month(2026, 1, 31)), 31);
        let december = month(2026, 12, 31);
        assert_eq!(december.start, at(2026, 12, 1, 0, 0, 0, 0));
        assert_eq!(
            december.end,
            at(2027, 1, 1, 0, 0, 0, 0),
            "a year's end opens the next year"
        );
        assert_eq!(days(december), 31);
        let feb = month(2024, 2, 29);
        assert_eq!(
            (feb.start, feb.end),
            (at(2024, 2, 1, 0, 0, 0, 0), at(2024, 3, 1, 0, 0, 0, 0))
        );
        // The last millisecond of a month is in it; the first of the next is not.
        let last = Timestamp(at(2026, 5, 1, 0, 0, 0, 0).0 - 1);
        assert_eq!(
            CalendarWindow::containing(QuotaPeriod::Month, last).start,
            at(2026, 4, 1, 0, 0, 0, 0)
        );
        assert_eq!(
            CalendarWindow::containing(QuotaPeriod::Month, at(2026, 5, 1, 0, 0, 0, 0)).start,
            at(2026, 5, 1, 0, 0, 0, 0)
        );
    }

    #[test]
    fn before_1970_and_at_the_extremes() {
        let w = CalendarWindow::containing(QuotaPeriod::Day, Timestamp(-1));
        assert_eq!((w.start, w.end), (Timestamp(-DAY_MS), Timestamp(0)), "1969-12-31");
        let m = CalendarWindow::containing(QuotaPeriod::Month, Timestamp(-1));
        assert_eq!((m.start, m.end), (at(1969, 12, 1, 0, 0, 0, 0), Timestamp(0)));
        let leap_1968 = CalendarWindow::containing(QuotaPeriod::Month, at(1968, 2, 29, 23, 59, 59, 999));
        assert_eq!(leap_1968.length_secs(), 29 * 86_400);
        // No panic, and a window that holds `now`, even at the ends of i64 (saturated ends).
        for now in [i64::MIN, i64::MIN + 1, i64::MAX - 1, i64::MAX] {
            for period in [QuotaPeriod::Day, QuotaPeriod::Month] {
                let w = CalendarWindow::containing(period, Timestamp(now));
                assert!(w.start.0 <= now, "{period:?} {now}");
                assert!(w.end.0 > now || w.end.0 == i64::MAX, "{period:?} {now}");
                let _ = (
                    w.length_secs(),
                    w.secs_to_end(Timestamp(now)),
                    w.retry_after(Timestamp(now)),
                );
            }
        }
    }

    #[test]
    fn seconds_to_the_end_round_up_and_retry_after_is_at_least_one() {
        let w = CalendarWindow::containing(QuotaPeriod::Day, at(2026, 11, 23, 0, 0, 0, 0));
        assert_eq!(w.secs_to_end(at(2026, 11, 23, 23, 0, 0, 0)), 3_600);
        assert_eq!(
            w.secs_to_end(at(2026, 11, 23, 22, 59, 59, 1)),
            3_601,
            "a started second counts"
        );
        assert_eq!(w.secs_to_end(Timestamp(w.end.0 - 1)), 1);
        assert_eq!(w.secs_to_end(w.end), 0);
        assert_eq!(w.retry_after(w.end), 1);
        assert_eq!(w.retry_after(w.start), 86_400);
        let m = CalendarWindow::containing(QuotaPeriod::Month, at(2026, 1, 1, 0, 0, 0, 0));
        assert_eq!(m.retry_after(m.start), 31 * 86_400);
    }
}
