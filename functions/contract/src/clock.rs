//! Times as the pipeline stores them: milliseconds since the Unix epoch, UTC. Parsing and
//! formatting RFC 3339, and the civil date of an instant, without a time-zone database.

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type EpochMillis = i64;

/// The UTC calendar fields of an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcDateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millisecond: u32,
}

impl UtcDateTime {
    pub fn from_epoch_millis(millis: EpochMillis) -> UtcDateTime {
        let days = millis.div_euclid(86_400_000);
        let of_day = millis.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        UtcDateTime {
            year,
            month,
            day,
            hour: (of_day / 3_600_000) as u32,
            minute: (of_day / 60_000 % 60) as u32,
            second: (of_day / 1000 % 60) as u32,
            millisecond: (of_day % 1000) as u32,
        }
    }

    pub fn to_epoch_millis(self) -> EpochMillis {
        days_from_civil(self.year, self.month, self.day) * 86_400_000
            + i64::from(self.hour) * 3_600_000
            + i64::from(self.minute) * 60_000
            + i64::from(self.second) * 1000
            + i64::from(self.millisecond)
    }
}

/// `2026-11-29T03:34:10.123Z`.
pub fn format_rfc3339(millis: EpochMillis) -> String {
    let t = UtcDateTime::from_epoch_millis(millis);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.millisecond
    )
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an RFC 3339 time (like 2026-11-29T03:34:10Z)")]
pub struct NotRfc3339(pub String);

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`, keeping milliseconds.
pub fn parse_rfc3339(text: &str) -> Result<EpochMillis, NotRfc3339> {
    let error = || NotRfc3339(text.to_owned());
    let bytes = text.as_bytes();
    if bytes.len() < 20 || !matches!(bytes[10], b'T' | b't' | b' ') {
        return Err(error());
    }
    let number = |range: std::ops::Range<usize>| -> Result<u32, NotRfc3339> {
        let part = text.get(range).ok_or_else(error)?;
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        part.parse().map_err(|_| error())
    };
    if bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' || bytes[16] != b':' {
        return Err(error());
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(i64::from(year), month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(error());
    }
    let mut rest = &text[19..];
    let mut millisecond = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(error());
        }
        let padded = format!("{:0<3}", &fraction[..digits.min(3)]);
        millisecond = padded.parse().map_err(|_| error())?;
        rest = &fraction[digits..];
    }
    let offset_minutes: i64 = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':' =>
        {
            // RFC 3339's time-numoffset: hours 00–23, minutes 00–59, two digits each.
            let hours = i64::from(number(text.len() - 5..text.len() - 3)?);
            let minutes = i64::from(number(text.len() - 2..text.len())?);
            if hours > 23 || minutes > 59 {
                return Err(error());
            }
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (hours * 60 + minutes)
        }
        _ => return Err(error()),
    };
    let local = UtcDateTime {
        year: i64::from(year),
        month,
        day,
        hour,
        minute,
        second: second.min(59),
        millisecond,
    }
    .to_epoch_millis();
    Ok(local - offset_minutes * 60_000)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

// Howard Hinnant's algorithms (http://howardhinnant.github.io/date_algorithms.html).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants_format_and_parse_back() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_rfc3339(1_795_923_250_123),
            "2026-11-29T03:34:10.123Z"
        );
        assert_eq!(
            parse_rfc3339("2026-11-29T03:34:10.123Z"),
            Ok(1_795_923_250_123)
        );
        assert_eq!(format_rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        let start = days_from_civil(1900, 1, 1);
        for days in start..start + 146_097 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            assert!(d >= 1 && d <= days_in_month(y, m));
        }
    }

    #[test]
    fn offsets_and_fractions_are_honoured() {
        assert_eq!(
            parse_rfc3339("2018-12-10T21:20:49Z"),
            parse_rfc3339("2018-12-10T22:20:49+01:00")
        );
        assert_eq!(parse_rfc3339("2018-12-10T21:20:49.5Z").unwrap() % 1000, 500);
        assert_eq!(
            parse_rfc3339("2018-12-10T21:20:49.123456Z").unwrap() % 1000,
            123
        );
    }

    #[test]
    fn takes_offsets_within_a_day() {
        let utc = parse_rfc3339("2018-12-10T21:20:49Z").expect("valid");
        let east = parse_rfc3339("2018-12-10T23:20:49+02:00").expect("valid");
        let west = parse_rfc3339("2018-12-10T07:50:49-13:30").expect("valid");
        assert_eq!((east, west), (utc, utc));
        assert!(parse_rfc3339("2018-12-10T21:20:49+23:59").is_ok());
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for bad in [
            "",
            "2018-12-10",
            "2018-13-10T21:20:49Z",
            "2018-02-30T00:00:00Z",
            "2018-12-10T21:20:49",
            "2018-12-10T21:20:49.Z",
            "yyyy-12-10T21:20:49Z",
            "2018-12-10T21:20:49+99:00",
            "2018-12-10T21:20:49+24:00",
            "2018-12-10T21:20:49-01:60",
            "2018-12-10T21:20:49++1:00",
            "2018-12-10T21:20:49+1a:00",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }
}
