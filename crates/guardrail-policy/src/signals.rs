//! Signals: everything a rule may look at, each with where it came from.
//!
//! A signal is `Option`al on purpose: `None` means *not known* (the detector has not run,
//! or its dependency failed), which is different from a known `false`. Rules treat an
//! unknown signal as the unsafe answer (fail closed) and say so in the verdict.

use std::fmt;
use std::sync::Arc;

use guardrail_text::Tier;
use guardrail_types::{AccountId, AgeBand, NetworkRole};
use serde::{Deserialize, Serialize};

/// What the text guard found on an account's bio, name and posts, or on a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextSignal {
    /// The most severe tier matched, if any.
    pub worst_tier: Option<Tier>,
    /// Combined weight of signal matches, in [0, 1].
    pub risk_score: f64,
    /// The rules that matched.
    pub rules: Vec<String>,
}

/// Known-image matches for an account's uploads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HashSignal {
    /// How many uploads matched a positive bank (after negative banks).
    pub matches: u32,
    /// The banks that matched.
    pub banks: Vec<String>,
}

/// The network map's view of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkSignal {
    /// Risk score from propagation, in [0, 1].
    pub score: f64,
    /// Whether the map lists the account as a suspected network member.
    pub member: bool,
    /// The suspected role.
    pub role: Option<NetworkRole>,
}

/// What is known about one account. `None` fields are unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountSignals {
    /// The account.
    pub id: AccountId,
    /// The platform's own id for the account, when it differs from the dense id (shown in
    /// evidence, so reviewers read the name the platform uses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Arc<str>>,
    /// Declared age band.
    pub age: Option<AgeBand>,
    /// Whether the account's content features minors (declared or classified).
    pub features_minors: Option<bool>,
    /// Text-guard findings on bio, name and posts.
    pub text: Option<TextSignal>,
    /// Known-image matches.
    pub hash: Option<HashSignal>,
    /// Network map findings.
    pub network: Option<NetworkSignal>,
    /// A reviewer or an enforcement action flagged the account.
    pub flagged: Option<bool>,
    /// The person behind the account (its entity) has been actioned.
    pub entity_actioned: Option<bool>,
    /// How many distinct minors blocked or reported this account.
    pub blocks_reports_from_minors: Option<u32>,
}

impl AccountSignals {
    /// An account about which nothing is known yet.
    pub fn unknown(id: AccountId) -> AccountSignals {
        AccountSignals {
            id,
            name: None,
            age: None,
            features_minors: None,
            text: None,
            hash: None,
            network: None,
            flagged: None,
            entity_actioned: None,
            blocks_reports_from_minors: None,
        }
    }

    /// An account known to be a clean adult (every signal present and benign).
    pub fn clean_adult(id: AccountId) -> AccountSignals {
        AccountSignals {
            id,
            name: None,
            age: Some(AgeBand::Adult),
            features_minors: Some(false),
            text: Some(TextSignal {
                worst_tier: None,
                risk_score: 0.0,
                rules: Vec::new(),
            }),
            hash: Some(HashSignal {
                matches: 0,
                banks: Vec::new(),
            }),
            network: Some(NetworkSignal {
                score: 0.0,
                member: false,
                role: None,
            }),
            flagged: Some(false),
            entity_actioned: Some(false),
            blocks_reports_from_minors: Some(0),
        }
    }
}

impl AccountSignals {
    /// How evidence names the account: the platform's id when known, else the dense id.
    pub fn shown(&self) -> Shown<'_> {
        Shown(self)
    }
}

/// An account as evidence names it (see [`AccountSignals::shown`]).
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(&'a AccountSignals);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.name {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.0.id),
        }
    }
}

/// How the viewer and the candidate are related.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Relationship {
    /// The viewer follows the candidate.
    pub viewer_follows: bool,
    /// The candidate follows the viewer.
    pub followed_by: bool,
    /// Either blocked the other.
    pub blocked: bool,
    /// The viewer reported the candidate.
    pub reported: bool,
}
