//! Verdicts: what a place may do with a text, and why.
//!
//! Tiers are policy; places decide what a tier means for them. The table (also in
//! README.md) is deliberately strict where a platform *suggests* (autocomplete, where a
//! suggestion is the platform's own speech) and where a name is chosen once and shown
//! everywhere (usernames):
//!
//! | place          | `block` match | `restrict` match | risk ≥ `restrict_at` | risk ≥ `restrict_at`/2 |
//! |----------------|---------------|------------------|----------------------|------------------------|
//! | `search`       | block         | restrict         | restrict             | allow                  |
//! | `hashtag`      | block         | restrict         | restrict             | allow                  |
//! | `autocomplete` | block         | block            | block                | block                  |
//! | `bio`          | block         | restrict         | restrict             | allow                  |
//! | `caption`      | block         | restrict         | restrict             | allow                  |
//! | `comment`      | block         | restrict         | restrict             | allow                  |
//! | `username`     | block         | block            | restrict             | allow                  |
//!
//! Input that could not be evaluated in full (longer than the limit) is at least
//! `restrict`: the guard fails closed.

use guardrail_types::{TextDecision, TextPlace};
use serde::Serialize;
use std::borrow::Cow;

use crate::matcher::{Match, find_matches};
use crate::normalize::{Diagnostic, DiagnosticKind, NormalizeOptions, normalize};
use crate::policy::{Policy, Tier};

/// What a match of each tier, and the risk score, mean in each place.
fn treatment(place: TextPlace) -> Treatment {
    use TextDecision::{Allow, Block, Restrict};
    match place {
        TextPlace::Autocomplete => Treatment {
            block: Block,
            restrict: Block,
            high_risk: Block,
            elevated_risk: Block,
        },
        TextPlace::Username => Treatment {
            block: Block,
            restrict: Block,
            high_risk: Restrict,
            elevated_risk: Allow,
        },
        _ => Treatment {
            block: Block,
            restrict: Restrict,
            high_risk: Restrict,
            elevated_risk: Allow,
        },
    }
}

/// How a text is normalised in each place.
pub fn normalize_options(place: TextPlace) -> NormalizeOptions {
    NormalizeOptions {
        // A hashtag or a username is one token: its CamelCase marks its words.
        split_camel_case_everywhere: matches!(place, TextPlace::Hashtag | TextPlace::Username),
        ..NormalizeOptions::default()
    }
}

struct Treatment {
    block: TextDecision,
    restrict: TextDecision,
    high_risk: TextDecision,
    elevated_risk: TextDecision,
}

/// The verdict on one text in one place, with every reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextVerdict {
    /// What the place may do with the text.
    pub decision: TextDecision,
    /// Where the text sits.
    pub place: TextPlace,
    /// What decided: a rule id, `risk_score`, `truncated_input`, or `none` for allow.
    pub decided_by: Cow<'static, str>,
    /// Combined weight of `signal` matches, `1 - Π(1 - weight)`, in [0, 1].
    pub risk_score: f64,
    /// Every match, in the order found.
    pub matches: Vec<Match>,
    /// What was wrong with the input.
    pub diagnostics: Vec<Diagnostic>,
}

/// At most this many matches are listed per input; the verdict accounts for all tiers
/// seen before the cut, and a diagnostic says the list is incomplete.
pub const MAX_LISTED_MATCHES: usize = 256;

/// Checks valid text in a place.
pub fn check(policy: &Policy, place: TextPlace, text: &str) -> TextVerdict {
    check_bytes(policy, place, text.as_bytes())
}

/// Checks raw input bytes (which need not be valid UTF-8) in a place.
pub fn check_bytes(policy: &Policy, place: TextPlace, input: &[u8]) -> TextVerdict {
    // Fault injection (tests only): the text guard faults mid-check.
    fail::fail_point!("text::check");
    let normalized = normalize(input, &normalize_options(place));
    let mut matches = Vec::new();
    let mut diagnostics = normalized.diagnostics().to_vec();
    if find_matches(policy, &normalized, MAX_LISTED_MATCHES, &mut matches) {
        diagnostics.push(Diagnostic {
            kind: DiagnosticKind::TooManyMatches,
            message: format!("more than {MAX_LISTED_MATCHES} matches; the rest are not listed"),
            span: None,
        });
    }
    decide(policy, place, matches, diagnostics)
}

fn decide(
    policy: &Policy,
    place: TextPlace,
    matches: Vec<Match>,
    diagnostics: Vec<Diagnostic>,
) -> TextVerdict {
    let treatment = treatment(place);
    let mut decision = TextDecision::Allow;
    let mut decided_by: Cow<'static, str> = Cow::Borrowed("none");
    let mut consider = |candidate: TextDecision, reason: Cow<'static, str>| {
        if candidate > decision {
            decision = candidate;
            decided_by = reason;
        }
    };
    for found in &matches {
        match found.tier {
            Tier::Block => consider(treatment.block, Cow::Owned(found.rule.to_string())),
            Tier::Restrict => consider(treatment.restrict, Cow::Owned(found.rule.to_string())),
            Tier::Signal => {}
        }
    }
    // Each signal rule counts once, however often it matches.
    let mut counted: Vec<&str> = Vec::new();
    let mut keep = 1.0;
    for found in matches.iter().filter(|m| m.tier == Tier::Signal) {
        if !counted.contains(&&*found.rule) {
            counted.push(&*found.rule);
            keep *= 1.0 - found.weight;
        }
    }
    let risk_score = 1.0 - keep;
    let restrict_at = policy.scoring().restrict_at;
    if risk_score >= restrict_at - 1e-9 {
        consider(treatment.high_risk, Cow::Borrowed("risk_score"));
    } else if risk_score >= restrict_at / 2.0 - 1e-9 {
        consider(treatment.elevated_risk, Cow::Borrowed("risk_score"));
    }
    if diagnostics
        .iter()
        .any(|d| d.kind == DiagnosticKind::Truncated)
    {
        consider(TextDecision::Restrict, Cow::Borrowed("truncated_input"));
    }
    TextVerdict {
        decision,
        place,
        decided_by,
        risk_score,
        matches,
        diagnostics,
    }
}
