//! The records the dataflow carries between workers and hands back to the driver: compact,
//! serialisable, totally ordered forms of what `guardrail-graph` computes per account.
//!
//! What it is for: differential needs `Ord + Hash + Serialize` data; the engine's types are
//! made for reading, not exchanging. Each record converts back to the engine's own type
//! (`AccountAttributes`, `TextSignal`, `AccountFeatures`), so the scoring runs the engine's
//! functions on them. What it must never do: compute a score (that is `guardrail-graph`'s).

use guardrail_graph::EdgeKind;
use guardrail_graph::NodeId;
use guardrail_graph::features::{
    AccountAttributes, AccountFeatures, TextSignal, minor_featuring_share,
};
use guardrail_types::{NetworkRole, TextDecision};
use serde::{Deserialize, Serialize};

/// What the platform knows about one account (the engine's `AccountAttributes`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Attributes {
    /// Declared under 18.
    pub minor: bool,
    /// Its media features minors.
    pub features_minors: bool,
    /// It posts adult content.
    pub adult_content: bool,
    /// Reports against it filed by minors.
    pub reports_from_minors: u32,
    /// Blocks of it by minors.
    pub blocks_from_minors: u32,
}

impl From<AccountAttributes> for Attributes {
    fn from(a: AccountAttributes) -> Attributes {
        Attributes {
            minor: a.minor,
            features_minors: a.features_minors,
            adult_content: a.adult_content,
            reports_from_minors: a.reports_from_minors,
            blocks_from_minors: a.blocks_from_minors,
        }
    }
}

impl From<Attributes> for AccountAttributes {
    fn from(a: Attributes) -> AccountAttributes {
        AccountAttributes {
            minor: a.minor,
            features_minors: a.features_minors,
            adult_content: a.adult_content,
            reports_from_minors: a.reports_from_minors,
            blocks_from_minors: a.blocks_from_minors,
        }
    }
}

fn level_code(level: TextDecision) -> u8 {
    match level {
        TextDecision::Allow => 0,
        TextDecision::Restrict => 1,
        TextDecision::Block => 2,
    }
}

fn level_of(code: u8) -> TextDecision {
    match code {
        0 => TextDecision::Allow,
        1 => TextDecision::Restrict,
        _ => TextDecision::Block,
    }
}

/// The text guard's verdicts on one account (the engine's `TextSignal`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct TextRow {
    /// Bio verdict: 0 none, 1 restrict, 2 block.
    pub bio: u8,
    /// Posts and hashtags verdict.
    pub posts: u8,
    /// Searches verdict.
    pub searches: u8,
    /// Rules that matched.
    pub rules: Vec<String>,
}

impl TextRow {
    /// Whether nothing matched (such rows are not fed: absence means nothing matched).
    pub fn is_empty(&self) -> bool {
        *self == TextRow::default()
    }
}

impl From<&TextSignal> for TextRow {
    fn from(signal: &TextSignal) -> TextRow {
        TextRow {
            bio: level_code(signal.bio),
            posts: level_code(signal.posts),
            searches: level_code(signal.searches),
            rules: signal.rules.clone(),
        }
    }
}

impl From<&TextRow> for TextSignal {
    fn from(row: &TextRow) -> TextSignal {
        TextSignal {
            bio: level_of(row.bio),
            posts: level_of(row.posts),
            searches: level_of(row.searches),
            rules: row.rules.clone(),
        }
    }
}

/// The one-byte code of an edge kind (its `repr(u8)`).
pub fn kind_code(kind: EdgeKind) -> u8 {
    kind as u8
}

/// The kind with this code.
pub fn kind_of(code: u8) -> Option<EdgeKind> {
    EdgeKind::ALL.get(usize::from(code)).copied()
}

/// The code of `EdgeKind::Follow`.
pub const FOLLOW: u8 = EdgeKind::Follow as u8;
/// The code of `EdgeKind::View`.
pub const VIEW: u8 = EdgeKind::View as u8;

/// Everything the dataflow aggregates about one account before scoring: exactly the inputs
/// of `guardrail_graph::features::account_features`, as counts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct AccountRow {
    /// Its attributes.
    pub attributes: Attributes,
    /// Its text verdicts.
    pub text: TextRow,
    /// Whether it is a seed.
    pub seed: bool,
    /// Out-degree per kind (distinct edges).
    pub out_degree: [u32; 5],
    /// In-degree per kind.
    pub in_degree: [u32; 5],
    /// Followed accounts featuring minors.
    pub minor_featuring_follows: u32,
    /// Followed adult-content accounts.
    pub adult_content_follows: u32,
    /// Seeds it follows or engages with (not views), ascending.
    pub seeds_reached: Vec<NodeId>,
    /// Seeds that follow or engage with it, ascending.
    pub seeds_reaching: Vec<NodeId>,
}

impl AccountRow {
    /// The engine's features of this account (as `account_features` computes them).
    pub fn features(&self) -> AccountFeatures {
        let attributes = AccountAttributes::from(self.attributes);
        AccountFeatures {
            out_degree: self.out_degree,
            in_degree: self.in_degree,
            minor_featuring_follows: self.minor_featuring_follows,
            minor_featuring_share: minor_featuring_share(
                self.minor_featuring_follows,
                self.out_degree[usize::from(FOLLOW)],
            ),
            adult_content_follows: self.adult_content_follows,
            reports_and_blocks_from_minors: attributes
                .reports_from_minors
                .saturating_add(attributes.blocks_from_minors),
            text: TextSignal::from(&self.text),
            seeds_reached: self.seeds_reached.clone(),
            seeds_reaching: self.seeds_reaching.clone(),
        }
    }
}

/// A role as one byte, ordered like the engine's enum.
pub fn role_code(role: NetworkRole) -> u8 {
    match role {
        NetworkRole::Seller => 0,
        NetworkRole::Aggregator => 1,
        NetworkRole::Buyer => 2,
        NetworkRole::Bystander => 3,
    }
}

/// The role with this code.
pub fn role_of_code(code: u8) -> NetworkRole {
    match code {
        0 => NetworkRole::Seller,
        1 => NetworkRole::Aggregator,
        2 => NetworkRole::Buyer,
        _ => NetworkRole::Bystander,
    }
}

/// An f64 as totally ordered bits (for non-negative values, bit order is numeric order).
pub fn bits(value: f64) -> u64 {
    value.to_bits()
}

/// The f64 of [`bits`].
pub fn float(bits: u64) -> f64 {
    f64::from_bits(bits)
}

/// The per-account result the decision snapshot reads: the map's score with its evidence,
/// whether the account is tied to the network, its role and its community label.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ScoreRecord {
    /// The score's bits ([`float`] reads it).
    pub score_bits: u64,
    /// Evidence: each signal and its share's bits.
    pub signals: Vec<(String, u64)>,
    /// Tied to the network by its own evidence.
    pub tied: bool,
    /// The role code ([`role_of_code`]).
    pub role: u8,
    /// Community label (the Leiden community it started in, as maintained by label
    /// propagation; fresh accounts get `2^32 + node`).
    pub label: u64,
    /// Seeds it is directly linked with, ascending.
    pub linked_seeds: Vec<NodeId>,
}

/// What the dataflow hands back to the driver (all of it on worker 0 of process 0).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Output {
    /// An account with a positive score.
    Score(NodeId, ScoreRecord),
    /// A seed.
    Seed(NodeId),
    /// A node on a shortest path from the seeds: `(node, distance, parent)`; seeds have
    /// distance 0 and parent `u32::MAX`.
    Parent(NodeId, u32, NodeId),
    /// A community: `(label, size, seeds, lowest member)`.
    Community(u64, u32, u32, NodeId),
    /// The number of accounts.
    Accounts(u64),
    /// Distinct accounts following a seller counted in the size estimate.
    UniqueFollowersOfSellers(u64),
    /// (when exported) an account's aggregated features.
    Row(NodeId, AccountRow),
    /// (when exported) an account's PPR mass in quanta and its weighted undirected degree.
    Mass(NodeId, i64, i64),
}
