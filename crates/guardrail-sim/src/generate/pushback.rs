//! Phase 8: pushback. Minors followed by buyers sometimes block them, and sometimes report
//! them: the "accounts blocked or reported by minors" signal reporters found by hand.
//!
//! What it must never do: make every minor push back; most do not, as on real platforms.

use guardrail_world::{Account, AccountEdge};
use rand::Rng;

use super::roles::Cast;
use super::{Stream, stream};
use crate::truth::Role;

/// Draws blocks (returned) and minors' reports (appended to `reports`).
pub(super) fn pushback(
    seed: u64,
    cast: &Cast,
    accounts: &[Account],
    follows: &[AccountEdge],
    reports: &mut Vec<AccountEdge>,
) -> Vec<AccountEdge> {
    let mut rng = stream(seed, Stream::Reports);
    let mut blocks = Vec::new();
    for edge in follows {
        if cast.roles[edge.src.index()].role == Role::Buyer
            && accounts[edge.dst.index()].declared_age < 18
        {
            let back = AccountEdge {
                src: edge.dst,
                dst: edge.src,
                at: edge.at,
            };
            if rng.gen_bool(0.15) {
                blocks.push(back);
            }
            if rng.gen_bool(0.1) {
                reports.push(back);
            }
        }
    }
    blocks
}
