//! Verdicts: what a surface may do with a text, and why.
//!
//! Tiers are policy; surfaces decide what a tier means for them. The table (also in
//! README.md) is deliberately strict where a platform *suggests* (autocomplete, where a
//! suggestion is the platform's own speech) and where a name is chosen once and shown
//! everywhere (usernames):
//!
//! | surface        | `block` match | `restrict` match | risk ≥ `restrict_at` | risk ≥ `restrict_at`/2 |
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

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::matcher::{Match, find_matches};
use crate::normalize::{Diagnostic, DiagnosticKind, NormalizeOptions, normalize};
use crate::policy::{Policy, Tier};

/// Where a text is about to be shown, suggested or searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// A search query.
    Search,
    /// A hashtag being used, listed or trended.
    Hashtag,
    /// An autocomplete suggestion.
    Autocomplete,
    /// A profile bio.
    Bio,
    /// A post caption.
    Caption,
    /// A comment.
    Comment,
    /// A username or display name.
    Username,
}

impl Surface {
    /// Every surface.
    pub const ALL: [Surface; 7] = [
        Surface::Search,
        Surface::Hashtag,
        Surface::Autocomplete,
        Surface::Bio,
        Surface::Caption,
        Surface::Comment,
        Surface::Username,
    ];

    /// The surface's name in the CLI and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Surface::Search => "search",
            Surface::Hashtag => "hashtag",
            Surface::Autocomplete => "autocomplete",
            Surface::Bio => "bio",
            Surface::Caption => "caption",
            Surface::Comment => "comment",
            Surface::Username => "username",
        }
    }

    /// What a match of each tier, and the risk score, mean on this surface.
    fn treatment(self) -> Treatment {
        use Decision::{Allow, Block, Restrict};
        match self {
            Surface::Autocomplete => Treatment {
                block: Block,
                restrict: Block,
                high_risk: Block,
                elevated_risk: Block,
            },
            Surface::Username => Treatment {
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

    fn options(self) -> NormalizeOptions {
        NormalizeOptions {
            // A hashtag or a username is one token: its CamelCase marks its words.
            split_camel_case_everywhere: matches!(self, Surface::Hashtag | Surface::Username),
            ..NormalizeOptions::default()
        }
    }
}

impl fmt::Display for Surface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a surface.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown surface {0:?}; expected one of search, hashtag, autocomplete, bio, caption, comment, username"
)]
pub struct UnknownSurface(pub String);

impl FromStr for Surface {
    type Err = UnknownSurface;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Surface::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| UnknownSurface(name.to_string()))
    }
}

struct Treatment {
    block: Decision,
    restrict: Decision,
    high_risk: Decision,
    elevated_risk: Decision,
}

/// What the surface may do with the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Show, suggest and search as usual.
    Allow,
    /// Show where asked for, but never suggest, recommend, autocomplete or trend.
    Restrict,
    /// Do not show; searches return no results and help resources.
    Block,
}

impl Decision {
    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Restrict => "restrict",
            Decision::Block => "block",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The verdict on one text for one surface, with every reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextVerdict {
    /// What the surface may do.
    pub decision: Decision,
    /// The surface the text was checked for.
    pub surface: Surface,
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

/// Checks valid text for a surface.
pub fn check(policy: &Policy, surface: Surface, text: &str) -> TextVerdict {
    check_bytes(policy, surface, text.as_bytes())
}

/// Checks raw input bytes (which need not be valid UTF-8) for a surface.
pub fn check_bytes(policy: &Policy, surface: Surface, input: &[u8]) -> TextVerdict {
    let normalized = normalize(input, &surface.options());
    let mut matches = Vec::new();
    let mut diagnostics = normalized.diagnostics().to_vec();
    if find_matches(policy, &normalized, MAX_LISTED_MATCHES, &mut matches) {
        diagnostics.push(Diagnostic {
            kind: DiagnosticKind::TooManyMatches,
            message: format!("more than {MAX_LISTED_MATCHES} matches; the rest are not listed"),
            span: None,
        });
    }
    decide(policy, surface, matches, diagnostics)
}

fn decide(
    policy: &Policy,
    surface: Surface,
    matches: Vec<Match>,
    diagnostics: Vec<Diagnostic>,
) -> TextVerdict {
    let treatment = surface.treatment();
    let mut decision = Decision::Allow;
    let mut decided_by: Cow<'static, str> = Cow::Borrowed("none");
    let mut consider = |candidate: Decision, reason: Cow<'static, str>| {
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
        consider(Decision::Restrict, Cow::Borrowed("truncated_input"));
    }
    TextVerdict {
        decision,
        surface,
        decided_by,
        risk_score,
        matches,
        diagnostics,
    }
}
