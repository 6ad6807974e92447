//! The guardrails-off figures on the default world and seed land in the published bands
//! (docs/experiments.md lists each band and its source).

use guardrail_audit::{Experiment, ExperimentConfig, Metric, Platform, run};
use guardrail_sim::{WorldConfig, generate, write_world};
use guardrail_world::{Format, load_world};

/// (experiment, metric, lowest allowed, highest allowed, published anchor)
const BANDS: &[(Experiment, Metric, f64, f64, &str)] = &[
    (
        Experiment::E1,
        Metric::NetworkShareTop10AfterOneView,
        0.5,
        1.0,
        "WSJ/SIO: one view, immediately suggested more",
    ),
    (
        Experiment::E1,
        Metric::NetworkShareFeedAfterFollow5,
        0.5,
        1.0,
        "WSJ: a handful of follows floods the account",
    ),
    (
        Experiment::E1,
        Metric::BystanderLeakRate,
        0.1,
        1.0,
        "WSJ: advocate's visitors were shown the account",
    ),
    (
        Experiment::E1,
        Metric::BenignHitRateAt10,
        0.2,
        1.0,
        "co-follow works best for tight communities",
    ),
    (
        Experiment::E2,
        Metric::BlockedQueryResults,
        1.0,
        f64::INFINITY,
        "SIO: 'see results anyway'",
    ),
    (
        Experiment::E2,
        Metric::AutocompleteVariantRate,
        0.3,
        1.0,
        "WSJ Dec 2023: autocomplete suggested variants",
    ),
    (
        Experiment::E2,
        Metric::SellerReachViaSearch,
        0.4,
        0.95,
        "SIO: 405 sellers found by hashtags; camouflage hides some",
    ),
    (
        Experiment::E3,
        Metric::SurvivingSellerShare,
        0.05,
        0.15,
        "SIO: 31/405 survived a month",
    ),
    (
        Experiment::E3,
        Metric::RebuildRate,
        0.02,
        1.0,
        "SIO: recommendations led to new accounts",
    ),
    (
        Experiment::E3,
        Metric::BackupAccountsResurfaced,
        0.3,
        1.0,
        "Ars/SIO: backups listed in bios come back",
    ),
    (
        Experiment::E4,
        Metric::EligibleShareMen,
        0.0,
        0.35,
        "NYT: targeting estimated as mostly women",
    ),
    (
        Experiment::E4,
        Metric::DeliveredShareMenChildPhoto,
        0.80,
        0.95,
        "NYT: about 80-95% men for child photos",
    ),
    (
        Experiment::E4,
        Metric::DeliveredShareMenProductPhoto,
        0.55,
        0.78,
        "NYT: 64% men for product-only photos",
    ),
    (
        Experiment::E4,
        Metric::RiskFlaggedImpressionShare,
        0.2,
        1.0,
        "NYT: ads drew solicitations from offenders",
    ),
    (
        Experiment::E6,
        Metric::MinorSuggestionsToUnconnectedAdults,
        0.05,
        1.0,
        "Ofcom target 0; PYMK suggested minors",
    ),
    (
        Experiment::E6,
        Metric::InappropriateContactViaSuggestions,
        0.5,
        1.0,
        "NM AG: PYMK up to 75% of adult-minor contact",
    ),
];

#[test]
fn guardrails_off_lands_in_the_published_bands() {
    let (world, truth) = generate(&WorldConfig::default(), 1);
    let mut failures = Vec::new();
    for name in Experiment::ALL {
        let report = run(name, &world, &truth, &ExperimentConfig::default());
        assert_eq!(report.guardrails, "off");
        for &(_, metric, low, high, anchor) in BANDS.iter().filter(|b| b.0 == name) {
            let value = report.metrics.get(&metric).copied().unwrap_or(f64::NAN);
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
    let error = "e9".parse::<Experiment>().expect_err("e9 does not exist");
    assert!(
        error.to_string().contains("e1, e2, e3, e4, e5, e6"),
        "{error}"
    );
    for experiment in Experiment::ALL {
        assert_eq!(
            experiment.name().parse::<Experiment>().ok(),
            Some(experiment)
        );
    }
}

#[test]
fn the_public_loader_and_the_platform_never_need_truth() {
    let (world, truth) = generate(
        &WorldConfig {
            accounts: 2_000,
            ..WorldConfig::default()
        },
        5,
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("audit-no-truth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    write_world(&dir, &world, &truth, Format::Csv, &mut |_| {}).expect("write");
    std::fs::remove_dir_all(dir.join("truth")).expect("remove truth");
    let loaded = load_world(&dir).expect("the public world loads without truth/");
    // Platform::build takes only the public world: the type system keeps truth out.
    let platform = Platform::build(&loaded, &Default::default());
    assert_eq!(platform.index.account_count(), world.accounts.len());
    assert!(guardrail_sim::load_truth(&dir).is_err());
}

/// Issue 15: the E4 failure reproduces on every seed, not just the default one. Guardrails
/// off, seeds 1 to 10: the eligible audience is at most 35% men, the child-photo ad goes
/// to men at least 80% of the time (at most 95%), the product-only ad near 64%.
#[test]
fn e4_off_lands_in_the_band_on_every_seed() {
    let mut failures = Vec::new();
    for seed in 1..=10 {
        let (world, truth) = generate(&WorldConfig::default(), seed);
        let report = run(Experiment::E4, &world, &truth, &ExperimentConfig::default());
        for (metric, low, high) in [
            (Metric::EligibleShareMen, 0.0, 0.35),
            (Metric::DeliveredShareMenChildPhoto, 0.80, 0.95),
            (Metric::DeliveredShareMenProductPhoto, 0.55, 0.78),
        ] {
            let value = report.metrics[&metric];
            if !(low..=high).contains(&value) {
                failures.push(format!(
                    "seed {seed}: {metric} = {value:.4}, expected {low}..={high}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
