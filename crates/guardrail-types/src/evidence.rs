//! Evidence: where a signal came from, written as words a reviewer reads.
//!
//! Every condition a rule reads carries [`Provenance`] records: which detector or record
//! ([`Source`]) and what it saw, as a short phrase (`account 45: score 1.000, network
//! member, role seller`). The phrase is built from typed values by the engine that read
//! them; it must never be a `Debug` dump of a struct or an `Option`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The detector or record a piece of evidence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The text guard (bios, posts, queries, suggestions).
    TextGuard,
    /// Known-image matching against hash banks.
    HashMatch,
    /// The network map (propagation, communities, roles).
    NetworkMap,
    /// A reviewer's decision or an enforcement action.
    Reviewer,
    /// Accounts linked into the person behind them.
    EntityLinks,
    /// Follows, blocks and reports between accounts.
    Relationships,
    /// What the account or the advertiser declared (age, minor-featuring content).
    Declared,
    /// Hashtags that travel with blocked ones.
    VariantClusters,
}

impl Source {
    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Source::TextGuard => "text_guard",
            Source::HashMatch => "hash_match",
            Source::NetworkMap => "network_map",
            Source::Reviewer => "reviewer",
            Source::EntityLinks => "entity_links",
            Source::Relationships => "relationships",
            Source::Declared => "declared",
            Source::VariantClusters => "variant_clusters",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One piece of evidence: its source and what it saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The detector or record.
    pub source: Source,
    /// What it saw, in words (rule ids, bank names, scores, relations).
    pub detail: String,
}

impl Provenance {
    /// A piece of evidence.
    pub fn new(source: Source, detail: impl Into<String>) -> Provenance {
        Provenance {
            source,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.detail)
    }
}
