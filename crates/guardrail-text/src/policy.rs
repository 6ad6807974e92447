//! Policies: terms and patterns as data (TOML), compiled once into automata that many
//! threads share.
//!
//! A policy file has `[[term]]` tables (words, phrases or emoji, matched in the term
//! view with evasions undone) and `[[pattern]]` tables (regular expressions over the
//! folded view, for age codes and the like), each with a tier (`block`, `restrict`,
//! `signal`) and a category. Loading never half-succeeds: any error names the file, the
//! line, the field and what was expected, and no policy is produced.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};
use guardrail_types::{Locator, SourceError, SourceErrorKind};
use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::lexicon::{BUILTIN_WORDS, Lexicon};
use crate::normalize::{NormalizeOptions, TermView, normalize};

/// How severe a rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// A weighted risk signal; alone it changes nothing, together they restrict.
    Signal,
    /// Never suggest, recommend or autocomplete.
    Restrict,
    /// Never show results; show help resources instead.
    Block,
}

impl Tier {
    /// The name used in policy files and output.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Signal => "signal",
            Tier::Restrict => "restrict",
            Tier::Block => "block",
        }
    }
}

/// Where a term may match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    /// Whole words, hashtag words, or a segment of a concatenated tag whose other
    /// parts are known words (`#ilovepedobait`), but never part of an unrelated word
    /// (`torpedo`).
    Word,
    /// Anywhere, also inside longer words.
    Anywhere,
}

/// Whether a match came from a term or a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A `[[term]]`.
    Term,
    /// A `[[pattern]]`.
    Pattern,
}

/// A compiled term.
#[derive(Debug, Clone)]
pub struct TermRule {
    /// Stable identifier, reported with every match.
    pub id: Arc<str>,
    /// The text as written in the policy.
    pub text: String,
    /// Severity.
    pub tier: Tier,
    /// Category, e.g. `csea.solicitation`.
    pub category: Arc<str>,
    /// Word or anywhere.
    pub mode: MatchMode,
    /// Weight of a `signal` match in the risk score, in (0, 1].
    pub weight: f64,
    /// Free text for reviewers.
    pub notes: Option<String>,
    /// The term was written with a digit or symbol standing for a letter (`s3ller`):
    /// it then matches only disguised spellings, never the plain word.
    pub requires_leet: bool,
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct PatternRule {
    /// Stable identifier.
    pub id: Arc<str>,
    /// The compiled regular expression over the folded view.
    pub regex: Regex,
    /// Severity.
    pub tier: Tier,
    /// Category.
    pub category: Arc<str>,
    /// Weight of a `signal` match in the risk score, in (0, 1].
    pub weight: f64,
    /// Free text for reviewers.
    pub notes: Option<String>,
}

/// Scoring settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scoring {
    /// The risk score (from `signal` matches) at which text is restricted.
    pub restrict_at: f64,
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring { restrict_at: 0.75 }
    }
}

/// A compiled policy. Compile once, share by reference (it is `Send + Sync`).
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) name: String,
    pub(crate) terms: Vec<TermRule>,
    pub(crate) patterns: Vec<PatternRule>,
    pub(crate) automaton: AhoCorasick,
    /// For each automaton pattern, the term it spells.
    pub(crate) variant_rule: Vec<u32>,
    /// For each automaton pattern, how many letters each of its characters stands for
    /// in the term as written (2 for the `ll` of `seller`), for the matcher's repeat rule;
    /// `None` when every character stands for one letter (most terms: no allocation).
    pub(crate) variant_runs: Vec<Option<Box<[u8]>>>,
    pub(crate) pattern_set: RegexSet,
    pub(crate) lexicon: Lexicon,
    pub(crate) scoring: Scoring,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    policy: Option<PolicyMeta>,
    #[serde(default)]
    scoring: Option<ScoringSpec>,
    #[serde(default)]
    term: Vec<Spanned<TermSpec>>,
    #[serde(default)]
    pattern: Vec<Spanned<PatternSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Fields are read for validation and documentation only.
struct PolicyMeta {
    name: Option<String>,
    version: Option<String>,
    description: Option<String>,
    sources: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoringSpec {
    restrict_at: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TermSpec {
    text: Spanned<String>,
    tier: Spanned<String>,
    category: Spanned<String>,
    #[serde(rename = "match")]
    mode: Option<Spanned<String>>,
    id: Option<Spanned<String>>,
    weight: Option<Spanned<f64>>,
    notes: Option<String>,
    /// Where a term was reported; for reviewers reading the file, not used in matching.
    #[allow(dead_code)]
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternSpec {
    regex: Spanned<String>,
    tier: Spanned<String>,
    category: Spanned<String>,
    id: Option<Spanned<String>>,
    weight: Option<Spanned<f64>>,
    notes: Option<String>,
    /// Where a term was reported; for reviewers reading the file, not used in matching.
    #[allow(dead_code)]
    source: Option<String>,
}

/// The default policy's source, shipped in the crate.
pub const DEFAULT_POLICY_TOML: &str = include_str!("../policies/default.toml");

/// Terms with more ambiguous letters than this get variants for the first ones only.
const MAX_AMBIGUOUS_POSITIONS: usize = 4;
/// Regular expressions beyond this compiled size are refused (they would be slow).
const MAX_REGEX_SIZE: usize = 1 << 20;

fn parse_tier(
    locator: &Locator,
    field: String,
    tier: &Spanned<String>,
) -> Result<Tier, SourceError> {
    match tier.get_ref().as_str() {
        "block" => Ok(Tier::Block),
        "restrict" => Ok(Tier::Restrict),
        "signal" => Ok(Tier::Signal),
        other => Err(locator.error(
            tier.span(),
            Some(field),
            SourceErrorKind::Invalid,
            format!("expected one of \"block\", \"restrict\", \"signal\", found {other:?}"),
        )),
    }
}

fn parse_category(
    locator: &Locator,
    field: String,
    category: &Spanned<String>,
) -> Result<String, SourceError> {
    let text = category.get_ref();
    let valid = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_');
    if !valid {
        return Err(locator.error(
            category.span(),
            Some(field),
            SourceErrorKind::Invalid,
            format!(
                "expected a dotted lowercase category like \"csea.solicitation\", found {text:?}"
            ),
        ));
    }
    Ok(text.clone())
}

fn parse_weight(
    locator: &Locator,
    field: String,
    weight: &Option<Spanned<f64>>,
    tier: Tier,
) -> Result<f64, SourceError> {
    let default = if tier == Tier::Signal { 0.4 } else { 1.0 };
    let Some(weight) = weight else {
        return Ok(default);
    };
    let value = *weight.get_ref();
    if !(value > 0.0 && value <= 1.0) {
        return Err(locator.error(
            weight.span(),
            Some(field),
            SourceErrorKind::Invalid,
            format!("expected a weight in (0, 1], found {value}"),
        ));
    }
    Ok(value)
}

impl Policy {
    /// Parses and compiles a policy from TOML text. `origin` names the file in errors.
    pub fn from_toml(source: &str, origin: &str) -> Result<Policy, SourceError> {
        let locator = Locator::new(origin, source);
        let file: PolicyFile = toml::from_str(source).map_err(|error| {
            let span = error.span().unwrap_or(0..0);
            locator.error(
                span,
                None,
                SourceErrorKind::Syntax,
                error.message().trim().to_string(),
            )
        })?;
        let name = file
            .policy
            .as_ref()
            .and_then(|meta| meta.name.clone())
            .unwrap_or_else(|| origin.to_string());
        let mut scoring = Scoring::default();
        if let Some(restrict_at) = file.scoring.as_ref().and_then(|s| s.restrict_at.as_ref()) {
            let value = *restrict_at.get_ref();
            if !(value > 0.0 && value <= 1.0) {
                return Err(locator.error(
                    restrict_at.span(),
                    Some("scoring.restrict_at".into()),
                    SourceErrorKind::Invalid,
                    format!("expected a score in (0, 1], found {value}"),
                ));
            }
            scoring.restrict_at = value;
        }

        let mut ids = HashSet::new();
        let mut check_id = |id: &str, span: Range<usize>, field: String| {
            if ids.insert(id.to_string()) {
                Ok(())
            } else {
                Err(locator.error(
                    span,
                    Some(field),
                    SourceErrorKind::Duplicate,
                    format!("duplicate rule id {id:?}"),
                ))
            }
        };

        let options = NormalizeOptions::default();
        let mut terms = Vec::with_capacity(file.term.len());
        let mut variants: Vec<Vec<u8>> = Vec::new();
        let mut variant_rule = Vec::new();
        let mut variant_runs = Vec::new();
        let mut lexicon_words: Vec<Vec<u8>> = Vec::new();
        for (index, spanned) in file.term.iter().enumerate() {
            let spec = spanned.get_ref();
            let field = |name: &str| format!("term[{index}].{name}");
            let tier = parse_tier(&locator, field("tier"), &spec.tier)?;
            let category = parse_category(&locator, field("category"), &spec.category)?;
            let weight = parse_weight(&locator, field("weight"), &spec.weight, tier)?;
            let text = spec.text.get_ref();
            let normalized = normalize(text.as_bytes(), &options);
            let view = &normalized.terms;
            if view.bytes().is_empty() {
                return Err(locator.error(
                    spec.text.span(),
                    Some(field("text")),
                    SourceErrorKind::Invalid,
                    format!("{text:?} has no letters, digits or emoji left after normalisation"),
                ));
            }
            let all_emoji = view.chars.iter().all(|c| c.emoji);
            let mut mode = match spec.mode.as_ref().map(|m| m.get_ref().as_str()) {
                None | Some("word") => MatchMode::Word,
                Some("anywhere") => MatchMode::Anywhere,
                Some(other) => {
                    let span = spec.mode.as_ref().map_or(0..0, |m| m.span());
                    return Err(locator.error(
                        span,
                        Some(field("match")),
                        SourceErrorKind::Invalid,
                        format!("expected \"word\" or \"anywhere\", found {other:?}"),
                    ));
                }
            };
            if all_emoji {
                // Emoji are their own words; boundaries around them always hold.
                mode = MatchMode::Anywhere;
            }
            let id = match &spec.id {
                Some(id) => {
                    check_id(id.get_ref(), id.span(), field("id"))?;
                    id.get_ref().clone()
                }
                None => {
                    let id = format!("term:{text}");
                    check_id(&id, spec.text.span(), field("text"))?;
                    id
                }
            };
            let rule_index = terms.len() as u32;
            for (variant, runs) in ambiguous_variants(view) {
                if mode == MatchMode::Word {
                    lexicon_words.push(variant.clone());
                }
                variants.push(variant);
                variant_rule.push(rule_index);
                variant_runs.push(
                    runs.iter()
                        .any(|&r| r != 1)
                        .then(|| runs.into_boxed_slice()),
                );
            }
            terms.push(TermRule {
                id: id.into(),
                text: text.clone(),
                tier,
                category: category.into(),
                mode,
                weight,
                notes: spec.notes.clone(),
                requires_leet: view.any_leet(),
            });
        }

        let mut patterns = Vec::with_capacity(file.pattern.len());
        for (index, spanned) in file.pattern.iter().enumerate() {
            let spec = spanned.get_ref();
            let field = |name: &str| format!("pattern[{index}].{name}");
            let tier = parse_tier(&locator, field("tier"), &spec.tier)?;
            let category = parse_category(&locator, field("category"), &spec.category)?;
            let weight = parse_weight(&locator, field("weight"), &spec.weight, tier)?;
            let regex = regex::RegexBuilder::new(spec.regex.get_ref())
                .size_limit(MAX_REGEX_SIZE)
                .build()
                .map_err(|error| {
                    locator.error(
                        spec.regex.span(),
                        Some(field("regex")),
                        SourceErrorKind::Invalid,
                        format!("invalid regular expression: {error}"),
                    )
                })?;
            let id = match &spec.id {
                Some(id) => {
                    check_id(id.get_ref(), id.span(), field("id"))?;
                    id.get_ref().clone()
                }
                None => {
                    let id = format!("pattern:{}", spec.regex.get_ref());
                    check_id(&id, spec.regex.span(), field("regex"))?;
                    id
                }
            };
            patterns.push(PatternRule {
                id: id.into(),
                regex,
                tier,
                category: category.into(),
                weight,
                notes: spec.notes.clone(),
            });
        }

        for word in BUILTIN_WORDS {
            let normalized = normalize(word.as_bytes(), &options);
            lexicon_words.push(normalized.terms.bytes().to_vec());
        }

        let lexicon = Lexicon::new(&lexicon_words).map_err(|error| {
            locator.error(
                0..0,
                Some("term".into()),
                SourceErrorKind::Invalid,
                format!("terms do not compile: {error}"),
            )
        })?;
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&variants)
            .map_err(|error| {
                locator.error(
                    0..0,
                    Some("term".into()),
                    SourceErrorKind::Invalid,
                    format!("terms do not compile: {error}"),
                )
            })?;
        let pattern_set =
            RegexSet::new(patterns.iter().map(|p| p.regex.as_str())).map_err(|error| {
                locator.error(
                    0..0,
                    Some("pattern".into()),
                    SourceErrorKind::Invalid,
                    format!("patterns do not compile together: {error}"),
                )
            })?;
        Ok(Policy {
            name,
            terms,
            patterns,
            automaton,
            variant_rule,
            variant_runs,
            pattern_set,
            lexicon,
            scoring,
        })
    }

    /// The default policy: only terms, codes and emoji named in public reporting.
    pub fn default_policy() -> Policy {
        match Policy::from_toml(DEFAULT_POLICY_TOML, "default.toml") {
            Ok(policy) => policy,
            // The default policy is tested; failing here is a build defect, not input.
            Err(error) => panic!("the shipped default policy does not load: {error}"),
        }
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The compiled terms.
    pub fn terms(&self) -> &[TermRule] {
        &self.terms
    }

    /// The compiled patterns.
    pub fn patterns(&self) -> &[PatternRule] {
        &self.patterns
    }

    /// Scoring settings.
    pub fn scoring(&self) -> Scoring {
        self.scoring
    }

    /// Approximate heap memory held by the compiled automata, in bytes.
    pub fn memory_usage(&self) -> usize {
        self.automaton.memory_usage()
            + self.variant_rule.len() * 4
            + self
                .variant_runs
                .iter()
                .map(|r| 16 + r.as_ref().map_or(0, |r| r.len()))
                .sum::<usize>()
            + self.lexicon.memory_usage()
    }
}

/// The term view of a term and its variants for ambiguous leetspeak: input `1`, `!`
/// and `|` are read as `i`, so each `l` of a term may also appear as `i`. Each variant
/// comes with the run length of each of its characters (how many letters of the term
/// it stands for).
fn ambiguous_variants(view: &TermView) -> Vec<(Vec<u8>, Vec<u8>)> {
    let chars: Vec<(&[u8], u8)> = view
        .chars
        .iter()
        .map(|c| {
            (
                &view.bytes[c.byte_start as usize..c.byte_end as usize],
                c.run,
            )
        })
        .collect();
    let positions: Vec<usize> = chars
        .iter()
        .enumerate()
        .filter(|(_, (bytes, _))| *bytes == b"l")
        .map(|(i, _)| i)
        .take(MAX_AMBIGUOUS_POSITIONS)
        .collect();
    let mut variants: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(1 << positions.len());
    for mask in 0u32..(1 << positions.len()) {
        // (bytes, run, substituted) per character, neighbours merged as input repeats
        // are: `la11ia` reads `laia`, so a substitution that makes two equal neighbours
        // merges them, and the merged character stands for both runs.
        let mut merged: Vec<(&[u8], u8, bool)> = Vec::with_capacity(chars.len());
        for (index, &(bytes, run)) in chars.iter().enumerate() {
            let substituted = positions
                .iter()
                .position(|&p| p == index)
                .is_some_and(|bit| mask & (1 << bit) != 0);
            let bytes: &[u8] = if substituted { b"i" } else { bytes };
            if let Some(last) = merged.last_mut()
                && last.0 == bytes
                && (substituted || last.2)
            {
                last.1 = last.1.saturating_add(run);
                last.2 = true;
                continue;
            }
            merged.push((bytes, run, substituted));
        }
        let variant: Vec<u8> = merged
            .iter()
            .flat_map(|(b, _, _)| b.iter().copied())
            .collect();
        let runs: Vec<u8> = merged.iter().map(|(_, run, _)| *run).collect();
        if !variants.iter().any(|(v, _)| *v == variant) {
            variants.push((variant, runs));
        }
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_error(source: &str) -> String {
        match Policy::from_toml(source, "test.toml") {
            Ok(_) => panic!("policy should not load:\n{source}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn the_issue_example_loads() {
        let policy = Policy::from_toml(
            r#"
[[term]]
text = "pedobait"            # a word, a phrase, or an emoji
tier = "block"               # block | restrict | signal
category = "csea.solicitation"
match = "word"
[[pattern]]
regex = "chapter\\s*1[0-7]\\b"
tier = "signal"
category = "csea.age_code"
"#,
            "example.toml",
        )
        .expect("example loads");
        assert_eq!(policy.terms().len(), 1);
        assert_eq!(policy.patterns().len(), 1);
    }

    #[test]
    fn bad_policies_name_file_line_and_field() {
        let cases = [
            (
                "[[term]]\ntext = \"x\"\ntier = \"blok\"\ncategory = \"a\"\n",
                "test.toml:3:8: field `term[0].tier`: expected one of",
            ),
            (
                "[[term]]\ntext = \"x\"\ntier = \"block\"\ncategory = \"A B\"\n",
                "test.toml:4:12: field `term[0].category`",
            ),
            (
                "[[term]]\ntext = \"...\"\ntier = \"block\"\ncategory = \"a\"\n",
                "test.toml:2:8: field `term[0].text`: \"...\" has no letters",
            ),
            (
                "[[pattern]]\nregex = \"(\"\ntier = \"signal\"\ncategory = \"a\"\n",
                "test.toml:2:9: field `pattern[0].regex`: invalid regular expression",
            ),
            (
                "[[term]]\ntext = \"x\"\ntier = \"block\"\ncategory = \"a\"\ncolour = 1\n",
                "test.toml:5:1: unknown field `colour`",
            ),
            (
                "[[term]]\ntext = \"x\"\ntier = \"block\"\n",
                "test.toml:1:1: missing field `category`",
            ),
            (
                "[[term]]\ntext = \"x\"\ntier = \"signal\"\ncategory = \"a\"\nweight = 2.0\n",
                "test.toml:5:10: field `term[0].weight`: expected a weight in (0, 1]",
            ),
            (
                "[[term]]\ntext = \"x\"\ntier = \"block\"\ncategory = \"a\"\n[[term]]\ntext = \"x\"\ntier = \"block\"\ncategory = \"a\"\n",
                "test.toml:6:8: field `term[1].text`: duplicate rule id \"term:x\"",
            ),
            (
                "[[term]]\ntext = \"x\"\ntier = \"block\"\ncategory = \"a\"\nmatch = \"fuzzy\"\n",
                "test.toml:5:9: field `term[0].match`: expected \"word\" or \"anywhere\"",
            ),
            ("[[term]\n", "test.toml:1:"),
        ];
        for (source, expected) in cases {
            let error = load_error(source);
            assert!(
                error.starts_with(expected),
                "got {error:?}\nwanted prefix {expected:?}"
            );
        }
    }

    #[test]
    fn the_default_policy_loads() {
        let policy = Policy::default_policy();
        assert!(!policy.terms().is_empty());
        assert!(!policy.patterns().is_empty());
    }
}
