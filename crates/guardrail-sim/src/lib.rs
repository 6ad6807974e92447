//! `guardrail-sim`: the world generator and its ground truth.
//!
//! A world is a synthetic photo-sharing platform generated deterministically from a seed and
//! a [`WorldConfig`]: accounts of every kind (ordinary users, parent-run accounts, benign
//! niche communities, adult-content accounts, safety advocates, brands) and a hidden
//! exploitation network that disguises itself. The public part is a
//! [`guardrail_world::World`], what a platform sees; the [`GroundTruth`] is kept apart, in
//! its own type and its own `truth/` folder.
//!
//! What this crate must never be: a dependency of anything that decides. Only the audit
//! harness (`guardrail-audit`) and the CLI that runs it link it; the adapter and the service
//! cannot name [`GroundTruth`] because they do not depend on this crate (a CI check holds
//! the crate graph to that).
//!
//! Pure except for [`truth::write_world`] and [`truth::load_truth`], which write and read
//! world folders. No clocks: time is logical days; randomness is seeded ChaCha streams.

pub mod config;
pub mod generate;
pub mod truth;
pub mod vocabulary;

pub use config::WorldConfig;
pub use generate::{Progress, generate, generate_with_progress};
pub use truth::{GroundTruth, Role, load_truth, write_world};
