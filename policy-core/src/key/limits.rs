//! A key's own limits: a rate (`rateLimit.perSecond`, overriding the deployment's default) and a
//! quota (`quota.limit` requests per UTC calendar `day` or `month`). Counting them is the
//! caller's (`keyscope-ratelimit` holds the windows); these are the values and their bounds.

use core::fmt;

use serde::{Deserialize, Serialize};

/// The highest `rateLimit.perSecond` a key may hold.
pub const MAX_PER_SECOND: u32 = 10_000;
/// The highest `quota.limit` a key may hold.
pub const MAX_QUOTA: u64 = 1_000_000_000_000;

/// Why a limit is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitError {
    /// `rateLimit.perSecond` outside 1–[`MAX_PER_SECOND`].
    PerSecond,
    /// `quota.limit` outside 1–[`MAX_QUOTA`].
    Quota,
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitError::PerSecond => write!(f, "rateLimit.perSecond must be 1 to {MAX_PER_SECOND}"),
            LimitError::Quota => write!(f, "quota.limit must be 1 to {MAX_QUOTA}"),
        }
    }
}

impl core::error::Error for LimitError {}

/// Requests per second, 1–[`MAX_PER_SECOND`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RateLimitWire")]
pub struct RateLimit {
    /// Requests admitted in any one-second window.
    pub per_second: u32,
}

/// The limits' objects are read strictly (an unknown field is an error, as in every request
/// body): `{"perSecond": N}`, `{"limit": N, "period": …}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RateLimitWire {
    #[serde(deserialize_with = "whole_number")]
    per_second: u64,
}

impl TryFrom<RateLimitWire> for RateLimit {
    type Error = LimitError;
    fn try_from(wire: RateLimitWire) -> Result<RateLimit, LimitError> {
        let per_second = u32::try_from(wire.per_second).map_err(|_| LimitError::PerSecond)?;
        RateLimit::new(per_second)
    }
}

/// A whole number as JSON may write it: `5`, or `5.0` (JSON Schema's integers include it).
/// Negative numbers and fractions are refused; numbers past 2^53 written as floats too.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    struct Whole;
    impl serde::de::Visitor<'_> for Whole {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom("a whole number from 1 up"))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u64, E> {
            const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
                                                        // INVARIANT: 0 ≤ v ≤ 2^53 here, so the cast is exact when v is whole.
            if (0.0..=EXACT).contains(&v) && (v as u64) as f64 == v {
                Ok(v as u64)
            } else {
                Err(E::custom("a whole number"))
            }
        }
    }
    deserializer.deserialize_any(Whole)
}

impl RateLimit {
    /// `per_second` requests per second, if within bounds.
    pub fn new(per_second: u32) -> Result<RateLimit, LimitError> {
        if (1..=MAX_PER_SECOND).contains(&per_second) {
            Ok(RateLimit { per_second })
        } else {
            Err(LimitError::PerSecond)
        }
    }
}

/// The calendar window a quota counts in (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuotaPeriod {
    /// From 00:00 UTC to the next 00:00 UTC.
    Day,
    /// From the first of the month, 00:00 UTC, to the first of the next.
    Month,
}

impl QuotaPeriod {
    /// `day` or `month`.
    pub const fn as_str(self) -> &'static str {
        match self {
            QuotaPeriod::Day => "day",
            QuotaPeriod::Month => "month",
        }
    }
}

/// At most `limit` allowed requests per `period`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "QuotaWire")]
pub struct Quota {
    /// Allowed requests per period, 1–[`MAX_QUOTA`].
    pub limit: u64,
    /// The calendar window.
    pub period: QuotaPeriod,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaWire {
    #[serde(deserialize_with = "whole_number")]
    limit: u64,
    period: QuotaPeriod,
}

impl TryFrom<QuotaWire> for Quota {
    type Error = LimitError;
    fn try_from(wire: QuotaWire) -> Result<Quota, LimitError> {
        Quota::new(wire.limit, wire.period)
    }
}

impl Quota {
    /// `limit` requests per `period`, if within bounds.
    pub fn new(limit: u64, period: QuotaPeriod) -> Result<Quota, LimitError> {
        if (1..=MAX_QUOTA).contains(&limit) {
            Ok(Quota { limit, period })
        } else {
            Err(LimitError::Quota)
        }
    }
}

/// An organization's limits: the rate and quota of its keys that have none of their own, and a
/// cap all its keys share (`429` with [`crate::Exceeded::Organization`] once reached). Read
/// strictly, like every body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationLimits {
    /// The rate of a key without its own `rateLimit` (else the deployment's default).
    #[serde(default)]
    pub default_rate_limit: Option<RateLimit>,
    /// The quota of a key without its own `quota`.
    #[serde(default)]
    pub default_quota: Option<Quota>,
    /// The requests all the organization's keys may make together per UTC day or month.
    #[serde(default)]
    pub cap: Option<Quota>,
}

impl OrganizationLimits {
    /// The rate and quota a key holding `rate_limit` and `quota` of its own is held to: its own,
    /// else the organization's defaults (the deployment's default rate applies after both).
    pub fn for_key(
        &self,
        rate_limit: Option<RateLimit>,
        quota: Option<Quota>,
    ) -> (Option<RateLimit>, Option<Quota>) {
        (
            rate_limit.or(self.default_rate_limit),
            quota.or(self.default_quota),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_read_within_their_bounds() {
        let rate: RateLimit = serde_json::from_str(r#"{"perSecond":5}"#).unwrap();
        assert_eq!(rate.per_second, 5);
        assert!(serde_json::from_str::<RateLimit>(r#"{"perSecond":0}"#).is_err());
        assert!(serde_json::from_str::<RateLimit>(r#"{"perSecond":10001}"#).is_err());
        assert!(serde_json::from_str::<RateLimit>(r#"{"perSecond":4294967301}"#).is_err());
        assert_eq!(
            serde_json::from_str::<RateLimit>(r#"{"perSecond":7.0}"#)
                .unwrap()
                .per_second,
            7
        );
        for bad in [
            r#"{"perSecond":7.5}"#,
            r#"{"perSecond":-1}"#,
            r#"{"perSecond":"7"}"#,
            r#"{"perSecond":5,"burst":2}"#,
        ] {
            assert!(serde_json::from_str::<RateLimit>(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<Quota>(r#"{"limit":5,"period":"day","x":1}"#).is_err());
        let org: OrganizationLimits =
            serde_json::from_str(r#"{"defaultRateLimit":{"perSecond":3},"cap":{"limit":9,"period":"day"}}"#)
                .unwrap();
        let own = RateLimit::new(7).unwrap();
        assert_eq!(
            org.for_key(Some(own), None),
            (Some(own), None),
            "a key's own rate stands"
        );
        assert_eq!(
            org.for_key(None, None).0,
            org.default_rate_limit,
            "else the organization's"
        );
        assert!(serde_json::from_str::<OrganizationLimits>(r#"{"caps":{}}"#).is_err());
        let quota: Quota = serde_json::from_str(r#"{"limit":1000,"period":"month"}"#).unwrap();
        assert_eq!(quota, Quota::new(1000, QuotaPeriod::Month).unwrap());
        assert!(serde_json::from_str::<Quota>(r#"{"limit":0,"period":"day"}"#).is_err());
        assert!(serde_json::from_str::<Quota>(r#"{"limit":5,"period":"week"}"#).is_err());
        assert_eq!(
            serde_json::to_string(&quota).unwrap(),
            r#"{"limit":1000,"period":"month"}"#
        );
        assert_eq!(serde_json::to_string(&rate).unwrap(), r#"{"perSecond":5}"#);
    }
}
