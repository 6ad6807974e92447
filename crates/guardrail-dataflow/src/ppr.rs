//! Personalised PageRank in the dataflow: forward push ([`crate::walk`]) as one timely
//! operator with a feedback loop, fed by the live links and the seeds, answering with each
//! reached account's estimate as a differential collection.
//!
//! Time: a round of updates is the logical time `round << STEP_BITS` ([`round_time`]);
//! the push steps of that round run at the times after it (`+1`, `+2`, … through the
//! feedback), so a round's pushes finish before the next round's updates are applied.
//! The operator holds its estimates output at the round's time until no input can bring
//! anything more for the round, then emits each changed account once: downstream sees one
//! change per account per round, at the round's own time.
//!
//! Cost: an update touches the nodes whose links or seeds changed, plus the pushes their
//! corrections trigger; a push happens only where a residual reaches `ε` times the degree
//! (as in `ppr_push`), so corrections smaller than that stop where they are. Memory: each
//! link twice (one entry per end, 8 bytes) and 48 bytes per account, on the worker that
//! owns it (`account % workers`).
//!
//! What it must never do: emit an estimate before its round is complete (downstream
//! would see a half-pushed walk), or let anything but integer sums cross workers.

use std::collections::BTreeMap;

use differential_dataflow::AsCollection;
use guardrail_graph::NodeId;
use guardrail_graph::map::degree_normalised;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::OutputBuilder;
use timely::dataflow::operators::generic::builder_rc::OperatorBuilder;
use timely::dataflow::operators::vec::{Broadcast, Map};
use timely::dataflow::operators::{Capability, CapabilitySet, ConnectLoop, Feedback};

use crate::flow::Col;
use crate::records::bits;
use crate::walk::{Message, Walk, WalkParameters, consolidate};

/// Bits of logical time per round for the push steps (16.7 million steps per round).
pub const STEP_BITS: u32 = 24;
/// Logical time between two rounds.
pub const ROUND_SPAN: u64 = 1 << STEP_BITS;

/// The logical time of update round `round`.
pub fn round_time(round: u64) -> u64 {
    round << STEP_BITS
}

fn round_base(time: u64) -> u64 {
    time & !(ROUND_SPAN - 1)
}

/// Parameters of the walk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PprParameters {
    /// Probability of following an edge (`MapConfig::damping`).
    pub damping: f64,
    /// Push tolerance (`MapConfig::epsilon`): a node pushes while its residual is at
    /// least `epsilon` times its weighted degree.
    pub epsilon: f64,
    /// Quanta in probability 1 (2^50: rounding is far below the push tolerance).
    pub quantum: i64,
    /// Push steps per round at most (a guard; the walk settles long before).
    pub max_steps: u64,
}

/// Low mantissa bits dropped from the sort key of a proximity.
const KEY_DROPPED_BITS: u32 = 32;

/// The sort key of a degree-normalised proximity: its bits with 20 of the 52 mantissa bits
/// kept (relative precision 1e-6). Values that differ by rounding alone (a few quanta, as
/// two accounts with the same links but different histories can) then tie and are
/// ordered by account, as equal values are in `build_map`; real differences are far larger.
pub fn sort_key(normalised: f64) -> u64 {
    bits(normalised) & !((1u64 << KEY_DROPPED_BITS) - 1)
}

/// What the walk yields.
pub struct Proximity<'s> {
    /// Reached accounts with the [`sort_key`] of their degree-normalised estimate.
    pub reached: Col<'s, (NodeId, u64)>,
    /// Reached accounts: `(account, (estimate in quanta, weighted undirected degree))`.
    pub mass: Col<'s, (NodeId, (i64, u64))>,
}

impl std::fmt::Debug for Proximity<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proximity").finish_non_exhaustive()
    }
}

/// What one logical time brings to a worker.
#[derive(Debug, Default)]
struct Pending {
    seeds: Vec<(NodeId, isize)>,
    links: Vec<(NodeId, NodeId, i64)>,
    messages: Vec<Message>,
}

type LinkChange = (NodeId, NodeId, i64, u64);
type Estimate = ((NodeId, (i64, u64)), u64, isize);

/// PPR from `seeds` over `links` (`(source, target, weight)` of each live edge, one record
/// per edge and kind; the walk goes both ways).
pub fn proximity<'s>(
    links: Col<'s, (NodeId, NodeId, u32)>,
    seeds: Col<'s, NodeId>,
    parameters: PprParameters,
) -> Proximity<'s> {
    let scope = links.scope();
    // Each end of a link hears about it: a self-loop is one end counted twice.
    let ends = links
        .inner
        .flat_map(|((source, target, weight), time, diff)| {
            let change = i64::from(weight) * diff as i64;
            if source == target {
                vec![(source, source, 2 * change, time)]
            } else {
                vec![
                    (source, target, change, time),
                    (target, source, change, time),
                ]
            }
        });
    let seed_changes = seeds.inner.broadcast();
    let (handle, feedback) = scope.feedback::<Vec<Message>>(1);

    let mut builder = OperatorBuilder::new("PushPpr".to_string(), scope);
    let mut ends_input = builder.new_input(
        ends,
        Exchange::new(|change: &LinkChange| u64::from(change.0)),
    );
    let mut seeds_input = builder.new_input(seed_changes, Pipeline);
    let mut messages_input = builder.new_input(
        feedback,
        Exchange::new(|message: &Message| u64::from(message.0)),
    );
    let (messages_output, messages) = builder.new_output::<Vec<Message>>();
    let (estimates_output, estimates) = builder.new_output::<Vec<Estimate>>();
    let mut messages_output =
        OutputBuilder::<_, CapacityContainerBuilder<Vec<Message>>>::from(messages_output);
    let mut estimates_output =
        OutputBuilder::<_, CapacityContainerBuilder<Vec<Estimate>>>::from(estimates_output);
    let (index, peers) = (scope.index(), scope.peers());
    let walk_parameters =
        WalkParameters::new(parameters.damping, parameters.epsilon, parameters.quantum);
    let max_steps = parameters.max_steps;

    builder.build(move |mut capabilities| {
        // Output 1 (estimates) is held at the current round; output 0 (messages) only
        // while there is something to push, or the loop could never close.
        let mut held: Option<Capability<u64>> = capabilities.pop();
        drop(capabilities);
        let mut walk = Walk::new(walk_parameters, index, peers);
        let mut pending: BTreeMap<u64, Pending> = BTreeMap::new();
        let mut message_capabilities: CapabilitySet<u64> = CapabilitySet::new();
        move |frontiers| {
            ends_input.for_each(|capability, data| {
                if let Some(capability) = capability.retain_least(0) {
                    message_capabilities.insert(capability);
                }
                for (node, neighbour, change, time) in data.drain(..) {
                    pending
                        .entry(time)
                        .or_default()
                        .links
                        .push((node, neighbour, change));
                }
            });
            seeds_input.for_each(|capability, data| {
                if let Some(capability) = capability.retain_least(0) {
                    message_capabilities.insert(capability);
                }
                for (seed, time, diff) in data.drain(..) {
                    pending.entry(time).or_default().seeds.push((seed, diff));
                }
            });
            messages_input.for_each(|capability, data| {
                let Some(&time) = capability.least() else {
                    return;
                };
                if let Some(capability) = capability.retain_least(0) {
                    message_capabilities.insert(capability);
                }
                pending.entry(time).or_default().messages.append(data);
            });

            // Every time no input can still add to, in order: seeds, links, received
            // residuals, then one synchronous push.
            while let Some((&time, _)) = pending.iter().next() {
                if frontiers.iter().any(|frontier| frontier.less_equal(&time)) {
                    break;
                }
                let Some(work) = pending.remove(&time) else {
                    break;
                };
                let mut out: Vec<Message> = Vec::new();
                if !work.seeds.is_empty() {
                    let mut seeds = work.seeds;
                    differential_dataflow::consolidation::consolidate(&mut seeds);
                    walk.apply_seeds(&seeds, &mut out);
                }
                if !work.links.is_empty() {
                    walk.apply_links(work.links, &mut out);
                }
                walk.receive(&work.messages);
                if time - round_base(time) < max_steps {
                    walk.push(&mut out);
                } else {
                    walk.hold();
                }
                consolidate(&mut out);
                if !out.is_empty() {
                    let capability = message_capabilities.delayed(&time);
                    messages_output
                        .activate()
                        .session(&capability)
                        .give_container(&mut out);
                }
            }
            match pending.keys().next() {
                Some(&next) => message_capabilities.downgrade([next]),
                None => message_capabilities = CapabilitySet::new(),
            }

            // A round is complete when nothing earlier than the next round can arrive.
            if let Some(capability) = held.as_mut() {
                let next_round = round_base(*capability.time()) + ROUND_SPAN;
                let complete = frontiers
                    .iter()
                    .all(|frontier| frontier.frontier().iter().all(|&time| time >= next_round))
                    && pending.keys().next().is_none_or(|&time| time >= next_round);
                if complete {
                    let time = *capability.time();
                    let mut changes: Vec<Estimate> = walk
                        .finish_round()
                        .into_iter()
                        .map(|(data, diff)| (data, time, diff))
                        .collect();
                    if !changes.is_empty() {
                        estimates_output
                            .activate()
                            .session(&*capability)
                            .give_container(&mut changes);
                    }
                    let low = frontiers
                        .iter()
                        .flat_map(|frontier| {
                            frontier.frontier().iter().copied().collect::<Vec<_>>()
                        })
                        .min();
                    match low {
                        Some(low) => capability.downgrade(&round_base(low)),
                        None => held = None,
                    }
                }
            }
        }
    });
    messages.connect_loop(handle);

    let mass = estimates.as_collection();
    let quantum = parameters.quantum as f64;
    let reached = mass.clone().map(move |(node, (estimate, degree))| {
        (
            node,
            sort_key(degree_normalised(estimate as f64 / quantum, degree as f64)),
        )
    });
    Proximity { reached, mass }
}
