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

/// The earliest time [`format_time`] writes in its one form: `0000-01-01T00:00:00.000Z`.
pub const EARLIEST: Timestamp = Timestamp(-62_167_219_200_000);
/// The latest time [`format_time`] writes in its one form: `9999-12-31T23:59:59.999Z`.
pub const LATEST: Timestamp = Timestamp(253_402_300_799_999);

/// Parses an RFC 3339 time (any offset, any fraction) to Unix milliseconds, dropping what is
/// below a millisecond (towards the past, before 1970 too). A time whose UTC instant falls
/// outside the years 0000–9999 (`0000-01-01T00:30:00+01:00`, `9999-12-31T23:30:00-01:00`) is
/// refused: [`format_time`] could not write it back in RFC 3339.
pub fn parse_time(value: &str) -> Option<Timestamp> {
    let nanos = OffsetDateTime::parse(value, &Rfc3339)
        .ok()?
        .unix_timestamp_nanos();
    let millis = i64::try_from(nanos.div_euclid(1_000_000)).ok()?;
    (EARLIEST.0..=LATEST.0)
        .contains(&millis)
        .then_some(Timestamp(millis))
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

    // Found by the `admin_input` fuzz target: a time whose offset carries it out of the years
    // 0000–9999 was accepted and written back as `-0001-12-31T01:00:59.000Z` (or, past 9999,
    // as an empty string); and sub-millisecond fractions before 1970 were rounded towards 1970.
    #[test]
    fn parsing_refuses_what_cannot_be_written_back_and_floors_fractions() {
        assert_eq!(parse_time("0000-01-01T00:00:59+23:00"), None);
        assert_eq!(parse_time("0000-01-01T00:30:00+01:00"), None);
        assert_eq!(parse_time("9999-12-31T23:59:59.999-01:00"), None);
        assert_eq!(parse_time("0000-01-01T00:00:00Z"), Some(EARLIEST));
        assert_eq!(parse_time("0000-01-01T01:00:00+01:00"), Some(EARLIEST));
        assert_eq!(parse_time("9999-12-31T23:59:59.9999Z"), Some(LATEST));
        assert_eq!(format_time(EARLIEST), "0000-01-01T00:00:00.000Z");
        assert_eq!(format_time(LATEST), "9999-12-31T23:59:59.999Z");
        let before_1970 = parse_time("1969-12-31T23:59:59.9995Z").unwrap();
        assert_eq!(before_1970, Timestamp(-1));
        assert_eq!(format_time(before_1970), "1969-12-31T23:59:59.999Z");
        assert_eq!(parse_time("1970-01-01T00:00:00.0005Z"), Some(Timestamp(0)));
    }
}
