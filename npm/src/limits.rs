//! A key's limits for the JavaScript limiters (`npm/js/limiter.cjs`): keyscope-ratelimit's
//! arithmetic, for JavaScript. `limitPlan` reads a key's `rateLimit` and `quota` under the
//! deployment's default into what a limiter compares its counters with (the rate in force, the
//! quota's calendar window); `limitAnswer` turns the counters' report into the answer —
//! `Retry-After` and the `429` body when refused, the `RateLimit-Policy` and `RateLimit` header
//! fields either way. A limiter (a JavaScript map, a Redis script) only stores counters and
//! compares them with the plan's numbers.
//!
//! Numbers cross as `f64` (whole numbers within 2^53, checked here).

use keyscope_ratelimit::{
    Counts, Limit, Limits, DEFAULT_PER_SECOND, RATELIMIT_HEADER, RATELIMIT_POLICY_HEADER, RETRY_AFTER_HEADER,
    WINDOW_MS,
};
use policy_core::{Denial, Quota, QuotaPeriod, RateLimit, Timestamp};
use wasm_bindgen::prelude::*;

use crate::error::named_error;

/// The largest whole number an `f64` holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// A field of a key's limits that cannot be used: its name (`rateLimit.perSecond`,
/// `quota.limit`, `quota.period`, or `defaultPerSecond`) and why.
#[derive(Debug, PartialEq, Eq)]
struct Unusable {
    field: &'static str,
    problem: String,
}

impl Unusable {
    fn new(field: &'static str, problem: impl Into<String>) -> Unusable {
        Unusable {
            field,
            problem: problem.into(),
        }
    }

    fn into_js(self) -> JsValue {
        named_error(
            "RecordError",
            &format!("the key's {} {}", self.field, self.problem),
            Some(("field", self.field)),
        )
    }
}

/// `value` as a whole number in `0..=max`, or why not.
fn whole(field: &'static str, value: f64, max: u64) -> Result<u64, Unusable> {
    if value.is_finite() && value.fract() == 0.0 && (0.0..=MAX_SAFE).contains(&value) {
        // INVARIANT: a whole number within 0..=2^53, so the cast is exact.
        let n = value as u64;
        if n <= max {
            return Ok(n);
        }
    }
    Err(Unusable::new(
        field,
        format!("is {value} (a whole number 0 to {max} is required)"),
    ))
}

/// The period named `text`.
fn period_of(text: &str) -> Result<QuotaPeriod, Unusable> {
    match text {
        "day" => Ok(QuotaPeriod::Day),
        "month" => Ok(QuotaPeriod::Month),
        _ => Err(Unusable::new(
            "quota.period",
            format!("is {text:?} (\"day\" or \"month\" is required)"),
        )),
    }
}

/// A period as it crosses in a plan: 1 day, 2 month.
const fn period_code(period: QuotaPeriod) -> f64 {
    match period {
        QuotaPeriod::Day => 1.0,
        QuotaPeriod::Month => 2.0,
    }
}

/// A plan's period code back.
fn period_from_code(code: f64) -> Option<QuotaPeriod> {
    if code == 1.0 {
        Some(QuotaPeriod::Day)
    } else if code == 2.0 {
        Some(QuotaPeriod::Month)
    } else {
        None
    }
}

/// The limits of a key with these fields under `default_per_second` (absent or 0: off).
fn limits_of(
    per_second: Option<f64>,
    quota_limit: Option<f64>,
    quota_period: Option<&str>,
    default_per_second: Option<f64>,
) -> Result<Limits, Unusable> {
    let rate = match per_second {
        None => None,
        Some(n) => {
            let n = whole("rateLimit.perSecond", n, u64::from(u32::MAX))?;
            // INVARIANT: `whole` bounded it by u32::MAX.
            let rate = RateLimit::new(n as u32)
                .map_err(|e| Unusable::new("rateLimit.perSecond", format!("is {n}: {e}")))?;
            Some(rate)
        }
    };
    let quota = match (quota_limit, quota_period) {
        (None, None) => None,
        (Some(limit), Some(period)) => {
            let limit = whole("quota.limit", limit, u64::MAX)?;
            let period = period_of(period)?;
            Some(
                Quota::new(limit, period)
                    .map_err(|e| Unusable::new("quota.limit", format!("is {limit}: {e}")))?,
            )
        }
        (None, Some(_)) => return Err(Unusable::new("quota.limit", "is missing")),
        (Some(_), None) => return Err(Unusable::new("quota.period", "is missing")),
    };
    let default = match default_per_second {
        None => None,
        // INVARIANT: `whole` bounded it by u32::MAX.
        Some(n) => Some(whole("defaultPerSecond", n, u64::from(u32::MAX))? as u32),
    };
    Ok(Limits::of(rate, quota, default))
}

/// `now` as a timestamp (JavaScript checked it is finite; `as` saturates).
fn timestamp(now: f64) -> Timestamp {
    Timestamp(now.floor() as i64)
}

/// The plan a limiter counts by: `[perSecond, quotaLimit, period, windowStart, windowEnd,
/// since, expiresAt]` (`perSecond` / `quotaLimit` 0 when that limit does not apply, `period`
/// 0 none, 1 day, 2 month; `since`: an admission at or before it has left the one-second
/// window; `expiresAt`: when the counters are of no more use if nothing else is counted), or
/// an empty plan when no limit applies.
fn plan(limits: &Limits, now: Timestamp) -> Vec<f64> {
    if limits.is_unlimited() {
        return Vec::new();
    }
    let window = limits.quota_window(now);
    let rate_end = now.0.saturating_add(WINDOW_MS);
    let expires = window.map_or(rate_end, |w| w.end.0.max(rate_end));
    vec![
        limits.per_second.map_or(0.0, f64::from),
        limits.quota.map_or(0.0, |q| q.limit as f64),
        limits.quota.map_or(0.0, |q| period_code(q.period)),
        window.map_or(0.0, |w| w.start.0 as f64),
        window.map_or(0.0, |w| w.end.0 as f64),
        now.0.saturating_sub(WINDOW_MS) as f64,
        expires as f64,
    ]
}

/// A key's limits at `now` for a limiter: the key's own `rateLimit.perSecond` and
/// `quota.limit`/`quota.period` (absent: none) under the deployment's `defaultPerSecond`
/// (absent or 0: off); see [`plan`] for the numbers. Throws an `Error` named `RecordError`
/// (`field`: `rateLimit.perSecond`, `quota.limit`, `quota.period`, `defaultPerSecond`) when a
/// value cannot be a limit.
#[wasm_bindgen(js_name = limitPlan)]
pub fn limit_plan(
    per_second: Option<f64>,
    quota_limit: Option<f64>,
    quota_period: Option<String>,
    default_per_second: Option<f64>,
    now: f64,
) -> Result<Vec<f64>, JsValue> {
    let limits = limits_of(
        per_second,
        quota_limit,
        quota_period.as_deref(),
        default_per_second,
    )
    .map_err(Unusable::into_js)?;
    Ok(plan(&limits, timestamp(now)))
}

/// The limits a plan's first numbers say.
fn limits_of_plan(per_second: f64, quota_limit: f64, period: f64) -> Limits {
    let quota = period_from_code(period).and_then(|period| {
        let limit = whole("quota.limit", quota_limit, u64::MAX).ok()?;
        Quota::new(limit, period).ok()
    });
    Limits {
        per_second: whole("perSecond", per_second, u64::from(u32::MAX))
            .ok()
            .filter(|&n| n > 0)
            // INVARIANT: bounded by u32::MAX above.
            .map(|n| n as u32),
        quota,
    }
}

/// What a limiter reported → the answer: `[RateLimit-Policy, RateLimit]` when admitted, and
/// `[…, status, Retry-After, body]` when refused; empty when no limit applies.
fn answer(limits: &Limits, refused: u8, counts: &Counts, now: Timestamp) -> Vec<String> {
    let Some(headers) = limits.headers(counts, now) else {
        return Vec::new();
    };
    let mut out = vec![headers.policy, headers.state];
    let limit = match refused {
        1 => Some(Limit::Rate),
        2 => Some(Limit::Quota),
        _ => None,
    };
    if let Some(refusal) = limit.and_then(|limit| limits.refusal(limit, counts, now)) {
        let denial = refusal.denial();
        out.push(denial.status().to_string());
        out.push(refusal.retry_after.to_string());
        out.push(denial.to_json());
    }
    out
}

/// The answer for a request judged under a plan (its first three numbers: `perSecond`,
/// `quotaLimit`, `period`) at `now`, from the limiter's report: `refused` (0 admitted, 1 by
/// the rate, 2 by the quota), the requests in the one-second window (`inSecond`), the oldest
/// of them (Unix ms; negative or NaN: none) and the quota's count in its window (`used`), this
/// request included when admitted. Returns `[RateLimit-Policy, RateLimit]`, followed when
/// refused by `[status, Retry-After, body]` (the `429 rate_limited` JSON body).
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen(js_name = limitAnswer)]
pub fn limit_answer(
    per_second: f64,
    quota_limit: f64,
    period: f64,
    now: f64,
    refused: u8,
    in_second: f64,
    oldest: f64,
    used: f64,
) -> Vec<String> {
    let limits = limits_of_plan(per_second, quota_limit, period);
    let counts = Counts {
        in_second: whole("inSecond", in_second, u64::from(u32::MAX)).map_or(u32::MAX, |n| n as u32),
        oldest_in_second: (oldest >= 0.0).then(|| timestamp(oldest)),
        in_period: whole("used", used, u64::MAX).unwrap_or(u64::MAX),
    };
    answer(&limits, refused, &counts, timestamp(now))
}

/// The names of the header fields a limited answer carries, lower-case as JavaScript writes
/// them: `[ratelimit-policy, ratelimit, retry-after]`.
#[wasm_bindgen(js_name = limitHeaderNames)]
pub fn limit_header_names() -> Vec<String> {
    [RATELIMIT_POLICY_HEADER, RATELIMIT_HEADER, RETRY_AFTER_HEADER]
        .iter()
        .map(|name| name.to_ascii_lowercase())
        .collect()
}

/// The default rate per second per key when the deployment sets none (as the edge's
/// `KEYSCOPE_RATE_LIMIT`).
#[wasm_bindgen(js_name = defaultPerSecond)]
pub fn default_per_second() -> u32 {
    DEFAULT_PER_SECOND
}

/// The answer when the limiter cannot be asked (fail closed): `[status, body]` of
/// `503 unavailable`.
#[wasm_bindgen(js_name = limiterUnavailable)]
pub fn limiter_unavailable() -> Vec<String> {
    let denial = Denial::unavailable();
    vec![denial.status().to_string(), denial.to_json()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-23T23:00:00Z.
    const NOW: f64 = 1_795_474_800_000.0;
    const DAY_START: f64 = 1_795_392_000_000.0;

    #[test]
    fn a_plan_holds_the_rate_in_force_and_the_quota_s_window() {
        let limits = limits_of(None, Some(1000.0), Some("day"), Some(10.0)).unwrap();
        assert_eq!(
            plan(&limits, timestamp(NOW)),
            vec![
                10.0,
                1000.0,
                1.0,
                DAY_START,
                DAY_START + 86_400_000.0,
                NOW - 1000.0,
                DAY_START + 86_400_000.0
            ]
        );
        let own = limits_of(Some(3.0), None, None, Some(0.0)).unwrap();
        assert_eq!(
            plan(&own, timestamp(NOW)),
            vec![3.0, 0.0, 0.0, 0.0, 0.0, NOW - 1000.0, NOW + 1000.0]
        );
        assert!(plan(&limits_of(None, None, None, None).unwrap(), timestamp(NOW)).is_empty());
        assert!(plan(&limits_of(None, None, None, Some(0.0)).unwrap(), timestamp(NOW)).is_empty());
        let month = limits_of(None, Some(5.0), Some("month"), None).unwrap();
        assert_eq!(plan(&month, timestamp(NOW))[2], 2.0);
    }

    #[test]
    fn unusable_limits_name_their_field() {
        let field = |r: Result<Limits, Unusable>| r.unwrap_err().field;
        assert_eq!(
            field(limits_of(Some(0.0), None, None, None)),
            "rateLimit.perSecond"
        );
        assert_eq!(
            field(limits_of(Some(10_001.0), None, None, None)),
            "rateLimit.perSecond"
        );
        assert_eq!(
            field(limits_of(Some(1.5), None, None, None)),
            "rateLimit.perSecond"
        );
        assert_eq!(
            field(limits_of(None, Some(0.0), Some("day"), None)),
            "quota.limit"
        );
        assert_eq!(
            field(limits_of(None, Some(f64::NAN), Some("day"), None)),
            "quota.limit"
        );
        assert_eq!(
            field(limits_of(None, Some(5.0), Some("week"), None)),
            "quota.period"
        );
        assert_eq!(field(limits_of(None, Some(5.0), None, None)), "quota.period");
        assert_eq!(field(limits_of(None, None, Some("day"), None)), "quota.limit");
        assert_eq!(field(limits_of(None, None, None, Some(-1.0))), "defaultPerSecond");
        let problem = limits_of(None, Some(5.0), Some("week"), None)
            .unwrap_err()
            .problem;
        assert!(problem.contains("\"week\""), "{problem}");
    }

    #[test]
    fn answers_carry_the_headers_and_refusals_the_429() {
        let plan = plan(
            &limits_of(None, Some(1000.0), Some("day"), Some(10.0)).unwrap(),
            timestamp(NOW),
        );
        let limits = limits_of_plan(plan[0], plan[1], plan[2]);
        let admitted = answer(
            &limits,
            0,
            &Counts {
                in_second: 1,
                oldest_in_second: Some(timestamp(NOW)),
                in_period: 1,
            },
            timestamp(NOW),
        );
        assert_eq!(
            admitted,
            vec![
                r#""second";q=10;w=1, "day";q=1000;w=86400"#.to_owned(),
                r#""second";r=9;t=1, "day";r=999;t=3600"#.to_owned(),
            ]
        );
        let refused = limit_answer(plan[0], plan[1], plan[2], NOW, 2, 0.0, -1.0, 1000.0);
        assert_eq!(refused[1], r#""second";r=10;t=0, "day";r=0;t=3600"#);
        assert_eq!(&refused[2..4], ["429", "3600"]);
        assert_eq!(
            refused[4],
            r#"{"reason":"rate_limited","message":"This key's quota of 1000 requests per day is used up; retry after 3600 second(s)."}"#
        );
        let by_rate = limit_answer(plan[0], plan[1], plan[2], NOW + 1.0, 1, 10.0, NOW - 200.0, 40.0);
        assert_eq!(by_rate[1], r#""second";r=0;t=1, "day";r=960;t=3600"#);
        assert_eq!(&by_rate[2..4], ["429", "1"]);
        assert!(by_rate[4].contains("10 per second"), "{}", by_rate[4]);
        assert!(limit_answer(0.0, 0.0, 0.0, NOW, 0, 0.0, -1.0, 0.0).is_empty());
        assert_eq!(
            limit_header_names(),
            ["ratelimit-policy", "ratelimit", "retry-after"]
        );
        assert_eq!(limiter_unavailable()[0], "503");
    }
}
