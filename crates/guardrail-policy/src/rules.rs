//! Rules as data: a TOML file of ordered rules, each naming the surfaces it guards,
//! the conditions (`when`, `unless`) it tests, the action it takes and whether it is
//! enforced or only shadowed. Loading never half-succeeds: an error names the file,
//! line, column and field, and the running rule set stays as it was.

use std::collections::HashSet;

use guardrail_types::{Locator, SourceError, SourceErrorKind, Surface};

use crate::predicates::Predicate;
use serde::{Deserialize, Serialize};
use toml::Spanned;

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

/// The default discovery rules, shipped in the crate.
pub const DEFAULT_RULES_TOML: &str = include_str!("../policies/discovery.toml");

impl RuleSet {
    /// Parses and checks a rule file. `origin` names the file in errors.
    pub fn from_toml(source: &str, origin: &str) -> Result<RuleSet, SourceError> {
        let locator = Locator::new(origin, source);
        let file: RuleFile = toml::from_str(source).map_err(|error| {
            locator.error(
                error.span().unwrap_or(0..0),
                None,
                SourceErrorKind::Syntax,
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
                            SourceErrorKind::Invalid,
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
                    SourceErrorKind::Duplicate,
                    format!(
                        "rule ids must be unique and non-empty; found {:?} again",
                        spec.id.get_ref()
                    ),
                ));
            }
            let mut surfaces = Vec::new();
            for (position, surface) in spec.surfaces.iter().enumerate() {
                let parsed = surface.get_ref().parse::<Surface>().map_err(|unknown| {
                    locator.error(
                        surface.span(),
                        Some(field(&format!("surfaces[{position}]"))),
                        SourceErrorKind::Invalid,
                        unknown.to_string(),
                    )
                })?;
                surfaces.push(parsed);
            }
            if surfaces.is_empty() {
                return Err(locator.error(
                    spec.id.span(),
                    Some(field("surfaces")),
                    SourceErrorKind::Missing,
                    "a rule must guard at least one surface",
                ));
            }
            let parse_predicates =
                |list: &[Spanned<String>], name: &str| -> Result<Vec<Predicate>, SourceError> {
                    list.iter()
                        .enumerate()
                        .map(|(position, text)| {
                            Predicate::parse(text.get_ref()).ok_or_else(|| {
                                let names: Vec<&str> =
                                    Predicate::ALL.iter().map(|p| p.name()).collect();
                                locator.error(
                                    text.span(),
                                    Some(field(&format!("{name}[{position}]"))),
                                    SourceErrorKind::Invalid,
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
                        SourceErrorKind::Invalid,
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
                        SourceErrorKind::Invalid,
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
