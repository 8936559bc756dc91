//! Spans and times as people type them, in one place, parsed by jiff (a maintained date-time
//! library) rather than by hand: spans such as `24h`, `90m`, `2 hours`, `1d 12h`, `PT30M`; times
//! such as `2026-11-28T14:00:00Z`, `2026-11-28 14:00` and `2026-11-28` (UTC), `2 hours ago`,
//! `3d ago`, `today`, `yesterday`, `now`. The CLI works in UTC, so a day is 24 hours; months
//! and years are refused as spans, as their length depends on the calendar.

use jiff::civil::{Date, DateTime};
use jiff::{SpanRelativeTo, Timestamp, tz::TimeZone};
use mgrid_contract::EpochMillis;

const DAY_MS: i64 = 86_400_000;

/// A span of time in milliseconds, up to `max_days`: a number and a unit, several of them, or
/// `0`. Negative spans (`2h ago`) are refused here; [`parse_time`] takes them.
pub fn parse_span(text: &str, max_days: i64) -> Result<EpochMillis, String> {
    let ms = signed_span(text)?;
    if ms < 0 {
        return Err(format!(
            "{text:?} is a span into the past; give its length (like 2h), without `ago` or a sign"
        ));
    }
    if ms > max_days * DAY_MS {
        return Err(format!("{text:?} is longer than {max_days} days"));
    }
    Ok(ms)
}

fn signed_span(text: &str) -> Result<EpochMillis, String> {
    let text = text.trim();
    let bad = || {
        format!(
            "{text:?} is not a span of time: a number and a unit, like 24h, 30m, 7d, 2 hours or 1d 12h (or 0)"
        )
    };
    if text == "0" {
        return Ok(0);
    }
    let span: jiff::Span = text.parse().map_err(|_| bad())?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(format!(
            "{text:?} counts months or years, whose length depends on the calendar; give days (like 30d)"
        ));
    }
    let duration = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|_| bad())?;
    i64::try_from(duration.as_millis()).map_err(|_| bad())
}

/// An instant, as an operator types it, relative to `now` where it is an age.
pub fn parse_time(text: &str, now: EpochMillis) -> Result<EpochMillis, String> {
    let text = text.trim();
    let midnight = now.div_euclid(DAY_MS) * DAY_MS;
    match text {
        "now" => return Ok(now),
        "today" => return Ok(midnight),
        "yesterday" => return Ok(midnight - DAY_MS),
        _ => {}
    }
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at.as_millisecond());
    }
    // RFC 3339 beyond jiff's range (it ends a day before 9999-12-31): the window check then
    // says what is wrong with it.
    if let Ok(at) = mgrid_contract::clock::parse_rfc3339(text) {
        return Ok(at);
    }
    let utc = |civil: DateTime| {
        civil
            .to_zoned(TimeZone::UTC)
            .map(|zoned| zoned.timestamp().as_millisecond())
            .ok()
    };
    if let Some(at) = text.parse::<DateTime>().ok().and_then(utc) {
        return Ok(at);
    }
    if let Some(at) = text
        .parse::<Date>()
        .ok()
        .and_then(|date| utc(date.to_datetime(jiff::civil::Time::midnight())))
    {
        return Ok(at);
    }
    // An age: `2 hours ago`, `2h ago`, or just `2h`.
    match signed_span(text) {
        Ok(age) if age.abs() <= 3650 * DAY_MS => Ok(now - age.abs()),
        _ => Err(format!(
            "{text:?} is not a time: use RFC 3339 (2026-11-28T14:00:00Z), a UTC date and time \
             (2026-11-28 14:00), an age (2h ago, 2 hours ago, 30m ago, 3d ago), today, yesterday or now"
        )),
    }
}

/// A span in seconds as people write it: 90s, 15m, 1h, 3d.
pub fn span_text(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 && s > 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 && s > 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: EpochMillis = 1_764_504_000_000; // 2025-11-30T12:00:00Z

    #[test]
    fn spans_in_the_words_people_type() {
        assert_eq!(parse_span("0", 30), Ok(0));
        assert_eq!(parse_span("24h", 30), Ok(DAY_MS));
        assert_eq!(parse_span("90m", 30), Ok(5_400_000));
        assert_eq!(parse_span("2 hours", 30), Ok(7_200_000));
        assert_eq!(parse_span("1d 12h", 30), Ok(DAY_MS + DAY_MS / 2));
        assert_eq!(parse_span("PT30M", 30), Ok(1_800_000));
        assert_eq!(parse_span("7d", 30), Ok(7 * DAY_MS));
        assert!(parse_span("31d", 30).is_err_and(|e| e.contains("longer than 30 days")));
        assert!(parse_span("1mo", 30).is_err_and(|e| e.contains("months or years")));
        assert!(parse_span("2h ago", 30).is_err_and(|e| e.contains("into the past")));
        assert!(parse_span("soon", 30).is_err_and(|e| e.contains("not a span")));
    }

    #[test]
    fn times_in_the_words_people_type() {
        assert_eq!(parse_time("now", NOW), Ok(NOW));
        assert_eq!(parse_time("2 hours ago", NOW), Ok(NOW - 7_200_000));
        assert_eq!(parse_time("2h ago", NOW), Ok(NOW - 7_200_000));
        assert_eq!(parse_time("90m", NOW), Ok(NOW - 5_400_000));
        assert_eq!(parse_time("3d ago", NOW), Ok(NOW - 3 * DAY_MS));
        assert_eq!(parse_time("today", NOW), Ok(NOW - 12 * 3_600_000));
        assert_eq!(parse_time("yesterday", NOW), Ok(NOW - 36 * 3_600_000));
        assert_eq!(parse_time("2025-11-30T10:00:00Z", NOW), Ok(NOW - 7_200_000));
        assert_eq!(
            parse_time("2025-11-30T11:00:00+01:00", NOW),
            Ok(NOW - 7_200_000)
        );
        assert_eq!(parse_time("2025-11-30 10:00", NOW), Ok(NOW - 7_200_000));
        assert_eq!(parse_time("2025-11-30", NOW), Ok(NOW - 12 * 3_600_000));
        assert!(parse_time("last tuesday", NOW).is_err_and(|e| e.contains("not a time")));
    }
}
