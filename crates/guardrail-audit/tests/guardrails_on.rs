//! Issue 6's "on" runs on the default world: the same experiments, the same seeded
//! behaviours, with the guardrail layer built from the public world alone. Each row is a
//! target; where a target is not met on this world the test pins the measured value so a
//! regression shows (see crates/guardrail-audit/docs/experiments.md).

use guardrail_adapter::platform_policy;
use guardrail_audit::Metric::*;
use guardrail_audit::{Experiment, ExperimentConfig, Metrics, Off, On, run_with};
use guardrail_policy::RuleSet;
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{GroundTruth, WorldConfig, generate};
use guardrail_world::World;

fn run(world: &World, truth: &GroundTruth, experiment: Experiment, on: bool) -> Metrics {
    let config = ExperimentConfig::default();
    let report = if on {
        let policy = platform_policy(&BANNED_BASES).expect("platform policy");
        let mut layer = On::build(world, policy, RuleSet::default_rules());
        run_with(experiment, world, truth, &config, &mut layer)
    } else {
        run_with(experiment, world, truth, &config, &mut Off::default())
    };
    assert_eq!(report.guardrails, if on { "on" } else { "off" });
    report.metrics
}

fn replay_is_exact(metrics: &Metrics, experiment: Experiment) {
    assert!(
        metrics[&DecisionsReplayed] > 0.0,
        "{experiment}: {metrics:#?}"
    );
    assert_eq!(
        metrics[&ShadowMismatches], 0.0,
        "{experiment}: {metrics:#?}"
    );
    assert_eq!(
        metrics[&BackfillMismatches], 0.0,
        "{experiment}: {metrics:#?}"
    );
}

#[test]
fn guardrails_on_meet_the_targets_on_the_default_world() {
    let (world, truth) = generate(&WorldConfig::default(), 1);

    let off = run(&world, &truth, Experiment::E1, false);
    let on = run(&world, &truth, Experiment::E1, true);
    let report = format!("off {off:#?}\non {on:#?}");
    assert!(off[&NetworkShareTop10AfterOneView] > 0.5, "{report}");
    assert!(on[&NetworkShareTop10AfterOneView] <= 0.01, "{report}");
    assert!(on[&NetworkShareFeedAfterFollow5] <= 0.01, "{report}");
    // Probes with an ordinary history are still shown suggestions, none from the network.
    assert!(
        off[&NetworkShareTop10AfterOneViewWithHistory] > 0.2,
        "{report}"
    );
    assert!(
        on[&NetworkShareTop10AfterOneViewWithHistory] <= 0.01,
        "{report}"
    );
    assert!(
        on[&SuggestionsShownTop10AfterOneViewWithHistory] >= 100.0,
        "{report}"
    );
    assert!(on[&BystanderLeakRate] <= 0.01, "{report}");
    assert!(on[&BystanderVisitors] > 0.0, "{report}");
    assert!(
        on[&BenignHitRateAt10] >= 0.97 * off[&BenignHitRateAt10],
        "{report}"
    );
    // Not met: some parent-run and niche accounts lose more than 5% of their reach
    // (docs/experiments.md explains why). Pinned so that it cannot get worse unseen.
    assert!(on[&ParentNicheAccountsLosingOver5pct] <= 15.0, "{report}");
    // Minors may lose all their reach among unconnected adults (by rule); adults keep
    // at least 85% each, and the accounts' total reach does not fall.
    assert!(
        on[&ParentNicheAdultAccountsLosingOver5pct] <= 6.0,
        "{report}"
    );
    assert!(on[&ParentNicheAdultMinReachKept] >= 0.85, "{report}");
    assert!(on[&ParentNicheTotalReachKept] >= 1.0, "{report}");
    replay_is_exact(&on, Experiment::E1);

    let on = run(&world, &truth, Experiment::E2, true);
    assert_eq!(on[&BlockedQueryResults], 0.0, "{on:#?}");
    assert!(on[&AutocompleteVariantRate] <= 0.01, "{on:#?}");
    assert_eq!(on[&SellerReachViaSearch], 0.0, "{on:#?}");
    // The coined variants no normaliser reaches are restricted by their company.
    assert!(on[&VariantTagsRestricted] >= 4.0, "{on:#?}");
    replay_is_exact(&on, Experiment::E2);

    let on = run(&world, &truth, Experiment::E3, true);
    assert!(on[&RebuildRate] <= 0.01, "{on:#?}");
    assert!(on[&BackupAccountsResurfaced] <= 0.10, "{on:#?}");
    assert!(on[&BackupAccountsCaught] >= 0.90, "{on:#?}");
    replay_is_exact(&on, Experiment::E3);

    // Issue 15: no risk-flagged impression; the controller holds the composition.
    let off = run(&world, &truth, Experiment::E4, false);
    let on = run(&world, &truth, Experiment::E4, true);
    let report = format!("off {off:#?}\non {on:#?}");
    assert!(off[&RiskFlaggedImpressions] > 0.0, "{report}");
    assert_eq!(on[&RiskFlaggedImpressions], 0.0, "{report}");
    assert!(on[&ExcludedFromChildPhoto] > 0.0, "{report}");
    assert!(
        (on[&DeliveredShareMenChildPhoto] - on[&EligibleShareMen]).abs() <= 0.05,
        "{report}"
    );
    replay_is_exact(&on, Experiment::E4);

    let off = run(&world, &truth, Experiment::E5, false);
    let on = run(&world, &truth, Experiment::E5, true);
    let report = format!("off {off:#?}\non {on:#?}");
    assert!(off[&DeliveredGapChildPhoto] > 0.3, "{report}");
    assert!(on[&DeliveredGapChildPhoto] <= 0.05, "{report}");
    assert!(on[&AdsWithinVrsBound] >= 0.917, "{report}");
    assert!(on[&ReachKept] >= 0.95, "{report}");
    assert!(on[&ImpressionsKept] >= 0.99, "{report}");
    assert!(on[&DeliveredGapChildPhotoSplitBudget] <= 0.05, "{report}");

    let on = run(&world, &truth, Experiment::E6, true);
    assert_eq!(on[&MinorSuggestionsToUnconnectedAdults], 0.0, "{on:#?}");
    assert_eq!(on[&InappropriateContactViaSuggestions], 0.0, "{on:#?}");
    replay_is_exact(&on, Experiment::E6);
}
