//! A key's usage as the admin API and the console answer it: the range asked for and the
//! buckets ([`crate::store::usage`]).

use policy_core::Timestamp;

use super::error::ServiceError;
use crate::clock::format_time;
#[cfg(doc)]
use crate::store::usage::RETENTION_MS;
use crate::store::usage::{buckets, Granularity, DAY_MS};
use crate::store::write::Writer;

/// The range asked for: `until` (default now) and `since` (default: 00:00 UTC 29 days before
/// `until`'s day, i.e. 30 days of buckets). As for the audit log, a `since` at or after
/// `until` matches nothing, and nothing older than [`RETENTION_MS`] is kept to match.
pub fn range(since: Option<Timestamp>, until: Option<Timestamp>, at: Timestamp) -> (Timestamp, Timestamp) {
    let until = until.unwrap_or(at);
    let since = since.unwrap_or(Timestamp(Granularity::Day.start_of(until.0) - 29 * DAY_MS));
    (since, until)
}

/// A key's usage as the admin API and the console answer it.
pub async fn key_usage_answer(
    writer: &Writer,
    org: &str,
    key: &str,
    (since, until): (Timestamp, Timestamp),
    granularity: Granularity,
) -> Result<serde_json::Value, ServiceError> {
    let rows = writer.key_usage(org, key, since, until).await?;
    Ok(serde_json::json!({
        "keyId": key,
        "granularity": granularity.as_str(),
        "since": format_time(since),
        "until": format_time(until),
        "buckets": buckets(&rows, granularity),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_764_000_000_000);

    #[test]
    fn the_default_range_is_thirty_days_of_buckets() {
        let (since, until) = range(None, None, NOW);
        assert_eq!(until, NOW);
        assert_eq!(since.0 % DAY_MS, 0);
        assert_eq!((Granularity::Day.start_of(NOW.0) - since.0) / DAY_MS, 29);
        let early = Timestamp(NOW.0 - 91 * DAY_MS);
        assert_eq!(
            range(Some(early), Some(NOW), NOW),
            (early, NOW),
            "as asked; what is not kept is not there"
        );
    }
}
