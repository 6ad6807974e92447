//! The guardrails-off figures on the default world and seed land in the published bands
//! (docs/experiments.md lists each band and its source).

use guardrail_sim::experiments::{EXPERIMENTS, ExperimentConfig, run};
use guardrail_sim::{WorldConfig, generate};

/// (experiment, metric, lowest allowed, highest allowed, published anchor)
const BANDS: &[(&str, &str, f64, f64, &str)] = &[
    (
        "e1",
        "network_share_top10_after_one_view",
        0.5,
        1.0,
        "WSJ/SIO: one view, immediately suggested more",
    ),
    (
        "e1",
        "network_share_feed_after_follow_5",
        0.5,
        1.0,
        "WSJ: a handful of follows floods the account",
    ),
    (
        "e1",
        "bystander_leak_rate",
        0.1,
        1.0,
        "WSJ: advocate's visitors were shown the account",
    ),
    (
        "e1",
        "benign_hit_rate_at_10",
        0.2,
        1.0,
        "co-follow works best for tight communities",
    ),
    (
        "e2",
        "blocked_query_results",
        1.0,
        f64::INFINITY,
        "SIO: 'see results anyway'",
    ),
    (
        "e2",
        "autocomplete_variant_rate",
        0.3,
        1.0,
        "WSJ Dec 2023: autocomplete suggested variants",
    ),
    (
        "e2",
        "seller_reach_via_search",
        0.4,
        0.95,
        "SIO: 405 sellers found by hashtags; camouflage hides some",
    ),
    (
        "e3",
        "surviving_seller_share",
        0.05,
        0.15,
        "SIO: 31/405 survived a month",
    ),
    (
        "e3",
        "rebuild_rate",
        0.02,
        1.0,
        "SIO: recommendations led to new accounts",
    ),
    (
        "e3",
        "backup_accounts_resurfaced",
        0.3,
        1.0,
        "Ars/SIO: backups listed in bios come back",
    ),
    (
        "e4",
        "eligible_share_men",
        0.0,
        0.35,
        "NYT: targeting estimated as mostly women",
    ),
    (
        "e4",
        "delivered_share_men_child_photo",
        0.78,
        0.96,
        "NYT: about 80-95% men for child photos",
    ),
    (
        "e4",
        "delivered_share_men_product_photo",
        0.55,
        0.70,
        "NYT: 64% men for product-only photos",
    ),
    (
        "e4",
        "risk_flagged_impression_share",
        0.2,
        1.0,
        "NYT: ads drew solicitations from offenders",
    ),
    (
        "e6",
        "minor_suggestions_to_unconnected_adults",
        0.05,
        1.0,
        "Ofcom target 0; PYMK suggested minors",
    ),
    (
        "e6",
        "inappropriate_contact_via_suggestions",
        0.5,
        1.0,
        "NM AG: PYMK up to 75% of adult-minor contact",
    ),
];

#[test]
fn guardrails_off_lands_in_the_published_bands() {
    let (world, truth) = generate(&WorldConfig::default(), 1);
    let mut failures = Vec::new();
    for name in EXPERIMENTS {
        let report =
            run(name, &world, &truth, &ExperimentConfig::default()).expect("known experiment");
        assert_eq!(report.guardrails, "off");
        for &(_, metric, low, high, anchor) in BANDS.iter().filter(|b| b.0 == name) {
            let value = report.metrics.get(metric).copied().unwrap_or(f64::NAN);
            if !(low..=high).contains(&value) {
                failures.push(format!(
                    "{name}.{metric} = {value:.4}, expected {low}..={high} ({anchor})"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_unknown_experiment_is_an_error_naming_the_choices() {
    let (world, truth) = generate(
        &WorldConfig {
            accounts: 1_000,
            ..WorldConfig::default()
        },
        1,
    );
    let error =
        run("e9", &world, &truth, &ExperimentConfig::default()).expect_err("e9 does not exist");
    assert!(error.to_string().contains("e1, e2, e3, e4, e6"), "{error}");
}
