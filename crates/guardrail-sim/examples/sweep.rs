//! The sensitivity sweep of docs/experiments.md: one mechanism changed at a time on the
//! default world (seed from the first argument, default 1), headline metrics as a Markdown
//! table. Run with `cargo run --release -p guardrail-sim --example sweep`.

use guardrail_sim::experiments::{EXPERIMENTS, ExperimentConfig, run};
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

const COLUMNS: &[(&str, &str)] = &[
    ("e1", "network_share_top10_after_one_view"),
    ("e1", "network_share_feed_after_follow_5"),
    ("e1", "bystander_leak_rate"),
    ("e1", "benign_hit_rate_at_10"),
    ("e2", "autocomplete_variant_rate"),
    ("e2", "seller_reach_via_search"),
    ("e3", "rebuild_rate"),
    ("e4", "eligible_share_men"),
    ("e4", "delivered_share_men_child_photo"),
    ("e4", "delivered_share_men_product_photo"),
    ("e6", "inappropriate_contact_via_suggestions"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed: u64 = std::env::args().nth(1).map_or(Ok(1), |s| s.parse())?;
    println!(
        "| variant | {} |",
        COLUMNS.iter().map(|c| c.1).collect::<Vec<_>>().join(" | ")
    );
    println!("|---|{}", "---:|".repeat(COLUMNS.len()));
    for (label, apply) in VARIANTS {
        let (mut world_config, mut experiment_config) =
            (WorldConfig::default(), ExperimentConfig::default());
        apply(&mut world_config, &mut experiment_config);
        let (world, truth) = generate(&world_config, seed);
        let mut cells = Vec::new();
        let mut reports = Vec::new();
        for name in EXPERIMENTS {
            reports.push(run(name, &world, &truth, &experiment_config)?);
        }
        for (experiment, metric) in COLUMNS {
            let value = reports
                .iter()
                .find(|r| r.experiment == *experiment)
                .and_then(|r| r.metrics.get(*metric))
                .copied()
                .unwrap_or(f64::NAN);
            cells.push(format!("{value:.2}"));
        }
        println!("| {label} | {} |", cells.join(" | "));
    }
    Ok(())
}
