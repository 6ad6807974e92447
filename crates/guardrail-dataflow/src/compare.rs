//! The dataflow map against the single-node engine on the same input: seeds and features
//! compared exactly, the dataflow's PPR against the exact one (per-account error against
//! the push bound `ε·max(D, 1)`, and L1 distance), and the two suspect lists and their
//! roles at one review budget.
//!
//! What it is for: the equivalence tests of this crate (planted synthetic worlds) and of
//! `guardrail-audit` (generated worlds) share one definition of "the same map", and an
//! operator can run it on a sample of production input before trusting a new quantum.
//!
//! What it must never do: decide pass or fail itself (callers hold the tolerances), or read
//! ground truth (the budget is given).

use std::collections::{BTreeSet, HashSet};

use guardrail_graph::NodeId;
use guardrail_graph::features::{MapInput, TextSignals, account_features};
use guardrail_graph::map::{MapConfig, build_map};
use guardrail_graph::ppr::{Direction, PprConfig, ppr_power, ppr_push};

use crate::cluster::ClusterConfig;
use crate::error::DataflowError;
use crate::records::Output;
use crate::session::{DataflowConfig, MapSession};

/// How far the dataflow map is from `build_map` on one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Whether both engines seed the same accounts (review seeds plus text-confirmed).
    pub seeds_equal: bool,
    /// Accounts whose maintained features differ from `account_features` (first 10).
    pub feature_mismatches: Vec<NodeId>,
    /// Accounts with a feature row in the dataflow.
    pub rows: usize,
    /// Accounts in the input.
    pub accounts: usize,
    /// L1 distance between the dataflow's PPR and the exact one.
    pub ppr_l1: f64,
    /// The largest per-account PPR error: `(account, exact − dataflow)`.
    pub ppr_worst: (NodeId, f64),
    /// The largest per-account PPR error over that account's push bound
    /// `ε·max(D, 1)` (at most 1 when the walk settled): `(account, ratio)`.
    pub ppr_worst_to_bound: (NodeId, f64),
    /// L1 distance between the single-node engine's `ppr_push` and the exact PPR, for scale.
    pub engine_ppr_l1: f64,
    /// Suspects listed by `build_map`.
    pub single_suspects: usize,
    /// Suspects listed by both.
    pub shared_suspects: usize,
    /// Listed by `build_map` only.
    pub missing: Vec<NodeId>,
    /// Listed by the dataflow only.
    pub extra: Vec<NodeId>,
    /// Shared suspects given the same role by both.
    pub roles_agree: usize,
}

/// Runs both engines on `input` at review budget `budget` (the dataflow on `workers` local
/// workers with `config`'s quantum and `config.map.epsilon`) and compares them.
pub fn compare_with_engine(
    input: &MapInput,
    text: &dyn TextSignals,
    config: &DataflowConfig,
    budget: usize,
    workers: usize,
) -> Result<Comparison, DataflowError> {
    let node_count = input.graph.node_count();
    let map_config = MapConfig {
        budget,
        ..config.map
    };
    let single = build_map(input, text, &map_config)
        .map_err(|error| DataflowError::Engine(error.to_string()))?;
    let dataflow_config = DataflowConfig {
        map: map_config,
        export_rows: true,
        export_mass: true,
        ..*config
    };
    let session = MapSession::start(
        input,
        text,
        &dataflow_config,
        &ClusterConfig::local(workers),
    )?;
    let outputs = session.outputs();

    let seeds: BTreeSet<NodeId> = outputs
        .keys()
        .filter_map(|output| match output {
            Output::Seed(node) => Some(*node),
            _ => None,
        })
        .collect();
    let expected_seeds: BTreeSet<NodeId> = input
        .seeds
        .iter()
        .copied()
        .chain(MapInput::text_confirmed_seeds(node_count, text))
        .collect();
    let mut seed_flags = vec![false; node_count];
    for &seed in &expected_seeds {
        seed_flags[seed as usize] = true;
    }
    let mut rows = 0;
    let mut feature_mismatches = Vec::new();
    let mut estimated = vec![0.0; node_count];
    for output in outputs.keys() {
        match output {
            Output::Row(node, row) => {
                rows += 1;
                if feature_mismatches.len() < 10
                    && row.features() != account_features(input, text, &seed_flags, *node)
                {
                    feature_mismatches.push(*node);
                }
            }
            Output::Mass(node, mass, _) => {
                estimated[*node as usize] = *mass as f64 / dataflow_config.quantum as f64;
            }
            _ => {}
        }
    }

    let seed_list: Vec<NodeId> = expected_seeds.iter().copied().collect();
    let ppr_config = PprConfig {
        damping: map_config.damping,
        direction: Direction::Undirected,
    };
    let exact = ppr_power(&input.graph, &seed_list, &ppr_config, 1e-14, 100_000)
        .map_err(|error| DataflowError::Engine(error.to_string()))?
        .dense(node_count);
    let engine = ppr_push(&input.graph, &seed_list, &ppr_config, map_config.epsilon)
        .map_err(|error| DataflowError::Engine(error.to_string()))?
        .dense(node_count);
    let l1 =
        |estimate: &[f64]| -> f64 { exact.iter().zip(estimate).map(|(e, q)| (e - q).abs()).sum() };
    let errors = exact
        .iter()
        .zip(&estimated)
        .enumerate()
        .map(|(node, (e, q))| (node as NodeId, e - q));
    let ppr_worst = errors
        .clone()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .unwrap_or((0, 0.0));
    let ppr_worst_to_bound = errors
        .map(|(node, error)| {
            let degree = guardrail_graph::ppr::degree(&input.graph, Direction::Undirected, node);
            (node, error.abs() / (map_config.epsilon * degree.max(1.0)))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, 0.0));

    let map = session.map()?.ok_or_else(|| {
        DataflowError::Engine("a local session has no driver to assemble the map".to_string())
    })?;
    session.finish();
    let single_set: HashSet<NodeId> = single.suspects.iter().map(|s| s.node).collect();
    let dataflow_set: HashSet<NodeId> = map.suspects.iter().map(|s| s.node).collect();
    let mut missing: Vec<NodeId> = single_set.difference(&dataflow_set).copied().collect();
    let mut extra: Vec<NodeId> = dataflow_set.difference(&single_set).copied().collect();
    missing.sort_unstable();
    extra.sort_unstable();
    let roles_agree = map
        .suspects
        .iter()
        .filter(|s| {
            single
                .suspects
                .iter()
                .any(|t| t.node == s.node && t.role == s.role)
        })
        .count();
    Ok(Comparison {
        seeds_equal: seeds == expected_seeds && map.seeds == single.seeds,
        feature_mismatches,
        rows,
        accounts: node_count,
        ppr_l1: l1(&estimated),
        ppr_worst,
        ppr_worst_to_bound,
        engine_ppr_l1: l1(&engine),
        single_suspects: single_set.len(),
        shared_suspects: single_set.intersection(&dataflow_set).count(),
        missing,
        extra,
        roles_agree,
    })
}
