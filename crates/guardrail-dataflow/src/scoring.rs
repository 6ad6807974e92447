//! The map's scoring in the dataflow: the proximity percentile among reached accounts,
//! the first pass, links to confident suspects (second pass), roles, and the size
//! estimate's count of followers, each a call into `guardrail_graph::map` on the facts
//! gathered per account.
//!
//! What it must never do: define a score. Every share, threshold and role rule is a call
//! into `guardrail_graph::map`; this module only gathers their arguments.

use guardrail_graph::NodeId;
use guardrail_graph::features::AccountFeatures;
use guardrail_graph::map::{
    CONFIDENT_SCORE, ESTIMATE_SCORE, RoleLinks, add_suspect_links, advertises, first_pass,
    halve_untied, proximity_percentile, role_of, sought_by_network, tied_by_own_evidence,
};
use guardrail_types::NetworkRole;
use serde::{Deserialize, Serialize};

use crate::flow::Col;
use crate::links::Links;
use crate::records::{AccountRow, FOLLOW, ScoreRecord, VIEW, bits, float, role_code};

/// Facts gathered per account for its first-pass score.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum ScoreFact {
    Row(AccountRow),
    Concentration(u64),
    Percentile(u64),
}

/// An account's first pass, with what the later stages need of its features.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
struct FirstPass {
    score_bits: u64,
    signals: Vec<(String, u64)>,
    tied: bool,
    advertises: bool,
    sought: bool,
    linked_seeds: Vec<NodeId>,
}

/// Facts gathered per account for its final score and role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum LinkFact {
    First(FirstPass),
    LinksOut,
    LinksIn,
    Label(u64),
    FollowedBySellers,
    FollowedBySuspects,
    FollowsSellers,
    Advertisers(u64),
}

/// The features the map scores an account on: `account_features`, then, for accounts the
/// network seeks out, without the links seeds make to them (as `build_map` does).
fn scoring_features(row: &AccountRow) -> (AccountFeatures, bool) {
    let mut features = row.features();
    let sought = sought_by_network(&row.attributes.into());
    if sought {
        features.seeds_reaching.clear();
    }
    (features, sought)
}

fn signal_bits(signals: Vec<(String, f64)>) -> Vec<(String, u64)> {
    signals
        .into_iter()
        .map(|(name, share)| (name, bits(share)))
        .collect()
}

/// What the scoring stage yields.
pub struct Scored<'s> {
    /// Every account with a positive score.
    pub scores: Col<'s, (NodeId, ScoreRecord)>,
    /// Distinct accounts following a seller counted in the size estimate.
    pub unique_followers: Col<'s, ((), isize)>,
}

impl std::fmt::Debug for Scored<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scored").finish_non_exhaustive()
    }
}

/// Scores every account from its feature `rows`, the seed concentration of its community
/// (`concentration`, only where positive), its proximity (`reached`: degree-normalised
/// estimate bits), its community `labels` and the live `links`.
pub fn score<'s>(
    rows: Col<'s, (NodeId, AccountRow)>,
    concentration: Col<'s, (NodeId, u64)>,
    reached: Col<'s, (NodeId, u64)>,
    labels: Col<'s, (NodeId, u64)>,
    links: &Links<'s>,
) -> Scored<'s> {
    // Which accounts have a signal of their own (proximity only counts for them), and
    // their proximity percentile.
    let score_facts = rows
        .map(|(node, row)| (node, ScoreFact::Row(row)))
        .concat(concentration.map(|(node, c)| (node, ScoreFact::Concentration(c))));
    let signalled = score_facts
        .clone()
        .reduce(|_, facts, out| {
            let (row, concentration, _) = unpack_score_facts(facts);
            if let Some(row) = row {
                let (features, _) = scoring_features(row);
                if first_pass(&features, row.seed, 0.0, concentration).0 > 0.0 {
                    out.push(((), 1isize));
                }
            }
        })
        .map(|(node, ())| node);
    let percentiles = percentiles(reached, signalled);

    let first = score_facts
        .concat(percentiles.map(|(node, p)| (node, ScoreFact::Percentile(p))))
        .reduce(|_, facts, out| {
            let (row, concentration, percentile) = unpack_score_facts(facts);
            let Some(row) = row else {
                return;
            };
            let (features, sought) = scoring_features(row);
            // Seeds following an account the network seeks out mark it as a target: the
            // proximity those links give is not evidence either.
            let percentile = if sought { 0.0 } else { percentile };
            let (score, signals) = first_pass(&features, row.seed, percentile, concentration);
            if score > 0.0 {
                let mut linked_seeds: Vec<NodeId> = features
                    .seeds_reached
                    .iter()
                    .chain(&features.seeds_reaching)
                    .copied()
                    .collect();
                linked_seeds.sort_unstable();
                linked_seeds.dedup();
                out.push((
                    FirstPass {
                        score_bits: bits(score),
                        signals: signal_bits(signals),
                        tied: tied_by_own_evidence(&features, row.seed),
                        advertises: advertises(&features),
                        sought,
                        linked_seeds,
                    },
                    1isize,
                ));
            }
        });
    let confident = first
        .clone()
        .filter(|(_, first)| first.tied && float(first.score_bits) >= CONFIDENT_SCORE)
        .map(|(node, _)| node);
    // Links (not views, not to itself) to and from confident suspects, per edge and kind.
    let confident = confident.arrange_by_self();
    let links_out =
        links
            .into
            .clone()
            .join_core(confident.clone(), |&suspect, &(source, kind, _), &()| {
                (kind != VIEW && source != suspect).then_some((source, LinkFact::LinksOut))
            });
    let links_in = links
        .out
        .clone()
        .join_core(confident, |&suspect, &(target, kind, _), &()| {
            (kind != VIEW && target != suspect).then_some((target, LinkFact::LinksIn))
        });
    let second = first
        .map(|(node, first)| (node, LinkFact::First(first)))
        .concat(links_out)
        .concat(links_in)
        .reduce(|_, facts, out| {
            let Some(first) = facts.iter().find_map(|(fact, _)| match fact {
                LinkFact::First(first) => Some(first),
                _ => None,
            }) else {
                return;
            };
            let count = |wanted: &LinkFact| {
                facts
                    .iter()
                    .find(|(fact, _)| *fact == wanted)
                    .map_or(0, |(_, count)| usize::try_from(*count).unwrap_or(0))
            };
            let linked_out = count(&LinkFact::LinksOut);
            // Being followed by suspects is no evidence against an account they seek out.
            let linked_in = if first.sought {
                0
            } else {
                count(&LinkFact::LinksIn)
            };
            let mut score = float(first.score_bits);
            let mut signals: Vec<(String, f64)> = first
                .signals
                .iter()
                .map(|(name, share)| (name.clone(), float(*share)))
                .collect();
            let mut tied = first.tied;
            add_suspect_links(&mut score, &mut signals, &mut tied, linked_out, linked_in);
            halve_untied(&mut score, &mut signals, tied);
            out.push((
                FirstPass {
                    score_bits: bits(score),
                    signals: signal_bits(signals),
                    tied,
                    ..first.clone()
                },
                1isize,
            ));
        });

    // Roles.
    let suspects = second
        .clone()
        .filter(|(_, scored)| float(scored.score_bits) >= CONFIDENT_SCORE);
    let advertisers = suspects
        .clone()
        .filter(|(_, scored)| scored.advertises)
        .map(|(node, _)| node);
    let suspects = suspects.map(|(node, _)| node);
    let advertiser_count = advertisers.clone().map(|_| ()).count();
    let advertisers = advertisers.arrange_by_self();
    let followed_by_sellers =
        links
            .out
            .clone()
            .join_core(advertisers.clone(), |_, &(target, kind, _), &()| {
                (kind == FOLLOW).then_some((target, LinkFact::FollowedBySellers))
            });
    let followed_by_suspects = links.out.clone().join_core(
        suspects.clone().arrange_by_self(),
        |_, &(target, kind, _), &()| {
            (kind == FOLLOW).then_some((target, LinkFact::FollowedBySuspects))
        },
    );
    let follows_sellers = links
        .into
        .clone()
        .join_core(advertisers, |_, &(source, kind, _), &()| {
            (kind == FOLLOW).then_some((source, LinkFact::FollowsSellers))
        });
    let advertisers_seen = suspects
        .map(|node| ((), node))
        .join_map(advertiser_count, |_, &node, &count| {
            (node, LinkFact::Advertisers(count as u64))
        });
    let scores = second
        .map(|(node, scored)| (node, LinkFact::First(scored)))
        .concat(
            labels
                .clone()
                .map(|(node, label)| (node, LinkFact::Label(label))),
        )
        .concat(followed_by_sellers)
        .concat(followed_by_suspects)
        .concat(follows_sellers)
        .concat(advertisers_seen)
        .reduce(|_, facts, out| {
            let mut scored = None;
            let mut label = 0;
            let mut advertiser_count = 0;
            let mut links = RoleLinks::default();
            for (fact, count) in facts {
                let count = usize::try_from(*count).unwrap_or(0);
                match fact {
                    LinkFact::First(first) => scored = Some(first),
                    LinkFact::Label(l) => label = *l,
                    LinkFact::FollowedBySellers => links.followed_by_sellers = count,
                    LinkFact::FollowedBySuspects => links.followed_by_suspects = count,
                    LinkFact::FollowsSellers => links.follows_sellers = count,
                    LinkFact::Advertisers(n) => advertiser_count = *n as usize,
                    LinkFact::LinksOut | LinkFact::LinksIn => {}
                }
            }
            let Some(scored) = scored else {
                return;
            };
            let score = float(scored.score_bits);
            let role = role_of(scored.advertises, score, &links, advertiser_count);
            out.push((
                ScoreRecord {
                    score_bits: scored.score_bits,
                    signals: scored.signals.clone(),
                    tied: scored.tied,
                    role: role_code(role),
                    label,
                    linked_seeds: scored.linked_seeds.clone(),
                },
                1isize,
            ));
        });

    // The size estimate's followers: distinct accounts following a seller counted in it.
    let estimate_sellers = scores
        .clone()
        .filter(|(_, record)| {
            float(record.score_bits) >= ESTIMATE_SCORE
                && record.role == role_code(NetworkRole::Seller)
        })
        .map(|(node, _)| node);
    let unique_followers = links
        .into
        .clone()
        .join_core(
            estimate_sellers.arrange_by_self(),
            |_, &(source, kind, _), &()| (kind == FOLLOW).then_some(source),
        )
        .threshold(|_, count| isize::from(*count > 0))
        .map(|_| ())
        .count();
    Scored {
        scores,
        unique_followers,
    }
}

fn unpack_score_facts<'a>(facts: &[(&'a ScoreFact, isize)]) -> (Option<&'a AccountRow>, f64, f64) {
    let mut row = None;
    let mut concentration = 0.0;
    let mut percentile = 0.0;
    for (fact, _) in facts {
        match fact {
            ScoreFact::Row(r) => row = Some(r),
            ScoreFact::Concentration(c) => concentration = float(*c),
            ScoreFact::Percentile(p) => percentile = float(*p),
        }
    }
    (row, concentration, percentile)
}

/// Buckets of the global sort: the top 20 bits of a non-negative f64 (sign, exponent and 8
/// mantissa bits), so a bucket spans 1/256 of an octave and bucket order is value order.
fn bucket(key: u64) -> u64 {
    key >> 44
}

/// The proximity percentile (`map::proximity_percentile`) of every reached account in
/// `signalled`, from `reached` = `(account, degree-normalised proximity bits)`.
///
/// A global sort split in two so no worker holds all accounts: each bucket sorts its own
/// members (ties by account id, as `build_map` sorts), and one small reduce over bucket
/// sizes gives each bucket's offset. Only accounts with a signal get a percentile: the
/// rest would not use it, and every change of the reached count moves all percentiles.
fn percentiles<'s>(
    reached: Col<'s, (NodeId, u64)>,
    signalled: Col<'s, NodeId>,
) -> Col<'s, (NodeId, u64)> {
    let members = reached
        .clone()
        .map(|(node, key)| (bucket(key), (key, node, false)))
        .concat(
            reached
                .clone()
                .semijoin(signalled)
                .map(|(node, key)| (bucket(key), (key, node, true))),
        );
    let within = members.reduce(|_, members, out| {
        let mut position = 0u64;
        for ((_, node, wanted), _) in members {
            if *wanted {
                out.push(((*node, position.saturating_sub(1)), 1isize));
            } else {
                position += 1;
            }
        }
    });
    let offsets = reached
        .clone()
        .map(|(_, key)| bucket(key))
        .count()
        .map(|(bucket, size)| ((), (bucket, size)))
        .reduce(|_, sizes, out| {
            let mut below = 0u64;
            for ((bucket, size), _) in sizes {
                out.push(((*bucket, below), 1isize));
                below += *size as u64;
            }
        })
        .map(|((), (bucket, below))| (bucket, below));
    let reached_count = reached.map(|_| ()).count();
    within
        .join_map(offsets, |_, &(node, index), &below| {
            ((), (node, below + index))
        })
        .join_map(reached_count, |_, &(node, position), &count| {
            (
                node,
                bits(proximity_percentile(position as usize, count as usize)),
            )
        })
}
