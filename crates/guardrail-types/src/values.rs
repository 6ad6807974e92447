//! Small values engines hand each other: the text guard's decision, a declared age band,
//! and a network role. Each has one spelling in files, JSON and evidence.
//!
//! What they must never carry: how they were computed. They are words, not engines.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::names::{UnknownName, parse_name};

/// What a place may do with a text, as the text guard decides. Ordered by strictness.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TextDecision {
    /// Show, suggest and search as usual.
    #[default]
    Allow,
    /// Show where asked for, but never suggest, recommend, autocomplete or trend.
    Restrict,
    /// Do not show; searches return no results and help resources.
    Block,
}

impl TextDecision {
    /// Every decision, weakest first.
    pub const ALL: [TextDecision; 3] = [
        TextDecision::Allow,
        TextDecision::Restrict,
        TextDecision::Block,
    ];

    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            TextDecision::Allow => "allow",
            TextDecision::Restrict => "restrict",
            TextDecision::Block => "block",
        }
    }
}

impl fmt::Display for TextDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TextDecision {
    type Err = UnknownName;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        parse_name("decision", name, &TextDecision::ALL, TextDecision::name)
    }
}

/// Declared age band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeBand {
    /// Under 18.
    Minor,
    /// 18 or over.
    Adult,
}

impl AgeBand {
    /// Age at which an account is an adult.
    pub const ADULT_AGE: u8 = 18;

    /// The band of a declared age in years.
    pub fn of_age(years: u8) -> AgeBand {
        if years < Self::ADULT_AGE {
            AgeBand::Minor
        } else {
            AgeBand::Adult
        }
    }

    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            AgeBand::Minor => "minor",
            AgeBand::Adult => "adult",
        }
    }
}

impl fmt::Display for AgeBand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The role the network map reads off an account's place in a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkRole {
    /// Sells or advertises material; followed and messaged by other suspects.
    Seller,
    /// Collects and redistributes; follows many sellers and is followed by suspects.
    Aggregator,
    /// Follows sellers or aggregators and shows consumer signals.
    Buyer,
    /// Near the network without risk signals of its own.
    Bystander,
}

impl NetworkRole {
    /// Every role.
    pub const ALL: [NetworkRole; 4] = [
        NetworkRole::Seller,
        NetworkRole::Aggregator,
        NetworkRole::Buyer,
        NetworkRole::Bystander,
    ];

    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            NetworkRole::Seller => "seller",
            NetworkRole::Aggregator => "aggregator",
            NetworkRole::Buyer => "buyer",
            NetworkRole::Bystander => "bystander",
        }
    }

    /// Whether the role is a part in the network (not a bystander).
    pub fn in_network(self) -> bool {
        !matches!(self, NetworkRole::Bystander)
    }
}

impl fmt::Display for NetworkRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for NetworkRole {
    type Err = UnknownName;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        parse_name("role", name, &NetworkRole::ALL, NetworkRole::name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_one_spelling() {
        for decision in TextDecision::ALL {
            assert_eq!(decision.name().parse::<TextDecision>(), Ok(decision));
        }
        assert!(TextDecision::Allow < TextDecision::Restrict);
        assert!(TextDecision::Restrict < TextDecision::Block);
        for role in NetworkRole::ALL {
            assert_eq!(role.name().parse::<NetworkRole>(), Ok(role));
            let json = serde_json::to_string(&role).expect("serialises");
            assert_eq!(json, format!("\"{role}\""));
        }
        let cases = [
            (0, AgeBand::Minor),
            (17, AgeBand::Minor),
            (18, AgeBand::Adult),
            (90, AgeBand::Adult),
        ];
        for (years, band) in cases {
            assert_eq!(AgeBand::of_age(years), band, "{years}");
        }
    }
}

/// A kind of engagement between two accounts (directly, or through a post).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngagementKind {
    /// `actor` follows `target`.
    Follow,
    /// `actor` opened `target`'s profile (on the platform in the reporting, one view was
    /// a recommendation signal).
    View,
    /// `actor` liked a post by `target`.
    Like,
    /// `actor` commented on a post by `target`.
    Comment,
    /// `actor` reported `target` (opening an account to report it leaves a visit).
    Report,
    /// `actor` blocked `target`.
    Block,
    /// A moderator's or reviewer's visit to `target`.
    ReviewerVisit,
}

impl EngagementKind {
    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            EngagementKind::Follow => "follow",
            EngagementKind::View => "view",
            EngagementKind::Like => "like",
            EngagementKind::Comment => "comment",
            EngagementKind::Report => "report",
            EngagementKind::Block => "block",
            EngagementKind::ReviewerVisit => "reviewer_visit",
        }
    }
}

/// Declared gender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// Woman.
    Woman,
    /// Man.
    Man,
    /// Another gender or not declared.
    Other,
}

impl Gender {
    /// Every gender, in file order.
    pub const ALL: [Gender; 3] = [Gender::Woman, Gender::Man, Gender::Other];

    /// The lowercase name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Woman => "woman",
            Gender::Man => "man",
            Gender::Other => "other",
        }
    }

    /// Parses the lowercase name.
    pub fn parse(text: &str) -> Option<Self> {
        Gender::ALL.into_iter().find(|g| g.as_str() == text)
    }
}
