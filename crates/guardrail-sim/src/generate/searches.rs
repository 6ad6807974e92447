//! Phase 7: searches. Buyers and aggregators search for banned terms and their variants;
//! some ordinary accounts search for their first interest.
//!
//! What it must never do: write a query that is not a banned term, one of its variants,
//! or an interest: the vocabulary stays the invented one.

use guardrail_types::Day;
use guardrail_world::{Account, SearchEvent};
use rand::Rng;

use super::roles::Cast;
use super::{Stream, stream};
use crate::truth::Role;
use crate::vocabulary::{BANNED_BASES, variants};

/// Draws the searches.
pub(super) fn searches(
    seed: u64,
    cast: &Cast,
    accounts: &[Account],
    days: u32,
) -> Vec<SearchEvent> {
    let mut rng = stream(seed, Stream::Searches);
    let mut searches = Vec::new();
    for record in &cast.roles {
        let account = &accounts[record.account.index()];
        let queries: Vec<String> = match record.role {
            Role::Buyer | Role::Aggregator => (0..3)
                .map(|_| {
                    let base = BANNED_BASES[rng.gen_range(0..BANNED_BASES.len())];
                    let forms = variants(base);
                    if rng.gen_bool(0.5) {
                        base.to_string()
                    } else {
                        forms[rng.gen_range(0..forms.len())].0.clone()
                    }
                })
                .collect(),
            _ if rng.gen_bool(0.3) => account.interests.iter().take(1).cloned().collect(),
            _ => Vec::new(),
        };
        for query in queries {
            searches.push(SearchEvent {
                account: record.account,
                at: Day(rng.gen_range(0..days)),
                query,
            });
        }
    }
    searches
}
