//! The dataflow map (`guardrail-dataflow`) against the single-node engine on a generated
//! world: the same seeds and features, every account's PPR within the push bound
//! `ε·max(D, 1)` of the exact value (the engine's own bound), and the same
//! suspects at a review budget equal to the true network size to within 1%. Here, not in
//! `guardrail-dataflow`, because the budget comes from ground truth (the crate-graph check
//! keeps production crates from linking it, tests included).

use guardrail_adapter::{MapSources, platform_policy};
use guardrail_audit::map_evaluation::evaluate_world;
use guardrail_dataflow::{DataflowConfig, compare_with_engine};
use guardrail_graph::map::MapConfig;
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{WorldConfig, generate};

#[test]
fn a_generated_world_maps_the_same_on_the_dataflow() {
    let config = WorldConfig::default().scaled_to(2_000);
    let (world, truth) = generate(&config, 4);
    let policy = platform_policy(&BANNED_BASES).expect("policy");
    let budget = evaluate_world(&world, &truth, &policy, &MapConfig::default())
        .expect("evaluation")
        .budget;
    let sources = MapSources::read(&world, &policy, None);
    let comparison = compare_with_engine(
        &sources.input,
        &sources.text,
        &DataflowConfig::default(),
        budget,
        2,
    )
    .expect("both engines");
    let report = format!("generated world of 2,000: {comparison:#?}");
    eprintln!("{report}");
    assert!(comparison.seeds_equal, "{report}");
    assert_eq!(comparison.rows, comparison.accounts, "{report}");
    assert!(comparison.feature_mismatches.is_empty(), "{report}");
    assert!(comparison.ppr_worst_to_bound.1 <= 1.0 + 1e-6, "{report}");
    assert!(
        comparison.shared_suspects as f64 >= 0.99 * comparison.single_suspects as f64,
        "{report}"
    );
    assert!(
        comparison.roles_agree as f64 >= 0.95 * comparison.shared_suspects as f64,
        "{report}"
    );
}
