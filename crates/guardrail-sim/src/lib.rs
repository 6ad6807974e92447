//! `guardrail-sim`: synthetic worlds and the audit experiments.
//!
//! A world is a synthetic photo-sharing platform generated deterministically from a seed and
//! a [`WorldConfig`]: accounts of every kind (ordinary users, parent-run accounts, benign
//! niche communities, adult-content accounts, safety advocates, brands) and a hidden
//! exploitation network that disguises itself. The public part ([`World`]) is what a platform
//! sees; the [`GroundTruth`] is kept apart, in its own type and its own `truth/` folder.
//!
//! The experiments ([`experiments`]) run the reference discovery systems of
//! `guardrail-recommend` and `guardrail-ads` on the public world, with guardrails off, and
//! score what they show against ground truth. The discovery crates cannot read ground truth:
//! they do not depend on this crate.
//!
//! Pure except for [`fs`], the small edge that reads and writes world folders.
//! No clocks: time is logical days; randomness is seeded ChaCha streams.

pub mod config;
pub mod experiments;
pub mod format;
pub mod fs;
pub mod generate;
pub mod guardrails;
pub mod truth;
pub mod vocabulary;
pub mod world;

pub use config::{ConfigError, WorldConfig};
pub use format::{Format, LoadError};
pub use generate::{Progress, generate, generate_with_progress};
pub use truth::{GroundTruth, Role};
pub use world::World;
