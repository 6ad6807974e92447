//! Incremental against from scratch: random batches of follows, unfollows, engagements and
//! review-seed changes applied to a running session, against a new session started on the
//! final graph from the same starting communities.
//!
//! Everything but proximity is a function of the current inputs and must be identical
//! (features, seeds, communities, paths, the set of scored accounts). Proximity is forward
//! push kept up to date, so it depends on the history within the push bound: each
//! account's estimate must be within twice `ε·max(D, 1)` of the from-scratch one. With a
//! tiny `ε` that bound is far below any real difference between accounts, and then the
//! whole map, scores and roles included, must be identical; at the map's own `ε` the
//! suspects at a review budget of the network's size must agree to within 1%.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use guardrail_dataflow::records::Output;
use guardrail_dataflow::{ClusterConfig, DataflowConfig, MapSession, Update};
use guardrail_graph::features::MapInput;
use guardrail_graph::leiden::leiden;
use guardrail_graph::map::MapConfig;
use guardrail_graph::synthetic::{LfrConfig, WorldConfig, world};
use guardrail_graph::{EdgeKind, GraphBuilder, NodeId};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn small_world(background: usize) -> WorldConfig {
    WorldConfig {
        background: LfrConfig {
            average_degree: 8.0,
            ..LfrConfig::standard(background, 0.3)
        },
        niche_communities: 1,
        niche_size: 20,
        parent_run_accounts: 20,
        adult_content_accounts: 10,
        sellers: 8,
        aggregators: 2,
        buyers: 30,
        bystanders: 6,
        ..WorldConfig::default()
    }
}

/// One random change: `(pick, source, target, kind, action)`.
type Step = (usize, u32, u32, usize, u8);

/// A session fed batches, and a from-scratch session on the graph they lead to.
struct Run {
    incremental: MapSession,
    scratch: MapSession,
}

fn rebuild(
    input: &MapInput,
    edges: &BTreeMap<(NodeId, NodeId, EdgeKind), i64>,
    seeds: &[NodeId],
) -> MapInput {
    let mut builder = GraphBuilder::with_numbered_nodes(input.graph.node_count());
    for (&(source, target, kind), &weight) in edges {
        if weight > 0 {
            builder
                .edge(source, target, kind, weight as f32)
                .expect("edge in range");
        }
    }
    MapInput {
        graph: builder.build(),
        accounts: input.accounts.clone(),
        seeds: seeds.to_vec(),
    }
}

fn run(world_seed: u64, background: usize, batches: &[Vec<Step>], config: &DataflowConfig) -> Run {
    let synthetic = world(&small_world(background), world_seed).expect("world");
    let input = &synthetic.input;
    let node_count = input.graph.node_count() as u32;
    let labels = leiden(&input.graph, &MapConfig::default().leiden)
        .expect("leiden")
        .membership;
    let mut incremental = MapSession::start_with_labels(
        input,
        &synthetic.text,
        config,
        &ClusterConfig::local(2),
        labels.clone(),
    )
    .expect("session");
    let mut edges: BTreeMap<(NodeId, NodeId, EdgeKind), i64> = BTreeMap::new();
    for source in 0..node_count {
        for edge in input.graph.out_edges(source) {
            edges.insert((source, edge.node, edge.kind), edge.weight as i64);
        }
    }
    let mut seeds: Vec<NodeId> = input.seeds.clone();
    for batch in batches {
        let mut updates = Vec::new();
        for &(pick, source, target, kind, action) in batch {
            let (source, target) = (source % node_count, target % node_count);
            let kind = EdgeKind::ALL[kind % EdgeKind::ALL.len()];
            match action {
                // Remove an existing edge (an unfollow, a retracted like).
                0 => {
                    let live: Vec<_> = edges
                        .iter()
                        .filter(|(_, w)| **w > 0)
                        .map(|(k, _)| *k)
                        .collect();
                    if let Some(&(s, t, k)) = live.get(pick % live.len().max(1)) {
                        *edges.entry((s, t, k)).or_insert(0) -= 1;
                        updates.push(Update::Edge {
                            source: s,
                            target: t,
                            kind: k,
                            weight: -1,
                        });
                    }
                }
                // A reviewer confirms or clears a seed.
                1 => {
                    let node = source;
                    let confirmed = !seeds.contains(&node);
                    if confirmed {
                        seeds.push(node)
                    } else {
                        seeds.retain(|&s| s != node)
                    }
                    updates.push(Update::ReviewSeed { node, confirmed });
                }
                // A new follow or engagement.
                _ if source != target => {
                    *edges.entry((source, target, kind)).or_insert(0) += 1;
                    updates.push(Update::Edge {
                        source,
                        target,
                        kind,
                        weight: 1,
                    });
                }
                _ => {}
            }
        }
        incremental.apply(&updates).expect("apply");
    }
    seeds.sort_unstable();
    let rebuilt = rebuild(input, &edges, &seeds);
    let scratch = MapSession::start_with_labels(
        &rebuilt,
        &synthetic.text,
        config,
        &ClusterConfig::local(1),
        labels,
    )
    .expect("from scratch");
    Run {
        incremental,
        scratch,
    }
}

/// What one session's outputs say, split by how they must agree.
#[derive(Debug, Default)]
struct Split {
    /// Outputs that must be identical.
    exact: BTreeSet<Output>,
    /// Accounts with a positive score (proximity only adds to a score it does not start).
    scored: BTreeSet<NodeId>,
    /// Each reached account's `(estimate, degree)`.
    masses: HashMap<NodeId, (i64, i64)>,
}

/// Splits `outputs`; with `with_scores`, scores and the follower count must be identical
/// too.
fn split(outputs: &HashMap<Output, isize>, with_scores: bool) -> Split {
    let mut split = Split::default();
    for output in outputs.keys() {
        match output {
            Output::Mass(node, mass, degree) => {
                split.masses.insert(*node, (*mass, *degree));
            }
            Output::Score(node, _) if !with_scores => {
                split.scored.insert(*node);
            }
            Output::UniqueFollowersOfSellers(_) if !with_scores => {}
            other => {
                split.exact.insert(other.clone());
            }
        }
    }
    split
}

/// Checks that what must be identical is, and that every estimate is within twice the
/// push bound of the other run's.
fn check(run: &Run, config: &DataflowConfig, with_scores: bool) -> Result<(), String> {
    let incremental = split(run.incremental.outputs(), with_scores);
    let scratch = split(run.scratch.outputs(), with_scores);
    let only_incremental: Vec<_> = incremental
        .exact
        .difference(&scratch.exact)
        .take(5)
        .collect();
    let only_scratch: Vec<_> = scratch
        .exact
        .difference(&incremental.exact)
        .take(5)
        .collect();
    if !only_incremental.is_empty() || !only_scratch.is_empty() {
        return Err(format!(
            "incremental only: {only_incremental:?}\nfrom scratch only: {only_scratch:?}"
        ));
    }
    if incremental.scored != scratch.scored {
        return Err(format!(
            "scored accounts differ: incremental only {:?}, from scratch only {:?}",
            incremental
                .scored
                .difference(&scratch.scored)
                .collect::<Vec<_>>(),
            scratch
                .scored
                .difference(&incremental.scored)
                .collect::<Vec<_>>()
        ));
    }
    let quantum = config.quantum as f64;
    let nodes: BTreeSet<NodeId> = incremental
        .masses
        .keys()
        .chain(scratch.masses.keys())
        .copied()
        .collect();
    for node in nodes {
        let (a, da) = incremental.masses.get(&node).copied().unwrap_or((0, 0));
        let (b, db) = scratch.masses.get(&node).copied().unwrap_or((0, 0));
        let degree = da.max(db).max(1) as f64;
        let bound = 2.0 * config.map.epsilon * degree * (1.0 + 1e-6) + 1e-12;
        let difference = (a - b).abs() as f64 / quantum;
        if difference > bound || (a > 0 && b > 0 && da != db) {
            return Err(format!(
                "account {node}: estimate {a} (degree {da}) incrementally, {b} (degree {db}) from scratch; bound {bound:e}"
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, ..ProptestConfig::default() })]

    #[test]
    fn incremental_equals_from_scratch_for_a_near_exact_walk(
        seed in 0u64..1_000,
        batches in proptest::collection::vec(
            proptest::collection::vec((0usize..10_000, 0u32..10_000, 0u32..10_000, 0usize..5, 0u8..4), 1..40),
            1..4,
        ),
    ) {
        let config = DataflowConfig {
            map: MapConfig { epsilon: 1e-12, ..MapConfig::default() },
            export_rows: true,
            export_mass: true,
            ..DataflowConfig::default()
        };
        let run = run(seed, 400, &batches, &config);
        prop_assert_eq!(check(&run, &config, true), Ok(()));
    }
}

#[test]
fn incremental_stays_within_the_push_bound_at_the_maps_tolerance() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let batches: Vec<Vec<Step>> = (0..3)
        .map(|_| {
            (0..150)
                .map(|_| {
                    (
                        rng.gen_range(0..100_000),
                        rng.gen_range(0..100_000),
                        rng.gen_range(0..100_000),
                        rng.gen_range(0..5),
                        // Mostly new links, some removals, few seed changes.
                        [0, 1, 2, 2, 2, 3, 3, 0][rng.gen_range(0..8)],
                    )
                })
                .collect()
        })
        .collect();
    let synthetic = world(&small_world(1_500), 5).expect("world");
    let config = DataflowConfig {
        map: MapConfig {
            budget: synthetic.truth.network_size(),
            ..MapConfig::default()
        },
        export_rows: true,
        export_mass: true,
        ..DataflowConfig::default()
    };
    let run = run(5, 1_500, &batches, &config);
    check(&run, &config, false).unwrap_or_else(|error| panic!("{error}"));
    let suspects = |session: &MapSession| -> BTreeSet<NodeId> {
        session
            .map()
            .expect("map")
            .expect("driver")
            .suspects
            .iter()
            .map(|s| s.node)
            .collect()
    };
    let (a, b) = (suspects(&run.incremental), suspects(&run.scratch));
    let shared = a.intersection(&b).count();
    assert!(
        shared as f64 >= 0.99 * b.len() as f64,
        "{shared} of {} suspects shared: incremental only {:?}, from scratch only {:?}",
        b.len(),
        a.difference(&b).collect::<Vec<_>>(),
        b.difference(&a).collect::<Vec<_>>()
    );
}
