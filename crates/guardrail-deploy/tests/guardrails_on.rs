//! Issue 6's "on" runs on the default world: the same experiments, the same seeded
//! behaviours, with the guardrail layer built from the public world alone. Each row is a
//! target; where a target is not met on this world the test pins the measured value so a
//! regression shows (see crates/guardrail-sim/docs/experiments.md).

use std::collections::BTreeMap;

use guardrail_deploy::{Guard, platform_policy};
use guardrail_policy::RuleSet;
use guardrail_sim::experiments::{ExperimentConfig, run_with};
use guardrail_sim::guardrails::Off;
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{GroundTruth, World, WorldConfig, generate};

fn run(world: &World, truth: &GroundTruth, name: &str, on: bool) -> BTreeMap<String, f64> {
    let config = ExperimentConfig::default();
    let report = if on {
        let policy = platform_policy(&BANNED_BASES).expect("platform policy");
        let mut guard = Guard::build(world, policy, RuleSet::default_rules());
        run_with(name, world, truth, &config, &mut guard).expect("experiment")
    } else {
        run_with(name, world, truth, &config, &mut Off::default()).expect("experiment")
    };
    assert_eq!(report.guardrails, if on { "on" } else { "off" });
    report.metrics
}

fn replay_is_exact(metrics: &BTreeMap<String, f64>, name: &str) {
    assert!(metrics["decisions_replayed"] > 0.0, "{name}: {metrics:#?}");
    assert_eq!(metrics["shadow_mismatches"], 0.0, "{name}: {metrics:#?}");
    assert_eq!(metrics["backfill_mismatches"], 0.0, "{name}: {metrics:#?}");
}

#[test]
fn guardrails_on_meet_the_targets_on_the_default_world() {
    let (world, truth) = generate(&WorldConfig::default(), 1);

    let off = run(&world, &truth, "e1", false);
    let on = run(&world, &truth, "e1", true);
    let report = format!("off {off:#?}\non {on:#?}");
    assert!(off["network_share_top10_after_one_view"] > 0.5, "{report}");
    assert!(on["network_share_top10_after_one_view"] <= 0.01, "{report}");
    assert!(on["network_share_feed_after_follow_5"] <= 0.01, "{report}");
    // Probes with an ordinary history are still shown suggestions, none from the network.
    assert!(
        off["network_share_top10_after_one_view_with_history"] > 0.2,
        "{report}"
    );
    assert!(
        on["network_share_top10_after_one_view_with_history"] <= 0.01,
        "{report}"
    );
    assert!(
        on["suggestions_shown_top10_after_one_view_with_history"] >= 100.0,
        "{report}"
    );
    assert!(on["bystander_leak_rate"] <= 0.01, "{report}");
    assert!(on["bystander_visitors"] > 0.0, "{report}");
    assert!(
        on["benign_hit_rate_at_10"] >= 0.97 * off["benign_hit_rate_at_10"],
        "{report}"
    );
    // Not met: some parent-run and niche accounts lose more than 5% of their reach
    // (docs/experiments.md explains why). Pinned so that it cannot get worse unseen.
    assert!(
        on["parent_niche_accounts_losing_over_5pct"] <= 15.0,
        "{report}"
    );
    // Minors may lose all their reach among unconnected adults (by rule); adults keep
    // at least 85% each, and the accounts' total reach does not fall.
    assert!(
        on["parent_niche_adult_accounts_losing_over_5pct"] <= 6.0,
        "{report}"
    );
    assert!(on["parent_niche_adult_min_reach_kept"] >= 0.85, "{report}");
    assert!(on["parent_niche_total_reach_kept"] >= 1.0, "{report}");
    replay_is_exact(&on, "e1");

    let on = run(&world, &truth, "e2", true);
    assert_eq!(on["blocked_query_results"], 0.0, "{on:#?}");
    assert!(on["autocomplete_variant_rate"] <= 0.01, "{on:#?}");
    assert_eq!(on["seller_reach_via_search"], 0.0, "{on:#?}");
    // The coined variants no normaliser reaches are restricted by their company.
    assert!(on["variant_tags_restricted"] >= 4.0, "{on:#?}");
    replay_is_exact(&on, "e2");

    let on = run(&world, &truth, "e3", true);
    assert!(on["rebuild_rate"] <= 0.01, "{on:#?}");
    assert!(on["backup_accounts_resurfaced"] <= 0.10, "{on:#?}");
    assert!(on["backup_accounts_caught"] >= 0.90, "{on:#?}");
    replay_is_exact(&on, "e3");

    let on = run(&world, &truth, "e6", true);
    assert_eq!(
        on["minor_suggestions_to_unconnected_adults"], 0.0,
        "{on:#?}"
    );
    assert_eq!(on["inappropriate_contact_via_suggestions"], 0.0, "{on:#?}");
    replay_is_exact(&on, "e6");
}
