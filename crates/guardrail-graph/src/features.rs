//! Per-account features for roles (seller, buyer, aggregator, bystander): degrees by
//! edge type, the signals reporters found by hand (adults following many accounts that
//! feature minors together with adult-content accounts; accounts reported or blocked
//! by minors), and text-guard signals on bios and posts.
//!
//! The map's input is plain data ([`MapInput`]: a graph, one [`AccountAttributes`] per
//! node, seeds), so a world loader or a production event pipeline only has to fill it.
//! Text signals come through the [`TextSignals`] trait, which the text guard implements
//! later; [`TextTable`] is the table form used by synthetic worlds and tests.
//!
//! Never reads ground truth: nothing here knows which accounts are in a network.

use guardrail_types::TextDecision;
use serde::Serialize;

use crate::graph::{EdgeKind, Graph, NodeId};

/// What a platform knows about one account (no content, only flags and counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct AccountAttributes {
    /// The account's declared age is under 18.
    pub minor: bool,
    /// The account's media features minors (a child-influencer or family account).
    pub features_minors: bool,
    /// The account posts adult content.
    pub adult_content: bool,
    /// Reports filed against this account by minors.
    pub reports_from_minors: u32,
    /// Blocks of this account by minors.
    pub blocks_from_minors: u32,
}

/// The text guard's verdicts on an account's bio and posts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TextSignal {
    /// The strictest verdict on the bio.
    pub bio: TextDecision,
    /// The strictest verdict over the account's posts and hashtags.
    pub posts: TextDecision,
    /// The strictest verdict over the account's search queries. Not part of
    /// [`TextSignal::strongest`]: searching for a term is not writing it (advocates and
    /// researchers search too), so it is a weaker signal of its own.
    pub searches: TextDecision,
    /// The rules that matched (for evidence).
    pub rules: Vec<String>,
}

impl TextSignal {
    /// The strictest of the bio and posts verdicts.
    pub fn strongest(&self) -> TextDecision {
        self.bio.max(self.posts)
    }

    /// Whether the text guard blocks the bio or the hashtags: confirmation by policy,
    /// enough to seed the map without a reviewer.
    pub fn confirms_seed(&self) -> bool {
        self.bio == TextDecision::Block || self.posts == TextDecision::Block
    }
}

/// Text-guard signals per account. `guardrail-text` will implement this over real bios
/// and posts; the graph engine only needs the verdicts.
pub trait TextSignals {
    /// The signals for one account (default: nothing matched).
    fn signals(&self, node: NodeId) -> TextSignal;
}

/// Text signals as a table indexed by node id (missing nodes: nothing matched).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextTable {
    /// One entry per node.
    pub entries: Vec<TextSignal>,
}

impl TextSignals for TextTable {
    fn signals(&self, node: NodeId) -> TextSignal {
        self.entries.get(node as usize).cloned().unwrap_or_default()
    }
}

/// Everything the map reads: the graph, attributes per node, and the seed accounts.
#[derive(Debug, Clone, Default)]
pub struct MapInput {
    /// The account graph.
    pub graph: Graph,
    /// One entry per node of `graph`.
    pub accounts: Vec<AccountAttributes>,
    /// Confirmed accounts (text-guard blocks, hash matches, reviewer decisions).
    pub seeds: Vec<NodeId>,
}

impl MapInput {
    /// The seeds an automatic pipeline would use among `node_count` accounts: every
    /// account whose bio or hashtags the text guard blocks ([`TextSignal::confirms_seed`]).
    pub fn text_confirmed_seeds(node_count: usize, text: &dyn TextSignals) -> Vec<NodeId> {
        (0..node_count as NodeId)
            .filter(|&node| text.signals(node).confirms_seed())
            .collect()
    }
}

/// Features of one account.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AccountFeatures {
    /// Out-degree (edge count) per kind, in [`EdgeKind::ALL`] order.
    pub out_degree: [u32; 5],
    /// In-degree per kind.
    pub in_degree: [u32; 5],
    /// Accounts followed that feature minors.
    pub minor_featuring_follows: u32,
    /// Share of followed accounts that feature minors.
    pub minor_featuring_share: f64,
    /// Adult-content accounts followed.
    pub adult_content_follows: u32,
    /// Reports plus blocks received from minors.
    pub reports_and_blocks_from_minors: u32,
    /// The text guard's verdicts.
    pub text: TextSignal,
    /// Seeds this account follows, messages or engages with (out-edges to seeds other
    /// than profile views).
    pub seeds_reached: Vec<NodeId>,
    /// Seeds that follow or engage with this account (in-edges from seeds other than
    /// profile views).
    pub seeds_reaching: Vec<NodeId>,
}

impl AccountFeatures {
    /// Follows (out-degree of kind follow).
    pub fn follows(&self) -> u32 {
        self.out_degree[EdgeKind::Follow as usize]
    }

    /// Followers (in-degree of kind follow).
    pub fn followers(&self) -> u32 {
        self.in_degree[EdgeKind::Follow as usize]
    }

    /// The pattern reporters found by hand: an adult following several accounts that
    /// feature minors, at a notable share of its follows, together with adult content.
    pub fn follows_minors_with_adult_content(&self) -> bool {
        self.minor_featuring_follows >= 3
            && self.minor_featuring_share >= 0.15
            && self.adult_content_follows >= 1
    }
}

/// The share of `follows` that go to accounts featuring minors (0 without follows).
pub fn minor_featuring_share(minor_featuring_follows: u32, follows: u32) -> f64 {
    if follows == 0 {
        0.0
    } else {
        f64::from(minor_featuring_follows) / f64::from(follows)
    }
}

/// Computes features for one account. `seed_flags[v]` tells whether `v` is a seed.
pub fn account_features(
    input: &MapInput,
    text: &dyn TextSignals,
    seed_flags: &[bool],
    node: NodeId,
) -> AccountFeatures {
    let graph = &input.graph;
    let mut features = AccountFeatures {
        text: text.signals(node),
        ..AccountFeatures::default()
    };
    let is_seed = |other: NodeId| seed_flags.get(other as usize).copied().unwrap_or(false);
    for edge in graph.out_edges(node) {
        features.out_degree[edge.kind as usize] += 1;
        if edge.kind == EdgeKind::Follow {
            let followed = input
                .accounts
                .get(edge.node as usize)
                .copied()
                .unwrap_or_default();
            features.minor_featuring_follows += u32::from(followed.features_minors);
            features.adult_content_follows += u32::from(followed.adult_content);
        }
        // A profile view is not a link: advocates, reviewers and researchers open an
        // account to report it. Only follows, likes, comments and messages tie.
        if edge.kind != EdgeKind::View
            && is_seed(edge.node)
            && edge.node != node
            && !features.seeds_reached.contains(&edge.node)
        {
            features.seeds_reached.push(edge.node);
        }
    }
    for edge in graph.in_edges(node) {
        features.in_degree[edge.kind as usize] += 1;
        if edge.kind != EdgeKind::View
            && is_seed(edge.node)
            && edge.node != node
            && !features.seeds_reaching.contains(&edge.node)
        {
            features.seeds_reaching.push(edge.node);
        }
    }
    features.minor_featuring_share =
        minor_featuring_share(features.minor_featuring_follows, features.follows());
    let attributes = input
        .accounts
        .get(node as usize)
        .copied()
        .unwrap_or_default();
    features.reports_and_blocks_from_minors = attributes
        .reports_from_minors
        .saturating_add(attributes.blocks_from_minors);
    features
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphBuilder;

    #[test]
    fn features_count_by_kind_and_attribute() {
        let mut builder = GraphBuilder::with_numbered_nodes(5);
        for (source, target, kind) in [
            (0, 1, EdgeKind::Follow),
            (0, 2, EdgeKind::Follow),
            (0, 3, EdgeKind::Follow),
            (0, 4, EdgeKind::Follow),
            (0, 1, EdgeKind::Like),
            (0, 4, EdgeKind::Message),
            (4, 0, EdgeKind::Follow),
        ] {
            builder.edge(source, target, kind, 1.0).expect("edge");
        }
        let minors = AccountAttributes {
            features_minors: true,
            ..AccountAttributes::default()
        };
        let adult = AccountAttributes {
            adult_content: true,
            ..AccountAttributes::default()
        };
        let reported = AccountAttributes {
            reports_from_minors: 2,
            blocks_from_minors: 1,
            ..AccountAttributes::default()
        };
        let input = MapInput {
            graph: builder.build(),
            accounts: vec![reported, minors, minors, minors, adult],
            seeds: vec![4],
        };
        let text = TextTable {
            entries: vec![TextSignal {
                posts: TextDecision::Restrict,
                ..TextSignal::default()
            }],
        };
        let features = account_features(&input, &text, &[false, false, false, false, true], 0);
        assert_eq!(features.out_degree, [4, 1, 0, 0, 1]);
        assert_eq!(features.in_degree, [1, 0, 0, 0, 0]);
        assert_eq!(features.minor_featuring_follows, 3);
        assert_eq!(features.minor_featuring_share, 0.75);
        assert_eq!(features.adult_content_follows, 1);
        assert_eq!(features.reports_and_blocks_from_minors, 3);
        assert_eq!(features.seeds_reached, vec![4]);
        assert_eq!(features.seeds_reaching, vec![4]);
        assert_eq!(features.text.strongest(), TextDecision::Restrict);
        assert!(features.follows_minors_with_adult_content());
        assert_eq!(text.signals(9), TextSignal::default());
    }
}
