//! `guardrail-adapter`: Guardrail wired onto a platform's public data.
//!
//! The engines (`guardrail-text`, `guardrail-graph`, `guardrail-policy`) are pure and know
//! nothing about where their inputs come from. This crate is the adapter a platform writes
//! once: it reads a [`guardrail_world::World`] (the public tables of a platform, synthetic
//! or exported), runs the text guard over every bio, post and search ([`text`]), maps the
//! network ([`world_map`]: the pipeline text → seeds → map input → map, named
//! [`MapSources`]), builds the derived state decisions read as one immutable, versioned
//! [`Snapshot`] ([`snapshot`]), and serves decisions from a thread-safe [`Guard`]
//! ([`guard`]) through the gates each discovery system calls ([`gates`]). Decisions go to a
//! [`DecisionSink`] its owner passes in, and replay through shadow mode and backfill
//! ([`replay`]); takedowns reach the person behind an account ([`takedown`]).
//!
//! What it must never do: let ground truth reach a signal. It depends on the public world
//! crate only; the generator and its truth (`guardrail-sim`) are not in its dependency
//! graph, and a CI check keeps them out.

pub mod derive;
pub mod gates;
pub mod guard;
mod persistent;
pub mod platform_policy;
pub mod replay;
pub mod snapshot;
pub mod takedown;
pub mod text;
pub mod world_map;

pub use derive::{Deriver, Signup, SignupProbe, changes_derived_state};
pub use guard::{DecisionStats, EntityView, Guard, GuardView};
pub use platform_policy::{POLICY_FILE, platform_policy, platform_policy_toml};
pub use replay::{DecisionRecord, DecisionSink, MemoryLog, NoLog, ReplayCheck, replay_check};
pub use snapshot::{MapOutcome, Snapshot};
pub use text::{AccountText, WorldText};
pub use world_map::{AccountNames, MapSources, SeedError, map_input, parse_seeds};
