//! `guardrail-deploy`: Guardrail deployed on a platform's public data.
//!
//! The engines (`guardrail-text`, `guardrail-graph`, `guardrail-policy`) are pure and know
//! nothing about where their inputs come from. This crate is the adapter a platform writes
//! once: it reads a [`guardrail_sim::World`] (the public tables of a platform, synthetic or
//! exported), runs the text guard over every bio, post and search ([`text`]), builds the
//! network map's input ([`world_map`]), and composes the platform's text policy
//! ([`platform_policy`]).
//!
//! What it must never do: let ground truth reach a signal. Only [`evaluation`] names
//! [`guardrail_sim::GroundTruth`], and only to score after the fact.

pub mod evaluation;
pub mod layer;
pub mod platform_policy;
pub mod text;
pub mod world_map;

pub use layer::{Guard, ReplayCheck};
pub use platform_policy::{POLICY_FILE, platform_policy, platform_policy_toml};
pub use text::{AccountText, WorldText};
pub use world_map::{AccountNames, SeedError, map_input, parse_seeds};
