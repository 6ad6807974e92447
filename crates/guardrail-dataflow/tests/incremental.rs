//! Incremental equals from scratch: random batches of follows, unfollows, engagements and
//! review-seed changes applied to a running session leave exactly the outputs a new
//! session computes on the final graph from the same starting communities.

use std::collections::BTreeMap;

use guardrail_dataflow::{ClusterConfig, DataflowConfig, MapSession, Update};
use guardrail_graph::features::MapInput;
use guardrail_graph::leiden::leiden;
use guardrail_graph::map::MapConfig;
use guardrail_graph::synthetic::{LfrConfig, WorldConfig, world};
use guardrail_graph::{EdgeKind, GraphBuilder, NodeId};
use proptest::prelude::*;

fn small_world() -> WorldConfig {
    WorldConfig {
        background: LfrConfig {
            average_degree: 8.0,
            ..LfrConfig::standard(400, 0.3)
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, ..ProptestConfig::default() })]

    #[test]
    fn incremental_equals_from_scratch(
        seed in 0u64..1_000,
        batches in proptest::collection::vec(
            proptest::collection::vec((0usize..10_000, 0u32..10_000, 0u32..10_000, 0usize..5, 0u8..4), 1..40),
            1..4,
        ),
    ) {
        let synthetic = world(&small_world(), seed).expect("world");
        let input = &synthetic.input;
        let node_count = input.graph.node_count() as u32;
        let labels = leiden(&input.graph, &MapConfig::default().leiden).expect("leiden").membership;
        let config = DataflowConfig {
            export_rows: true,
            export_mass: true,
            ..DataflowConfig::default()
        };
        let mut session = MapSession::start_with_labels(
            input, &synthetic.text, &config, &ClusterConfig::local(2), labels.clone(),
        ).expect("session");
        let mut edges: BTreeMap<(NodeId, NodeId, EdgeKind), i64> = BTreeMap::new();
        for source in 0..node_count {
            for edge in input.graph.out_edges(source) {
                edges.insert((source, edge.node, edge.kind), edge.weight as i64);
            }
        }
        let mut seeds: Vec<NodeId> = input.seeds.clone();
        for batch in &batches {
            let mut updates = Vec::new();
            for &(pick, source, target, kind, action) in batch {
                let (source, target) = (source % node_count, target % node_count);
                let kind = EdgeKind::ALL[kind];
                match action {
                    // Remove an existing edge (an unfollow, a retracted like).
                    0 => {
                        let live: Vec<_> = edges.iter().filter(|(_, w)| **w > 0).map(|(k, _)| *k).collect();
                        if let Some(&(s, t, k)) = live.get(pick % live.len().max(1)) {
                            *edges.entry((s, t, k)).or_insert(0) -= 1;
                            updates.push(Update::Edge { source: s, target: t, kind: k, weight: -1 });
                        }
                    }
                    // A reviewer confirms or clears a seed.
                    1 => {
                        let node = source;
                        let confirmed = !seeds.contains(&node);
                        if confirmed { seeds.push(node) } else { seeds.retain(|&s| s != node) }
                        updates.push(Update::ReviewSeed { node, confirmed });
                    }
                    // A new follow or engagement.
                    _ if source != target => {
                        *edges.entry((source, target, kind)).or_insert(0) += 1;
                        updates.push(Update::Edge { source, target, kind, weight: 1 });
                    }
                    _ => {}
                }
            }
            session.apply(&updates).expect("apply");
        }
        seeds.sort_unstable();
        let rebuilt = rebuild(input, &edges, &seeds);
        let scratch = MapSession::start_with_labels(
            &rebuilt, &synthetic.text, &config, &ClusterConfig::local(1), labels,
        ).expect("from scratch");
        let incremental = session.outputs();
        let fresh = scratch.outputs();
        let only_incremental: Vec<_> = incremental.iter().filter(|(k, v)| fresh.get(*k) != Some(v)).take(5).collect();
        let only_fresh: Vec<_> = fresh.iter().filter(|(k, v)| incremental.get(*k) != Some(v)).take(5).collect();
        prop_assert!(
            only_incremental.is_empty() && only_fresh.is_empty(),
            "incremental only: {:?}\nfrom scratch only: {:?}", only_incremental, only_fresh
        );
    }
}
