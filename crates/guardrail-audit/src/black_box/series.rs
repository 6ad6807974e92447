//! The report's figures over time, through the contract: the network share of a new
//! account's suggestions over its first follows, and longitudinal runs over simulated weeks
//! (sweeps of known sellers, returning sellers, new hashtag variants coined every week).
//!
//! What it is for: showing how an audited system drifts, not only where it stands. The
//! harness plays the platform's enforcement (sweeps remove sellers; the removed are
//! filtered from every answer) and the network's behaviour (returns, new variants, buyers
//! following what they are shown).
//!
//! What it must never do: tell the system or a layer what is a variant or who is a seller.
//! Variants coined during a run are scored as variants because the harness coined them;
//! the system only ever sees posts with hashtags (each new variant beside a known spelling
//! of its base, as variants spread).

use std::collections::{BTreeSet, HashSet};

use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{GroundTruth, Role};
use guardrail_types::AccountId;
use guardrail_world::World;
use rand::Rng;
use rand::seq::SliceRandom;
use serde::Serialize;

use super::{ContractEvent, DiscoverySystem, Persona, Progress, SystemError, visible_suggestions};
use crate::experiments::{cast, primary_sellers, rng_for, share};

/// Network share of suggestions after each of a new account's first follows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowCurve {
    /// Probes averaged.
    pub probes: usize,
    /// `share[i]`: network share of the top 10 after the one view and `i` follows.
    pub share: Vec<f64>,
}

/// A new adult account views one seller, then follows the top suggestion it has not
/// followed yet, `follows` times; after each step the network share of its top 10.
pub fn follow_curve(
    world: &World,
    truth: &GroundTruth,
    system: &mut dyn DiscoverySystem,
    probes: usize,
    follows: usize,
    progress: &mut dyn Progress,
) -> Result<FollowCurve, SystemError> {
    let mut rng = rng_for(world, 21);
    let sellers = primary_sellers(world, truth);
    let (mut network, mut shown) = (vec![0usize; follows + 1], vec![0usize; follows + 1]);
    for number in 0..probes {
        progress.step("figure: first follows", number, probes);
        let Some(&seller) = sellers.choose(&mut rng) else {
            break;
        };
        let probe = system.create_persona(&Persona::adult_probe(format!("curve-{number}")))?;
        system.send_events(&[ContractEvent::View(probe, seller)])?;
        let mut followed: HashSet<AccountId> = HashSet::new();
        for step in 0..=follows {
            let suggestions = system.suggestions(probe, 10)?;
            network[step] += suggestions.iter().filter(|&&a| truth.in_network(a)).count();
            shown[step] += suggestions.len();
            if step == follows {
                break;
            }
            if let Some(&next) = suggestions.iter().find(|a| !followed.contains(a)) {
                followed.insert(next);
                system.send_events(&[ContractEvent::Follow(probe, next)])?;
            }
        }
    }
    Ok(FollowCurve {
        probes,
        share: network
            .iter()
            .zip(&shown)
            .map(|(&n, &s)| share(n, s))
            .collect(),
    })
}

/// Parameters of a longitudinal run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Longitudinal {
    /// Simulated weeks.
    pub weeks: u32,
    /// Share of active sellers removed by each weekly sweep.
    pub sweep_share: f64,
    /// Probability a swept seller returns the next week.
    pub return_probability: f64,
    /// One-view probes per week.
    pub probes_per_week: usize,
    /// Buyers reading their suggestions per week.
    pub buyers_per_week: usize,
}

impl Default for Longitudinal {
    fn default() -> Self {
        Longitudinal {
            weeks: 8,
            sweep_share: 0.3,
            return_probability: 0.8,
            probes_per_week: 5,
            buyers_per_week: 150,
        }
    }
}

/// One week's read-out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekPoint {
    /// Week number (0: before the first sweep).
    pub week: u32,
    /// Sellers active this week (present from the start and not removed, plus returned).
    pub active_sellers: usize,
    /// Returned sellers this week (new accounts or backups).
    pub returned: usize,
    /// Variants coined so far and posted.
    pub variants_coined: usize,
    /// Share of banned-term prefixes whose autocomplete offers a variant.
    pub autocomplete_variant_rate: f64,
    /// Network share of a new account's top 10 after one view of a seller.
    pub network_share_after_one_view: f64,
    /// Share of buyers' suggestions that are returned sellers' accounts.
    pub returned_share_in_buyer_suggestions: f64,
}

/// The weeks of one run, with what the system supported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongitudinalRun {
    /// One point per week.
    pub weeks: Vec<WeekPoint>,
    /// Whether the system took the `post` extension (new variants need it).
    pub posts_supported: bool,
}

/// Runs the weeks on `system`.
pub fn longitudinal(
    world: &World,
    truth: &GroundTruth,
    plan: &Longitudinal,
    system: &mut dyn DiscoverySystem,
    progress: &mut dyn Progress,
) -> Result<LongitudinalRun, SystemError> {
    let mut rng = rng_for(world, 22);
    let ring = |account: AccountId| truth.roles.get(account.index()).map_or(0, |r| r.group);
    let mut active: Vec<(AccountId, u32)> = primary_sellers(world, truth)
        .into_iter()
        .map(|s| (s, ring(s)))
        .collect();
    let buyers = cast::in_role(truth, Role::Buyer);
    let mut backups: Vec<AccountId> = truth.backups.iter().map(|b| b.account).collect();
    backups.sort_unstable();
    let mut removed: HashSet<AccountId> = HashSet::new();
    let mut returned_accounts: HashSet<AccountId> = HashSet::new();
    let mut coined: BTreeSet<String> = BTreeSet::new();
    let mut posts_supported = true;
    let mut points = Vec::new();
    let mut swept: Vec<(AccountId, u32)> = Vec::new();
    for week in 0..=plan.weeks {
        progress.step("figure: weeks", week as usize, plan.weeks as usize + 1);
        let mut returned_now = 0;
        if week > 0 {
            // Last week's swept sellers come back: a backup named in a bio, else new.
            for &(_, group) in &swept {
                if !rng.gen_bool(plan.return_probability) {
                    continue;
                }
                let account = match backups.pop() {
                    Some(backup) if !removed.contains(&backup) => backup,
                    _ => system.create_persona(&Persona {
                        handle: format!("returning-w{week}-{returned_now}"),
                        declared_age: 24,
                        gender: "man",
                        interests: Vec::new(),
                    })?,
                };
                returned_now += 1;
                returned_accounts.insert(account);
                let events: Vec<ContractEvent> = active
                    .iter()
                    .filter(|s| s.1 == group)
                    .map(|s| ContractEvent::Follow(account, s.0))
                    .collect();
                if !events.is_empty() {
                    system.send_events(&events)?;
                }
                active.push((account, group));
            }
            // This week's sweep.
            active.shuffle(&mut rng);
            let count = (active.len() as f64 * plan.sweep_share).round() as usize;
            swept = active.drain(..count.min(active.len())).collect();
            let accounts: Vec<AccountId> = swept.iter().map(|s| s.0).collect();
            removed.extend(accounts.iter().copied());
            system.take_down(&accounts);
            // Active sellers coin a new variant of each banned base and post it.
            if posts_supported {
                let mut posts = Vec::new();
                for base in BANNED_BASES {
                    let suffix: String = (0..2)
                        .map(|_| char::from(b'a' + rng.gen_range(0u8..26)))
                        .collect();
                    let tag = format!("{base}{suffix}");
                    // Posted beside a spelling of the base term, as new variants spread:
                    // those who follow the old tag find the new one next to it.
                    let known = leet_spelling(base);
                    for &(seller, _) in active.choose_multiple(&mut rng, 3) {
                        posts.push(ContractEvent::Post {
                            account: seller,
                            hashtags: vec![tag.clone(), known.clone()],
                            caption: String::new(),
                        });
                    }
                    coined.insert(tag);
                }
                match system.send_events(&posts) {
                    Ok(_) => {}
                    Err(SystemError::Unsupported { .. }) => {
                        posts_supported = false;
                        coined.clear();
                    }
                    Err(other) => return Err(other),
                }
            }
        }
        let variant = |tag: &str| truth.is_variant(tag) || coined.contains(tag);
        let (mut prefixes, mut leaking) = (0, 0);
        let auditor = system.create_persona(&Persona::adult_probe(format!("auditor-w{week}")))?;
        for term in BANNED_BASES {
            for end in 2..=term.len() {
                let offered = system.autocomplete(auditor, &term[..end], 10)?;
                prefixes += 1;
                leaking += usize::from(offered.iter().any(|t| variant(t)));
            }
        }
        let (mut network, mut shown) = (0, 0);
        for number in 0..plan.probes_per_week {
            let Some(&(seller, _)) = active.choose(&mut rng) else {
                break;
            };
            let probe =
                system.create_persona(&Persona::adult_probe(format!("probe-w{week}-{number}")))?;
            system.send_events(&[ContractEvent::View(probe, seller)])?;
            for account in visible_suggestions(system, probe, &removed)? {
                shown += 1;
                network += usize::from(
                    returned_accounts.contains(&account)
                        || (truth.in_network(account) && !removed.contains(&account)),
                );
            }
        }
        let (mut returned_shown, mut buyer_shown) = (0, 0);
        let mut follows = Vec::new();
        for &buyer in buyers.choose_multiple(&mut rng, plan.buyers_per_week) {
            for account in visible_suggestions(system, buyer, &removed)? {
                buyer_shown += 1;
                if returned_accounts.contains(&account) {
                    returned_shown += 1;
                    if rng.gen_bool(0.3) {
                        follows.push(ContractEvent::Follow(buyer, account));
                    }
                }
            }
        }
        if !follows.is_empty() {
            system.send_events(&follows)?;
        }
        points.push(WeekPoint {
            week,
            active_sellers: active.len(),
            returned: returned_now,
            variants_coined: coined.len(),
            autocomplete_variant_rate: share(leaking, prefixes),
            network_share_after_one_view: share(network, shown),
            returned_share_in_buyer_suggestions: share(returned_shown, buyer_shown),
        });
    }
    Ok(LongitudinalRun {
        weeks: points,
        posts_supported,
    })
}

/// The world's leet spelling of a banned base (the generator's first variant pattern).
fn leet_spelling(base: &str) -> String {
    guardrail_sim::vocabulary::variants(base)
        .into_iter()
        .next()
        .map_or_else(|| base.to_string(), |(tag, _)| tag)
}
