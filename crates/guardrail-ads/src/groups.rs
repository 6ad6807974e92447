//! The demographic groups delivery is measured and controlled over: declared gender by
//! declared age range, the breakdown ad libraries and Meta's Variance Reduction System
//! report (sex and age).
//!
//! What it is for: one dense index per group, so counting and controlling are array reads.
//! What it must never hold: anything but public, declared attributes.

use guardrail_types::Gender;
use serde::Serialize;

/// A declared age range, in the bands ad reporting uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum AgeRange {
    /// 13-17 (never eligible for an adults-only campaign).
    #[serde(rename = "13-17")]
    Under18,
    /// 18-24.
    #[serde(rename = "18-24")]
    From18To24,
    /// 25-34.
    #[serde(rename = "25-34")]
    From25To34,
    /// 35-44.
    #[serde(rename = "35-44")]
    From35To44,
    /// 45-54.
    #[serde(rename = "45-54")]
    From45To54,
    /// 55-64.
    #[serde(rename = "55-64")]
    From55To64,
    /// 65 and over.
    #[serde(rename = "65+")]
    From65,
}

impl AgeRange {
    /// Every range, youngest first.
    pub const ALL: [AgeRange; 7] = [
        AgeRange::Under18,
        AgeRange::From18To24,
        AgeRange::From25To34,
        AgeRange::From35To44,
        AgeRange::From45To54,
        AgeRange::From55To64,
        AgeRange::From65,
    ];

    /// The range of a declared age in years.
    pub fn of_age(years: u8) -> AgeRange {
        match years {
            0..=17 => AgeRange::Under18,
            18..=24 => AgeRange::From18To24,
            25..=34 => AgeRange::From25To34,
            35..=44 => AgeRange::From35To44,
            45..=54 => AgeRange::From45To54,
            55..=64 => AgeRange::From55To64,
            _ => AgeRange::From65,
        }
    }

    /// The range as reports print it.
    pub fn label(self) -> &'static str {
        match self {
            AgeRange::Under18 => "13-17",
            AgeRange::From18To24 => "18-24",
            AgeRange::From25To34 => "25-34",
            AgeRange::From35To44 => "35-44",
            AgeRange::From45To54 => "45-54",
            AgeRange::From55To64 => "55-64",
            AgeRange::From65 => "65+",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Every gender, in report order.
pub const GENDERS: [Gender; 3] = [Gender::Woman, Gender::Man, Gender::Other];

/// The label of a gender in reports.
pub fn gender_label(gender: Gender) -> &'static str {
    match gender {
        Gender::Woman => "women",
        Gender::Man => "men",
        Gender::Other => "other",
    }
}

fn gender_index(gender: Gender) -> usize {
    match gender {
        Gender::Woman => 0,
        Gender::Man => 1,
        Gender::Other => 2,
    }
}

/// One demographic group: a gender and an age range, as a dense index below
/// [`Group::COUNT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Group(u8);

impl Group {
    /// Number of groups.
    pub const COUNT: usize = GENDERS.len() * AgeRange::ALL.len();

    /// The group of a gender and age range.
    pub fn of(gender: Gender, age: AgeRange) -> Group {
        Group((gender_index(gender) * AgeRange::ALL.len() + age.index()) as u8)
    }

    /// The dense index, below [`Group::COUNT`].
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The group with a dense index, if in range.
    pub fn from_index(index: usize) -> Option<Group> {
        (index < Self::COUNT).then_some(Group(index as u8))
    }

    /// The gender.
    pub fn gender(self) -> Gender {
        GENDERS[self.index() / AgeRange::ALL.len()]
    }

    /// The age range.
    pub fn age(self) -> AgeRange {
        AgeRange::ALL[self.index() % AgeRange::ALL.len()]
    }

    /// Every group, in index order.
    pub fn all() -> impl Iterator<Item = Group> {
        (0..Self::COUNT).map(|i| Group(i as u8))
    }

    /// `women 25-34`, as reports print it.
    pub fn label(self) -> String {
        format!("{} {}", gender_label(self.gender()), self.age().label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_round_trip() {
        for group in Group::all() {
            assert_eq!(Group::of(group.gender(), group.age()), group);
            assert_eq!(Group::from_index(group.index()), Some(group));
        }
        assert_eq!(Group::from_index(Group::COUNT), None);
        for (age, range) in [
            (13, AgeRange::Under18),
            (17, AgeRange::Under18),
            (18, AgeRange::From18To24),
            (34, AgeRange::From25To34),
            (35, AgeRange::From35To44),
            (64, AgeRange::From55To64),
            (65, AgeRange::From65),
            (120, AgeRange::From65),
        ] {
            assert_eq!(AgeRange::of_age(age), range, "{age}");
        }
    }
}
