//! Time as data: seconds for events and decisions, logical days for simulated worlds, and
//! the one place that converts a day to seconds.
//!
//! Platform events carry Unix seconds. A synthetic world's history is counted in logical
//! days from day 0; its day `d` starts at second `d × 86,400` of a logical clock that
//! begins at 0. Engines that count time (variant clusters, caps, label expiry) count
//! [`Timestamp`]s; generators and recommenders count [`Day`]s.
//!
//! What it must never do: read a clock. Time is always passed in.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Seconds in a day.
pub const SECONDS_PER_DAY: u64 = 86_400;

/// A point in time in seconds: Unix seconds on a platform, logical seconds in a world.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Seconds since the clock's origin.
    pub fn seconds(self) -> u64 {
        self.0
    }

    /// The logical day this second falls in.
    pub fn day(self) -> Day {
        Day(u32::try_from(self.0 / SECONDS_PER_DAY).unwrap_or(u32::MAX))
    }

    /// `seconds` later (saturating).
    pub fn plus_seconds(self, seconds: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.0)
    }
}

/// A logical day of a simulated history (day 0 is its start).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Day(pub u32);

impl Day {
    /// The first second of this day: the one conversion from days to seconds.
    pub fn start(self) -> Timestamp {
        Timestamp(u64::from(self.0) * SECONDS_PER_DAY)
    }

    /// The day number as a wide integer (for arithmetic on logical time).
    pub fn number(self) -> u64 {
        u64::from(self.0)
    }

    /// `days` later (saturating).
    pub fn plus(self, days: u32) -> Day {
        Day(self.0.saturating_add(days))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "day {}", self.0)
    }
}

impl std::str::FromStr for Day {
    type Err = std::num::ParseIntError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse().map(Day)
    }
}

impl From<u32> for Day {
    fn from(value: u32) -> Self {
        Day(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_its_first_second_and_seconds_fall_in_their_day() {
        let cases = [(0, 0), (1, 86_400), (30, 2_592_000)];
        for (day, seconds) in cases {
            assert_eq!(Day(day).start(), Timestamp(seconds));
            assert_eq!(Timestamp(seconds).day(), Day(day));
            assert_eq!(Timestamp(seconds + 86_399).day(), Day(day));
        }
        assert_eq!(Timestamp(u64::MAX).day(), Day(u32::MAX));
    }
}
