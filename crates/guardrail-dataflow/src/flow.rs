//! The dataflow itself: from collections of edges, accounts, text verdicts, review seeds
//! and starting community labels to the per-account scores of the network map, every
//! stage an incremental differential operator partitioned across workers by account.
//!
//! Stages (each named after the `guardrail-graph` code whose result it maintains):
//! 1. edges: weight = insertions − removals, never below zero; an edge is present while
//!    its weight is positive (the graph builder's merged `(src, dst, kind)` edge);
//! 2. seeds: text-confirmed (`TextSignal::confirms_seed`) plus review seeds, accounts only;
//! 3. features: one reduce per account over counted facts (degrees per kind, follows of
//!    accounts featuring minors or adult content, links with seeds) = `account_features`;
//! 4. proximity: personalised PageRank as integer mass (see [`crate::ppr`]), then the
//!    percentile among reached accounts by a bucketed global sort;
//! 5. communities: label propagation from the last Leiden partition ([`crate::labels`]),
//!    seed concentration per community (`map::seed_concentration`);
//! 6. scoring: `map::first_pass`, links to confident suspects (`map::add_suspect_links`),
//!    `map::halve_untied`, roles (`map::role_of`), the size estimate's follower count;
//! 7. shortest paths from the seeds (breadth-first, smallest parent id on ties).
//!
//! What it must never do: define a score. Every share, threshold and role rule is a call
//! into `guardrail_graph::map`; this module only gathers their arguments.

use differential_dataflow::VecCollection;
use differential_dataflow::input::InputSession;
use differential_dataflow::operators::iterate::Iterate;
use guardrail_graph::NodeId;
use guardrail_graph::features::{AccountFeatures, TextSignal};
use guardrail_graph::map::{
    CONFIDENT_SCORE, ESTIMATE_SCORE, RoleLinks, add_suspect_links, advertises, first_pass,
    halve_untied, proximity_percentile, role_of, seed_concentration, sought_by_network,
    tied_by_own_evidence,
};
use guardrail_types::NetworkRole;
use serde::{Deserialize, Serialize};
use timely::dataflow::Scope;

use crate::labels::propagate_labels;
use crate::ppr::{PprParameters, proximity};
use crate::records::{
    AccountRow, Attributes, FOLLOW, Output, ScoreRecord, TextRow, VIEW, bits, float, role_code,
};

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

    /// Moves every input to `round` and releases what was fed.
    pub fn advance_to(&mut self, round: u64) {
        self.edges.advance_to(round);
        self.accounts.advance_to(round);
        self.text.advance_to(round);
        self.review_seeds.advance_to(round);
        self.labels.advance_to(round);
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
    Out(u8),
    In(u8),
    MinorFollow,
    AdultFollow,
    Reached(NodeId),
    Reaching(NodeId),
}

/// Facts gathered per account for its first-pass score.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum ScoreFact {
    Row(AccountRow),
    Concentration(u64),
    Percentile(u64),
}

/// An account's first pass, with what the later stages need of its features.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
struct FirstPass {
    score_bits: u64,
    signals: Vec<(String, u64)>,
    tied: bool,
    advertises: bool,
    sought: bool,
    linked_seeds: Vec<NodeId>,
}

/// Facts gathered per account for its final score and role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum LinkFact {
    First(FirstPass),
    LinksOut,
    LinksIn,
    Label(u64),
    FollowedBySellers,
    FollowedBySuspects,
    FollowsSellers,
    Advertisers(u64),
}

/// The features the map scores an account on: `account_features`, then, for accounts the
/// network seeks out, without the links seeds make to them (as `build_map` does).
fn scoring_features(row: &AccountRow) -> (AccountFeatures, bool) {
    let mut features = row.features();
    let sought = sought_by_network(&row.attributes.into());
    if sought {
        features.seeds_reaching.clear();
    }
    (features, sought)
}

fn signal_bits(signals: Vec<(String, f64)>) -> Vec<(String, u64)> {
    signals
        .into_iter()
        .map(|(name, share)| (name, bits(share)))
        .collect()
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

    // 1. Edges. Removing more than was inserted leaves the edge absent, never negative.
    let live = edges.threshold(|_, weight| (*weight).max(0));
    let present = live.clone().threshold(|_, weight| isize::from(*weight > 0));
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

    // 3. Features.
    let follows = present
        .clone()
        .filter(|&(_, _, kind)| kind == FOLLOW)
        .map(|(source, target, _)| (source, target));
    let follow_facts = follows
        .clone()
        .map(|(source, target)| (target, source))
        .join_map(accounts.clone(), |_, &source, attributes| {
            (source, *attributes)
        })
        .flat_map(|(source, attributes)| {
            let mut facts = Vec::new();
            if attributes.features_minors {
                facts.push((source, Fact::MinorFollow));
            }
            if attributes.adult_content {
                facts.push((source, Fact::AdultFollow));
            }
            facts
        });
    // A profile view is not a link (advocates open accounts to report them).
    let links = present
        .clone()
        .filter(|&(source, target, kind)| kind != VIEW && source != target)
        .map(|(source, target, _)| (source, target));
    let reached = links
        .clone()
        .map(|(source, target)| (target, source))
        .semijoin(seeds.clone())
        .map(|(seed, source)| (source, Fact::Reached(seed)));
    let reaching = links
        .clone()
        .semijoin(seeds.clone())
        .map(|(seed, target)| (target, Fact::Reaching(seed)));
    let rows: Col<(NodeId, AccountRow)> = accounts
        .clone()
        .map(|(node, attributes)| (node, Fact::Account(attributes)))
        .concat(text.map(|(node, row)| (node, Fact::Text(row))))
        .concat(seeds.clone().map(|node| (node, Fact::Seed)))
        .concat(
            present
                .clone()
                .map(|(source, _, kind)| (source, Fact::Out(kind))),
        )
        .concat(
            present
                .clone()
                .map(|(_, target, kind)| (target, Fact::In(kind))),
        )
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
                    Fact::Out(kind) => {
                        if let Some(slot) = row.out_degree.get_mut(usize::from(*kind)) {
                            *slot += count;
                        }
                    }
                    Fact::In(kind) => {
                        if let Some(slot) = row.in_degree.get_mut(usize::from(*kind)) {
                            *slot += count;
                        }
                    }
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

    // 4a. Walk steps both ways along every live edge, weighted (self-loops twice, as the
    // single-node walk steps along both of its copies).
    let steps = live.flat_map(|(source, target, _)| [(source, target), (target, source)]);
    let proximity_out = proximity(seeds.clone(), steps.clone(), parameters.ppr);

    // 5. Communities.
    let labels = propagate_labels(
        nodes.clone(),
        base_labels,
        steps.clone(),
        parameters.label_rounds,
    );
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
    let account_count = nodes.clone().map(|_| ()).count();
    let totals = seed_count.clone().join(account_count.clone());
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

    // 4b. Which accounts have a signal of their own (proximity only counts for them), and
    // their proximity percentile.
    let score_facts = rows
        .clone()
        .map(|(node, row)| (node, ScoreFact::Row(row)))
        .concat(node_concentration.map(|(node, c)| (node, ScoreFact::Concentration(c))));
    let signalled = score_facts
        .clone()
        .reduce(|_, facts, out| {
            let (row, concentration, _) = unpack_score_facts(facts);
            if let Some(row) = row {
                let (features, _) = scoring_features(row);
                if first_pass(&features, row.seed, 0.0, concentration).0 > 0.0 {
                    out.push(((), 1isize));
                }
            }
        })
        .map(|(node, ())| node);
    let percentiles = percentiles(proximity_out.reached.clone(), signalled);

    // 6. Scoring.
    let first = score_facts
        .concat(percentiles.map(|(node, p)| (node, ScoreFact::Percentile(p))))
        .reduce(|_, facts, out| {
            let (row, concentration, percentile) = unpack_score_facts(facts);
            let Some(row) = row else {
                return;
            };
            let (features, sought) = scoring_features(row);
            // Seeds following an account the network seeks out mark it as a target: the
            // proximity those links give is not evidence either.
            let percentile = if sought { 0.0 } else { percentile };
            let (score, signals) = first_pass(&features, row.seed, percentile, concentration);
            if score > 0.0 {
                let mut linked_seeds: Vec<NodeId> = features
                    .seeds_reached
                    .iter()
                    .chain(&features.seeds_reaching)
                    .copied()
                    .collect();
                linked_seeds.sort_unstable();
                linked_seeds.dedup();
                out.push((
                    FirstPass {
                        score_bits: bits(score),
                        signals: signal_bits(signals),
                        tied: tied_by_own_evidence(&features, row.seed),
                        advertises: advertises(&features),
                        sought,
                        linked_seeds,
                    },
                    1isize,
                ));
            }
        });
    let confident = first
        .clone()
        .filter(|(_, first)| first.tied && float(first.score_bits) >= CONFIDENT_SCORE)
        .map(|(node, _)| node);
    let links_out = links
        .clone()
        .map(|(source, target)| (target, source))
        .semijoin(confident.clone())
        .map(|(_, source)| (source, LinkFact::LinksOut));
    let links_in = links
        .semijoin(confident)
        .map(|(_, target)| (target, LinkFact::LinksIn));
    let second = first
        .map(|(node, first)| (node, LinkFact::First(first)))
        .concat(links_out)
        .concat(links_in)
        .reduce(|_, facts, out| {
            let Some(first) = facts.iter().find_map(|(fact, _)| match fact {
                LinkFact::First(first) => Some(first),
                _ => None,
            }) else {
                return;
            };
            let count = |wanted: &LinkFact| {
                facts
                    .iter()
                    .find(|(fact, _)| *fact == wanted)
                    .map_or(0, |(_, count)| usize::try_from(*count).unwrap_or(0))
            };
            let linked_out = count(&LinkFact::LinksOut);
            // Being followed by suspects is no evidence against an account they seek out.
            let linked_in = if first.sought {
                0
            } else {
                count(&LinkFact::LinksIn)
            };
            let mut score = float(first.score_bits);
            let mut signals: Vec<(String, f64)> = first
                .signals
                .iter()
                .map(|(name, share)| (name.clone(), float(*share)))
                .collect();
            let mut tied = first.tied;
            add_suspect_links(&mut score, &mut signals, &mut tied, linked_out, linked_in);
            halve_untied(&mut score, &mut signals, tied);
            out.push((
                FirstPass {
                    score_bits: bits(score),
                    signals: signal_bits(signals),
                    tied,
                    ..first.clone()
                },
                1isize,
            ));
        });

    // Roles.
    let suspects = second
        .clone()
        .filter(|(_, scored)| float(scored.score_bits) >= CONFIDENT_SCORE);
    let advertisers = suspects
        .clone()
        .filter(|(_, scored)| scored.advertises)
        .map(|(node, _)| node);
    let suspects = suspects.map(|(node, _)| node);
    let advertiser_count = advertisers.clone().map(|_| ()).count();
    let followed_by_sellers = follows
        .clone()
        .semijoin(advertisers.clone())
        .map(|(_, target)| (target, LinkFact::FollowedBySellers));
    let followed_by_suspects = follows
        .clone()
        .semijoin(suspects.clone())
        .map(|(_, target)| (target, LinkFact::FollowedBySuspects));
    let follows_sellers = follows
        .clone()
        .map(|(source, target)| (target, source))
        .semijoin(advertisers)
        .map(|(_, source)| (source, LinkFact::FollowsSellers));
    let advertisers_seen = suspects
        .map(|node| ((), node))
        .join_map(advertiser_count, |_, &node, &count| {
            (node, LinkFact::Advertisers(count as u64))
        });
    let scores = second
        .map(|(node, scored)| (node, LinkFact::First(scored)))
        .concat(
            labels
                .clone()
                .map(|(node, label)| (node, LinkFact::Label(label))),
        )
        .concat(followed_by_sellers)
        .concat(followed_by_suspects)
        .concat(follows_sellers)
        .concat(advertisers_seen)
        .reduce(|_, facts, out| {
            let mut scored = None;
            let mut label = 0;
            let mut advertiser_count = 0;
            let mut links = RoleLinks::default();
            for (fact, count) in facts {
                let count = usize::try_from(*count).unwrap_or(0);
                match fact {
                    LinkFact::First(first) => scored = Some(first),
                    LinkFact::Label(l) => label = *l,
                    LinkFact::FollowedBySellers => links.followed_by_sellers = count,
                    LinkFact::FollowedBySuspects => links.followed_by_suspects = count,
                    LinkFact::FollowsSellers => links.follows_sellers = count,
                    LinkFact::Advertisers(n) => advertiser_count = *n as usize,
                    LinkFact::LinksOut | LinkFact::LinksIn => {}
                }
            }
            let Some(scored) = scored else {
                return;
            };
            let score = float(scored.score_bits);
            let role = role_of(scored.advertises, score, &links, advertiser_count);
            out.push((
                ScoreRecord {
                    score_bits: scored.score_bits,
                    signals: scored.signals.clone(),
                    tied: scored.tied,
                    role: role_code(role),
                    label,
                    linked_seeds: scored.linked_seeds.clone(),
                },
                1isize,
            ));
        });

    // The size estimate's followers: distinct accounts following a seller counted in it.
    let estimate_sellers = scores
        .clone()
        .filter(|(_, record)| {
            float(record.score_bits) >= ESTIMATE_SCORE
                && record.role == role_code(NetworkRole::Seller)
        })
        .map(|(node, _)| node);
    let unique_followers = follows
        .clone()
        .map(|(source, target)| (target, source))
        .semijoin(estimate_sellers)
        .map(|(_, source)| source)
        .threshold(|_, count| isize::from(*count > 0))
        .map(|_| ())
        .count();

    // 7. Shortest paths from the seeds over the undirected view.
    let pairs = steps.threshold(|_, weight| isize::from(*weight > 0));
    let start = seeds.clone().map(|seed| (seed, (0u32, NodeId::MAX)));
    let paths = start.clone().iterate(|inner, distances| {
        let pairs = pairs.enter(inner);
        let start = start.enter(inner);
        distances
            .join_map(pairs, |&node, &(distance, _), &next| {
                (next, (distance.saturating_add(1), node))
            })
            .concat(start)
            .reduce(|_, candidates, out| {
                if let Some((best, _)) = candidates.first() {
                    out.push((**best, 1isize));
                }
            })
    });

    let mut outputs = vec![
        scores.map(|(node, record)| Output::Score(node, record)),
        seeds.map(Output::Seed),
        paths.map(|(node, (distance, parent))| Output::Parent(node, distance, parent)),
        community_stats.map(|(label, (size, seeds, lowest))| {
            Output::Community(label, size as u32, seeds as u32, lowest)
        }),
        account_count.map(|((), count)| Output::Accounts(count as u64)),
        unique_followers.map(|((), count)| Output::UniqueFollowersOfSellers(count as u64)),
    ];
    if parameters.export_rows {
        outputs.push(rows.map(|(node, row)| Output::Row(node, row)));
    }
    if parameters.export_mass {
        outputs.push(
            proximity_out
                .mass
                .map(|(node, (mass, degree))| Output::Mass(node, mass as i64, degree as i64)),
        );
    }
    differential_dataflow::collection::concatenate(scope, outputs)
}

fn unpack_score_facts<'a>(facts: &[(&'a ScoreFact, isize)]) -> (Option<&'a AccountRow>, f64, f64) {
    let mut row = None;
    let mut concentration = 0.0;
    let mut percentile = 0.0;
    for (fact, _) in facts {
        match fact {
            ScoreFact::Row(r) => row = Some(r),
            ScoreFact::Concentration(c) => concentration = float(*c),
            ScoreFact::Percentile(p) => percentile = float(*p),
        }
    }
    (row, concentration, percentile)
}

/// Buckets of the global sort: the top 20 bits of a non-negative f64 (sign, exponent and 8
/// mantissa bits), so a bucket spans 1/256 of an octave and bucket order is value order.
fn bucket(key: u64) -> u64 {
    key >> 44
}

/// The proximity percentile (`map::proximity_percentile`) of every reached account in
/// `signalled`, from `reached` = `(account, degree-normalised proximity bits)`.
///
/// A global sort split in two so no worker holds all accounts: each bucket sorts its own
/// members (ties by account id, as `build_map` sorts), and one small reduce over bucket
/// sizes gives each bucket's offset. Only accounts with a signal get a percentile: the
/// rest would not use it, and every change of the reached count moves all percentiles.
fn percentiles<'s>(
    reached: Col<'s, (NodeId, u64)>,
    signalled: Col<'s, NodeId>,
) -> Col<'s, (NodeId, u64)> {
    let members = reached
        .clone()
        .map(|(node, key)| (bucket(key), (key, node, false)))
        .concat(
            reached
                .clone()
                .semijoin(signalled)
                .map(|(node, key)| (bucket(key), (key, node, true))),
        );
    let within = members.reduce(|_, members, out| {
        let mut position = 0u64;
        for ((_, node, wanted), _) in members {
            if *wanted {
                out.push(((*node, position.saturating_sub(1)), 1isize));
            } else {
                position += 1;
            }
        }
    });
    let offsets = reached
        .clone()
        .map(|(_, key)| bucket(key))
        .count()
        .map(|(bucket, size)| ((), (bucket, size)))
        .reduce(|_, sizes, out| {
            let mut below = 0u64;
            for ((bucket, size), _) in sizes {
                out.push(((*bucket, below), 1isize));
                below += *size as u64;
            }
        })
        .map(|((), (bucket, below))| (bucket, below));
    let reached_count = reached.map(|_| ()).count();
    within
        .join_map(offsets, |_, &(node, index), &below| {
            ((), (node, below + index))
        })
        .join_map(reached_count, |_, &(node, position), &count| {
            (
                node,
                bits(proximity_percentile(position as usize, count as usize)),
            )
        })
}
