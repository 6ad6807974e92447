//! The delivery controller: keeps each demographic group's share of an ad's impressions
//! within a margin of its share of the eligible audience, the way the Variance Reduction
//! System does for housing ads, and without levelling down.
//!
//! What it is for: the engagement-optimised pacer spends a budget on the viewers who are
//! cheapest and predicted to engage most, and for a child-photo ad targeted at mostly women
//! that is men. The controller acts at two points of every impression decision:
//! - [`Controller::boost`]: a bid multiplier per group, raised round by round for groups
//!   delivered below their eligible share, so the ad *wins more* of the under-served
//!   audience (it pays for it) instead of showing less to everyone;
//! - [`Controller::admit`]: a quota, so a group already above its eligible share plus the
//!   margin is passed over for the next-best won impression in another group.
//!
//! Both are array reads; the decision is meant to cost a few nanoseconds (see the
//! `controller` bench). Budget the quota leaves unspent in a round carries over to the next.
//!
//! What it must never do: read who a viewer is beyond their group, or exclude anyone: a
//! group is held back only while it is over its share, never gated.

use crate::groups::Group;

/// How the controller behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControllerConfig {
    /// Largest allowed excess of a group's delivered share over its eligible share.
    pub margin: f64,
    /// Impressions a group may take beyond its quota at any time (so the first impressions
    /// of a campaign are not refused for rounding).
    pub slack: f64,
    /// Multiplicative step of a group's bid boost per round while it is under-served.
    pub gain: f64,
    /// Largest bid boost (the most the advertiser pays over its own bid for balance).
    pub max_boost: f64,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            margin: 0.02,
            slack: 4.0,
            gain: 0.5,
            max_boost: 8.0,
        }
    }
}

/// The controller's state for one ad.
#[derive(Debug, Clone, PartialEq)]
pub struct Controller {
    target: [f64; Group::COUNT],
    delivered: [u64; Group::COUNT],
    // The same by gender and by age range: a margin on each of 21 joint groups alone would
    // let a gender exceed its share by up to seven margins, one per age range.
    gender_target: [f64; 3],
    gender_delivered: [u64; 3],
    age_target: [f64; 7],
    age_delivered: [u64; 7],
    total: u64,
    boost: [f64; Group::COUNT],
    config: ControllerConfig,
}

impl Controller {
    /// A controller whose targets are the shares of `eligible` (people per group).
    pub fn new(eligible: &[u64; Group::COUNT], config: ControllerConfig) -> Controller {
        let total = eligible.iter().sum::<u64>().max(1) as f64;
        let mut target = [0.0; Group::COUNT];
        let (mut gender_target, mut age_target) = ([0.0; 3], [0.0; 7]);
        for (group, &count) in Group::all().zip(eligible) {
            let share = count as f64 / total;
            target[group.index()] = share;
            gender_target[gender_slot(group)] += share;
            age_target[group.age() as usize] += share;
        }
        Controller {
            target,
            delivered: [0; Group::COUNT],
            gender_target,
            gender_delivered: [0; 3],
            age_target,
            age_delivered: [0; 7],
            total: 0,
            boost: [1.0; Group::COUNT],
            config,
        }
    }

    /// The bid multiplier for a viewer of `group`.
    #[inline]
    pub fn boost(&self, group: Group) -> f64 {
        self.boost[group.index()]
    }

    /// Whether one more impression to `group` keeps it, its gender and its age range each
    /// within their eligible share plus the margin.
    #[inline]
    pub fn admit(&self, group: Group) -> bool {
        let next = (self.total + 1) as f64;
        let within = |delivered: u64, target: f64| {
            ((delivered + 1) as f64) <= (target + self.config.margin) * next + self.config.slack
        };
        let (i, g, a) = (group.index(), gender_slot(group), group.age() as usize);
        within(self.delivered[i], self.target[i])
            && within(self.gender_delivered[g], self.gender_target[g])
            && within(self.age_delivered[a], self.age_target[a])
    }

    /// Records an impression delivered to `group`.
    #[inline]
    pub fn record(&mut self, group: Group) {
        self.delivered[group.index()] += 1;
        self.gender_delivered[gender_slot(group)] += 1;
        self.age_delivered[group.age() as usize] += 1;
        self.total += 1;
    }

    /// One decision: admit and, if admitted, record. Returns whether it was admitted.
    #[inline]
    pub fn decide(&mut self, group: Group) -> bool {
        let admitted = self.admit(group);
        if admitted {
            self.record(group);
        }
        admitted
    }

    /// Ends a round: when the round could not spend its budget (`short`: the quota passed
    /// over the won opportunities and nothing else was won), raises the boost of every group
    /// delivered below its eligible share; otherwise relaxes every boost back towards 1. The
    /// advertiser pays for balance only when balance would otherwise cost impressions.
    pub fn end_round(&mut self, short: bool) {
        if !short {
            for b in &mut self.boost {
                *b = (*b / (1.0 + self.config.gain)).max(1.0);
            }
            return;
        }
        if self.total == 0 {
            for b in &mut self.boost {
                *b = (*b * (1.0 + self.config.gain)).min(self.config.max_boost);
            }
            return;
        }
        let total = self.total as f64;
        for i in 0..Group::COUNT {
            if self.target[i] == 0.0 {
                continue;
            }
            let share = self.delivered[i] as f64 / total;
            self.boost[i] = if share < self.target[i] {
                (self.boost[i] * (1.0 + self.config.gain)).min(self.config.max_boost)
            } else {
                (self.boost[i] / (1.0 + self.config.gain)).max(1.0)
            };
        }
    }

    /// Impressions recorded per group.
    pub fn delivered(&self) -> &[u64; Group::COUNT] {
        &self.delivered
    }

    /// Target shares per group.
    pub fn targets(&self) -> &[f64; Group::COUNT] {
        &self.target
    }
}

fn gender_slot(group: Group) -> usize {
    group.index() / crate::groups::AgeRange::ALL.len()
}

#[cfg(test)]
mod tests {
    use guardrail_types::Gender;
    use proptest::prelude::*;

    use super::*;
    use crate::groups::AgeRange;

    fn two_groups(women: u64, men: u64) -> ([u64; Group::COUNT], Group, Group) {
        let w = Group::of(Gender::Woman, AgeRange::From25To34);
        let m = Group::of(Gender::Man, AgeRange::From25To34);
        let mut eligible = [0; Group::COUNT];
        eligible[w.index()] = women;
        eligible[m.index()] = men;
        (eligible, w, m)
    }

    #[test]
    fn the_quota_holds_a_group_to_its_share_plus_margin() {
        let (eligible, w, m) = two_groups(70, 30);
        let config = ControllerConfig {
            margin: 0.05,
            slack: 1.0,
            ..ControllerConfig::default()
        };
        let mut c = Controller::new(&eligible, config);
        // Men only ever offered: admitted until they exceed 35% of the impressions so far.
        let mut admitted = 0;
        for _ in 0..1000 {
            if c.decide(m) {
                admitted += 1;
            }
            // Women are offered too, so the total grows.
            c.decide(w);
        }
        let total = c.delivered().iter().sum::<u64>() as f64;
        let share = admitted as f64 / total;
        // Within the margin, up to the one impression of slack.
        assert!(share <= 0.35 + 1.0 / total, "{share}");
        assert!(share >= 0.30, "{share}");
    }

    #[test]
    fn boosts_rise_for_the_under_served_and_fall_back() {
        let (eligible, w, m) = two_groups(70, 30);
        let mut c = Controller::new(&eligible, ControllerConfig::default());
        for _ in 0..10 {
            c.record(m);
        }
        c.end_round(true);
        assert!(c.boost(w) > 1.0 && c.boost(m) == 1.0);
        for _ in 0..5 {
            c.end_round(true);
        }
        assert!(c.boost(w) <= ControllerConfig::default().max_boost);
        // A round that spent its budget relaxes the boost.
        for _ in 0..20 {
            c.end_round(false);
        }
        assert_eq!(c.boost(w), 1.0);
        // So does balance reached.
        c.end_round(true);
        for _ in 0..100 {
            c.record(w);
        }
        for _ in 0..20 {
            c.end_round(true);
        }
        assert_eq!(c.boost(w), 1.0);
    }

    proptest! {
        /// Whatever the offers, no group ever exceeds its share plus margin plus slack.
        #[test]
        fn no_group_exceeds_its_quota(
            eligible in proptest::collection::vec(0u64..50, Group::COUNT),
            offers in proptest::collection::vec(0usize..Group::COUNT, 0..2000),
        ) {
            let mut counts = [0; Group::COUNT];
            counts.copy_from_slice(&eligible);
            let config = ControllerConfig::default();
            let mut c = Controller::new(&counts, config);
            for &i in &offers {
                c.decide(Group::from_index(i).expect("in range"));
            }
            let total = c.delivered().iter().sum::<u64>() as f64;
            for g in Group::all() {
                let limit = (c.targets()[g.index()] + config.margin) * total + config.slack + 1.0;
                prop_assert!(c.delivered()[g.index()] as f64 <= limit);
                let gender: u64 = Group::all().filter(|h| h.gender() == g.gender()).map(|h| c.delivered()[h.index()]).sum();
                let gender_target: f64 = Group::all().filter(|h| h.gender() == g.gender()).map(|h| c.targets()[h.index()]).sum();
                prop_assert!(gender as f64 <= (gender_target + config.margin) * total + config.slack + 1.0);
                if counts[g.index()] == 0 {
                    prop_assert!(c.delivered()[g.index()] as f64 <= config.slack + config.margin * total + 1.0);
                }
            }
        }
    }
}
