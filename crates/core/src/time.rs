//! Wall-clock time as Unix seconds, the unit of every timestamp Tessera stores, and
//! its RFC 3339 form for responses.
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// RFC 3339 UTC text of a Unix time (`2026-11-22T23:44:55Z`).
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The Unix time (whole seconds) of an RFC 3339 text, or of the same without an
/// offset, read as UTC (what Django's `dumpdata` prints with and without `USE_TZ`).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    use time::{OffsetDateTime, format_description::well_known::Rfc3339};
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339))
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_rfc3339_and_naive_utc() {
        for text in [
            "2026-11-22T23:44:55Z",
            "2026-11-22T23:44:55.123Z",
            "2026-11-23T00:44:55+01:00",
            "2026-11-22T23:44:55.123456",
        ] {
            assert_eq!(super::parse_rfc3339(text), Some(1_795_391_095), "{text}");
        }
        assert_eq!(super::parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_391_095), "2026-11-22T23:44:55Z");
    }
}
