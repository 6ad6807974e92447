//! Personalised PageRank in differential dataflow, as integer mass.
//!
//! Differential needs integer diffs, so PPR mass is counted in quanta: the seeds share
//! `quantum` units, and one iteration is `x' = restart + floor-push(x)`, where a node with
//! mass `m` and weighted undirected degree `D` sends `floor(d·m / D)` units along each unit
//! of edge weight, a node without edges sends `floor(d·m / k)` to each of the `k` seeds
//! (the walker goes back to the seeds, as `guardrail_graph::ppr` does), and each seed gets
//! `floor((1 − d)·quantum / k)` of restart. Starting from zero, the iterates only grow
//! (the step is monotone) and are bounded by the exact PPR, so they reach a fixed point in
//! finitely many iterations: the dataflow iterates to that fixed point (with a cap as a
//! guard). The fixed point is a function of the graph and the seeds alone, so an
//! incrementally maintained result is bit-identical to one computed from scratch.
//!
//! Tolerance against `ppr::ppr_power` (the exact value `p`): each node loses less than
//! `D` quanta to rounding per iteration it pushes, so the quantised value is below `p`
//! by at most about `iterations · D / quantum` (see `docs/scale.md` for measured values).
//! The set of accounts "reached" mimics `ppr_push`'s support: push gives an account a
//! positive estimate only once it has pushed, and then its estimate is at least
//! `(1 − d)·ε·max(D, 1)`; here an account is reached when its quantised score meets the
//! same bound.
//!
//! What it must never do: use floating point inside the iteration (rounding would differ
//! between an incremental and a from-scratch run, and the fixed point would not exist).

use differential_dataflow::AsCollection;
use differential_dataflow::VecCollection;
use differential_dataflow::operators::iterate::Iterate;
use guardrail_graph::NodeId;
use guardrail_graph::map::degree_normalised;
use timely::dataflow::operators::vec::Filter;
use timely::order::Product;

use crate::flow::Col;
use crate::records::bits;

/// Fixed-point denominator of the damping factor.
const DAMPING_DENOMINATOR: i128 = 1 << 20;

/// Parameters of the quantised walk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PprParameters {
    /// Probability of following an edge (`MapConfig::damping`).
    pub damping: f64,
    /// Push tolerance of the single-node map (`MapConfig::epsilon`); sets which accounts
    /// count as reached.
    pub epsilon: f64,
    /// Total mass in quanta.
    pub quantum: i64,
    /// Iteration cap (a guard: the fixed point comes first on any graph we have seen).
    pub max_iterations: u64,
}

impl PprParameters {
    fn damping_numerator(&self) -> i128 {
        (self.damping * DAMPING_DENOMINATOR as f64).round() as i128
    }
}

/// `floor(d · mass / share_among)`, never negative.
fn push_share(mass: isize, share_among: isize, damping_numerator: i128) -> isize {
    if share_among <= 0 || mass <= 0 {
        return 0;
    }
    let share = (mass as i128 * damping_numerator) / (DAMPING_DENOMINATOR * share_among as i128);
    isize::try_from(share).unwrap_or(isize::MAX)
}

/// Restart quanta per seed among `seeds`.
fn restart_share(parameters: &PprParameters, seeds: isize) -> isize {
    if seeds <= 0 {
        return 0;
    }
    let keep = DAMPING_DENOMINATOR - parameters.damping_numerator();
    let share = (parameters.quantum as i128 * keep) / (DAMPING_DENOMINATOR * seeds as i128);
    isize::try_from(share).unwrap_or(isize::MAX)
}

/// What the walk yields.
pub struct Proximity<'s> {
    /// Reached accounts with the bits of their degree-normalised score.
    pub reached: Col<'s, (NodeId, u64)>,
    /// Every account with mass: `(account, (mass in quanta, weighted degree))`.
    pub mass: Col<'s, (NodeId, (isize, isize))>,
}

impl std::fmt::Debug for Proximity<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proximity").finish_non_exhaustive()
    }
}

/// PPR from `seeds` over `steps` (`(from, to)` with diff = weight, both directions).
pub fn proximity<'s>(
    seeds: Col<'s, NodeId>,
    steps: Col<'s, (NodeId, NodeId)>,
    parameters: PprParameters,
) -> Proximity<'s> {
    let scope = seeds.scope();
    let damping_numerator = parameters.damping_numerator();
    let degrees = steps.clone().map(|(from, _)| from).count();
    let seed_count = seeds.clone().map(|_| ()).count();
    let seeds_by_unit = seeds.map(|seed| ((), seed));
    let restart = seeds_by_unit
        .clone()
        .join_map(seed_count.clone(), |_, &seed, &count| (seed, count))
        .explode(move |(seed, count)| Some((seed, restart_share(&parameters, count))));
    let cap = parameters.max_iterations;
    let masses = scope.iterate(
        |inner, ranks: VecCollection<'_, Product<u64, u64>, NodeId, isize>| {
            let degrees = degrees.clone().enter(inner);
            let steps = steps.clone().enter(inner);
            let restart = restart.enter(inner);
            let seeds_by_unit = seeds_by_unit.clone().enter(inner);
            let seed_count = seed_count.clone().enter(inner);
            let per_unit = degrees
                .clone()
                .semijoin(ranks.clone())
                .threshold(move |(_, degree), mass| push_share(*mass, *degree, damping_numerator))
                .map(|(node, _)| node);
            let pushed = steps.semijoin(per_unit).map(|(_, to)| to);
            let dangling = ranks
                .map(|node| (node, ()))
                .antijoin(degrees.map(|(node, _)| node))
                .map(|_| ((), ()))
                .join_map(seed_count, |_, _, &count| ((), count))
                .threshold(move |(_, count), mass| push_share(*mass, *count, damping_numerator));
            let back = seeds_by_unit.join_map(dangling, |_, &seed, _| seed);
            pushed
                .concat(back)
                .concat(restart)
                .consolidate()
                .inner
                .filter(move |(_, time, _)| time.inner < cap)
                .as_collection()
        },
    );
    let masses = masses.count();
    let with_degree = masses.clone().join(degrees.clone());
    let without_degree = masses
        .antijoin(degrees.map(|(node, _)| node))
        .map(|(node, mass)| (node, (mass, 0)));
    let mass = with_degree.concat(without_degree);
    let quantum = parameters.quantum as f64;
    let floor = (1.0 - parameters.damping) * parameters.epsilon;
    let reached = mass.clone().flat_map(move |(node, (mass, degree))| {
        let normalised = degree_normalised(mass as f64 / quantum, degree as f64);
        (mass > 0 && normalised >= floor).then(|| (node, bits(normalised)))
    });
    Proximity { reached, mass }
}

/// The quantised PPR of `node` as a probability.
pub fn probability(mass: i64, quantum: i64) -> f64 {
    mass as f64 / quantum.max(1) as f64
}
