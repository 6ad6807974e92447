//! Date-times as the Reporting API writes them.
//!
//! The API's troubleshooting section (7.3, "Timestamp Format") asks for ISO 8601 with a
//! time zone, either `Z` or `+hh:mm`/`-hh:mm`; a date-time without a zone is a
//! validation failure. [`Timestamp`] makes that a type: it is an instant (Unix seconds)
//! plus the offset it is written in, so it always prints with a zone, and two
//! timestamps compare by instant whatever their offsets.
//!
//! This module never reads a clock: "now" is always passed in by the caller (DESIGN.md
//! section 5, layer 2 is pure). It never accepts a date-time without a zone, and it
//! does not keep fractional seconds (the ledger works in whole seconds).

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// An instant with the UTC offset it is written in, printed as
/// `YYYY-MM-DDThh:mm:ssZ` or `YYYY-MM-DDThh:mm:ss±hh:mm`.
///
/// Equality and order are by instant: `2024-01-01T00:00:00Z` equals
/// `2024-01-01T01:00:00+01:00`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp {
    unix_seconds: i64,
    offset_minutes: i16,
}

/// Why a date-time was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {text:?}: {reason}")]
pub struct TimestampError {
    /// The text (or the numbers, formatted) that was refused.
    pub text: String,
    /// What was wrong, as a lowercase fragment.
    pub reason: &'static str,
}

/// Years the schema's `xs:dateTime` can hold in four digits.
const FIRST_YEAR: i64 = 1;
const LAST_YEAR: i64 = 9999;
/// Offsets beyond ±23:59 are not ISO 8601.
const MAX_OFFSET_MINUTES: i16 = 23 * 60 + 59;

impl Timestamp {
    /// The instant `unix_seconds` after 1970-01-01T00:00:00Z, written in UTC (`Z`).
    pub fn from_unix_seconds(unix_seconds: i64) -> Result<Self, TimestampError> {
        Self::from_unix_seconds_with_offset(unix_seconds, 0)
    }

    /// The instant `unix_seconds`, written in local time at `offset_minutes` east of UTC.
    pub fn from_unix_seconds_with_offset(
        unix_seconds: i64,
        offset_minutes: i16,
    ) -> Result<Self, TimestampError> {
        let refuse = |reason| TimestampError {
            text: format!("{unix_seconds}s at offset {offset_minutes}min"),
            reason,
        };
        if offset_minutes.abs() > MAX_OFFSET_MINUTES {
            return Err(refuse("offset is beyond ±23:59"));
        }
        let timestamp = Timestamp {
            unix_seconds,
            offset_minutes,
        };
        let year = civil_from_days(timestamp.local_seconds().div_euclid(86_400)).0;
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(refuse("year is outside 0001..=9999"));
        }
        Ok(timestamp)
    }

    /// Parses `YYYY-MM-DDThh:mm:ss` followed by `Z` or `±hh:mm`.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let refuse = |reason| TimestampError {
            text: text.to_string(),
            reason,
        };
        let bytes = text.as_bytes();
        // ASCII only: the byte offsets below then never split a character.
        if bytes.len() < 19 || !text.is_ascii() {
            return Err(refuse(
                "expected YYYY-MM-DDThh:mm:ss followed by Z or ±hh:mm",
            ));
        }
        for (index, separator) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
            if bytes[index] != separator {
                return Err(refuse(
                    "expected YYYY-MM-DDThh:mm:ss followed by Z or ±hh:mm",
                ));
            }
        }
        let number = |range: std::ops::Range<usize>| -> Result<i64, TimestampError> {
            let digits = &text[range];
            if digits.bytes().all(|byte| byte.is_ascii_digit()) {
                digits
                    .parse::<i64>()
                    .map_err(|_| refuse("a date or time field is not a number"))
            } else {
                Err(refuse("a date or time field is not a number"))
            }
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(refuse("year is outside 0001..=9999"));
        }
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(refuse("no such calendar date"));
        }
        // 24:00:00 and leap seconds are legal ISO 8601 but nothing in the ledger writes
        // them; refusing keeps one spelling per instant.
        if hour > 23 || minute > 59 || second > 59 {
            return Err(refuse("time of day is outside 00:00:00..=23:59:59"));
        }
        let zone = &text[19..];
        let offset_minutes: i16 = match zone.as_bytes() {
            [b'.', ..] => return Err(refuse("fractional seconds are not supported")),
            [b'Z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let hours = number(20..22)?;
                let minutes = number(23..25)?;
                if hours > 23 || minutes > 59 {
                    return Err(refuse("offset is beyond ±23:59"));
                }
                let magnitude = (hours * 60 + minutes) as i16;
                if *sign == b'-' { -magnitude } else { magnitude }
            }
            [] => return Err(refuse("a time zone (Z or ±hh:mm) is required")),
            _ => return Err(refuse("time zone must be Z or ±hh:mm")),
        };
        let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
        Ok(Timestamp {
            unix_seconds: local - i64::from(offset_minutes) * 60,
            offset_minutes,
        })
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix_seconds(&self) -> i64 {
        self.unix_seconds
    }

    /// The offset east of UTC this timestamp is written in.
    pub fn offset_minutes(&self) -> i16 {
        self.offset_minutes
    }

    fn local_seconds(&self) -> i64 {
        self.unix_seconds + i64::from(self.offset_minutes) * 60
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.unix_seconds == other.unix_seconds
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.unix_seconds.cmp(&other.unix_seconds)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.local_seconds();
        let (year, month, day) = civil_from_days(local.div_euclid(86_400));
        let second_of_day = local.rem_euclid(86_400);
        write!(
            formatter,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60
        )?;
        if self.offset_minutes == 0 {
            formatter.write_str("Z")
        } else {
            let sign = if self.offset_minutes < 0 { '-' } else { '+' };
            let magnitude = self.offset_minutes.unsigned_abs();
            write!(
                formatter,
                "{sign}{:02}:{:02}",
                magnitude / 60,
                magnitude % 60
            )
        }
    }
}

impl TryFrom<String> for Timestamp {
    type Error = TimestampError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Timestamp::parse(&text)
    }
}

impl From<Timestamp> for String {
    fn from(timestamp: Timestamp) -> Self {
        timestamp.to_string()
    }
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Days since 1970-01-01 in the proleptic Gregorian calendar, counted in 400-year eras
// (146,097 days each) from a year that starts in March, so that the leap day is the
// last day of the counted year (the method of Howard Hinnant's "chrono-compatible
// low-level date algorithms").
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip_over_four_centuries() {
        for days in (-800_000..800_000).step_by(7) {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(
                days_from_civil(year, month, day),
                days,
                "{year}-{month}-{day}"
            );
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
