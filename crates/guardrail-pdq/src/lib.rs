//! PDQ perceptual hashing, bit-exact with Meta's ThreatExchange reference.
//!
//! This crate is pure: it turns pixels (or encoded image bytes held in memory) into
//! 256-bit PDQ hashes with a quality score. It never touches the filesystem.

mod hash;

pub use hash::{HashParseError, PdqHash};
