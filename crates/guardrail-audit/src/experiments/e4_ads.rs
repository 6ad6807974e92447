//! E4: an ad featuring a child and a product-only ad, targeted at child-activity
//! interests the platform estimates as mostly women's. Who the ads reach: the share of men,
//! and the share of network accounts, against the eligible audience. With guardrails on,
//! the layer's gate keeps risk-flagged viewers out of the child-photo ad and its delivery
//! control keeps the composition near the eligible audience's.
//!
//! What it must never do: read ground truth to deliver. Truth only scores who was reached.

use std::collections::{HashMap, HashSet};

use guardrail_ads::{Campaign, CreativeClass, EngagementModel, Group, Observation, Viewer, wilson};
use guardrail_sim::GroundTruth;
use guardrail_sim::generate::CHILD_TOPICS;
use guardrail_types::{AccountId, Gender, PostId};
use guardrail_world::World;

use super::{ExperimentConfig, rng_for, share};
use crate::guardrails::{Guardrails, On};
use crate::metrics::{Metric, Metrics};

/// Interest bits: declared interests, plus topics of hashtags an account liked at least three times
/// (the platform's own inference from behaviour).
pub fn viewers(world: &World) -> (Vec<Viewer>, HashMap<String, u32>) {
    let mut topics: Vec<String> = world
        .accounts
        .iter()
        .flat_map(|a| a.interests.iter().cloned())
        .collect();
    topics.sort();
    topics.dedup();
    topics.truncate(64);
    let bit: HashMap<String, u32> = topics
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let mut liked_topics: HashMap<(AccountId, u32), u32> = HashMap::new();
    for like in &world.likes {
        if let Some(post) = world.post(like.post) {
            for tag in &post.hashtags {
                if let Some(&b) = bit.get(tag) {
                    *liked_topics.entry((like.account, b)).or_default() += 1;
                }
            }
        }
    }
    let mut interests: Vec<u64> = world
        .accounts
        .iter()
        .map(|a| {
            a.interests
                .iter()
                .filter_map(|t| bit.get(t))
                .fold(0, |m, b| m | (1 << b))
        })
        .collect();
    for ((account, b), count) in liked_topics {
        if count >= 3
            && let Some(m) = interests.get_mut(account.index())
        {
            *m |= 1 << b;
        }
    }
    let viewers = world
        .accounts
        .iter()
        .map(|a| Viewer {
            account: a.id,
            gender: a.gender,
            age: a.declared_age,
            interests: interests[a.id.index()],
        })
        .collect();
    (viewers, bit)
}

/// Each viewer's cohort for the engagement model (declared gender and age range), by account.
pub fn cohorts(viewers: &[Viewer]) -> Vec<Group> {
    viewers.iter().map(Viewer::group).collect()
}

/// Exposures for learning: every post of a followed account (up to eight, as in the feed),
/// engaged when liked; minor-featuring and brand posts are the two creative classes.
pub fn observations(world: &World) -> Vec<Observation> {
    let liked: HashSet<(AccountId, PostId)> =
        world.likes.iter().map(|l| (l.account, l.post)).collect();
    let posts_by_author = world.posts_by_author();
    let mut out = Vec::new();
    for edge in &world.follows {
        let business = world.account(edge.dst).is_some_and(|a| a.business);
        for &(post, _) in posts_by_author
            .get(edge.dst.index())
            .into_iter()
            .flatten()
            .take(8)
        {
            let features_minor = world.post(post).is_some_and(|p| p.features_minor);
            let class = if features_minor {
                CreativeClass::FeaturesMinor
            } else if business {
                CreativeClass::ProductOnly
            } else {
                continue;
            };
            out.push(Observation {
                account: edge.src,
                class,
                engaged: liked.contains(&(edge.src, post)),
            });
        }
    }
    out
}

/// E4: a child-photo ad and a product-only ad targeted at child-activity interests.
pub fn run(
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    layer: &mut dyn Guardrails,
) -> Metrics {
    let mut rng = rng_for(world, 4);
    let (viewers, bit) = viewers(world);
    let model = EngagementModel::learn(&cohorts(&viewers), observations(world), 5.0);
    let target = CHILD_TOPICS
        .iter()
        .filter_map(|t| bit.get(*t))
        .fold(0u64, |m, b| m | (1 << b));
    let man = |account: AccountId| {
        world
            .account(account)
            .is_some_and(|a| a.gender == Gender::Man)
    };
    // Risk flags come from the guardrail layer, never from truth: the run's own layer when it
    // flags, otherwise Guardrail's default layer built from the same public world.
    let scorer = (!layer.flags_risk()).then(|| On::build_default(world));
    let mut metrics = Metrics::new();
    for (creative, [share_men, share_low, share_high, impressions]) in [
        (
            CreativeClass::FeaturesMinor,
            [
                Metric::DeliveredShareMenChildPhoto,
                Metric::DeliveredShareMenChildPhotoCiLow,
                Metric::DeliveredShareMenChildPhotoCiHigh,
                Metric::ImpressionsChildPhoto,
            ],
        ),
        (
            CreativeClass::ProductOnly,
            [
                Metric::DeliveredShareMenProductPhoto,
                Metric::DeliveredShareMenProductPhotoCiLow,
                Metric::DeliveredShareMenProductPhotoCiHigh,
                Metric::ImpressionsProductPhoto,
            ],
        ),
    ] {
        let campaign = Campaign {
            target_interests: target,
            adults_only: true,
            creative,
            declared_features_minor: creative == CreativeClass::FeaturesMinor,
            classified_features_minor: false,
            bid: config.ad_bid,
            budget_impressions: config.ad_budget,
        };
        // The layer's gate and its delivery control (none when off; Guardrail's controller
        // when on).
        let delivery = guardrail_ads::deliver_with(
            &campaign,
            &viewers,
            &model,
            &config.market,
            layer.delivery_gate(),
            30,
            layer.delivery_control(),
            &mut rng,
        );
        if creative == CreativeClass::FeaturesMinor {
            let gate = scorer
                .as_ref()
                .map_or(layer.delivery_gate(), |s| s.delivery_gate());
            // One gate call per person reached, weighted by their impressions.
            let mut per_person: HashMap<AccountId, usize> = HashMap::new();
            for &a in &delivery.impressions {
                *per_person.entry(a).or_default() += 1;
            }
            let flagged: usize = per_person
                .iter()
                .filter(|&(&a, _)| !gate.allow(&campaign, &viewers[a.index()]))
                .map(|(_, &n)| n)
                .sum();
            metrics.insert(Metric::RiskFlaggedImpressions, flagged as f64);
            metrics.insert(
                Metric::ExcludedFromChildPhoto,
                delivery.excluded.len() as f64,
            );
        }
        let men = delivery.impressions.iter().filter(|&&a| man(a)).count();
        let delivered = wilson(men, delivery.impressions.len());
        metrics.insert(share_men, delivered.value);
        metrics.insert(share_low, delivered.low);
        metrics.insert(share_high, delivered.high);
        metrics.insert(impressions, delivery.impressions.len() as f64);
        if creative == CreativeClass::FeaturesMinor {
            let eligible = wilson(
                delivery.eligible.iter().filter(|&&a| man(a)).count(),
                delivery.eligible.len(),
            );
            metrics.insert(Metric::EligibleShareMen, eligible.value);
            metrics.insert(Metric::EligibleShareMenCiLow, eligible.low);
            metrics.insert(Metric::EligibleShareMenCiHigh, eligible.high);
            let risky = wilson(
                delivery
                    .impressions
                    .iter()
                    .filter(|&&a| truth.in_network(a))
                    .count(),
                delivery.impressions.len(),
            );
            metrics.insert(Metric::RiskFlaggedImpressionShare, risky.value);
            metrics.insert(Metric::RiskFlaggedImpressionShareCiLow, risky.low);
            metrics.insert(Metric::RiskFlaggedImpressionShareCiHigh, risky.high);
            let eligible_risky = share(
                delivery
                    .eligible
                    .iter()
                    .filter(|&&a| truth.in_network(a))
                    .count(),
                delivery.eligible.len(),
            );
            metrics.insert(Metric::RiskFlaggedEligibleShare, eligible_risky);
        }
    }
    metrics
}
