//! Phase 5: profile views, and the advocates' reports. Ordinary accounts browse followed
//! and popular accounts; buyers and aggregators return again and again to the network
//! accounts and minors they follow; each safety advocate opens one seller's profile once,
//! on the last day, to report it (the glancing contact of the reporting); and advocates'
//! followers visit their profiles.
//!
//! What it must never do: make an advocate's glance look different from any other view.
//! The platform saw a view; only ground truth knows why.

use guardrail_types::{AccountId, Day};
use guardrail_world::{Account, AccountEdge};
use rand::Rng;
use rand::seq::SliceRandom;

use super::follows::Follows;
use super::roles::Cast;
use super::sampling::poisson_like;
use super::{Stream, stream};
use crate::config::WorldConfig;
use crate::truth::Role;

/// Views, and the reports filed while viewing.
pub(super) struct Browsing {
    /// Profile views.
    pub views: Vec<AccountEdge>,
    /// Reports (advocates' so far; minors' are added by [`super::pushback`]).
    pub reports: Vec<AccountEdge>,
}

/// Draws the views.
pub(super) fn views(
    config: &WorldConfig,
    seed: u64,
    cast: &Cast,
    accounts: &[Account],
    follows: &Follows,
    days: u32,
) -> Browsing {
    let roles = &cast.roles;
    let last_day = Day(days - 1);
    let mut rng = stream(seed, Stream::Views);
    let mut views: Vec<AccountEdge> = Vec::new();
    let mut reports: Vec<AccountEdge> = Vec::new();
    let mut out_follows: Vec<Vec<u32>> = vec![Vec::new(); roles.len()];
    for edge in &follows.edges {
        out_follows[edge.src.index()].push(edge.dst.0);
    }
    for record in roles {
        let src = record.account.0;
        match record.role {
            Role::Advocate => {
                if let Some(&seller) = cast.primaries.choose(&mut rng) {
                    views.push(AccountEdge {
                        src: AccountId(src),
                        dst: AccountId(seller),
                        at: last_day,
                    });
                    reports.push(AccountEdge {
                        src: AccountId(src),
                        dst: AccountId(seller),
                        at: last_day,
                    });
                }
            }
            Role::Buyer | Role::Aggregator => {
                for &dst in &out_follows[src as usize] {
                    if roles[dst as usize].role.in_network()
                        || accounts[dst as usize].declared_age < 18
                    {
                        for _ in 0..rng.gen_range(1..4) {
                            views.push(AccountEdge {
                                src: AccountId(src),
                                dst: AccountId(dst),
                                at: Day(rng.gen_range(0..days)),
                            });
                        }
                    }
                }
            }
            _ => {
                let k = poisson_like(&mut rng, config.mean_views);
                for _ in 0..k {
                    let followed = &out_follows[src as usize];
                    let dst = if !followed.is_empty() && rng.gen_bool(0.7) {
                        followed[rng.gen_range(0..followed.len())]
                    } else {
                        follows.popularity.sample(&mut rng)
                    };
                    if dst != src {
                        views.push(AccountEdge {
                            src: AccountId(src),
                            dst: AccountId(dst),
                            at: Day(rng.gen_range(0..days)),
                        });
                    }
                }
            }
        }
    }
    // Followers of an advocate visit her profile.
    for edge in &follows.edges {
        if roles[edge.dst.index()].role == Role::Advocate {
            views.push(AccountEdge {
                src: edge.src,
                dst: edge.dst,
                at: last_day,
            });
        }
    }
    Browsing { views, reports }
}
