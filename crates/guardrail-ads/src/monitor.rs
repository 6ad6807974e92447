//! Streaming delivery monitoring: per ad, the delivered composition against the eligible
//! composition by gender and by age range, with Wilson 95% intervals, the total-variation
//! distance between the two, and an alert when the gap exceeds a bound.
//!
//! What it is for: the platform records each impression as it is served ([`Monitor::record`]
//! is one array increment); a read-out ([`Monitor::report`]) recomputes shares and distances
//! from the counts, so the streaming figures always equal a batch recount of the same
//! impressions. The gap is measured over impressions, the unit the Variance Reduction System
//! settlement measures; a minimum-impressions floor keeps the alert quiet while the counts are
//! too small to mean anything.
//!
//! What it must never do: hold who saw the ad. Counts per group only: no account ids.

use serde::Serialize;

use crate::groups::{AgeRange, GENDERS, Group, gender_label};
use crate::{Proportion, wilson};

/// When the monitor alerts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AlertBound {
    /// Largest acceptable total-variation distance between delivered and eligible shares,
    /// over gender and over age range (each checked on its own).
    pub max_distance: f64,
    /// Impressions below which no alert is raised.
    pub min_impressions: u64,
}

impl Default for AlertBound {
    /// 0.10 total variation after 1,000 impressions: the Variance Reduction System's bound.
    fn default() -> Self {
        AlertBound {
            max_distance: 0.10,
            min_impressions: 1_000,
        }
    }
}

/// A per-ad delivery monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    eligible: [u64; Group::COUNT],
    delivered: [u64; Group::COUNT],
    delivered_total: u64,
    bound: AlertBound,
}

/// One row of a composition: a category's eligible and delivered share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShareRow {
    /// `men`, `25-34`, ...
    pub category: String,
    /// People in the eligible audience.
    pub eligible: u64,
    /// Share of the eligible audience, with its interval.
    pub eligible_share: Proportion,
    /// Impressions delivered.
    pub delivered: u64,
    /// Share of impressions, with its interval.
    pub delivered_share: Proportion,
}

/// A composition along one dimension, and its distance from the eligible one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Composition {
    /// One row per category with eligible people or impressions.
    pub rows: Vec<ShareRow>,
    /// Total-variation distance between delivered and eligible shares (0 with no impressions).
    pub total_variation: f64,
}

/// An alert: the gap exceeded the bound.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// `gender` or `age`.
    pub dimension: &'static str,
    /// The distance measured.
    pub total_variation: f64,
    /// The bound it exceeded.
    pub bound: f64,
    /// Impressions so far.
    pub impressions: u64,
}

/// The monitor's read-out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorReport {
    /// People in the eligible audience.
    pub eligible: u64,
    /// Impressions recorded.
    pub impressions: u64,
    /// By gender.
    pub gender: Composition,
    /// By age range.
    pub age: Composition,
    /// Total variation over the joint gender x age groups.
    pub joint_total_variation: f64,
    /// The alerts the bound raises now.
    pub alerts: Vec<Alert>,
}

impl Monitor {
    /// A monitor for an ad whose eligible audience falls in `eligible` (one group per person).
    pub fn new(eligible: impl IntoIterator<Item = Group>, bound: AlertBound) -> Monitor {
        let mut counts = [0; Group::COUNT];
        for group in eligible {
            counts[group.index()] += 1;
        }
        Monitor {
            eligible: counts,
            delivered: [0; Group::COUNT],
            delivered_total: 0,
            bound,
        }
    }

    /// Records one impression to a viewer of `group`.
    #[inline]
    pub fn record(&mut self, group: Group) {
        self.delivered[group.index()] += 1;
        self.delivered_total += 1;
    }

    /// Impressions recorded.
    pub fn impressions(&self) -> u64 {
        self.delivered_total
    }

    /// Eligible people per group.
    pub fn eligible_counts(&self) -> &[u64; Group::COUNT] {
        &self.eligible
    }

    /// Impressions per group.
    pub fn delivered_counts(&self) -> &[u64; Group::COUNT] {
        &self.delivered
    }

    /// The alerts the bound raises now (empty below the impressions floor).
    pub fn alerts(&self) -> Vec<Alert> {
        if self.delivered_total < self.bound.min_impressions {
            return Vec::new();
        }
        [
            ("gender", self.gender_distance()),
            ("age", self.age_distance()),
        ]
        .into_iter()
        .filter(|&(_, tv)| tv > self.bound.max_distance)
        .map(|(dimension, total_variation)| Alert {
            dimension,
            total_variation,
            bound: self.bound.max_distance,
            impressions: self.delivered_total,
        })
        .collect()
    }

    /// Total variation by gender.
    pub fn gender_distance(&self) -> f64 {
        total_variation(&self.by(gender_slot), &self.by_delivered(gender_slot))
    }

    /// Total variation by age range.
    pub fn age_distance(&self) -> f64 {
        total_variation(
            &self.by(|g| g.age() as usize),
            &self.by_delivered(|g| g.age() as usize),
        )
    }

    /// The full read-out.
    pub fn report(&self) -> MonitorReport {
        let gender = self.composition(GENDERS.len(), gender_slot, |i| {
            gender_label(GENDERS[i]).to_string()
        });
        let age = self.composition(
            AgeRange::ALL.len(),
            |g| g.age() as usize,
            |i| AgeRange::ALL[i].label().to_string(),
        );
        MonitorReport {
            eligible: self.eligible.iter().sum(),
            impressions: self.delivered_total,
            gender,
            age,
            joint_total_variation: total_variation(&self.eligible, &self.delivered),
            alerts: self.alerts(),
        }
    }

    fn by(&self, slot: impl Fn(Group) -> usize) -> [u64; AgeRange::ALL.len()] {
        fold(&self.eligible, slot)
    }

    fn by_delivered(&self, slot: impl Fn(Group) -> usize) -> [u64; AgeRange::ALL.len()] {
        fold(&self.delivered, slot)
    }

    fn composition(
        &self,
        slots: usize,
        slot: impl Fn(Group) -> usize + Copy,
        label: impl Fn(usize) -> String,
    ) -> Composition {
        let (eligible, delivered) = (self.by(slot), self.by_delivered(slot));
        let (eligible_total, delivered_total) = (
            eligible.iter().sum::<u64>() as usize,
            delivered.iter().sum::<u64>() as usize,
        );
        let rows = (0..slots)
            .filter(|&i| eligible[i] + delivered[i] > 0)
            .map(|i| ShareRow {
                category: label(i),
                eligible: eligible[i],
                eligible_share: wilson(eligible[i] as usize, eligible_total),
                delivered: delivered[i],
                delivered_share: wilson(delivered[i] as usize, delivered_total),
            })
            .collect();
        Composition {
            rows,
            total_variation: total_variation(&eligible, &delivered),
        }
    }
}

fn gender_slot(group: Group) -> usize {
    GENDERS
        .iter()
        .position(|&g| g == group.gender())
        .unwrap_or(0)
}

// Seven slots hold either dimension (three genders or seven age ranges).
fn fold(counts: &[u64; Group::COUNT], slot: impl Fn(Group) -> usize) -> [u64; 7] {
    let mut out = [0; 7];
    for group in Group::all() {
        out[slot(group)] += counts[group.index()];
    }
    out
}

/// Total-variation distance between two count vectors read as distributions: half the sum
/// of absolute share differences. 0 when either is empty (nothing to compare yet).
pub fn total_variation(a: &[u64], b: &[u64]) -> f64 {
    let (ta, tb) = (a.iter().sum::<u64>(), b.iter().sum::<u64>());
    if ta == 0 || tb == 0 {
        return 0.0;
    }
    0.5 * a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 / ta as f64 - y as f64 / tb as f64).abs())
        .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use guardrail_types::Gender;
    use proptest::prelude::*;

    use super::*;

    fn group(i: usize) -> Group {
        Group::from_index(i % Group::COUNT).expect("in range")
    }

    #[test]
    fn total_variation_table() {
        for (a, b, want) in [
            (vec![1, 1], vec![1, 1], 0.0),
            (vec![1, 0], vec![0, 1], 1.0),
            (vec![3, 1], vec![1, 1], 0.25),
            (vec![0, 0], vec![1, 1], 0.0),
            (vec![65, 35], vec![20, 80], 0.45),
        ] {
            let tv = total_variation(&a, &b);
            assert!((tv - want).abs() < 1e-12, "{a:?} {b:?}: {tv}");
        }
    }

    #[test]
    fn the_alert_waits_for_the_floor_then_fires_on_the_gap() {
        let women = Group::of(Gender::Woman, AgeRange::From25To34);
        let men = Group::of(Gender::Man, AgeRange::From25To34);
        let eligible = std::iter::repeat_n(women, 70).chain(std::iter::repeat_n(men, 30));
        let mut monitor = Monitor::new(
            eligible,
            AlertBound {
                max_distance: 0.10,
                min_impressions: 100,
            },
        );
        for _ in 0..99 {
            monitor.record(men);
        }
        assert!(monitor.alerts().is_empty(), "below the floor");
        monitor.record(men);
        let alerts = monitor.alerts();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].dimension, "gender");
        assert!((alerts[0].total_variation - 0.7).abs() < 1e-12);
        // Balanced delivery clears it.
        for _ in 0..200 {
            monitor.record(women);
        }
        assert!(monitor.alerts().is_empty(), "{:?}", monitor.report());
    }

    proptest! {
        /// The streaming counts equal a batch recount, and every figure stays in range.
        #[test]
        fn streaming_equals_batch(
            eligible in proptest::collection::vec(0usize..Group::COUNT, 1..200),
            impressions in proptest::collection::vec(0usize..Group::COUNT, 0..500),
        ) {
            let mut monitor = Monitor::new(eligible.iter().map(|&i| group(i)), AlertBound::default());
            for &i in &impressions {
                monitor.record(group(i));
            }
            let mut batch = [0u64; Group::COUNT];
            for &i in &impressions {
                batch[i] += 1;
            }
            prop_assert_eq!(monitor.delivered_counts(), &batch);
            let report = monitor.report();
            prop_assert_eq!(report.impressions, impressions.len() as u64);
            prop_assert_eq!(report.eligible, eligible.len() as u64);
            let recount: u64 = report.gender.rows.iter().map(|r| r.delivered).sum();
            prop_assert_eq!(recount, impressions.len() as u64);
            for tv in [report.gender.total_variation, report.age.total_variation, report.joint_total_variation] {
                prop_assert!((0.0..=1.0 + 1e-12).contains(&tv));
            }
            // Marginal distances never exceed the joint one.
            prop_assert!(report.gender.total_variation <= report.joint_total_variation + 1e-12);
            prop_assert!(report.age.total_variation <= report.joint_total_variation + 1e-12);
        }
    }
}
