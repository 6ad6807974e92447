//! Finding every term and pattern of a policy in a normalised text, each reported with
//! its span in the original input and the normalisation stages it needed.
//!
//! Terms run as one Aho-Corasick automaton over the term view (all overlapping
//! matches, so a short term inside a longer one is still seen), then each candidate is
//! checked against the term's rules: whole words for `word` terms (or a concatenation
//! of known words), disguised spellings only for terms written in leetspeak. Patterns
//! run over the folded view, behind a `RegexSet` prefilter so that a policy with many
//! patterns costs one pass for the common case of no pattern matching.

use std::sync::Arc;

use crate::normalize::{NormalizedText, Span, Stage, StageSet, compact};
use crate::policy::{MatchMode, Policy, RuleKind, Tier};

/// One rule that matched.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Match {
    /// The rule's id.
    pub rule: Arc<str>,
    /// Term or pattern.
    pub kind: RuleKind,
    /// The rule's tier.
    pub tier: Tier,
    /// The rule's category.
    pub category: Arc<str>,
    /// The bytes of the original input that matched.
    pub span: Span,
    /// What the matched text reads as after normalisation.
    pub normalized: String,
    /// The normalisation stages that were needed to see the match.
    pub stages: StageSet,
    /// The rule's weight in the risk score (for `signal` matches).
    pub weight: f64,
}

pub(crate) fn find_matches(
    policy: &Policy,
    text: &NormalizedText,
    limit: usize,
    out: &mut Vec<Match>,
) -> bool {
    // Matches per input are few; a linear check beats hashing them.
    let mut seen: Vec<(usize, Span)> = Vec::new();
    // Word extents, computed on first need (most inputs never need them).
    let mut word_bounds: Option<Vec<(u32, u32)>> = None;
    let mut truncated = false;
    let view = &text.terms;
    let bytes = view.bytes();
    if !bytes.is_empty() && !policy.terms.is_empty() {
        for found in policy.automaton.find_overlapping_iter(bytes) {
            let rule_index = policy.variant_rule[found.pattern().as_usize()] as usize;
            let rule = &policy.terms[rule_index];
            let (first, last) = (
                view.char_at_byte(found.start()),
                view.char_at_byte(found.end() - 1),
            );
            let chars = &view.chars;
            // Whole characters only: never half of a multi-byte letter or an emoji name.
            if chars[first].byte_start as usize != found.start()
                || chars[last].byte_end as usize != found.end()
            {
                continue;
            }
            let covered = &chars[first..=last];
            if rule.requires_leet && !covered.iter().any(|c| c.leet) {
                continue;
            }
            let mut stages = covered
                .iter()
                .fold(StageSet::EMPTY, |acc, c| acc.union(c.stages));
            if covered.iter().skip(1).any(|c| c.gap_before) {
                stages.insert(Stage::Separator);
            }
            if rule.mode == MatchMode::Word {
                match word_fit(policy, text, &mut word_bounds, first, last) {
                    Some(fit_stages) => stages = stages.union(fit_stages),
                    None => continue,
                }
            }
            let span = covered
                .iter()
                .fold(covered[0].span, |acc, c| acc.union(c.span));
            if seen.contains(&(rule_index, span)) {
                continue;
            }
            seen.push((rule_index, span));
            if out.len() >= limit {
                truncated = true;
                break;
            }
            out.push(Match {
                rule: Arc::clone(&rule.id),
                kind: RuleKind::Term,
                tier: rule.tier,
                category: Arc::clone(&rule.category),
                span,
                normalized: display_bytes(&bytes[found.start()..found.end()]),
                stages,
                weight: rule.weight,
            });
        }
    }
    if !policy.patterns.is_empty() && !truncated {
        let folded = text.folded();
        for pattern_index in policy.pattern_set.matches(folded).iter() {
            let rule = &policy.patterns[pattern_index];
            for found in rule.regex.find_iter(folded) {
                let Some((span, stages)) = text.folded_range_origin(found.start(), found.end())
                else {
                    continue;
                };
                if out.len() >= limit {
                    truncated = true;
                    break;
                }
                out.push(Match {
                    rule: Arc::clone(&rule.id),
                    kind: RuleKind::Pattern,
                    tier: rule.tier,
                    category: Arc::clone(&rule.category),
                    span,
                    normalized: found.as_str().to_string(),
                    stages,
                    weight: rule.weight,
                });
            }
        }
    }
    truncated
}

/// Whether term-view characters `first..=last` stand as a word: on word boundaries at
/// both ends, or inside a word whose remaining parts are known words. Returns the extra
/// stages that were needed, or `None` when the match is part of an unrelated word.
fn word_fit(
    policy: &Policy,
    text: &NormalizedText,
    word_bounds: &mut Option<Vec<(u32, u32)>>,
    first: usize,
    last: usize,
) -> Option<StageSet> {
    let view = &text.terms;
    let chars = &view.chars;
    let mut stages = StageSet::EMPTY;
    if chars[first].split_before || chars[first + 1..=last].iter().any(|c| c.split_before) {
        stages.insert(Stage::WordSplit);
    }
    let spans_words = chars[first + 1..=last].iter().any(|c| c.begins_word);
    let needs_segmentation = !chars[first].begins_word || !chars[last].ends_word;
    if needs_segmentation && spans_words {
        // A concatenation is one unbroken word; a match that straddles a word boundary
        // and also cuts into a neighbouring word is a coincidence (`top edo`).
        return None;
    }
    if !chars[first].begins_word {
        let bounds = word_bounds.get_or_insert_with(|| compact::word_bounds(&view.chars));
        let word_start = bounds[first].0 as usize;
        let prefix =
            &view.bytes[chars[word_start].byte_start as usize..chars[first].byte_start as usize];
        if !policy.lexicon.segments(prefix) {
            return None;
        }
        stages.insert(Stage::Segmentation);
    }
    if !chars[last].ends_word {
        let bounds = word_bounds.get_or_insert_with(|| compact::word_bounds(&view.chars));
        let word_end = bounds[last].1 as usize;
        let suffix = &view.bytes[chars[last].byte_end as usize..chars[word_end].byte_end as usize];
        if !policy.lexicon.segments(suffix) {
            return None;
        }
        stages.insert(Stage::Segmentation);
    } else if last + 1 < chars.len() && chars[last + 1].split_before {
        stages.insert(Stage::WordSplit);
    }
    Some(stages)
}

fn display_bytes(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.replace(['\u{1}', '\u{2}'], ":")
}
