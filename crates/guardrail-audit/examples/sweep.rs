//! The sensitivity sweep of docs/experiments.md: one mechanism changed at a time on the
//! default world (seed from the first argument, default 1), headline metrics as a Markdown
//! table. Run with `cargo run --release -p guardrail-audit --example sweep`.

use guardrail_audit::{Experiment, ExperimentConfig, Metric, run};
use guardrail_sim::{WorldConfig, generate};

type Variant = (&'static str, fn(&mut WorldConfig, &mut ExperimentConfig));

const VARIANTS: &[Variant] = &[
    ("default", |_, _| {}),
    ("camouflage_share 0.3 -> 0.6", |w, _| {
        w.camouflage_share = 0.6
    }),
    ("buyer_follows_ring_seller 0.5 -> 0.2", |w, _| {
        w.buyer_follows_ring_seller = 0.2
    }),
    ("network_rings 4 -> 12", |w, _| w.network_rings = 12),
    ("views left out of co-engagement", |_, e| {
        e.recommend.view_weight = 0.0
    }),
    ("no recency-weighted direct term", |_, e| {
        e.recommend.direct_weight = 0.0
    }),
    ("women's ad price = men's", |_, e| {
        e.market.median_price_women = e.market.median_price_men
    }),
    ("buyer_likes_minor_posts 0.6 -> 0.2", |w, _| {
        w.buyer_likes_minor_posts = 0.2
    }),
    ("men_child_topic_share 0.05 -> 0.15", |w, _| {
        w.men_child_topic_share = 0.15
    }),
];

const COLUMNS: &[(Experiment, Metric)] = &[
    (Experiment::E1, Metric::NetworkShareTop10AfterOneView),
    (Experiment::E1, Metric::NetworkShareFeedAfterFollow5),
    (Experiment::E1, Metric::BystanderLeakRate),
    (Experiment::E1, Metric::BenignHitRateAt10),
    (Experiment::E2, Metric::AutocompleteVariantRate),
    (Experiment::E2, Metric::SellerReachViaSearch),
    (Experiment::E3, Metric::RebuildRate),
    (Experiment::E4, Metric::EligibleShareMen),
    (Experiment::E4, Metric::DeliveredShareMenChildPhoto),
    (Experiment::E4, Metric::DeliveredShareMenProductPhoto),
    (Experiment::E6, Metric::InappropriateContactViaSuggestions),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed: u64 = std::env::args().nth(1).map_or(Ok(1), |s| s.parse())?;
    println!(
        "| variant | {} |",
        COLUMNS
            .iter()
            .map(|c| c.1.name())
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---:|".repeat(COLUMNS.len()));
    for (label, apply) in VARIANTS {
        let (mut world_config, mut experiment_config) =
            (WorldConfig::default(), ExperimentConfig::default());
        apply(&mut world_config, &mut experiment_config);
        let (world, truth) = generate(&world_config, seed);
        let mut cells = Vec::new();
        let mut reports = Vec::new();
        for name in Experiment::ALL {
            reports.push(run(name, &world, &truth, &experiment_config));
        }
        for (experiment, metric) in COLUMNS {
            let value = reports
                .iter()
                .find(|r| r.experiment == *experiment)
                .and_then(|r| r.metrics.get(metric))
                .copied()
                .unwrap_or(f64::NAN);
            cells.push(format!("{value:.2}"));
        }
        println!("| {label} | {} |", cells.join(" | "));
    }
    Ok(())
}
