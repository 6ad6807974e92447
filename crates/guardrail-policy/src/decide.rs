//! The decision point: one call per candidate (or per batch) on a surface, returning
//! what the surface may do with it and why.
//!
//! Rules run in order. A rule *fires* when every `when` condition holds and no `unless`
//! condition holds. A condition whose signal is missing is treated as the unsafe answer
//! (holds for `when`, does not hold for `unless`), and the verdict marks itself
//! `fail_closed` and lists what was missing. The first enforced `drop` decides; an
//! enforced `downrank` or `interstitial` is kept (the strongest) while later rules may
//! still drop. Shadow rules never act; what they would have done is recorded.

use guardrail_text::{Decision, Tier};
use serde::Serialize;

use crate::rules::{Action, Mode, Predicate, Rule, RuleSet, Surface, Thresholds};
use crate::signals::{AccountSignals, AgeBand, Provenance, Relationship};

/// Three-valued truth: a signal may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Truth {
    /// Known to hold.
    Yes,
    /// Known not to hold.
    No,
    /// A signal it needs is missing.
    Unknown,
}

impl Truth {
    fn from_bool(value: bool) -> Truth {
        if value { Truth::Yes } else { Truth::No }
    }

    /// Any of several partial answers: yes if one is yes, no if all are no.
    fn any(values: impl IntoIterator<Item = Truth>) -> Truth {
        let mut result = Truth::No;
        for value in values {
            match value {
                Truth::Yes => return Truth::Yes,
                Truth::Unknown => result = Truth::Unknown,
                Truth::No => {}
            }
        }
        result
    }
}

/// A candidate for a surface: an account, a text (suggestion or hashtag), or a post
/// (an author account plus its own content flags).
#[derive(Debug, Clone, Copy, Default)]
pub struct Candidate<'a> {
    /// The account suggested, ranked or messaged (or the author of a post).
    pub account: Option<&'a AccountSignals>,
    /// The candidate's text: an autocomplete suggestion, a hashtag.
    pub text: Option<&'a str>,
    /// The hashtag was restricted as a variant of blocked tags (variant clusters).
    pub variant_restricted: Option<bool>,
    /// The item itself (a post) features minors.
    pub features_minors: Option<bool>,
    /// How the viewer and the candidate account are related.
    pub relationship: Option<Relationship>,
}

/// Everything a decision may read besides the candidate.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The surface asking.
    pub surface: Surface,
    /// Who will see the result (the sender, for message requests).
    pub viewer: Option<&'a AccountSignals>,
    /// The search text or typed prefix, for search, autocomplete and related hashtags.
    pub query: Option<&'a str>,
}

/// One condition of the deciding rule, with its value and the evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionUse {
    /// The condition's name, e.g. `candidate.network_member`.
    pub condition: &'static str,
    /// Its value.
    pub value: Truth,
    /// The signals that gave the value.
    pub evidence: Vec<Provenance>,
}

/// A shadow rule that would have acted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowHit {
    /// The rule.
    pub rule: String,
    /// What it would have done.
    pub would: Action,
}

/// The decision on one candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The surface.
    pub surface: Surface,
    /// What the surface may do.
    pub action: Action,
    /// The enforced rule that decided, or `None` when no rule fired.
    pub decided_by: Option<String>,
    /// The deciding rule's conditions, with their evidence.
    pub conditions: Vec<ConditionUse>,
    /// Whether the decision rests on a missing signal taken as unsafe.
    pub fail_closed: bool,
    /// The signals that were missing (or whose source failed) where the decision needed them.
    pub missing: Vec<String>,
    /// Shadow rules that would have acted.
    pub shadow: Vec<ShadowHit>,
    /// The surface shows help resources instead of results.
    pub help_resources: bool,
}

/// Rules plus the text policy that reads queries and candidate texts.
#[derive(Debug, Clone)]
pub struct Engine {
    rules: RuleSet,
    text: guardrail_text::Policy,
    /// For each surface, the indexes of the rules that guard it, in order.
    by_surface: Vec<Vec<usize>>,
}

/// The text guard's reading of the query, computed once per request.
#[derive(Debug, Clone)]
struct QueryReading {
    decision: Option<Decision>,
    rule: Option<String>,
}

impl Engine {
    /// An engine over rules and a text policy.
    pub fn new(rules: RuleSet, text: guardrail_text::Policy) -> Engine {
        let by_surface = Surface::ALL
            .iter()
            .map(|surface| {
                rules
                    .rules
                    .iter()
                    .enumerate()
                    .filter(|(_, rule)| rule.surfaces.contains(surface))
                    .map(|(index, _)| index)
                    .collect()
            })
            .collect();
        Engine {
            rules,
            text,
            by_surface,
        }
    }

    /// The shipped default rules and text policy.
    pub fn default_engine() -> Engine {
        Engine::new(
            RuleSet::default_rules(),
            guardrail_text::Policy::default_policy(),
        )
    }

    /// The rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The text policy.
    pub fn text_policy(&self) -> &guardrail_text::Policy {
        &self.text
    }

    /// Decides one candidate.
    pub fn decide(&self, context: &Context, candidate: &Candidate) -> Verdict {
        let query = self.read_query(context);
        self.decide_with(context, &query, candidate)
    }

    /// Decides a batch of candidates for one request (the query is read once).
    pub fn decide_batch(&self, context: &Context, candidates: &[Candidate]) -> Vec<Verdict> {
        let query = self.read_query(context);
        candidates
            .iter()
            .map(|candidate| self.decide_with(context, &query, candidate))
            .collect()
    }

    /// Index-time gating: whether an account may enter a surface's recommendation index
    /// at all. Only rules that do not depend on a viewer, a relationship or a query are
    /// applied (those are decided when serving), so gating at both points agrees.
    pub fn index_gate(&self, surface: Surface, account: &AccountSignals) -> Verdict {
        let context = Context {
            surface,
            viewer: None,
            query: None,
        };
        let candidate = Candidate {
            account: Some(account),
            ..Candidate::default()
        };
        let no_query = QueryReading {
            decision: None,
            rule: None,
        };
        self.evaluate_rules(&context, &no_query, &candidate, viewer_independent)
    }

    fn read_query(&self, context: &Context) -> QueryReading {
        match context.query {
            None => QueryReading {
                decision: None,
                rule: None,
            },
            Some(query) => {
                let verdict =
                    guardrail_text::check(&self.text, guardrail_text::Surface::Search, query);
                QueryReading {
                    decision: Some(verdict.decision),
                    rule: (verdict.decision != Decision::Allow)
                        .then(|| verdict.decided_by.to_string()),
                }
            }
        }
    }

    fn decide_with(
        &self,
        context: &Context,
        query: &QueryReading,
        candidate: &Candidate,
    ) -> Verdict {
        self.evaluate_rules(context, query, candidate, |_| true)
    }

    /// Runs the surface's rules that `include` accepts, in order.
    fn evaluate_rules(
        &self,
        context: &Context,
        query: &QueryReading,
        candidate: &Candidate,
        include: impl Fn(&Rule) -> bool,
    ) -> Verdict {
        let mut verdict = Verdict {
            surface: context.surface,
            action: Action::Allow,
            decided_by: None,
            conditions: Vec::new(),
            fail_closed: false,
            missing: Vec::new(),
            shadow: Vec::new(),
            help_resources: false,
        };
        let reader = Reader {
            thresholds: &self.rules.thresholds,
            context,
            query,
            candidate,
            text: &self.text,
        };
        let indexes = &self.by_surface[surface_index(context.surface)];
        for &index in indexes {
            let rule = &self.rules.rules[index];
            if !include(rule) {
                continue;
            }
            let Some(fired) = evaluate(rule, &reader) else {
                continue;
            };
            if rule.mode == Mode::Shadow {
                verdict.shadow.push(ShadowHit {
                    rule: rule.id.clone(),
                    would: rule.action,
                });
                continue;
            }
            if rule.action > verdict.action {
                verdict.action = rule.action;
                verdict.decided_by = Some(rule.id.clone());
                verdict.conditions = fired.conditions;
                verdict.fail_closed = !fired.missing.is_empty();
                verdict.missing = fired.missing;
                verdict.help_resources = rule.help_resources;
            }
            if verdict.action == Action::Drop {
                break;
            }
        }
        verdict
    }
}

/// Whether a rule decides without a viewer, a relationship or a query, so that it can
/// gate a candidate when it enters a recommendation index.
fn viewer_independent(rule: &Rule) -> bool {
    rule.when.iter().chain(rule.unless.iter()).all(|p| {
        !matches!(
            p,
            Predicate::ViewerAdult
                | Predicate::ViewerMinor
                | Predicate::ViewerRiskFlagged
                | Predicate::ViewerHighRisk
                | Predicate::RelationConnected
                | Predicate::RelationBlocked
                | Predicate::QueryBlocked
                | Predicate::QueryRestricted
        )
    })
}

fn surface_index(surface: Surface) -> usize {
    Surface::ALL.iter().position(|s| *s == surface).unwrap_or(0)
}

struct Fired {
    conditions: Vec<ConditionUse>,
    missing: Vec<String>,
}

/// Whether a rule fires, with the conditions it read.
fn evaluate(rule: &Rule, reader: &Reader) -> Option<Fired> {
    // A cheap pass first: most rules do not fire, and need no evidence built.
    for &predicate in &rule.when {
        if reader.truth(predicate) == Truth::No {
            return None;
        }
    }
    for &predicate in &rule.unless {
        if reader.truth(predicate) == Truth::Yes {
            return None;
        }
    }
    let mut conditions = Vec::with_capacity(rule.when.len() + rule.unless.len());
    let mut missing = Vec::new();
    for &predicate in rule.when.iter().chain(rule.unless.iter()) {
        let value = reader.truth(predicate);
        if value == Truth::Unknown {
            missing.push(predicate.name().to_string());
        }
        conditions.push(ConditionUse {
            condition: predicate.name(),
            value,
            evidence: reader.evidence(predicate),
        });
    }
    Some(Fired {
        conditions,
        missing,
    })
}

/// Reads conditions off the signals of one request.
struct Reader<'a> {
    thresholds: &'a Thresholds,
    context: &'a Context<'a>,
    query: &'a QueryReading,
    candidate: &'a Candidate<'a>,
    text: &'a guardrail_text::Policy,
}

impl Reader<'_> {
    fn truth(&self, predicate: Predicate) -> Truth {
        let candidate = self.candidate.account;
        let viewer = self.context.viewer;
        // Account and relationship conditions do not apply to a text candidate (a
        // suggestion or hashtag with no account behind it).
        let account_condition = matches!(
            predicate,
            Predicate::CandidateFlagged
                | Predicate::CandidateHighRisk
                | Predicate::CandidateRiskFlagged
                | Predicate::CandidateNetworkMember
                | Predicate::CandidateMinor
                | Predicate::CandidateEntityActioned
                | Predicate::RelationConnected
                | Predicate::RelationBlocked
        );
        if candidate.is_none() && account_condition {
            return Truth::No;
        }
        match predicate {
            Predicate::CandidateFlagged => flag(candidate.and_then(|a| a.flagged)),
            Predicate::CandidateHighRisk => high_risk(candidate, self.thresholds),
            Predicate::CandidateRiskFlagged => risk_flagged(candidate, self.thresholds),
            Predicate::CandidateNetworkMember => {
                flag(candidate.and_then(|a| a.network.as_ref().map(|n| n.member)))
            }
            Predicate::CandidateMinor => age_is(candidate, AgeBand::Minor),
            Predicate::CandidateFeaturesMinors => Truth::any([
                flag(self.candidate.features_minors.or(if candidate.is_none() {
                    Some(false)
                } else {
                    None
                })),
                match candidate {
                    Some(account) => flag(account.features_minors),
                    None => Truth::No,
                },
            ]),
            Predicate::CandidateEntityActioned => flag(candidate.and_then(|a| a.entity_actioned)),
            Predicate::ViewerAdult => age_is(viewer, AgeBand::Adult),
            Predicate::ViewerMinor => age_is(viewer, AgeBand::Minor),
            Predicate::ViewerRiskFlagged => risk_flagged(viewer, self.thresholds),
            Predicate::ViewerHighRisk => high_risk(viewer, self.thresholds),
            Predicate::RelationConnected => match relationship(self) {
                Some(r) => Truth::from_bool(r.viewer_follows || r.followed_by),
                None => Truth::Unknown,
            },
            Predicate::RelationBlocked => match relationship(self) {
                Some(r) => Truth::from_bool(r.blocked),
                None => Truth::Unknown,
            },
            Predicate::QueryBlocked => match self.query.decision {
                Some(decision) => Truth::from_bool(decision == Decision::Block),
                // No query on this request: nothing to block.
                None => Truth::No,
            },
            Predicate::QueryRestricted => match self.query.decision {
                Some(decision) => Truth::from_bool(decision >= Decision::Restrict),
                None => Truth::No,
            },
            Predicate::ItemRestricted => {
                let variant = flag(self.candidate.variant_restricted.or(Some(false)));
                let text = match self.candidate.text {
                    Some(text) => Truth::from_bool(
                        guardrail_text::check(
                            self.text,
                            guardrail_text::Surface::Autocomplete,
                            text,
                        )
                        .decision
                            != Decision::Allow,
                    ),
                    None => Truth::No,
                };
                Truth::any([variant, text])
            }
        }
    }

    fn evidence(&self, predicate: Predicate) -> Vec<Provenance> {
        let candidate = self.candidate.account;
        let viewer = self.context.viewer;
        match predicate {
            Predicate::CandidateFlagged => flag_evidence(
                "reviewer",
                "candidate flagged",
                candidate.and_then(|a| a.flagged),
            ),
            Predicate::CandidateHighRisk | Predicate::CandidateRiskFlagged => {
                account_evidence(candidate)
            }
            Predicate::CandidateNetworkMember => account_evidence(candidate)
                .into_iter()
                .filter(|p| p.source == "network_map")
                .collect(),
            Predicate::CandidateMinor => age_evidence(candidate),
            Predicate::CandidateFeaturesMinors => vec![Provenance::new(
                "declared",
                format!(
                    "item features minors: {:?}; account features minors: {:?}",
                    self.candidate.features_minors,
                    candidate.and_then(|a| a.features_minors)
                ),
            )],
            Predicate::CandidateEntityActioned => flag_evidence(
                "entity_links",
                "entity actioned",
                candidate.and_then(|a| a.entity_actioned),
            ),
            Predicate::ViewerAdult | Predicate::ViewerMinor => age_evidence(viewer),
            Predicate::ViewerRiskFlagged | Predicate::ViewerHighRisk => account_evidence(viewer),
            Predicate::RelationConnected | Predicate::RelationBlocked => vec![Provenance::new(
                "relationships",
                match relationship(self) {
                    Some(r) => format!("{r:?}"),
                    None => "unknown".to_string(),
                },
            )],
            Predicate::QueryBlocked | Predicate::QueryRestricted => vec![Provenance::new(
                "text_guard",
                format!(
                    "query {:?}: {:?} by {}",
                    self.context.query.unwrap_or(""),
                    self.query.decision,
                    self.query.rule.as_deref().unwrap_or("none")
                ),
            )],
            Predicate::ItemRestricted => {
                let mut evidence = Vec::new();
                if let Some(text) = self.candidate.text {
                    let verdict = guardrail_text::check(
                        self.text,
                        guardrail_text::Surface::Autocomplete,
                        text,
                    );
                    evidence.push(Provenance::new(
                        "text_guard",
                        format!("{text:?}: {} by {}", verdict.decision, verdict.decided_by),
                    ));
                }
                if self.candidate.variant_restricted == Some(true) {
                    evidence.push(Provenance::new(
                        "variant_clusters",
                        "restricted as a variant of blocked tags",
                    ));
                }
                evidence
            }
        }
    }
}

fn relationship(reader: &Reader) -> Option<Relationship> {
    reader.candidate.relationship
}

fn flag(value: Option<bool>) -> Truth {
    match value {
        Some(value) => Truth::from_bool(value),
        None => Truth::Unknown,
    }
}

fn age_is(account: Option<&AccountSignals>, band: AgeBand) -> Truth {
    match account.and_then(|a| a.age) {
        Some(age) => Truth::from_bool(age == band),
        None => Truth::Unknown,
    }
}

/// High risk: flagged, a network member or high network score, a restrict/block text
/// match, a known-image match, an actioned entity, or many minors blocking/reporting.
fn high_risk(account: Option<&AccountSignals>, thresholds: &Thresholds) -> Truth {
    let Some(account) = account else {
        return Truth::Unknown;
    };
    Truth::any([
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
fn risk_flagged(account: Option<&AccountSignals>, thresholds: &Thresholds) -> Truth {
    let Some(account) = account else {
        return Truth::Unknown;
    };
    Truth::any([
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

fn flag_evidence(source: &str, what: &str, value: Option<bool>) -> Vec<Provenance> {
    vec![Provenance::new(
        source,
        format!(
            "{what}: {}",
            value.map_or("unknown".to_string(), |v| v.to_string())
        ),
    )]
}

fn age_evidence(account: Option<&AccountSignals>) -> Vec<Provenance> {
    vec![Provenance::new(
        "declared",
        match account {
            Some(a) => format!("account {} age {:?}", a.id, a.age),
            None => "account unknown".to_string(),
        },
    )]
}

fn account_evidence(account: Option<&AccountSignals>) -> Vec<Provenance> {
    let Some(account) = account else {
        return vec![Provenance::new("declared", "account unknown")];
    };
    let mut evidence = Vec::new();
    if let Some(network) = &account.network {
        evidence.push(Provenance::new(
            "network_map",
            format!(
                "account {}: score {:.3}, member {}, role {:?}",
                account.id, network.score, network.member, network.role
            ),
        ));
    }
    if let Some(text) = &account.text
        && (text.worst_tier.is_some() || text.risk_score > 0.0)
    {
        evidence.push(Provenance::new(
            "text_guard",
            format!(
                "account {}: {:?}, risk {:.2}, rules {}",
                account.id,
                text.worst_tier,
                text.risk_score,
                text.rules.join(",")
            ),
        ));
    }
    if let Some(hash) = &account.hash
        && hash.matches > 0
    {
        evidence.push(Provenance::new(
            "hash_match",
            format!(
                "account {}: {} matches in {}",
                account.id,
                hash.matches,
                hash.banks.join(",")
            ),
        ));
    }
    if account.flagged == Some(true) {
        evidence.push(Provenance::new(
            "reviewer",
            format!("account {} flagged", account.id),
        ));
    }
    if account.entity_actioned == Some(true) {
        evidence.push(Provenance::new(
            "entity_links",
            format!("account {}: entity actioned", account.id),
        ));
    }
    if let Some(count) = account.blocks_reports_from_minors
        && count > 0
    {
        evidence.push(Provenance::new(
            "relationships",
            format!(
                "account {}: blocked or reported by {count} minors",
                account.id
            ),
        ));
    }
    evidence
}
