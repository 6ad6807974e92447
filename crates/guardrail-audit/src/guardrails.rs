//! The seam where a guardrail layer plugs into the experiments.
//!
//! What it is for: running the same experiment, with the same seeded behaviours, once on
//! the platform as it was ([`Off`]: behavioural discovery, an exact ban list with an
//! interstitial) and once with Guardrail ([`On`]: the adapter's guard, built from the
//! public world only). The experiment code calls the layer at every point where a platform
//! would: when an engagement enters the index, when a candidate is served, when a query or
//! suggestion is decided, when an ad is delivered, when accounts are taken down. Accounts
//! created during a run (test probes, returning sellers) need no call: a layer that has
//! never seen an id treats it as unknown.
//!
//! What it must never do: hand a layer ground truth. Nothing here names it.

use std::collections::BTreeMap;
use std::sync::Arc;

use guardrail_adapter::{Guard, MemoryLog, replay_check};
use guardrail_ads::{Control, ControllerConfig, DeliveryGate};
use guardrail_policy::RuleSet;
use guardrail_recommend::{AllowAll, CandidateGate, ExactBanList, QueryPolicy};
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_text::Policy;
use guardrail_types::{AccountId, Day};
use guardrail_world::World;

use crate::metrics::{Metric, Metrics};

/// A guardrail layer as the experiments see it.
pub trait Guardrails {
    /// `off` or `on` (reported with every result).
    fn name(&self) -> &str;
    /// The gate consulted at index time and serving time.
    fn gate(&self) -> &dyn CandidateGate;
    /// The policy for search queries, autocomplete and related hashtags.
    fn query_policy(&self) -> &dyn QueryPolicy;
    /// The gate consulted before an ad impression.
    fn delivery_gate(&self) -> &dyn DeliveryGate;
    /// Whether the delivery gate applies Guardrail's risk flags (when not, E4 scores flagged
    /// impressions with Guardrail's default layer built from the same public world).
    fn flags_risk(&self) -> bool {
        false
    }
    /// How ad delivery balances the eligible audience (E5).
    fn delivery_control(&self) -> Control {
        Control::None
    }
    /// The platform took these accounts down on logical day `at` (enforcement).
    fn take_down(&mut self, accounts: &[AccountId], at: Day);
    /// A post was published with these hashtags (the layer may learn variants from it).
    fn observe_post(&mut self, hashtags: &[String]) {
        let _ = hashtags;
    }
    /// Figures about the layer's own decisions over the run (for example whether its
    /// shadow mode and backfill reproduce them), merged into the experiment's metrics.
    fn run_metrics(&self) -> Metrics {
        Metrics::new()
    }
}

/// The platform as it was: everything passes, and the exact ban list puts an
/// interstitial with "see results anyway" on its own terms.
#[derive(Debug, Clone)]
pub struct Off {
    ban_list: ExactBanList,
}

impl Default for Off {
    fn default() -> Self {
        Off {
            ban_list: ExactBanList::new(BANNED_BASES),
        }
    }
}

impl Guardrails for Off {
    fn name(&self) -> &str {
        "off"
    }
    fn gate(&self) -> &dyn CandidateGate {
        &AllowAll
    }
    fn query_policy(&self) -> &dyn QueryPolicy {
        &self.ban_list
    }
    fn delivery_gate(&self) -> &dyn DeliveryGate {
        &guardrail_ads::AllowAll
    }
    fn take_down(&mut self, _accounts: &[AccountId], _at: Day) {}
}

/// Decisions kept per run for the shadow and backfill checks.
pub const LOG_CAPACITY: usize = 50_000;

/// Guardrail on: the adapter's guard, built from the public world, with an in-memory
/// decision log replayed at the end of the run.
#[derive(Debug)]
pub struct On {
    guard: Guard,
    log: Arc<MemoryLog>,
}

impl On {
    /// Builds the guard over `world` with a text policy and discovery rules.
    pub fn build(world: &World, policy: Policy, rules: RuleSet) -> On {
        let log = Arc::new(MemoryLog::new(LOG_CAPACITY));
        let guard = Guard::build(world, policy, rules, log.clone());
        On { guard, log }
    }

    /// The layer with the platform policy of the world's ban list and the shipped rules.
    pub fn build_default(world: &World) -> On {
        // The shipped policy parses; a failure here is a build defect, not an input error.
        let policy = guardrail_adapter::platform_policy(&BANNED_BASES)
            .unwrap_or_else(|e| panic!("the shipped platform policy must parse: {e}"));
        On::build(world, policy, RuleSet::default_rules())
    }

    /// The guard.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// How many of the run's logged decisions each rule decided, keyed `action: rule`
    /// (`allow: no rule` when none applied). The log keeps the first [`LOG_CAPACITY`]
    /// decisions of a run.
    pub fn decisions_by_rule(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for record in self.log.records() {
            let rule = record.decided_by.as_deref().unwrap_or("no rule");
            *counts
                .entry(format!("{}: {rule}", record.action.name()))
                .or_default() += 1;
        }
        counts
    }
}

impl Guardrails for On {
    fn name(&self) -> &str {
        "on"
    }

    fn gate(&self) -> &dyn CandidateGate {
        &self.guard
    }

    fn query_policy(&self) -> &dyn QueryPolicy {
        &self.guard
    }

    fn delivery_gate(&self) -> &dyn DeliveryGate {
        &self.guard
    }

    fn flags_risk(&self) -> bool {
        true
    }

    fn delivery_control(&self) -> Control {
        Control::Controller(ControllerConfig::default())
    }

    fn take_down(&mut self, accounts: &[AccountId], at: Day) {
        self.guard.take_down(accounts, at);
    }

    fn observe_post(&mut self, hashtags: &[String]) {
        self.guard.observe_post(hashtags);
    }

    fn run_metrics(&self) -> Metrics {
        let check = replay_check(self.guard.engine(), &self.log.records());
        let stats = self.guard.stats();
        let variants = self.guard.snapshot().variant_review_queue().len();
        Metrics::from([
            (Metric::Decisions, stats.decisions as f64),
            (Metric::DecisionsDropped, stats.drops as f64),
            (Metric::DecisionsFailClosed, stats.fail_closed as f64),
            (Metric::DecisionsReplayed, check.recorded as f64),
            (Metric::VariantTagsRestricted, variants as f64),
            (Metric::ShadowMismatches, check.shadow_mismatches as f64),
            (Metric::BackfillMismatches, check.backfill_mismatches as f64),
        ])
    }
}
