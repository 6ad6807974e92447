//! Scoring the network map on a generated world against its ground truth, next to the
//! baselines a platform would otherwise use (text matches alone, followers of seeds).
//!
//! This is the only module of the crate that reads [`GroundTruth`], and only to score:
//! it converts the world's truth into the graph crate's scoring form after the map and
//! the baselines have been built from public data.

use guardrail_adapter::MapSources;
use guardrail_graph::evaluation::{Evaluation, evaluate_input};
use guardrail_graph::map::{MapConfig, MapError};
use guardrail_graph::synthetic::{GroundTruth as GraphTruth, TrueRole};
use guardrail_sim::{GroundTruth, Role};
use guardrail_text::Policy;
use guardrail_types::AccountId;
use guardrail_world::World;

/// The world's truth in the graph crate's scoring form.
pub fn graph_truth(world: &World, truth: &GroundTruth) -> GraphTruth {
    let n = world.accounts.len();
    let role = |account: usize| truth.role(AccountId(account as u32));
    let camouflaged = |account: usize| truth.roles.get(account).is_some_and(|r| r.camouflaged);
    GraphTruth {
        roles: (0..n)
            .map(|a| match role(a) {
                Role::Seller => TrueRole::Seller,
                Role::Buyer => TrueRole::Buyer,
                Role::Aggregator => TrueRole::Aggregator,
                _ => TrueRole::Outside,
            })
            .collect(),
        camouflaged: (0..n)
            .map(|a| role(a).in_network() && camouflaged(a))
            .collect(),
        niche_member: (0..n).map(|a| role(a) == Role::Niche).collect(),
        parent_run: (0..n).map(|a| role(a) == Role::ParentRun).collect(),
    }
}

/// Builds the map from the text guard's seeds on `world` at a budget equal to the true
/// network size and scores it with the baselines.
pub fn evaluate_world(
    world: &World,
    truth: &GroundTruth,
    policy: &Policy,
    config: &MapConfig,
) -> Result<Evaluation, MapError> {
    let sources = MapSources::read(world, policy, None);
    evaluate_input(
        &sources.input,
        &sources.text,
        &graph_truth(world, truth),
        config,
    )
}
