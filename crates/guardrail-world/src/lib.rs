//! `guardrail-world`: a platform's public tables and their loader.
//!
//! A [`World`] is what a platform (and therefore every detector, discovery system and
//! guardrail) can see: accounts with their declared attributes and bios, posts, and the
//! engagement events over logical time (follows, views, likes, comments, searches,
//! reports, blocks). Worlds come from the generator in `guardrail-sim` or are exported
//! from a real platform in the same format (`docs/world-format.md`).
//!
//! What this crate must never hold: ground truth. Who is in an exploitation network, in
//! which role, which accounts are backups of which: all of that lives in `guardrail-sim`,
//! which this crate does not depend on. Code that depends on this crate alone (the
//! adapter that wires Guardrail onto a platform's data, the service) cannot name it.
//!
//! Pure except for [`fs`], the small edge that reads and writes world folders.

pub mod format;
pub mod fs;
pub mod world;

pub use format::{Format, LoadError, Record};
pub use fs::load_world;
pub use guardrail_types::Gender;
pub use world::{Account, AccountEdge, Post, PostEdge, SearchEvent, World, WorldMeta};
