//! The dataflow itself: from collections of edges, accounts, text verdicts, review seeds
//! and starting community labels to the per-account scores of the network map, every
//! stage an incremental differential operator partitioned across workers by account.
//!
//! Stages (each named after the `guardrail-graph` code whose result it maintains):
//! 1. edges: weight = insertions − removals, never below zero; an edge is present while
//!    its weight is positive (the graph builder's merged `(src, dst, kind)` edge), arranged
//!    once by source and once by target ([`crate::links`]) and shared by every stage;
//! 2. seeds: text-confirmed (`TextSignal::confirms_seed`) plus review seeds, accounts only;
//! 3. features: one reduce per account over counted facts (degrees per kind, follows of
//!    accounts featuring minors or adult content, links with seeds) = `account_features`;
//! 4. proximity: personalised PageRank by incremental forward push ([`crate::ppr`]), then
//!    the percentile among reached accounts by a bucketed global sort;
//! 5. communities: label propagation from the last Leiden partition ([`crate::labels`]),
//!    seed concentration per community (`map::seed_concentration`);
//! 6. scoring ([`crate::scoring`]): `map::first_pass`, links to confident suspects
//!    (`map::add_suspect_links`), `map::halve_untied`, roles (`map::role_of`), the size
//!    estimate's follower count;
//! 7. shortest paths from the seeds ([`crate::paths`]).
//!
//! What it must never do: define a score. Every share, threshold and role rule is a call
//! into `guardrail_graph::map`; this module only gathers their arguments.

use differential_dataflow::VecCollection;
use differential_dataflow::input::InputSession;
use differential_dataflow::trace::implementations::{ValBuilder, ValSpine};
use guardrail_graph::NodeId;
use guardrail_graph::features::TextSignal;
use guardrail_graph::map::seed_concentration;
use serde::{Deserialize, Serialize};
use timely::dataflow::Scope;

use crate::labels::propagate_labels;
use crate::links::live_links;
use crate::paths::shortest_paths;
use crate::ppr::{PprParameters, proximity};
use crate::records::{AccountRow, Attributes, FOLLOW, Output, TextRow, VIEW, bits, float};
use crate::scoring::score;

/// A collection in the outer scope: time is the update round, diffs are counts.
pub type Col<'s, D> = VecCollection<'s, u64, D, isize>;

/// The input handles of one worker.
pub struct Inputs {
    /// `(source, target, kind code)`, diff = weight change.
    pub edges: InputSession<u64, (NodeId, NodeId, u8), isize>,
    /// One row per account.
    pub accounts: InputSession<u64, (NodeId, Attributes), isize>,
    /// Text verdicts of accounts where something matched.
    pub text: InputSession<u64, (NodeId, TextRow), isize>,
    /// Seeds a reviewer confirmed.
    pub review_seeds: InputSession<u64, NodeId, isize>,
    /// Community labels of the last Leiden run.
    pub labels: InputSession<u64, (NodeId, u32), isize>,
}

impl Inputs {
    /// Fresh, unconnected handles.
    pub fn new() -> Inputs {
        Inputs {
            edges: InputSession::new(),
            accounts: InputSession::new(),
            text: InputSession::new(),
            review_seeds: InputSession::new(),
            labels: InputSession::new(),
        }
    }

    /// Moves every input to logical `time` (`ppr::round_time`) and releases what was fed.
    pub fn advance_to(&mut self, time: u64) {
        self.edges.advance_to(time);
        self.accounts.advance_to(time);
        self.text.advance_to(time);
        self.review_seeds.advance_to(time);
        self.labels.advance_to(time);
        self.edges.flush();
        self.accounts.flush();
        self.text.flush();
        self.review_seeds.flush();
        self.labels.flush();
    }
}

impl std::fmt::Debug for Inputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs")
            .field("round", self.edges.time())
            .finish_non_exhaustive()
    }
}

impl Default for Inputs {
    fn default() -> Inputs {
        Inputs::new()
    }
}

/// The dataflow's parameters (all plain numbers, copied into every worker).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowParameters {
    /// Personalised PageRank.
    pub ppr: PprParameters,
    /// Rounds of label propagation after the Leiden start.
    pub label_rounds: usize,
    /// Export each account's aggregated features ([`Output::Row`]).
    pub export_rows: bool,
    /// Export each account's PPR mass ([`Output::Mass`]).
    pub export_mass: bool,
}

/// Facts gathered per account for its features.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum Fact {
    Account(Attributes),
    Text(TextRow),
    Seed,
    OutDegrees([u32; 5]),
    InDegrees([u32; 5]),
    MinorFollow,
    AdultFollow,
    Reached(NodeId),
    Reaching(NodeId),
}

/// Distinct live edges per kind at one end (`links` of one account).
fn degrees(links: &[(&(NodeId, u8, u32), isize)]) -> [u32; 5] {
    let mut degrees = [0u32; 5];
    for ((_, kind, _), count) in links {
        if let Some(slot) = degrees.get_mut(usize::from(*kind)) {
            *slot += u32::try_from(*count).unwrap_or(0);
        }
    }
    degrees
}

/// Builds the dataflow on `scope`, reading `inputs`; returns what the driver collects.
pub fn build<'s>(
    scope: Scope<'s, u64>,
    inputs: &mut Inputs,
    parameters: FlowParameters,
) -> Col<'s, Output> {
    let edges = inputs.edges.to_collection(scope);
    let accounts = inputs.accounts.to_collection(scope);
    let text = inputs.text.to_collection(scope);
    let review = inputs.review_seeds.to_collection(scope);
    let base_labels = inputs.labels.to_collection(scope);

    // 1. Edges, arranged once each way.
    let links = live_links(edges);
    let nodes = accounts.clone().map(|(node, _)| node);

    // 2. Seeds.
    let confirmed = text
        .clone()
        .filter(|(_, row)| TextSignal::from(row).confirms_seed())
        .map(|(node, _)| node);
    let seeds = confirmed
        .concat(review)
        .map(|node| (node, ()))
        .semijoin(nodes.clone())
        .map(|(node, ())| node)
        .threshold(|_, count| isize::from(*count > 0));
    let seed_set = seeds.clone().arrange_by_self();

    // 3. Features.
    let flagged = accounts
        .clone()
        .filter(|(_, attributes)| attributes.features_minors || attributes.adult_content)
        .arrange_by_key();
    let follow_facts =
        links
            .into
            .clone()
            .join_core(flagged, |_, &(source, kind, _), attributes| {
                let mut facts = Vec::new();
                if kind == FOLLOW {
                    if attributes.features_minors {
                        facts.push((source, Fact::MinorFollow));
                    }
                    if attributes.adult_content {
                        facts.push((source, Fact::AdultFollow));
                    }
                }
                facts
            });
    // A profile view is not a link (advocates open accounts to report them).
    let reached =
        links
            .into
            .clone()
            .join_core(seed_set.clone(), |&seed, &(source, kind, _), &()| {
                (kind != VIEW && source != seed).then_some((source, Fact::Reached(seed)))
            });
    let reaching = links
        .out
        .clone()
        .join_core(seed_set, |&seed, &(target, kind, _), &()| {
            (kind != VIEW && target != seed).then_some((target, Fact::Reaching(seed)))
        });
    let out_degrees = links
        .out
        .clone()
        .reduce_abelian::<_, ValBuilder<_, _, _, _>, ValSpine<NodeId, Fact, u64, isize>, _, _>(
            "OutDegrees",
            |_, links, out| out.push((Fact::OutDegrees(degrees(links)), 1)),
            |buffer, node, updates| {
                buffer.clear();
                buffer.extend(
                    updates
                        .drain(..)
                        .map(|(fact, time, diff)| ((*node, fact), time, diff)),
                );
            },
        )
        .as_collection(|&node, fact| (node, fact.clone()));
    let in_degrees = links
        .into
        .clone()
        .reduce_abelian::<_, ValBuilder<_, _, _, _>, ValSpine<NodeId, Fact, u64, isize>, _, _>(
            "InDegrees",
            |_, links, out| out.push((Fact::InDegrees(degrees(links)), 1)),
            |buffer, node, updates| {
                buffer.clear();
                buffer.extend(
                    updates
                        .drain(..)
                        .map(|(fact, time, diff)| ((*node, fact), time, diff)),
                );
            },
        )
        .as_collection(|&node, fact| (node, fact.clone()));
    let rows: Col<(NodeId, AccountRow)> = accounts
        .clone()
        .map(|(node, attributes)| (node, Fact::Account(attributes)))
        .concat(text.map(|(node, row)| (node, Fact::Text(row))))
        .concat(seeds.clone().map(|node| (node, Fact::Seed)))
        .concat(out_degrees)
        .concat(in_degrees)
        .concat(follow_facts)
        .concat(reached)
        .concat(reaching)
        .reduce(|_, facts, out| {
            let mut row = AccountRow::default();
            let mut exists = false;
            for (fact, count) in facts {
                let count = u32::try_from(*count).unwrap_or(0);
                match fact {
                    Fact::Account(attributes) => {
                        row.attributes = *attributes;
                        exists = true;
                    }
                    Fact::Text(text) => row.text = text.clone(),
                    Fact::Seed => row.seed = true,
                    Fact::OutDegrees(degrees) => row.out_degree = *degrees,
                    Fact::InDegrees(degrees) => row.in_degree = *degrees,
                    Fact::MinorFollow => row.minor_featuring_follows += count,
                    Fact::AdultFollow => row.adult_content_follows += count,
                    Fact::Reached(seed) => row.seeds_reached.push(*seed),
                    Fact::Reaching(seed) => row.seeds_reaching.push(*seed),
                }
            }
            if exists {
                out.push((row, 1isize));
            }
        });

    // 4. The walk from the seeds along every live edge, both ways, weighted.
    let proximity_out = proximity(links.weighted(), seeds.clone(), parameters.ppr);

    // 5. Communities.
    let labels = propagate_labels(nodes.clone(), base_labels, &links, parameters.label_rounds);
    let community_stats = labels
        .clone()
        .map(|(node, label)| (label, (node, false)))
        .concat(
            labels
                .clone()
                .semijoin(seeds.clone())
                .map(|(node, label)| (label, (node, true))),
        )
        .reduce(|_, members, out| {
            let lowest = members.first().map_or(NodeId::MAX, |((node, _), _)| *node);
            let size = members.iter().filter(|((_, seed), _)| !seed).count() as u64;
            let seeds = members.iter().filter(|((_, seed), _)| *seed).count() as u64;
            out.push(((size, seeds, lowest), 1isize));
        });
    let seed_count = seeds.clone().map(|_| ()).count();
    let account_count = nodes.map(|_| ()).count();
    let totals = seed_count.join(account_count.clone());
    let concentration = community_stats
        .clone()
        .filter(|(_, (_, seeds, _))| *seeds >= 2)
        .map(|(label, (size, seeds, _))| ((), (label, size, seeds)))
        .join_map(
            totals,
            |_, &(label, size, seeds), &(seed_total, accounts)| {
                let (_, concentration) = seed_concentration(
                    seeds as usize,
                    size as usize,
                    seed_total as usize,
                    accounts as usize,
                );
                (label, bits(concentration))
            },
        )
        .filter(|(_, concentration)| float(*concentration) > 0.0);
    let node_concentration = labels
        .clone()
        .map(|(node, label)| (label, node))
        .join_map(concentration, |_, &node, &concentration| {
            (node, concentration)
        });

    // 6. Scoring.
    let scored = score(
        rows.clone(),
        node_concentration,
        proximity_out.reached,
        labels,
        &links,
    );

    // 7. Shortest paths from the seeds over the undirected view.
    let paths = shortest_paths(seeds.clone(), &links);

    let mut outputs = vec![
        scored
            .scores
            .map(|(node, record)| Output::Score(node, record)),
        seeds.map(Output::Seed),
        paths.map(|(node, (distance, parent))| Output::Parent(node, distance, parent)),
        community_stats.map(|(label, (size, seeds, lowest))| {
            Output::Community(label, size as u32, seeds as u32, lowest)
        }),
        account_count.map(|((), count)| Output::Accounts(count as u64)),
        scored
            .unique_followers
            .map(|((), count)| Output::UniqueFollowersOfSellers(count as u64)),
    ];
    if parameters.export_rows {
        outputs.push(rows.map(|(node, row)| Output::Row(node, row)));
    }
    if parameters.export_mass {
        outputs.push(
            proximity_out
                .mass
                .map(|(node, (mass, degree))| Output::Mass(node, mass, degree as i64)),
        );
    }
    differential_dataflow::collection::concatenate(scope, outputs)
}
