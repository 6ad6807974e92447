//! `guardrail-audit`: the audit harness. Experiments E1–E6 run the reference discovery
//! systems on a world with guardrails off (the platform as it was) and on (Guardrail's
//! adapter, built from the public world alone), score what they show against ground truth,
//! and set each headline figure beside the published finding it answers to and the target
//! Guardrail must meet.
//!
//! - [`experiments`]: one module per experiment, and the [`experiments::Platform`] they run on;
//! - [`metrics`]: every figure as a typed [`metrics::Metric`];
//! - [`targets`]: the one table of published anchors and targets;
//! - [`guardrails`]: the seam a layer plugs into ([`guardrails::Off`], [`guardrails::On`]);
//! - [`map_evaluation`]: the network map scored against ground truth.
//!
//! This crate is the composition root of the simulator and the guardrails, and the only
//! one besides the generator that reads ground truth. What it must never do: hand ground
//! truth to a layer, or set a figure it should measure.

pub mod ads_report;
pub mod black_box;
pub mod experiments;
pub mod guardrails;
pub mod map_evaluation;
pub mod metrics;
pub mod report;
pub mod targets;

pub use experiments::{Experiment, ExperimentConfig, ExperimentReport, Platform, run, run_with};
pub use guardrails::{Guardrails, Off, On};
pub use metrics::{Metric, Metrics};
