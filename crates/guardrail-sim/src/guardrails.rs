//! The seam where a guardrail layer plugs into the experiments.
//!
//! What it is for: running the same experiment, with the same seeded behaviours, once on
//! the platform as it was ([`Off`]: behavioural discovery, an exact ban list with an
//! interstitial) and once with a guardrail layer (`guardrail-deploy`'s, built from the
//! public world only). The experiment code calls the layer at every point where a
//! platform would: when an engagement enters the index, when a candidate is served, when a
//! query or suggestion is decided, when an ad is delivered, when accounts are taken down.
//! Accounts created during a run (test probes, returning sellers) need no call: a layer
//! that has never seen an id treats it as unknown. What it must never do: hand a layer ground truth. Nothing here names it.

use std::collections::BTreeMap;

use guardrail_ads::DeliveryGate;
use guardrail_recommend::{AllowAll, CandidateGate, ExactBanList, QueryPolicy};

use crate::vocabulary::BANNED_BASES;

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
    /// The platform took these accounts down at logical day `at` (enforcement).
    fn take_down(&mut self, accounts: &[u32], at: u64);
    /// Figures about the layer's own decisions over the run (for example whether its
    /// shadow mode and backfill reproduce them), merged into the experiment's metrics.
    fn run_metrics(&self) -> BTreeMap<String, f64> {
        BTreeMap::new()
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
    fn take_down(&mut self, _accounts: &[u32], _at: u64) {}
}
