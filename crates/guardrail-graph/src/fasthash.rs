//! A small multiplicative hasher for u32 keys in the local-push maps.
//!
//! Forward push touches only a few nodes but hashes them millions of times; SipHash's
//! DoS resistance buys nothing for node ids we assigned ourselves. Never use it for
//! keys that come from outside (external account ids).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Fibonacci hashing of integer keys.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NodeHasher(u64);

impl Hasher for NodeHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, value: u32) {
        self.0 = (u64::from(value) ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A hash map keyed by node ids.
pub(crate) type NodeMap<V> = HashMap<u32, V, BuildHasherDefault<NodeHasher>>;
