//! The conditions rules may test, each defined once: its name in rule files, its scope
//! (what part of a request it reads), how its value is read off the request's signals,
//! and the evidence a reviewer sees for that value.
//!
//! Adding a condition touches this module only: a variant of [`Predicate`], its row in
//! `DEFINITIONS`, and its reading function. Everything else is derived from the row:
//! whether a rule can gate a candidate at index time (its conditions are all
//! viewer-independent), whether it applies to a candidate with no account behind it (a
//! suggestion or a hashtag), and the words of its evidence.
//!
//! What a reading must never do: answer `No` for a signal it does not have. A missing
//! signal is [`Tristate::Unknown`], which rules treat as the unsafe answer.

use std::fmt;

use guardrail_text::Tier;
use guardrail_types::{AgeBand, Provenance, Source, TextDecision};
use serde::Serialize;

use crate::decide::{Candidate, Context};
use crate::rules::Thresholds;
use crate::signals::{AccountSignals, Relationship};

/// A condition a rule can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Predicate {
    /// A reviewer or enforcement flagged the candidate account.
    CandidateFlagged,
    /// The candidate account carries a high-risk signal.
    CandidateHighRisk,
    /// The candidate account carries any risk signal.
    CandidateRiskFlagged,
    /// The network map lists the candidate account as a network member.
    CandidateNetworkMember,
    /// The candidate account is a declared minor.
    CandidateMinor,
    /// The candidate account or item features minors.
    CandidateFeaturesMinors,
    /// The candidate's entity (the person behind it) was actioned.
    CandidateEntityActioned,
    /// The viewer is a declared adult.
    ViewerAdult,
    /// The viewer is a declared minor.
    ViewerMinor,
    /// The viewer carries any risk signal.
    ViewerRiskFlagged,
    /// The viewer carries a high-risk signal.
    ViewerHighRisk,
    /// Viewer and candidate follow each other in at least one direction.
    RelationConnected,
    /// One blocked the other.
    RelationBlocked,
    /// The query (search text or typed prefix) is blocked by the text guard.
    QueryBlocked,
    /// The query is restricted by the text guard.
    QueryRestricted,
    /// The candidate text (a suggestion or a hashtag) is blocked or restricted by the
    /// text guard, or restricted as a variant of a blocked tag.
    ItemRestricted,
}

/// What part of a request a condition reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The candidate account's signals.
    CandidateAccount,
    /// The candidate item itself (its text, its content flags).
    CandidateItem,
    /// The viewer's signals.
    Viewer,
    /// How viewer and candidate are related.
    Relation,
    /// The typed query.
    Query,
}

impl Scope {
    /// Whether a condition of this scope is decided without a viewer, a relationship or
    /// a query, so that it can gate a candidate when it enters a recommendation index.
    pub fn viewer_independent(self) -> bool {
        matches!(self, Scope::CandidateAccount | Scope::CandidateItem)
    }

    /// Whether the condition is about a candidate account, and so does not apply to a
    /// candidate with no account behind it (a suggestion, a hashtag).
    fn needs_candidate_account(self) -> bool {
        matches!(self, Scope::CandidateAccount | Scope::Relation)
    }
}

/// Three-valued truth: a signal may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tristate {
    /// Known to hold.
    Yes,
    /// Known not to hold.
    No,
    /// A signal it needs is missing.
    Unknown,
}

impl Tristate {
    fn from_bool(value: bool) -> Tristate {
        if value { Tristate::Yes } else { Tristate::No }
    }

    /// Any of several partial answers: yes if one is yes, no if all are no.
    fn any(values: impl IntoIterator<Item = Tristate>) -> Tristate {
        let mut result = Tristate::No;
        for value in values {
            match value {
                Tristate::Yes => return Tristate::Yes,
                Tristate::Unknown => result = Tristate::Unknown,
                Tristate::No => {}
            }
        }
        result
    }

    /// The word used in output.
    pub fn name(self) -> &'static str {
        match self {
            Tristate::Yes => "yes",
            Tristate::No => "no",
            Tristate::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Tristate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a reading should build its evidence (the first pass over a rule only needs
/// values: most rules do not fire, and need no evidence built).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    Value,
    ValueAndEvidence,
}

/// A condition's value on one request, with the evidence behind it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reading {
    pub value: Tristate,
    pub evidence: Vec<Provenance>,
}

/// The text guard's reading of a text of the request (the query, or the candidate's
/// text), made once per request.
#[derive(Debug, Clone, Default)]
pub(crate) struct TextReading {
    /// The text, when the request has one.
    pub text: Option<String>,
    /// The text guard's decision on it.
    pub decision: Option<TextDecision>,
    /// The rule that decided, when the decision is not `allow`.
    pub rule: Option<String>,
}

/// Reads conditions off the signals of one request.
pub(crate) struct Reader<'a> {
    pub thresholds: &'a Thresholds,
    pub context: &'a Context<'a>,
    pub candidate: &'a Candidate<'a>,
    pub query: &'a TextReading,
    pub item: &'a TextReading,
}

struct Definition {
    predicate: Predicate,
    name: &'static str,
    scope: Scope,
    read: fn(&Reader, Want) -> Reading,
}

/// One row per predicate, in the order of the enum's variants.
const DEFINITIONS: [Definition; 16] = [
    Definition {
        predicate: Predicate::CandidateFlagged,
        name: "candidate.flagged",
        scope: Scope::CandidateAccount,
        read: |r, want| flagged(r.candidate_account(), want),
    },
    Definition {
        predicate: Predicate::CandidateHighRisk,
        name: "candidate.high_risk",
        scope: Scope::CandidateAccount,
        read: |r, want| {
            let account = r.candidate_account();
            reading(high_risk(account, r.thresholds), want, || {
                risk_evidence(account, "candidate")
            })
        },
    },
    Definition {
        predicate: Predicate::CandidateRiskFlagged,
        name: "candidate.risk_flagged",
        scope: Scope::CandidateAccount,
        read: |r, want| {
            let account = r.candidate_account();
            reading(risk_flagged(account, r.thresholds), want, || {
                risk_evidence(account, "candidate")
            })
        },
    },
    Definition {
        predicate: Predicate::CandidateNetworkMember,
        name: "candidate.network_member",
        scope: Scope::CandidateAccount,
        read: |r, want| {
            let account = r.candidate_account();
            let member = account.and_then(|a| a.network.as_ref().map(|n| n.member));
            reading(flag(member), want, || {
                account.map(network_evidence).into_iter().collect()
            })
        },
    },
    Definition {
        predicate: Predicate::CandidateMinor,
        name: "candidate.minor",
        scope: Scope::CandidateAccount,
        read: |r, want| age_reading(r.candidate_account(), AgeBand::Minor, "candidate", want),
    },
    Definition {
        predicate: Predicate::CandidateFeaturesMinors,
        name: "candidate.features_minors",
        scope: Scope::CandidateItem,
        read: features_minors,
    },
    Definition {
        predicate: Predicate::CandidateEntityActioned,
        name: "candidate.entity_actioned",
        scope: Scope::CandidateAccount,
        read: |r, want| {
            let account = r.candidate_account();
            let actioned = account.and_then(|a| a.entity_actioned);
            reading(flag(actioned), want, || {
                account.map(entity_evidence).into_iter().collect()
            })
        },
    },
    Definition {
        predicate: Predicate::ViewerAdult,
        name: "viewer.adult",
        scope: Scope::Viewer,
        read: |r, want| age_reading(r.context.viewer, AgeBand::Adult, "viewer", want),
    },
    Definition {
        predicate: Predicate::ViewerMinor,
        name: "viewer.minor",
        scope: Scope::Viewer,
        read: |r, want| age_reading(r.context.viewer, AgeBand::Minor, "viewer", want),
    },
    Definition {
        predicate: Predicate::ViewerRiskFlagged,
        name: "viewer.risk_flagged",
        scope: Scope::Viewer,
        read: |r, want| {
            let viewer = r.context.viewer;
            reading(risk_flagged(viewer, r.thresholds), want, || {
                risk_evidence(viewer, "viewer")
            })
        },
    },
    Definition {
        predicate: Predicate::ViewerHighRisk,
        name: "viewer.high_risk",
        scope: Scope::Viewer,
        read: |r, want| {
            let viewer = r.context.viewer;
            reading(high_risk(viewer, r.thresholds), want, || {
                risk_evidence(viewer, "viewer")
            })
        },
    },
    Definition {
        predicate: Predicate::RelationConnected,
        name: "relation.connected",
        scope: Scope::Relation,
        read: |r, want| {
            let relation = r.candidate.relationship;
            let value = match relation {
                Some(r) => Tristate::from_bool(r.viewer_follows || r.followed_by),
                None => Tristate::Unknown,
            };
            reading(value, want, || vec![relationship_evidence(relation)])
        },
    },
    Definition {
        predicate: Predicate::RelationBlocked,
        name: "relation.blocked",
        scope: Scope::Relation,
        read: |r, want| {
            let relation = r.candidate.relationship;
            let value = match relation {
                Some(r) => Tristate::from_bool(r.blocked),
                None => Tristate::Unknown,
            };
            reading(value, want, || vec![relationship_evidence(relation)])
        },
    },
    Definition {
        predicate: Predicate::QueryBlocked,
        name: "query.blocked",
        scope: Scope::Query,
        read: |r, want| {
            // No query on this request: nothing to block.
            let value = r.query.decision.map_or(Tristate::No, |d| {
                Tristate::from_bool(d == TextDecision::Block)
            });
            reading(value, want, || vec![text_evidence("query", r.query)])
        },
    },
    Definition {
        predicate: Predicate::QueryRestricted,
        name: "query.restricted",
        scope: Scope::Query,
        read: |r, want| {
            let value = r.query.decision.map_or(Tristate::No, |d| {
                Tristate::from_bool(d >= TextDecision::Restrict)
            });
            reading(value, want, || vec![text_evidence("query", r.query)])
        },
    },
    Definition {
        predicate: Predicate::ItemRestricted,
        name: "item.restricted",
        scope: Scope::CandidateItem,
        read: item_restricted,
    },
];

impl Predicate {
    /// Every predicate.
    pub const ALL: [Predicate; 16] = [
        Predicate::CandidateFlagged,
        Predicate::CandidateHighRisk,
        Predicate::CandidateRiskFlagged,
        Predicate::CandidateNetworkMember,
        Predicate::CandidateMinor,
        Predicate::CandidateFeaturesMinors,
        Predicate::CandidateEntityActioned,
        Predicate::ViewerAdult,
        Predicate::ViewerMinor,
        Predicate::ViewerRiskFlagged,
        Predicate::ViewerHighRisk,
        Predicate::RelationConnected,
        Predicate::RelationBlocked,
        Predicate::QueryBlocked,
        Predicate::QueryRestricted,
        Predicate::ItemRestricted,
    ];

    fn definition(self) -> &'static Definition {
        let definition = &DEFINITIONS[self as usize];
        debug_assert_eq!(definition.predicate, self, "DEFINITIONS is in enum order");
        definition
    }

    /// The name used in rule files.
    pub fn name(self) -> &'static str {
        self.definition().name
    }

    /// What part of a request it reads.
    pub fn scope(self) -> Scope {
        self.definition().scope
    }

    /// The predicate a rule file names, if any.
    pub fn parse(name: &str) -> Option<Predicate> {
        Predicate::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Reads the predicate off a request.
    pub(crate) fn read(self, reader: &Reader, want: Want) -> Reading {
        let definition = self.definition();
        // Account and relationship conditions do not apply to a text candidate (a
        // suggestion or hashtag with no account behind it).
        if definition.scope.needs_candidate_account() && reader.candidate.account.is_none() {
            return reading(Tristate::No, want, || {
                vec![Provenance::new(
                    Source::Declared,
                    "no account behind this candidate",
                )]
            });
        }
        (definition.read)(reader, want)
    }
}

impl Reader<'_> {
    fn candidate_account(&self) -> Option<&AccountSignals> {
        self.candidate.account
    }
}

fn reading(value: Tristate, want: Want, evidence: impl FnOnce() -> Vec<Provenance>) -> Reading {
    Reading {
        value,
        evidence: match want {
            Want::Value => Vec::new(),
            Want::ValueAndEvidence => evidence(),
        },
    }
}

fn flag(value: Option<bool>) -> Tristate {
    match value {
        Some(value) => Tristate::from_bool(value),
        None => Tristate::Unknown,
    }
}

fn age_is(account: Option<&AccountSignals>, band: AgeBand) -> Tristate {
    match account.and_then(|a| a.age) {
        Some(age) => Tristate::from_bool(age == band),
        None => Tristate::Unknown,
    }
}

/// High risk: flagged, a network member or high network score, a restrict/block text
/// match, a known-image match, an actioned entity, or many minors blocking/reporting.
fn high_risk(account: Option<&AccountSignals>, thresholds: &Thresholds) -> Tristate {
    let Some(account) = account else {
        return Tristate::Unknown;
    };
    Tristate::any([
        flag(account.flagged),
        flag(
            account
                .network
                .as_ref()
                .map(|n| n.member || n.score >= thresholds.high_risk_network_score),
        ),
        flag(
            account
                .text
                .as_ref()
                .map(|t| t.worst_tier.is_some_and(|tier| tier >= Tier::Restrict)),
        ),
        flag(account.hash.as_ref().map(|h| h.matches > 0)),
        flag(account.entity_actioned),
        flag(
            account
                .blocks_reports_from_minors
                .map(|n| n >= thresholds.high_risk_minor_reports),
        ),
    ])
}

/// Any risk signal: high risk, or a network score, text risk or a single report from a
/// minor above the lower thresholds.
fn risk_flagged(account: Option<&AccountSignals>, thresholds: &Thresholds) -> Tristate {
    let Some(account) = account else {
        return Tristate::Unknown;
    };
    Tristate::any([
        high_risk(Some(account), thresholds),
        flag(
            account
                .network
                .as_ref()
                .map(|n| n.score >= thresholds.risk_signal_network_score),
        ),
        flag(
            account.text.as_ref().map(|t| {
                t.risk_score >= thresholds.risk_signal_text_score || t.worst_tier.is_some()
            }),
        ),
        flag(account.blocks_reports_from_minors.map(|n| n >= 1)),
    ])
}

fn flagged(account: Option<&AccountSignals>, want: Want) -> Reading {
    let value = account.and_then(|a| a.flagged);
    reading(flag(value), want, || {
        let detail = match (account, value) {
            (Some(a), Some(true)) => {
                format!(
                    "account {}: flagged by a reviewer or enforcement",
                    a.shown()
                )
            }
            (Some(a), Some(false)) => format!("account {}: not flagged", a.shown()),
            (Some(a), None) => format!("account {}: whether it is flagged is unknown", a.shown()),
            (None, _) => "account unknown".to_string(),
        };
        vec![Provenance::new(Source::Reviewer, detail)]
    })
}

fn age_reading(account: Option<&AccountSignals>, band: AgeBand, who: &str, want: Want) -> Reading {
    reading(age_is(account, band), want, || {
        let detail = match account {
            Some(a) => match a.age {
                Some(age) => format!("account {}: age {age}", a.shown()),
                None => format!("account {}: age not declared", a.shown()),
            },
            None => format!("{who} unknown"),
        };
        vec![Provenance::new(Source::Declared, detail)]
    })
}

fn features_minors(reader: &Reader, want: Want) -> Reading {
    let account = reader.candidate_account();
    // A text candidate with no flag of its own features no one.
    let item =
        reader
            .candidate
            .features_minors
            .or(if account.is_none() { Some(false) } else { None });
    let value = Tristate::any([
        flag(item),
        account.map_or(Tristate::No, |a| flag(a.features_minors)),
    ]);
    reading(value, want, || {
        let words = |value: Option<bool>, what: &str| match value {
            Some(true) => format!("{what} features minors"),
            Some(false) => format!("{what} does not feature minors"),
            None => format!("unknown whether {what} features minors"),
        };
        let mut detail = words(reader.candidate.features_minors, "the item");
        if let Some(account) = account {
            detail.push_str("; ");
            detail.push_str(&words(
                account.features_minors,
                &format!("account {}'s content", account.shown()),
            ));
        }
        vec![Provenance::new(Source::Declared, detail)]
    })
}

fn item_restricted(reader: &Reader, want: Want) -> Reading {
    let variant = flag(reader.candidate.variant_restricted.or(Some(false)));
    let text = reader.item.decision.map_or(Tristate::No, |decision| {
        Tristate::from_bool(decision != TextDecision::Allow)
    });
    reading(Tristate::any([variant, text]), want, || {
        let mut evidence = Vec::new();
        if reader.item.text.is_some() {
            evidence.push(text_evidence("suggestion", reader.item));
        }
        if reader.candidate.variant_restricted == Some(true) {
            evidence.push(Provenance::new(
                Source::VariantClusters,
                "restricted as a variant of blocked tags",
            ));
        }
        evidence
    })
}

fn text_evidence(what: &str, text: &TextReading) -> Provenance {
    let shown = text.text.as_deref().unwrap_or("");
    let detail = match (text.decision, &text.rule) {
        (None, _) => format!("no {what}"),
        (Some(decision), Some(rule)) => format!("{what} {shown:?}: {decision} by {rule}"),
        (Some(decision), None) => format!("{what} {shown:?}: {decision}"),
    };
    Provenance::new(Source::TextGuard, detail)
}

/// Words for a relationship: `not connected (no follow either way, no block, no report)`.
fn relationship_evidence(relation: Option<Relationship>) -> Provenance {
    let Some(r) = relation else {
        return Provenance::new(Source::Relationships, "relationship unknown");
    };
    let follows = match (r.viewer_follows, r.followed_by) {
        (true, true) => "they follow each other",
        (true, false) => "the viewer follows the candidate",
        (false, true) => "the candidate follows the viewer",
        (false, false) => "no follow either way",
    };
    let block = if r.blocked { "blocked" } else { "no block" };
    let report = if r.reported {
        "the viewer reported the candidate"
    } else {
        "no report"
    };
    let connected = if r.viewer_follows || r.followed_by {
        "connected"
    } else {
        "not connected"
    };
    Provenance::new(
        Source::Relationships,
        format!("{connected} ({follows}, {block}, {report})"),
    )
}

fn network_evidence(account: &AccountSignals) -> Provenance {
    let detail = match &account.network {
        None => format!(
            "account {}: not mapped yet (network signal unknown)",
            account.shown()
        ),
        Some(network) => {
            let member = if network.member {
                "network member"
            } else {
                "not a network member"
            };
            let role = network
                .role
                .map_or("no role".to_string(), |r| format!("role {r}"));
            format!(
                "account {}: score {:.3}, {member}, {role}",
                account.shown(),
                network.score
            )
        }
    };
    Provenance::new(Source::NetworkMap, detail)
}

fn entity_evidence(account: &AccountSignals) -> Provenance {
    let detail = match account.entity_actioned {
        Some(true) => format!(
            "account {}: the person behind it was actioned (linked accounts)",
            account.shown()
        ),
        Some(false) => format!("account {}: entity not actioned", account.shown()),
        None => format!("account {}: entity links unknown", account.shown()),
    };
    Provenance::new(Source::EntityLinks, detail)
}

/// Every risk signal an account carries, and the ones that are unknown.
fn risk_evidence(account: Option<&AccountSignals>, who: &str) -> Vec<Provenance> {
    let Some(account) = account else {
        return vec![Provenance::new(Source::Declared, format!("{who} unknown"))];
    };
    let id = account.shown();
    let mut evidence = vec![network_evidence(account)];
    match &account.text {
        Some(text) if text.worst_tier.is_some() || text.risk_score > 0.0 => {
            let tier = text
                .worst_tier
                .map_or("no tier".to_string(), |t| format!("tier {}", t.name()));
            evidence.push(Provenance::new(
                Source::TextGuard,
                format!(
                    "account {id}: {tier}, risk {:.2}, rules {}",
                    text.risk_score,
                    text.rules.join(", ")
                ),
            ));
        }
        Some(_) => {}
        None => evidence.push(Provenance::new(
            Source::TextGuard,
            format!("account {id}: text not read (unknown)"),
        )),
    }
    match &account.hash {
        Some(hash) if hash.matches > 0 => evidence.push(Provenance::new(
            Source::HashMatch,
            format!(
                "account {id}: {} known-image matches in {}",
                hash.matches,
                hash.banks.join(", ")
            ),
        )),
        Some(_) => {}
        None => evidence.push(Provenance::new(
            Source::HashMatch,
            format!("account {id}: uploads not matched (unknown)"),
        )),
    }
    if account.flagged != Some(false) {
        evidence.extend(flagged(Some(account), Want::ValueAndEvidence).evidence);
    }
    if account.entity_actioned != Some(false) {
        evidence.push(entity_evidence(account));
    }
    match account.blocks_reports_from_minors {
        Some(0) => {}
        Some(count) => evidence.push(Provenance::new(
            Source::Relationships,
            format!("account {id}: blocked or reported by {count} minors"),
        )),
        None => evidence.push(Provenance::new(
            Source::Relationships,
            format!("account {id}: blocks and reports from minors unknown"),
        )),
    }
    evidence
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_predicate_has_its_own_row_in_enum_order() {
        for (index, predicate) in Predicate::ALL.into_iter().enumerate() {
            assert_eq!(predicate as usize, index);
            assert_eq!(DEFINITIONS[index].predicate, predicate);
            assert_eq!(Predicate::parse(predicate.name()), Some(predicate));
        }
        let mut names: Vec<&str> = Predicate::ALL.iter().map(|p| p.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Predicate::ALL.len(), "names are unique");
    }

    #[test]
    fn scopes_follow_the_names() {
        for predicate in Predicate::ALL {
            let prefix = predicate.name().split('.').next().unwrap_or_default();
            let expected: &[Scope] = match prefix {
                "candidate" => &[Scope::CandidateAccount, Scope::CandidateItem],
                "viewer" => &[Scope::Viewer],
                "relation" => &[Scope::Relation],
                "query" => &[Scope::Query],
                "item" => &[Scope::CandidateItem],
                other => panic!("unexpected prefix {other}"),
            };
            assert!(expected.contains(&predicate.scope()), "{predicate:?}");
        }
    }

    #[test]
    fn relationships_read_as_words() {
        let cases = [
            (
                Relationship::default(),
                "not connected (no follow either way, no block, no report)",
            ),
            (
                Relationship {
                    viewer_follows: true,
                    ..Relationship::default()
                },
                "connected (the viewer follows the candidate, no block, no report)",
            ),
            (
                Relationship {
                    followed_by: true,
                    blocked: true,
                    reported: true,
                    ..Relationship::default()
                },
                "connected (the candidate follows the viewer, blocked, the viewer reported the candidate)",
            ),
        ];
        for (relation, words) in cases {
            assert_eq!(relationship_evidence(Some(relation)).detail, words);
        }
        assert_eq!(relationship_evidence(None).detail, "relationship unknown");
    }
}
