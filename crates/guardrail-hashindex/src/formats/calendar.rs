//! The calendar the list formats need: Unix seconds and ISO 8601 date-times in UTC,
//! read and written without a date library (proleptic Gregorian, "days from civil").
//!
//! Pure arithmetic on text and integers. It never consults a clock or a time zone
//! database: a time without an offset is UTC, and a date that does not exist
//! (`2021-02-30`) is refused, never rolled over.

/// Parses a time as Unix seconds or ISO 8601 (`2021-03-10`, `2021-03-10T16:30:23Z`,
/// `2021-03-10T16:30:23.5+0000`, `2021-03-10 16:30:23+01:00`).
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(seconds);
    }
    parse_iso8601(text)
}

/// The value of a run of ASCII digits (no sign, not empty).
pub(super) fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Parses ISO 8601 date-times (and bare dates, taken as midnight UTC).
pub(super) fn parse_iso8601(text: &str) -> Option<i64> {
    let (date, rest) = match text.find(['T', 't', ' ']) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    };
    let mut parts = date.split('-');
    let (year, month, day) = (
        digits(parts.next()?)?,
        digits(parts.next()?)?,
        digits(parts.next()?)?,
    );
    if parts.next().is_some()
        || date.len() != 10
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
    {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    if rest.is_empty() {
        return Some(seconds);
    }
    // Split the clock from the zone: `Z`, `+HHMM`, `+HH:MM`, `-HH`, or none (UTC).
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let clock = clock.split('.').next()?;
    let mut fields = clock.split(':');
    let hour = digits(fields.next()?)?;
    let minute = digits(fields.next()?)?;
    let second = fields.next().map_or(Some(0), digits)?;
    if fields.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    seconds += hour * 3_600 + minute * 60 + second;
    let offset = match zone {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let body: String = zone[1..].chars().filter(|&c| c != ':').collect();
            let (hours, minutes) = match body.len() {
                2 => (digits(&body)?, 0),
                4 => (digits(&body[..2])?, digits(&body[2..])?),
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * (hours * 3_600 + minutes * 60)
        }
    };
    Some(seconds - offset)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the "days from civil"
/// computation: count in 400-year eras starting in March, so leap days fall last).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unix seconds as ISO 8601 in UTC, the way HMA data files write it
/// (`2021-03-10T16:30:23+0000`).
pub fn format_iso8601(seconds: i64) -> String {
    let (days, time_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+0000",
        time_of_day / 3_600,
        time_of_day / 60 % 60,
        time_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_unix_seconds_or_iso_8601() {
        let rows: [(&str, Option<i64>); 11] = [
            ("1700000000", Some(1_700_000_000)),
            ("-5", Some(-5)),
            ("1970-01-01", Some(0)),
            ("2000-02-29T00:00:00Z", Some(951_782_400)),
            ("2023-11-17T15:57:41Z", Some(1_700_236_661)),
            ("2023-11-17T15:57:41.250Z", Some(1_700_236_661)),
            ("2023-11-17 16:57:41+01:00", Some(1_700_236_661)),
            ("2023-11-17T10:57:41-0500", Some(1_700_236_661)),
            ("2023-11-17T15:57", Some(1_700_236_620)),
            ("1900-02-29", None),
            ("17/11/2023", None),
        ];
        for (text, expected) in rows {
            assert_eq!(parse_time(text), expected, "{text}");
        }
        for seconds in [0, 951_782_400, 1_700_236_661, -86_401, 4_102_444_800] {
            assert_eq!(
                parse_time(&format_iso8601(seconds)),
                Some(seconds),
                "{seconds}"
            );
        }
        assert_eq!(format_iso8601(1_596_221_265), "2020-07-31T18:47:45+0000");
    }
}
