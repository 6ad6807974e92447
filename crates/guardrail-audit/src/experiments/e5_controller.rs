//! E5: the delivery controller. Paired ads (a child photo and a product-only photo) targeted
//! at the same child-activity interests, delivered three ways: with no control, with the
//! budget split per demographic group (the advertiser's manual workaround), and with the
//! layer's delivery control (Guardrail's controller when on). Scored on the gap between
//! delivered and eligible composition, reach, cost per person reached and advertiser value;
//! plus the Variance Reduction System's measure over every ad of the experiment (one pair
//! per child-activity topic and one for all of them): the share of ads whose delivered
//! gender and age composition is within 0.10 total variation of the eligible one.
//!
//! What it must never do: read ground truth. Every E5 figure comes from public attributes
//! (declared gender and age) and the delivery itself.

use guardrail_ads::{
    AlertBound, Campaign, Control, ControllerConfig, CreativeClass, Delivery, EngagementModel,
    Monitor, Viewer, deliver_with,
};
use guardrail_sim::generate::CHILD_TOPICS;
use guardrail_types::{AccountId, Gender};
use guardrail_world::World;
use rand_chacha::ChaCha8Rng;

use super::e4_ads::{cohorts, observations, viewers};
use super::{ExperimentConfig, rng_for};
use crate::guardrails::Guardrails;
use crate::metrics::{Metric, Metrics};

/// Rounds every E5 delivery runs (as E4).
const ROUNDS: usize = 30;

/// The VRS bound: total variation at most 0.10, over at least this many impressions.
pub const VRS_BOUND: AlertBound = AlertBound {
    max_distance: 0.10,
    min_impressions: 300,
};

/// What one delivery of one ad came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Share of men among the eligible audience.
    pub eligible_men: f64,
    /// Share of men among the impressions.
    pub delivered_men: f64,
    /// Total variation by gender and by age range, the larger of the two.
    pub total_variation: f64,
    /// Impressions delivered.
    pub impressions: usize,
    /// Distinct people reached.
    pub reach: usize,
    /// Spend.
    pub spend: f64,
    /// Engagements the model expects (advertiser value).
    pub value: f64,
    /// The delivery.
    pub delivery: Delivery,
}

impl Outcome {
    /// |delivered - eligible| share of men.
    pub fn gap(&self) -> f64 {
        (self.delivered_men - self.eligible_men).abs()
    }

    /// Spend per person reached.
    pub fn cost_per_person(&self) -> f64 {
        self.spend / self.reach.max(1) as f64
    }
}

/// The inputs every delivery of a world shares.
#[derive(Debug)]
pub struct Setup {
    /// Viewers with their public attributes.
    pub viewers: Vec<Viewer>,
    /// The engagement model.
    pub model: EngagementModel,
    /// Interest bit of each child-activity topic present.
    pub topics: Vec<(&'static str, u64)>,
}

impl Setup {
    /// Builds viewers, the engagement model and the topic bits from the public world.
    pub fn build(world: &World) -> Setup {
        let (viewers, bit) = viewers(world);
        let model = EngagementModel::learn(&cohorts(&viewers), observations(world), 5.0);
        let topics = CHILD_TOPICS
            .iter()
            .filter_map(|t| bit.get(*t).map(|&b| (*t, 1u64 << b)))
            .collect();
        Setup {
            viewers,
            model,
            topics,
        }
    }

    /// Every child-activity topic at once (E4's target).
    pub fn all_topics(&self) -> u64 {
        self.topics.iter().fold(0, |m, (_, b)| m | b)
    }
}

/// The campaign of one creative targeted at `interests`.
pub fn campaign(config: &ExperimentConfig, creative: CreativeClass, interests: u64) -> Campaign {
    Campaign {
        target_interests: interests,
        adults_only: true,
        creative,
        declared_features_minor: creative == CreativeClass::FeaturesMinor,
        classified_features_minor: false,
        bid: config.ad_bid,
        budget_impressions: config.ad_budget,
    }
}

/// Delivers one campaign under `control` through the layer's gate and scores it.
pub fn run_one(
    setup: &Setup,
    config: &ExperimentConfig,
    layer: &dyn Guardrails,
    campaign: &Campaign,
    control: Control,
    rng: &mut ChaCha8Rng,
) -> Outcome {
    let delivery = deliver_with(
        campaign,
        &setup.viewers,
        &setup.model,
        &config.market,
        layer.delivery_gate(),
        ROUNDS,
        control,
        rng,
    );
    let viewer = |a: AccountId| &setup.viewers[a.index()];
    let mut monitor = Monitor::new(
        delivery.eligible.iter().map(|&a| viewer(a).group()),
        VRS_BOUND,
    );
    for &a in &delivery.impressions {
        monitor.record(viewer(a).group());
    }
    let men = |list: &[AccountId]| {
        list.iter()
            .filter(|&&a| viewer(a).gender == Gender::Man)
            .count() as f64
            / list.len().max(1) as f64
    };
    Outcome {
        eligible_men: men(&delivery.eligible),
        delivered_men: men(&delivery.impressions),
        total_variation: monitor.gender_distance().max(monitor.age_distance()),
        impressions: delivery.impressions.len(),
        reach: delivery.reach(),
        spend: delivery.spend,
        value: delivery.expected_engagements,
        delivery,
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

/// E5.
pub fn run(world: &World, config: &ExperimentConfig, layer: &mut dyn Guardrails) -> Metrics {
    let mut rng = rng_for(world, 5);
    let setup = Setup::build(world);
    let layer: &dyn Guardrails = layer;
    let control = layer.delivery_control();
    let mut metrics = Metrics::new();
    let target = setup.all_topics();
    for (creative, [gap, tv]) in [
        (
            CreativeClass::FeaturesMinor,
            [
                Metric::DeliveredGapChildPhoto,
                Metric::TotalVariationChildPhoto,
            ],
        ),
        (
            CreativeClass::ProductOnly,
            [
                Metric::DeliveredGapProductPhoto,
                Metric::TotalVariationProductPhoto,
            ],
        ),
    ] {
        let ad = campaign(config, creative, target);
        let none = run_one(&setup, config, layer, &ad, Control::None, &mut rng);
        let controlled = run_one(&setup, config, layer, &ad, control, &mut rng);
        metrics.insert(gap, controlled.gap());
        metrics.insert(tv, controlled.total_variation);
        if creative != CreativeClass::FeaturesMinor {
            continue;
        }
        let split = run_one(&setup, config, layer, &ad, Control::SplitBudget, &mut rng);
        for (outcome, [gap, reach, cost, value, impressions]) in [
            (
                &controlled,
                [
                    Metric::DeliveredGapChildPhotoControlled,
                    Metric::ReachKept,
                    Metric::CostPerPersonReachedRatio,
                    Metric::AdvertiserValueKept,
                    Metric::ImpressionsKept,
                ],
            ),
            (
                &split,
                [
                    Metric::DeliveredGapChildPhotoSplitBudget,
                    Metric::ReachKeptSplitBudget,
                    Metric::CostPerPersonReachedRatioSplitBudget,
                    Metric::AdvertiserValueKeptSplitBudget,
                    Metric::ImpressionsKeptSplitBudget,
                ],
            ),
        ] {
            metrics.insert(gap, outcome.gap());
            metrics.insert(reach, ratio(outcome.reach as f64, none.reach as f64));
            metrics.insert(
                cost,
                ratio(outcome.cost_per_person(), none.cost_per_person()),
            );
            metrics.insert(value, ratio(outcome.value, none.value));
            metrics.insert(
                impressions,
                ratio(outcome.impressions as f64, none.impressions as f64),
            );
        }
        metrics.insert(Metric::DeliveredGapChildPhotoNoControl, none.gap());
        metrics.insert(Metric::EligibleShareMenE5, none.eligible_men);
    }
    // The VRS measure over every ad: one pair per topic and the pair on all of them.
    let mut ads = 0usize;
    let mut within = 0usize;
    for interests in setup
        .topics
        .iter()
        .map(|&(_, b)| b)
        .chain(std::iter::once(target))
    {
        for creative in [CreativeClass::FeaturesMinor, CreativeClass::ProductOnly] {
            let ad = campaign(config, creative, interests);
            let outcome = run_one(&setup, config, layer, &ad, control, &mut rng);
            if outcome.impressions as u64 >= VRS_BOUND.min_impressions {
                ads += 1;
                within += usize::from(outcome.total_variation <= VRS_BOUND.max_distance);
            }
        }
    }
    metrics.insert(Metric::AdsMeasured, ads as f64);
    metrics.insert(Metric::AdsWithinVrsBound, ratio(within as f64, ads as f64));
    metrics
}

/// One point of the trade-off curve: the controller at one margin.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeoffPoint {
    /// `none`, `split budget` or `controller margin 0.05`.
    pub label: String,
    /// The controller's margin (NaN for the baselines).
    pub margin: f64,
    /// Gap in the share of men, child photo.
    pub gap: f64,
    /// Total variation (larger of gender and age).
    pub total_variation: f64,
    /// Reach over reach without control.
    pub reach_kept: f64,
    /// Cost per person reached over that without control.
    pub cost_ratio: f64,
    /// Advertiser value over that without control.
    pub value_kept: f64,
}

/// The trade-off curve for the child-photo ad: no control, the split budget, and the
/// controller at a range of margins.
pub fn tradeoff(
    world: &World,
    config: &ExperimentConfig,
    layer: &dyn Guardrails,
) -> Vec<TradeoffPoint> {
    let mut rng = rng_for(world, 5);
    let setup = Setup::build(world);
    let ad = campaign(config, CreativeClass::FeaturesMinor, setup.all_topics());
    let none = run_one(&setup, config, layer, &ad, Control::None, &mut rng);
    let point = |label: String, margin: f64, o: &Outcome| TradeoffPoint {
        label,
        margin,
        gap: o.gap(),
        total_variation: o.total_variation,
        reach_kept: ratio(o.reach as f64, none.reach as f64),
        cost_ratio: ratio(o.cost_per_person(), none.cost_per_person()),
        value_kept: ratio(o.value, none.value),
    };
    let mut points = vec![point("no control".to_string(), f64::NAN, &none)];
    let split = run_one(&setup, config, layer, &ad, Control::SplitBudget, &mut rng);
    points.push(point("split budget".to_string(), f64::NAN, &split));
    for margin in [0.40, 0.30, 0.20, 0.15, 0.10, 0.05, 0.02, 0.0] {
        let control = Control::Controller(ControllerConfig {
            margin,
            ..ControllerConfig::default()
        });
        let o = run_one(&setup, config, layer, &ad, control, &mut rng);
        points.push(point(format!("controller margin {margin:.2}"), margin, &o));
    }
    points
}
