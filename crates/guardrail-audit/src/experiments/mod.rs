//! The audit experiments E1 to E6 (see `docs/experiments.md`), with guardrails
//! off ([`crate::guardrails::Off`]) or on (any [`Guardrails`] layer, passed to [`run_with`]).
//!
//! What it is for: running the reference discovery systems on the *public* world and scoring
//! what they show against ground truth. The layer is consulted wherever a platform would
//! consult one and never receives the truth. The split is structural: [`Platform::build`]
//! takes a [`World`] and nothing else, and the discovery crates cannot name
//! [`GroundTruth`]; only the scoring code in these modules reads it. One module per
//! experiment: [`e1_suggestions`], [`e2_search`], [`e3_takedown`], [`e4_ads`],
//! [`e5_controller`], [`e6_minors`].
//!
//! What it must never do: set a metric directly or tune a discovery system with ground
//! truth — every figure comes out of the behaviours in the world, the co-engagement
//! recommender, the search index and the ad market.

pub(crate) mod cast;
pub mod e1_suggestions;
pub mod e2_search;
pub mod e3_takedown;
pub mod e4_ads;
pub mod e5_controller;
pub mod e6_minors;
mod platform;

use std::fmt;
use std::str::FromStr;

use guardrail_ads::Market;
use guardrail_recommend::RecommendConfig;
use guardrail_sim::{GroundTruth, Role};
use guardrail_types::{AccountId, Day};
use guardrail_world::World;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

pub use platform::{Platform, engagements};

use crate::guardrails::{Guardrails, Off};
use crate::metrics::Metrics;

/// An experiment of the harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Experiment {
    /// One view floods the suggestions; the bystander leak; benign quality.
    E1,
    /// Search, hashtags and autocomplete variants.
    E2,
    /// Takedown resilience.
    E3,
    /// An ad featuring a child targeted at female-skewed interests.
    E4,
    /// The delivery controller on paired ads, against two baselines.
    E5,
    /// Adults shown minors in suggestions, and where contact begins.
    E6,
}

impl Experiment {
    /// Every experiment, in run order.
    pub const ALL: [Experiment; 6] = [
        Experiment::E1,
        Experiment::E2,
        Experiment::E3,
        Experiment::E4,
        Experiment::E5,
        Experiment::E6,
    ];

    /// The experiment's name (`e1`...).
    pub fn name(self) -> &'static str {
        match self {
            Experiment::E1 => "e1",
            Experiment::E2 => "e2",
            Experiment::E3 => "e3",
            Experiment::E4 => "e4",
            Experiment::E5 => "e5",
            Experiment::E6 => "e6",
        }
    }
}

impl fmt::Display for Experiment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not an experiment.
#[derive(Debug, thiserror::Error)]
#[error("unknown experiment `{0}`; expected one of e1, e2, e3, e4, e5, e6")]
pub struct UnknownExperiment(pub String);

impl FromStr for Experiment {
    type Err = UnknownExperiment;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Experiment::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .ok_or_else(|| UnknownExperiment(name.to_string()))
    }
}

impl Serialize for Experiment {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Parameters of the experiments themselves (not of the world).
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentConfig {
    /// The recommender's tuning.
    pub recommend: RecommendConfig,
    /// Fresh test accounts in E1.
    pub probes: usize,
    /// Benign accounts sampled for the held-out hit rate in E1.
    pub holdout_accounts: usize,
    /// Share of known sellers removed in E3.
    pub takedown_share: f64,
    /// Probability that a removed seller comes back (backup or new account) in E3.
    pub return_probability: f64,
    /// Days simulated after the takedown in E3 and of contact in E6.
    pub days_after: u32,
    /// Probability a network member follows a network account it is shown (E3, E6).
    pub follow_shown_network: f64,
    /// Probability a predatory adult contacts a minor it is shown (E6), on any channel.
    pub contact_probability: f64,
    /// Competing ad market (E4).
    pub market: Market,
    /// Bid per engagement for both E4 creatives.
    pub ad_bid: f64,
    /// Impressions bought per E4 creative.
    pub ad_budget: usize,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        ExperimentConfig {
            recommend: RecommendConfig::default(),
            probes: 20,
            holdout_accounts: 300,
            takedown_share: 0.9,
            return_probability: 0.8,
            days_after: 30,
            follow_shown_network: 0.3,
            contact_probability: 0.2,
            market: Market {
                median_price_women: 1.9,
                median_price_men: 1.0,
                median_price_other: 1.5,
                price_spread: 0.5,
            },
            ad_bid: 8.0,
            ad_budget: 12_000,
        }
    }
}

/// One experiment's result, the shape of `guardrail audit run --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentReport {
    /// The experiment.
    pub experiment: Experiment,
    /// `off` or `on`: the layer's name.
    pub guardrails: String,
    /// The world's seed.
    pub seed: u64,
    /// Named metrics.
    pub metrics: Metrics,
}

/// Runs one experiment with guardrails off.
pub fn run(
    experiment: Experiment,
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
) -> ExperimentReport {
    run_with(experiment, world, truth, config, &mut Off::default())
}

/// Runs one experiment with a guardrail layer (built by the caller from the public world;
/// the layer never sees `truth`).
pub fn run_with(
    experiment: Experiment,
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    layer: &mut dyn Guardrails,
) -> ExperimentReport {
    let mut metrics = match experiment {
        Experiment::E1 => e1_suggestions::run(world, truth, config, layer),
        Experiment::E2 => e2_search::run(world, truth, layer),
        Experiment::E3 => e3_takedown::run(world, truth, config, layer),
        Experiment::E4 => e4_ads::run(world, truth, config, layer),
        Experiment::E5 => e5_controller::run(world, config, layer),
        Experiment::E6 => e6_minors::run(world, truth, config, layer),
    };
    metrics.extend(layer.run_metrics());
    ExperimentReport {
        experiment,
        guardrails: layer.name().to_string(),
        seed: world.meta.seed,
        metrics,
    }
}

pub(crate) fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

pub(crate) fn rng_for(world: &World, experiment: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(world.meta.seed);
    rng.set_stream(100 + experiment);
    rng
}

/// Sellers present from the start (not backups).
pub(crate) fn primary_sellers(world: &World, truth: &GroundTruth) -> Vec<AccountId> {
    truth
        .roles
        .iter()
        .filter(|r| {
            r.role == Role::Seller
                && world
                    .account(r.account)
                    .is_some_and(|a| a.created_at == Day(0))
        })
        .map(|r| r.account)
        .collect()
}

/// The days after `now`, through `now + days`.
pub(crate) fn days_after(now: Day, days: u32) -> impl Iterator<Item = Day> {
    (now.0 + 1..=now.0.saturating_add(days)).map(Day)
}

/// The random stream of the advertiser report (apart from the experiments').
pub(crate) fn rng_for_report(world: &World) -> ChaCha8Rng {
    rng_for(world, 50)
}
