//! Time at the edge: the platform clock in the engine's terms (policy-core has no clock), and
//! the one RFC 3339 form every response uses.

use policy_core::Timestamp;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

/// The platform clock.
pub fn now() -> Timestamp {
    Timestamp(worker::Date::now().as_millis() as i64)
}

/// A time as every response writes it: RFC 3339 in UTC with exactly three fraction digits,
/// e.g. `2026-11-24T05:44:56.030Z` (one form, so clients can compare strings).
pub fn format_time(t: Timestamp) -> String {
    let form = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0) * 1_000_000)
        .ok()
        .and_then(|t| t.format(form).ok())
        .unwrap_or_default()
}

/// Parses an RFC 3339 time (any offset, any fraction) to Unix milliseconds.
pub fn parse_time(value: &str) -> Option<Timestamp> {
    OffsetDateTime::parse(value, &Rfc3339)
        .ok()
        .map(|t| Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_one_form() {
        assert_eq!(
            format_time(Timestamp(1_764_000_000_030)),
            "2025-11-24T16:00:00.030Z"
        );
        assert_eq!(
            format_time(Timestamp(1_764_000_000_400)),
            "2025-11-24T16:00:00.400Z"
        );
        assert_eq!(format_time(Timestamp(0)), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn parsing_accepts_offsets_and_round_trips() {
        let t = parse_time("2025-11-24T17:00:00.03+01:00").unwrap();
        assert_eq!(format_time(t), "2025-11-24T16:00:00.030Z");
        assert_eq!(parse_time(&format_time(t)), Some(t));
        assert_eq!(parse_time("2025-11-24"), None);
        assert_eq!(parse_time("yesterday"), None);
    }
}
