//! The autocomplete guard: filters suggestion candidates through the policy at
//! suggestion time, so that a banned term cannot come back as a completion of its
//! prefix, with a suffix appended, or as any disguised variant.
//!
//! Every candidate is checked on the `autocomplete` surface (restricted terms and
//! elevated risk are dropped, not just blocked ones). A prefix that is itself blocked
//! as a search gets no suggestions at all: completing a blocked query is how the
//! platform in the published reporting undid its own search bans.

use serde::Serialize;

use crate::policy::Policy;
use guardrail_types::{TextDecision, TextPlace};

use crate::verdict::{TextVerdict, check};

/// What happened to one candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateOutcome {
    /// The candidate as given.
    pub candidate: String,
    /// Whether it may be suggested.
    pub kept: bool,
    /// Why: the candidate's own verdict on the autocomplete surface.
    pub verdict: TextVerdict,
}

/// The filtered suggestions for one prefix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestions {
    /// The prefix's verdict as a search.
    pub prefix_verdict: TextVerdict,
    /// Every candidate with its outcome, in the order given.
    pub candidates: Vec<CandidateOutcome>,
}

impl Suggestions {
    /// The candidates that may be suggested, in order.
    pub fn kept(&self) -> impl Iterator<Item = &str> {
        self.candidates
            .iter()
            .filter(|c| c.kept)
            .map(|c| c.candidate.as_str())
    }
}

/// Filters autocomplete candidates for a typed prefix.
pub fn filter_suggestions<'a>(
    policy: &Policy,
    prefix: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Suggestions {
    let prefix_verdict = check(policy, TextPlace::Search, prefix);
    let prefix_blocked = prefix_verdict.decision == TextDecision::Block;
    let candidates = candidates
        .into_iter()
        .map(|candidate| {
            let verdict = check(policy, TextPlace::Autocomplete, candidate);
            CandidateOutcome {
                candidate: candidate.to_string(),
                kept: !prefix_blocked && verdict.decision == TextDecision::Allow,
                verdict,
            }
        })
        .collect();
    Suggestions {
        prefix_verdict,
        candidates,
    }
}
