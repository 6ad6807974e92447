//! Diagnostic: E4's delivery broken down by seed (temporary).
use std::collections::HashMap;

use guardrail_ads::{AllowAll, Campaign, CreativeClass, EngagementModel};
use guardrail_audit::ExperimentConfig;
use guardrail_audit::experiments::e4_ads::{observations, viewers};
use guardrail_sim::generate::CHILD_TOPICS;
use guardrail_sim::{WorldConfig, generate};
use guardrail_types::Gender;
use rand::SeedableRng;

fn main() {
    let config = ExperimentConfig::default();
    for seed in 1..=10u64 {
        let (world, truth) = generate(&WorldConfig::default(), seed);
        let (viewers, bit) = viewers(&world);
        let model = EngagementModel::learn(
            &guardrail_audit::experiments::e4_ads::cohorts(&viewers),
            observations(&world),
            5.0,
        );
        let target = CHILD_TOPICS
            .iter()
            .filter_map(|t| bit.get(*t))
            .fold(0u64, |m, b| m | (1 << b));
        let mut line = format!("seed {seed}:");
        for creative in [CreativeClass::FeaturesMinor, CreativeClass::ProductOnly] {
            let campaign = Campaign {
                target_interests: target,
                adults_only: true,
                creative,
                declared_features_minor: false,
                classified_features_minor: false,
                bid: config.ad_bid,
                budget_impressions: config.ad_budget,
            };
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let d = guardrail_ads::deliver(
                &campaign,
                &viewers,
                &model,
                &config.market,
                &AllowAll,
                30,
                &mut rng,
            );
            let man =
                |a: guardrail_types::AccountId| world.accounts[a.index()].gender == Gender::Man;
            let el_men = d.eligible.iter().filter(|&&a| man(a)).count();
            let el_net = d.eligible.iter().filter(|&&a| truth.in_network(a)).count();
            let el_net_men = d
                .eligible
                .iter()
                .filter(|&&a| truth.in_network(a) && man(a))
                .count();
            let men = d.impressions.iter().filter(|&&a| man(a)).count();
            let net = d
                .impressions
                .iter()
                .filter(|&&a| truth.in_network(a))
                .count();
            let mut per: HashMap<u32, usize> = HashMap::new();
            for a in &d.impressions {
                *per.entry(a.0).or_default() += 1;
            }
            let reached = per.len();
            let reached_men = per
                .keys()
                .filter(|&&a| man(guardrail_types::AccountId(a)))
                .count();
            let avg = |want_man: bool, net: bool| {
                let xs: Vec<f64> = d
                    .eligible
                    .iter()
                    .filter(|&&a| man(a) == want_man && truth.in_network(a) == net)
                    .map(|&a| model.predict(a, creative))
                    .collect();
                (xs.iter().sum::<f64>() / xs.len().max(1) as f64, xs.len())
            };
            line += &format!(
                " rates men {:.3?} women {:.3?} netmen {:.3?}",
                avg(true, false),
                avg(false, false),
                avg(true, true)
            );
            line += &format!(
                " | {:?} elig {} men {} net {} netmen {} | imp {} men {:.3} net {:.3} reached {} men {} maxfreq {}",
                creative,
                d.eligible.len(),
                el_men,
                el_net,
                el_net_men,
                d.impressions.len(),
                men as f64 / d.impressions.len().max(1) as f64,
                net as f64 / d.impressions.len().max(1) as f64,
                reached,
                reached_men,
                per.values().max().unwrap_or(&0)
            );
        }
        println!("{line}");
    }
}
