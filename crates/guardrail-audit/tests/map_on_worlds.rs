//! Issue 5's targets for the network map on generated worlds: precision at least 0.9 at a
//! review budget equal to the true network size, at least double the recall of text
//! matches alone, under 1% of benign niche-community members flagged — on the default
//! world and on other seeds. Ground truth is read only by the scoring.

use guardrail_adapter::platform_policy;
use guardrail_audit::map_evaluation::evaluate_world;
use guardrail_graph::map::MapConfig;
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{WorldConfig, generate};

#[test]
fn the_map_meets_its_targets_on_generated_worlds() {
    let policy = platform_policy(&BANNED_BASES).expect("platform policy");
    for seed in [1u64, 2, 3] {
        let (world, truth) = generate(&WorldConfig::default(), seed);
        let evaluation =
            evaluate_world(&world, &truth, &policy, &MapConfig::default()).expect("evaluation");
        let report = format!("seed {seed}: {evaluation:#?}");
        assert!(evaluation.map.precision >= 0.9, "{report}");
        assert!(
            evaluation.map.recall >= 2.0 * evaluation.text_only.recall,
            "{report}"
        );
        assert!(evaluation.map.niche_flagged < 0.01, "{report}");
        assert!(evaluation.map.camouflaged_recall >= 0.5, "{report}");
        // The estimate counts members, not everyone worth a look: within 25% of the truth.
        let estimate = evaluation.estimate.accounts as f64;
        let truth_size = evaluation.budget as f64;
        assert!(
            (estimate - truth_size).abs() <= 0.25 * truth_size,
            "{report}"
        );
    }
}
