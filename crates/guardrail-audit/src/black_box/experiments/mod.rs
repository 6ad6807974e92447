//! E1, E2, E3 and E6 through the black-box contract, scored with the same metrics as the
//! built-in experiments.
//!
//! What it is for: auditing a system the harness does not own. Everything the harness
//! learns about the system comes from the contract's answers; the world's ground truth
//! picks which sellers a probe views and scores what the system showed.
//!
//! What it must never do: send ground truth to the system, or report a figure the contract
//! cannot measure. E1's held-out follow hit rate needs the system retrained without the
//! held-out follows, which the contract cannot ask for, so it is absent here rather than
//! estimated; E4 and E5 (ads) are not part of the contract.

mod discovery;
mod dynamics;

use guardrail_sim::GroundTruth;
use guardrail_world::World;

use super::{DiscoverySystem, Progress, SystemError};
use crate::experiments::{Experiment, ExperimentConfig, ExperimentReport};

pub use discovery::{CommunityReach, ReachReport, e1, e2, suggestion_reach};
pub use dynamics::{e3, e6};

/// The experiments the contract can run.
pub const CONTRACT_EXPERIMENTS: [Experiment; 4] = [
    Experiment::E1,
    Experiment::E2,
    Experiment::E3,
    Experiment::E6,
];

/// Why a black-box run did not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum BlackBoxError {
    /// The experiment needs more than the contract offers.
    #[error(
        "{0}: not runnable through the black-box contract (it covers e1, e2, e3 and e6; ads are not part of it)"
    )]
    NotInContract(Experiment),
    /// The system failed a call.
    #[error(transparent)]
    System(#[from] SystemError),
}

/// Runs one experiment on `system` (bare for guardrails off, or behind
/// [`super::Guarded`] for on); `guardrails` names the mode in the report.
pub fn run(
    experiment: Experiment,
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    system: &mut dyn DiscoverySystem,
    guardrails: &str,
    progress: &mut dyn Progress,
) -> Result<ExperimentReport, BlackBoxError> {
    let mut metrics = match experiment {
        Experiment::E1 => e1(world, truth, config, system, progress)?,
        Experiment::E2 => e2(world, truth, system, progress)?,
        Experiment::E3 => e3(world, truth, config, system, progress)?,
        Experiment::E6 => e6(world, truth, config, system, progress)?,
        Experiment::E4 | Experiment::E5 => return Err(BlackBoxError::NotInContract(experiment)),
    };
    metrics.extend(system.layer_metrics());
    Ok(ExperimentReport {
        experiment,
        guardrails: guardrails.to_string(),
        seed: world.meta.seed,
        metrics,
    })
}
