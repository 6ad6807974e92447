//! Account and post ids: dense 32-bit indexes, one width everywhere.
//!
//! Why 32 bits: every engine indexes tables by account (signals, graph nodes, co-engagement
//! rows), and 2^32 accounts cover the largest platform in scope (1.3 billion accounts)
//! with room to spare, at half the memory of 64-bit ids. A platform's own ids (often
//! strings, not all numbers) are mapped to these at the edge (the ledger, a world loader),
//! never inside an engine.
//!
//! What they must never be: a platform's external id. An `AccountId` means "row N of this
//! world or ledger".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An account, as a dense index (0..number of accounts).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct AccountId(pub u32);

/// A post, as a dense index (0..number of posts).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct PostId(pub u32);

macro_rules! dense_id {
    ($name:ident) => {
        impl $name {
            /// The row this id names, for indexing tables.
            pub fn index(self) -> usize {
                self.0 as usize
            }

            /// The id of row `index`, if it fits in 32 bits.
            pub fn from_index(index: usize) -> Option<$name> {
                u32::try_from(index).ok().map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map($name)
            }
        }

        impl From<u32> for $name {
            fn from(value: u32) -> Self {
                $name(value)
            }
        }
    };
}

dense_id!(AccountId);
dense_id!(PostId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialise_as_plain_numbers_and_parse_back() {
        let id = AccountId(45);
        assert_eq!(serde_json::to_string(&id).expect("serialises"), "45");
        assert_eq!(serde_json::from_str::<AccountId>("45").expect("parses"), id);
        assert_eq!("45".parse::<AccountId>().expect("parses"), id);
        assert!("x".parse::<PostId>().is_err());
        assert_eq!(AccountId::from_index(7), Some(AccountId(7)));
        assert_eq!(AccountId::from_index(usize::MAX), None);
        assert_eq!(PostId(3).index(), 3);
    }
}
