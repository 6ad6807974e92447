//! The decision point: one call per candidate (or per batch) on a surface, returning
//! what the surface may do with it and why.
//!
//! Rules run in order. A rule *fires* when every `when` condition holds and no `unless`
//! condition holds. A condition whose signal is missing is treated as the unsafe answer
//! (holds for `when`, does not hold for `unless`), and the verdict marks itself
//! `fail_closed` and lists what was missing. The first enforced `drop` decides; an
//! enforced `downrank` or `interstitial` is kept (the strongest) while later rules may
//! still drop. Shadow rules never act; what they would have done is recorded.

use guardrail_text::TextPlace;
use guardrail_types::{Provenance, Surface, TextDecision};
use serde::Serialize;

use crate::predicates::{Reader, TextReading, Tristate, Want};
use crate::rules::{Action, Mode, Rule, RuleSet};
use crate::signals::{AccountSignals, Relationship};

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
    pub value: Tristate,
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
        let nothing = TextReading::default();
        self.evaluate_rules(&context, &nothing, &nothing, &candidate, viewer_independent)
    }

    /// The text guard's reading of a text of the request, made once.
    fn read_text(&self, place: TextPlace, text: Option<&str>) -> TextReading {
        match text {
            None => TextReading::default(),
            Some(text) => {
                let verdict = guardrail_text::check(&self.text, place, text);
                TextReading {
                    text: Some(text.to_string()),
                    decision: Some(verdict.decision),
                    rule: (verdict.decision != TextDecision::Allow)
                        .then(|| verdict.decided_by.to_string()),
                }
            }
        }
    }

    fn read_query(&self, context: &Context) -> TextReading {
        self.read_text(TextPlace::Search, context.query)
    }

    fn decide_with(
        &self,
        context: &Context,
        query: &TextReading,
        candidate: &Candidate,
    ) -> Verdict {
        // A candidate's text is read once per decision, whatever reads it.
        let item = self.read_text(TextPlace::Autocomplete, candidate.text);
        self.evaluate_rules(context, query, &item, candidate, |_| true)
    }

    /// Runs the surface's rules that `include` accepts, in order.
    fn evaluate_rules(
        &self,
        context: &Context,
        query: &TextReading,
        item: &TextReading,
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
            candidate,
            query,
            item,
        };
        let indexes = &self.by_surface[context.surface.index()];
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
/// gate a candidate when it enters a recommendation index (derived from the scopes of
/// its conditions).
fn viewer_independent(rule: &Rule) -> bool {
    rule.when
        .iter()
        .chain(rule.unless.iter())
        .all(|p| p.scope().viewer_independent())
}

struct Fired {
    conditions: Vec<ConditionUse>,
    missing: Vec<String>,
}

/// Whether a rule fires, with the conditions it read.
fn evaluate(rule: &Rule, reader: &Reader) -> Option<Fired> {
    // A cheap pass first: most rules do not fire, and need no evidence built.
    for &predicate in &rule.when {
        if predicate.read(reader, Want::Value).value == Tristate::No {
            return None;
        }
    }
    for &predicate in &rule.unless {
        if predicate.read(reader, Want::Value).value == Tristate::Yes {
            return None;
        }
    }
    let mut conditions = Vec::with_capacity(rule.when.len() + rule.unless.len());
    let mut missing = Vec::new();
    for &predicate in rule.when.iter().chain(rule.unless.iter()) {
        let reading = predicate.read(reader, Want::ValueAndEvidence);
        if reading.value == Tristate::Unknown {
            missing.push(predicate.name().to_string());
        }
        conditions.push(ConditionUse {
            condition: predicate.name(),
            value: reading.value,
            evidence: reading.evidence,
        });
    }
    Some(Fired {
        conditions,
        missing,
    })
}
