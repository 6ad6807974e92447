//! E4 and E5 with guardrails off and on, on seeds 1 to 10 of the default world: the
//! Markdown tables of BENCHMARKS.md's ad-delivery section. Run with
//! `cargo run --release -p guardrail-audit --example ads_seeds [FIRST LAST]`.
//!
//! What it must never do: hand the layer ground truth (the layer is built from the public
//! world; truth only scores E4).

use guardrail_audit::{Experiment, ExperimentConfig, Metric, Off, On, run_with};
use guardrail_sim::{WorldConfig, generate};

const E4: &[Metric] = &[
    Metric::EligibleShareMen,
    Metric::DeliveredShareMenChildPhoto,
    Metric::DeliveredShareMenProductPhoto,
    Metric::RiskFlaggedImpressionShare,
    Metric::RiskFlaggedImpressions,
    Metric::ExcludedFromChildPhoto,
];
const E5: &[Metric] = &[
    Metric::EligibleShareMenE5,
    Metric::DeliveredGapChildPhotoNoControl,
    Metric::DeliveredGapChildPhoto,
    Metric::DeliveredGapChildPhotoSplitBudget,
    Metric::ReachKept,
    Metric::ReachKeptSplitBudget,
    Metric::CostPerPersonReachedRatio,
    Metric::CostPerPersonReachedRatioSplitBudget,
    Metric::AdvertiserValueKept,
    Metric::AdvertiserValueKeptSplitBudget,
    Metric::ImpressionsKept,
    Metric::ImpressionsKeptSplitBudget,
    Metric::AdsWithinVrsBound,
];

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (first, last) = (
        args.first().copied().unwrap_or(1),
        args.get(1).copied().unwrap_or(10),
    );
    let config = ExperimentConfig::default();
    for (experiment, metrics) in [(Experiment::E4, E4), (Experiment::E5, E5)] {
        println!("\n### {experiment}\n");
        let header: Vec<&str> = metrics.iter().map(|m| m.name()).collect();
        println!("| seed | guardrails | {} |", header.join(" | "));
        println!("|---|---|{}", "---:|".repeat(metrics.len()));
        for seed in first..=last {
            let (world, truth) = generate(&WorldConfig::default(), seed);
            let off = run_with(experiment, &world, &truth, &config, &mut Off::default());
            let mut layer = On::build_default(&world);
            let on = run_with(experiment, &world, &truth, &config, &mut layer);
            for report in [off, on] {
                let cells: Vec<String> = metrics
                    .iter()
                    .map(|m| {
                        report
                            .metrics
                            .get(m)
                            .map_or("-".to_string(), |v| format!("{v:.3}"))
                    })
                    .collect();
                println!("| {seed} | {} | {} |", report.guardrails, cells.join(" | "));
            }
        }
    }
}
