//! The clock and Vietnam's time zone (UTC+7 all year, no daylight saving). Times are kept as Unix
//! seconds in UTC and shown, and days counted, in Vietnam's time.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Vietnam's offset from UTC, in seconds.
pub const VIETNAM_OFFSET: i64 = 7 * 3600;

/// Now, as Unix seconds.
pub fn now() -> i64 {
    Utc::now().timestamp()
}

/// Now, as Unix milliseconds.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(VIETNAM_OFFSET as i32).expect("UTC+7 is a valid offset")
}

/// The instant as a date and time in Vietnam; the epoch for an instant chrono cannot represent.
pub fn in_vietnam(at: i64) -> DateTime<FixedOffset> {
    DateTime::from_timestamp(at, 0).unwrap_or_default().with_timezone(&vietnam())
}

/// Today's date in Vietnam.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&vietnam()).date_naive()
}

/// The Unix time at which the Vietnamese calendar day holding `at` starts (17:00 UTC the day before).
pub fn day_start(at: i64) -> i64 {
    (at + VIETNAM_OFFSET).div_euclid(86_400) * 86_400 - VIETNAM_OFFSET
}

/// The Unix time at which a Vietnamese calendar day starts.
pub fn start_of(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp() - VIETNAM_OFFSET)
}

/// "06/12/2026"
pub fn date_vi(at: i64) -> String {
    in_vietnam(at).format("%d/%m/%Y").to_string()
}

/// "14:05"
pub fn time_vi(at: i64) -> String {
    in_vietnam(at).format("%H:%M").to_string()
}

/// "06/12/2026 14:05:09"
pub fn datetime_vi(at: i64) -> String {
    in_vietnam(at).format("%d/%m/%Y %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_counted_in_vietnam() {
        // 2026-12-05 17:00:00 UTC is midnight of 6 December in Vietnam.
        let midnight = 1_796_490_000;
        assert_eq!(date_vi(midnight), "06/12/2026");
        assert_eq!(date_vi(midnight - 1), "05/12/2026");
        assert_eq!(day_start(midnight + 3600), midnight);
        assert_eq!(day_start(midnight - 1), midnight - 86_400);
        assert_eq!(start_of(NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()), midnight);
        assert_eq!(datetime_vi(midnight + 3661), "06/12/2026 01:01:01");
        assert_eq!(time_vi(midnight + 3661), "01:01");
    }
}
