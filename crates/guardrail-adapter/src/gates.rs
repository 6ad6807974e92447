//! The gates each reference discovery system calls, implemented by the guard.
//!
//! What it is for: the points where a platform consults Guardrail —
//! - index time ([`CandidateGate::admit_engagement`]): contamination control (reports,
//!   blocks and engagement with flagged, network or unknown accounts never feed
//!   co-engagement) and the engine's viewer-independent rules;
//! - serving time ([`CandidateGate::allow_candidate`]): the engine's rules for the surface;
//! - queries, autocomplete and related hashtags ([`QueryPolicy`]): blocked queries get no
//!   results at all, restricted and variant tags are never suggested;
//! - ads ([`DeliveryGate`]): no ad featuring a minor (by the advertiser's declaration or
//!   the classifier's signal, [`Campaign::features_minor`]) for viewers with risk signals.
//!
//! What it must never do: decide anything itself. Every gate is a call into the guard.

use guardrail_ads::{Campaign, DeliveryGate, Viewer};
use guardrail_policy::Action;
use guardrail_policy::contamination::feeds_coengagement;
use guardrail_recommend::{CandidateGate, Engagement, QueryDecision, QueryPolicy};
use guardrail_types::{AccountId, Surface};

use crate::guard::Guard;

impl CandidateGate for Guard {
    fn admit_engagement(&self, engagement: &Engagement) -> bool {
        let view = self.view();
        let target = view.snapshot().signals_of(engagement.target);
        if !feeds_coengagement(engagement.kind, &target, &self.engine().rules().thresholds).feeds {
            return false;
        }
        // Index-time gating: an account the serving rules would drop for anyone does not
        // enter the index either.
        self.engine()
            .index_gate(Surface::AccountSuggestions, &target)
            .action
            != Action::Drop
    }

    fn allow_candidate(
        &self,
        surface: Surface,
        viewer: Option<AccountId>,
        candidate: AccountId,
    ) -> bool {
        self.decide_account(surface, viewer, candidate).action != Action::Drop
    }
}

impl QueryPolicy for Guard {
    fn decide(&self, query: &str) -> QueryDecision {
        // Blocked queries get no results and help resources, with no way around.
        if self.decide_query(query).action == Action::Drop {
            QueryDecision::Block
        } else {
            QueryDecision::Allow
        }
    }

    fn allow_suggestion(&self, prefix: &str, suggestion: &str) -> bool {
        self.decide_text(Surface::Autocomplete, prefix, suggestion)
            .action
            != Action::Drop
    }
}

impl DeliveryGate for Guard {
    fn exclusion(&self, campaign: &Campaign, viewer: &Viewer) -> Option<String> {
        let verdict = self
            .view()
            .decide_delivery(viewer.account, campaign.features_minor());
        (verdict.action == Action::Drop).then(|| {
            verdict
                .decided_by
                .unwrap_or_else(|| "guardrail".to_string())
        })
    }
}
