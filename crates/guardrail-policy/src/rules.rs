//! Rules as data: a TOML file of ordered rules, each naming the surfaces it guards,
//! the conditions (`when`, `unless`) it tests, the action it takes and whether it is
//! enforced or only shadowed. Loading never half-succeeds: an error names the file,
//! line, column and field, and the running rule set stays as it was.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// A discovery surface that asks for decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// "Suggested for you" account suggestions.
    AccountSuggestions,
    /// A profile's "similar accounts".
    SimilarAccounts,
    /// Feed and explore content.
    Feed,
    /// Search results.
    Search,
    /// Autocomplete suggestions.
    Autocomplete,
    /// Related hashtags.
    RelatedHashtags,
    /// Message requests from accounts the recipient does not follow.
    MessageRequests,
}

impl Surface {
    /// Every surface.
    pub const ALL: [Surface; 7] = [
        Surface::AccountSuggestions,
        Surface::SimilarAccounts,
        Surface::Feed,
        Surface::Search,
        Surface::Autocomplete,
        Surface::RelatedHashtags,
        Surface::MessageRequests,
    ];

    /// The name used in policy files and output.
    pub fn name(self) -> &'static str {
        match self {
            Surface::AccountSuggestions => "account_suggestions",
            Surface::SimilarAccounts => "similar_accounts",
            Surface::Feed => "feed",
            Surface::Search => "search",
            Surface::Autocomplete => "autocomplete",
            Surface::RelatedHashtags => "related_hashtags",
            Surface::MessageRequests => "message_requests",
        }
    }
}

impl fmt::Display for Surface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Surface {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Surface::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Surface::ALL.iter().map(|s| s.name()).collect();
                format!(
                    "unknown surface {name:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// What a surface does with a candidate. Ordered by strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Show as the recommender ranked it.
    Allow,
    /// Show lower in the ranking.
    Downrank,
    /// Show behind a warning.
    Interstitial,
    /// Do not show.
    Drop,
}

impl Action {
    /// The name used in policy files and output.
    pub fn name(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Downrank => "downrank",
            Action::Interstitial => "interstitial",
            Action::Drop => "drop",
        }
    }
}

/// A condition a rule can test. Each reads named signals, listed in [`Predicate::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Predicate {
    /// A reviewer or enforcement flagged the candidate account.
    CandidateFlagged,
    /// The candidate account carries a high-risk signal (see README, "Risk").
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

impl Predicate {
    const ALL: [Predicate; 16] = [
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

    /// The name used in policy files.
    pub fn name(self) -> &'static str {
        match self {
            Predicate::CandidateFlagged => "candidate.flagged",
            Predicate::CandidateHighRisk => "candidate.high_risk",
            Predicate::CandidateRiskFlagged => "candidate.risk_flagged",
            Predicate::CandidateNetworkMember => "candidate.network_member",
            Predicate::CandidateMinor => "candidate.minor",
            Predicate::CandidateFeaturesMinors => "candidate.features_minors",
            Predicate::CandidateEntityActioned => "candidate.entity_actioned",
            Predicate::ViewerAdult => "viewer.adult",
            Predicate::ViewerMinor => "viewer.minor",
            Predicate::ViewerRiskFlagged => "viewer.risk_flagged",
            Predicate::ViewerHighRisk => "viewer.high_risk",
            Predicate::RelationConnected => "relation.connected",
            Predicate::RelationBlocked => "relation.blocked",
            Predicate::QueryBlocked => "query.blocked",
            Predicate::QueryRestricted => "query.restricted",
            Predicate::ItemRestricted => "item.restricted",
        }
    }

    fn parse(name: &str) -> Option<Predicate> {
        Predicate::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// Whether a rule acts or only records what it would have done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The rule's action takes effect.
    Enforce,
    /// The rule is evaluated and recorded in the verdict, but does not act.
    Shadow,
}

/// One compiled rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// Stable id, reported as `decided_by`.
    pub id: String,
    /// The surfaces it guards.
    pub surfaces: Vec<Surface>,
    /// All must hold (unknown counts as holding: fail closed).
    pub when: Vec<Predicate>,
    /// If any of these holds, the rule does not apply (unknown counts as not holding).
    pub unless: Vec<Predicate>,
    /// What it does.
    pub action: Action,
    /// Enforced or shadowed.
    pub mode: Mode,
    /// Searches this rule blocks get help resources instead of results.
    pub help_resources: bool,
    /// Why the rule exists.
    pub description: String,
}

/// Thresholds that turn scores into risk.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// Network score at or above which an account is high risk.
    pub high_risk_network_score: f64,
    /// Network score at or above which an account carries a risk signal.
    pub risk_signal_network_score: f64,
    /// Text risk score at or above which an account carries a risk signal.
    pub risk_signal_text_score: f64,
    /// Distinct minors blocking or reporting an account that make it high risk.
    pub high_risk_minor_reports: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            high_risk_network_score: 0.5,
            risk_signal_network_score: 0.2,
            risk_signal_text_score: 0.4,
            high_risk_minor_reports: 3,
        }
    }
}

/// A compiled rule set. Replace it whole: a failed load leaves the old one in place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleSet {
    /// The rule set's name.
    pub name: String,
    /// Rules in file order (the order they are evaluated in).
    pub rules: Vec<Rule>,
    /// Risk thresholds.
    pub thresholds: Thresholds,
}

/// What went wrong loading rules, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}:{column}: {}{message}", field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
pub struct RuleError {
    /// The file.
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field at fault, e.g. `rule[2].when[0]`.
    pub field: Option<String>,
    /// What was expected.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: Option<String>,
    #[serde(default)]
    thresholds: Option<ThresholdSpec>,
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdSpec {
    high_risk_network_score: Option<Spanned<f64>>,
    risk_signal_network_score: Option<Spanned<f64>>,
    risk_signal_text_score: Option<Spanned<f64>>,
    high_risk_minor_reports: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: Spanned<String>,
    surfaces: Vec<Spanned<String>>,
    #[serde(default)]
    when: Vec<Spanned<String>>,
    #[serde(default)]
    unless: Vec<Spanned<String>>,
    action: Spanned<String>,
    mode: Option<Spanned<String>>,
    #[serde(default)]
    help_resources: bool,
    description: Option<String>,
}

struct Locator<'a> {
    origin: &'a str,
    source: &'a str,
}

impl Locator<'_> {
    fn error(&self, span: Range<usize>, field: Option<String>, message: String) -> RuleError {
        let offset = span.start.min(self.source.len());
        let before = &self.source[..offset];
        RuleError {
            origin: self.origin.to_string(),
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
            field,
            message,
        }
    }
}

/// The default discovery rules, shipped in the crate.
pub const DEFAULT_RULES_TOML: &str = include_str!("../policies/discovery.toml");

impl RuleSet {
    /// Parses and checks a rule file. `origin` names the file in errors.
    pub fn from_toml(source: &str, origin: &str) -> Result<RuleSet, RuleError> {
        let locator = Locator { origin, source };
        let file: RuleFile = toml::from_str(source).map_err(|error| {
            locator.error(
                error.span().unwrap_or(0..0),
                None,
                error.message().trim().to_string(),
            )
        })?;
        let mut thresholds = Thresholds::default();
        if let Some(spec) = &file.thresholds {
            for (value, slot, name) in [
                (
                    &spec.high_risk_network_score,
                    &mut thresholds.high_risk_network_score,
                    "high_risk_network_score",
                ),
                (
                    &spec.risk_signal_network_score,
                    &mut thresholds.risk_signal_network_score,
                    "risk_signal_network_score",
                ),
                (
                    &spec.risk_signal_text_score,
                    &mut thresholds.risk_signal_text_score,
                    "risk_signal_text_score",
                ),
            ] {
                if let Some(value) = value {
                    let number = *value.get_ref();
                    if !(0.0..=1.0).contains(&number) {
                        return Err(locator.error(
                            value.span(),
                            Some(format!("thresholds.{name}")),
                            format!("expected a score in [0, 1], found {number}"),
                        ));
                    }
                    *slot = number;
                }
            }
            if let Some(count) = spec.high_risk_minor_reports {
                thresholds.high_risk_minor_reports = count;
            }
        }
        let mut ids = HashSet::new();
        let mut rules = Vec::with_capacity(file.rule.len());
        for (index, spec) in file.rule.iter().enumerate() {
            let field = |name: &str| format!("rule[{index}].{name}");
            if spec.id.get_ref().is_empty() || !ids.insert(spec.id.get_ref().clone()) {
                return Err(locator.error(
                    spec.id.span(),
                    Some(field("id")),
                    format!(
                        "rule ids must be unique and non-empty; found {:?} again",
                        spec.id.get_ref()
                    ),
                ));
            }
            let mut surfaces = Vec::new();
            for (position, surface) in spec.surfaces.iter().enumerate() {
                let parsed = surface.get_ref().parse::<Surface>().map_err(|message| {
                    locator.error(
                        surface.span(),
                        Some(field(&format!("surfaces[{position}]"))),
                        message,
                    )
                })?;
                surfaces.push(parsed);
            }
            if surfaces.is_empty() {
                return Err(locator.error(
                    spec.id.span(),
                    Some(field("surfaces")),
                    "a rule must guard at least one surface".into(),
                ));
            }
            let parse_predicates =
                |list: &[Spanned<String>], name: &str| -> Result<Vec<Predicate>, RuleError> {
                    list.iter()
                        .enumerate()
                        .map(|(position, text)| {
                            Predicate::parse(text.get_ref()).ok_or_else(|| {
                                let names: Vec<&str> =
                                    Predicate::ALL.iter().map(|p| p.name()).collect();
                                locator.error(
                                    text.span(),
                                    Some(field(&format!("{name}[{position}]"))),
                                    format!(
                                        "unknown condition {:?}; expected one of {}",
                                        text.get_ref(),
                                        names.join(", ")
                                    ),
                                )
                            })
                        })
                        .collect()
                };
            let when = parse_predicates(&spec.when, "when")?;
            let unless = parse_predicates(&spec.unless, "unless")?;
            let action = match spec.action.get_ref().as_str() {
                "allow" => Action::Allow,
                "downrank" => Action::Downrank,
                "interstitial" => Action::Interstitial,
                "drop" => Action::Drop,
                other => {
                    return Err(locator.error(
                        spec.action.span(),
                        Some(field("action")),
                        format!("expected one of \"allow\", \"downrank\", \"interstitial\", \"drop\", found {other:?}"),
                    ));
                }
            };
            let mode = match spec.mode.as_ref().map(|m| m.get_ref().as_str()) {
                None | Some("enforce") => Mode::Enforce,
                Some("shadow") => Mode::Shadow,
                Some(other) => {
                    let span = spec.mode.as_ref().map_or(0..0, |m| m.span());
                    return Err(locator.error(
                        span,
                        Some(field("mode")),
                        format!("expected \"enforce\" or \"shadow\", found {other:?}"),
                    ));
                }
            };
            rules.push(Rule {
                id: spec.id.get_ref().clone(),
                surfaces,
                when,
                unless,
                action,
                mode,
                help_resources: spec.help_resources,
                description: spec.description.clone().unwrap_or_default(),
            });
        }
        Ok(RuleSet {
            name: file.name.unwrap_or_else(|| origin.to_string()),
            rules,
            thresholds,
        })
    }

    /// The shipped default rules.
    pub fn default_rules() -> RuleSet {
        match RuleSet::from_toml(DEFAULT_RULES_TOML, "discovery.toml") {
            Ok(rules) => rules,
            // Tested in this crate; a failure here is a build defect, not input.
            Err(error) => panic!("the shipped discovery rules do not load: {error}"),
        }
    }

    /// The same rules with every rule in shadow mode (for a dry run of a new policy).
    pub fn all_shadow(&self) -> RuleSet {
        let mut shadow = self.clone();
        for rule in &mut shadow.rules {
            rule.mode = Mode::Shadow;
        }
        shadow
    }
}
