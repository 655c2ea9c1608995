//! A rotation's grace period: how long the old key keeps working. One parse rule for every
//! surface (the admin API, the console, the npm plans), so that `60`, `60.0`, `-1`, `"60"` and
//! a period beyond 30 days get the same answer and the same code everywhere.

use serde_json::Value;

use super::{LifecycleError, MAX_GRACE_SECONDS};

/// 2^64, the first float beyond every `u64`.
const TWO_TO_THE_64: f64 = 18_446_744_073_709_551_616.0;

/// A grace period of 0 to [`MAX_GRACE_SECONDS`] seconds (30 days). `0` stops the old key at
/// once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GracePeriod {
    seconds: u32,
}

impl GracePeriod {
    /// The longest grace period: 30 days.
    pub const MAX: GracePeriod = GracePeriod {
        seconds: MAX_GRACE_SECONDS,
    };

    /// A period of `seconds`, or [`LifecycleError::GraceTooLong`] beyond 30 days.
    pub fn from_seconds(seconds: u64) -> Result<GracePeriod, LifecycleError> {
        match u32::try_from(seconds) {
            Ok(seconds) if seconds <= MAX_GRACE_SECONDS => Ok(GracePeriod { seconds }),
            _ => Err(LifecycleError::GraceTooLong { seconds }),
        }
    }

    /// `gracePeriodSeconds` as a request carries it, in JSON: absent or `null` is no grace period
    /// (`None`); a whole number of seconds is one, however JSON writes it (`60`, `60.0`, `6e1`:
    /// JSON does not tell them apart, and JSON Schema's `integer` accepts all three); anything
    /// else — a fraction, a negative number, text, a boolean, a list — is
    /// [`LifecycleError::InvalidGracePeriod`], and a whole number beyond 30 days is
    /// [`LifecycleError::GraceTooLong`].
    pub fn from_json(value: Option<&Value>) -> Result<Option<GracePeriod>, LifecycleError> {
        let number = match value {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(number)) => number,
            Some(_) => return Err(LifecycleError::InvalidGracePeriod),
        };
        if let Some(whole) = number.as_u64() {
            return GracePeriod::from_seconds(whole).map(Some);
        }
        match number.as_f64() {
            Some(f) if f.is_finite() && f >= 0.0 => {
                // `as` truncates and saturates; every float from 2^64 up is a whole number
                // (and far too long). `f64::fract` is not in `core`.
                let whole = f as u64;
                if f >= TWO_TO_THE_64 || whole as f64 == f {
                    GracePeriod::from_seconds(whole).map(Some)
                } else {
                    Err(LifecycleError::InvalidGracePeriod)
                }
            }
            _ => Err(LifecycleError::InvalidGracePeriod),
        }
    }

    /// The period in seconds.
    pub const fn seconds(self) -> u32 {
        self.seconds
    }

    /// The period in milliseconds (what is added to a [`crate::Timestamp`]).
    pub const fn millis(self) -> i64 {
        self.seconds as i64 * 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Option<u32>, LifecycleError> {
        let value: Value = serde_json::from_str(json).unwrap();
        GracePeriod::from_json(Some(&value)).map(|g| g.map(GracePeriod::seconds))
    }

    #[test]
    fn whole_numbers_however_json_writes_them() {
        assert_eq!(parse("60"), Ok(Some(60)));
        assert_eq!(parse("60.0"), Ok(Some(60)));
        assert_eq!(parse("6e1"), Ok(Some(60)));
        assert_eq!(parse("0"), Ok(Some(0)));
        assert_eq!(parse("-0.0"), Ok(Some(0)));
        assert_eq!(parse("2592000"), Ok(Some(MAX_GRACE_SECONDS)));
        assert_eq!(parse("null"), Ok(None));
        assert_eq!(GracePeriod::from_json(None), Ok(None));
    }

    #[test]
    fn anything_else_is_refused_with_its_rule() {
        for bad in ["60.5", "-1", "-0.5", "\"60\"", "true", "[60]", "{}"] {
            assert_eq!(parse(bad), Err(LifecycleError::InvalidGracePeriod), "{bad}");
        }
        assert_eq!(
            parse("2592001"),
            Err(LifecycleError::GraceTooLong { seconds: 2_592_001 })
        );
        assert_eq!(
            parse("4294967296"),
            Err(LifecycleError::GraceTooLong {
                seconds: 4_294_967_296
            })
        );
        assert_eq!(
            parse("1e300"),
            Err(LifecycleError::GraceTooLong { seconds: u64::MAX })
        );
        let err = parse("-1").unwrap_err();
        assert_eq!(
            (err.code(), err.field(), err.kind().status()),
            ("invalid_grace_period", Some("gracePeriodSeconds"), 400)
        );
        assert_eq!(parse("2592001").unwrap_err().code(), "grace_too_long");
    }

    #[test]
    fn a_period_adds_milliseconds() {
        assert_eq!(GracePeriod::from_seconds(60).unwrap().millis(), 60_000);
        assert_eq!(GracePeriod::MAX.seconds(), 30 * 24 * 3600);
    }
}
