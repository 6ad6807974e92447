//! A world as the network map's input: the account graph (follows, profile views, and
//! likes and comments pointed at the post's author), what the platform knows about each
//! account, and the seeds.
//!
//! What it is for: the one adapter between the world format and `guardrail-graph`, used by
//! `guardrail graph map --world`, by the map's evaluation and by the guard, so all three map
//! the same graph. The pipeline has one name, [`MapSources::read`]: the text guard over every
//! bio, post and search, the seeds (given, or the accounts the text guard confirms), and the
//! map's input; [`MapSources::map`] builds the map from them.
//!
//! What it must never do: read ground truth. Seeds come from the text guard or from a file
//! a reviewer wrote.

use std::collections::HashMap;

use guardrail_graph::features::{AccountAttributes, MapInput};
use guardrail_graph::map::{MapConfig, MapError, NetworkMap, build_map};
use guardrail_graph::{EdgeKind, GraphBuilder, NodeId};
use guardrail_text::Policy;
use guardrail_types::{AccountId, AgeBand};
use guardrail_world::World;
use thiserror::Error;

use crate::text::WorldText;

/// A seeds file that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SeedError {
    /// A line names no account of the world.
    #[error("{origin}:{line}: no account with id or handle {text:?} in this world")]
    UnknownAccount {
        /// The file.
        origin: String,
        /// 1-based line.
        line: usize,
        /// What the line said.
        text: String,
    },
    /// The file lists no account.
    #[error("{origin}: no seeds (one account id or handle per line; `#` starts a comment)")]
    Empty {
        /// The file.
        origin: String,
    },
}

/// What the map is built from: the text guard's reading of a world and the map's input.
#[derive(Debug, Clone)]
pub struct MapSources {
    /// The text guard's findings per account.
    pub text: WorldText,
    /// The graph, attributes and seeds.
    pub input: MapInput,
}

impl MapSources {
    /// The map pipeline: reads every text of `world` with `policy`, then builds the map's
    /// input with `seeds`, or, when none are given, with the accounts whose bio or
    /// hashtags the text guard blocks.
    pub fn read(world: &World, policy: &Policy, seeds: Option<Vec<AccountId>>) -> MapSources {
        let text = WorldText::read(world, policy);
        let seeds = seeds.unwrap_or_else(|| text.blocked_accounts());
        let input = map_input(world, seeds);
        MapSources { text, input }
    }

    /// Builds the map (fails when there is no seed to start from).
    pub fn map(&self, config: &MapConfig) -> Result<NetworkMap, MapError> {
        build_map(&self.input, &self.text, config)
    }
}

/// The graph node of an account: node `i` is account `i`.
pub fn node_of(account: AccountId) -> NodeId {
    account.0
}

/// The account of a graph node built by [`map_input`].
pub fn account_of(node: NodeId) -> AccountId {
    AccountId(node)
}

/// Builds the graph and attributes of `world`, with `seeds` (account ids).
///
/// Node `i` is account `i` (external id its decimal id), so map output and world files
/// name accounts the same way.
pub fn map_input(world: &World, seeds: Vec<AccountId>) -> MapInput {
    let n = world.accounts.len();
    let mut builder = GraphBuilder::with_numbered_nodes(n);
    let mut add = |src: AccountId, dst: AccountId, kind: EdgeKind| {
        if src != dst {
            // Ids were checked dense and in range by the loader; an edge that is not is
            // skipped rather than trusted.
            let _ = builder.edge(node_of(src), node_of(dst), kind, 1.0);
        }
    };
    for edge in &world.follows {
        add(edge.src, edge.dst, EdgeKind::Follow);
    }
    for edge in &world.views {
        add(edge.src, edge.dst, EdgeKind::View);
    }
    for (edges, kind) in [
        (&world.likes, EdgeKind::Like),
        (&world.comments, EdgeKind::Comment),
    ] {
        for edge in edges {
            if let Some(post) = world.post(edge.post) {
                add(edge.account, post.author, kind);
            }
        }
    }
    let graph = builder.build();
    let mut accounts: Vec<AccountAttributes> = world
        .accounts
        .iter()
        .map(|account| AccountAttributes {
            minor: account.age_band() == AgeBand::Minor,
            ..AccountAttributes::default()
        })
        .collect();
    for post in &world.posts {
        if post.features_minor
            && let Some(attributes) = accounts.get_mut(post.author.index())
        {
            attributes.features_minors = true;
        }
    }
    for report in &world.reports {
        if world.declared_minor(report.src)
            && let Some(attributes) = accounts.get_mut(report.dst.index())
        {
            attributes.reports_from_minors += 1;
        }
    }
    for block in &world.blocks {
        if world.declared_minor(block.src)
            && let Some(attributes) = accounts.get_mut(block.dst.index())
        {
            attributes.blocks_from_minors += 1;
        }
    }
    let mut seeds: Vec<NodeId> = seeds
        .into_iter()
        .filter(|s| s.index() < n)
        .map(node_of)
        .collect();
    seeds.sort_unstable();
    seeds.dedup();
    MapInput {
        graph,
        accounts,
        seeds,
    }
}

/// Accounts by the names people give them: a handle (with or without `@`, any case) or
/// the decimal account id.
#[derive(Debug, Clone, Default)]
pub struct AccountNames {
    by_handle: HashMap<String, AccountId>,
    accounts: usize,
}

impl AccountNames {
    /// The names of every account of `world`.
    pub fn new(world: &World) -> AccountNames {
        AccountNames {
            by_handle: world
                .accounts
                .iter()
                .map(|a| (a.handle.to_lowercase(), a.id))
                .collect(),
            accounts: world.accounts.len(),
        }
    }

    /// The account a name refers to, if any.
    pub fn resolve(&self, name: &str) -> Option<AccountId> {
        let handle = name.trim_start_matches('@').to_lowercase();
        self.by_handle.get(&handle).copied().or_else(|| {
            name.parse::<AccountId>()
                .ok()
                .filter(|id| id.index() < self.accounts)
        })
    }
}

/// Reads a seeds file: one account id or handle per line, `#` comments and blank lines
/// ignored. Every line must name an account of `world`.
pub fn parse_seeds(world: &World, text: &str, origin: &str) -> Result<Vec<AccountId>, SeedError> {
    let names = AccountNames::new(world);
    let mut seeds = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        match names.resolve(line) {
            Some(id) => seeds.push(id),
            None => {
                return Err(SeedError::UnknownAccount {
                    origin: origin.to_string(),
                    line: index + 1,
                    text: line.to_string(),
                });
            }
        }
    }
    if seeds.is_empty() {
        return Err(SeedError::Empty {
            origin: origin.to_string(),
        });
    }
    Ok(seeds)
}
