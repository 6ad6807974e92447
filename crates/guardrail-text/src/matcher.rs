//! Finding every term and pattern of a policy in a normalised text, each reported with
//! its span in the original input and the normalisation stages it needed (the reasons
//! a reviewer reads, see [`Stage::reason`]).
//!
//! Terms run as one Aho-Corasick automaton over the term view (all overlapping
//! matches, so a short term inside a longer one is still seen), then each candidate is
//! checked against the term's rules: whole words for `word` terms (or a concatenation
//! of known words), disguised spellings only for terms written in leetspeak, repeated
//! letters that fit the term's own (`bitter` is not `biter`), and for `anywhere` terms
//! no ordinary space between two words inside the match. The alternate readings of a
//! text (display order, emoji as separators) are searched the same way and add only
//! matches the ordinary reading did not find. The matcher must never report a span
//! outside the input or a match without the stages that revealed it. Patterns
//! run over the folded view, behind a `RegexSet` prefilter so that a policy with many
//! patterns costs one pass for the common case of no pattern matching.

use std::sync::Arc;

use crate::normalize::compact::{self, TermChar};
use crate::normalize::{NormalizedText, Span, Stage, StageSet, TermView, Unit, range_origin};
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

impl Match {
    /// Why the match was seen, in words a reviewer reads: one reason per normalisation
    /// stage that was needed, in pipeline order (`regional indicators read as letters`,
    /// `reversed by a right-to-left override, read as displayed`). Empty for a match in
    /// plain text.
    pub fn reasons(&self) -> Vec<&'static str> {
        self.stages.reasons().collect()
    }
}

pub(crate) fn find_matches(
    policy: &Policy,
    text: &NormalizedText,
    limit: usize,
    out: &mut Vec<Match>,
) -> bool {
    // Matches per input are few; a linear check beats hashing them.
    let mut seen: Vec<(usize, Span)> = Vec::new();
    let mut truncated = find_terms(policy, &text.terms, None, limit, &mut seen, out);
    if !truncated && !policy.patterns.is_empty() {
        truncated = find_patterns(policy, &text.folded_units, text.folded(), None, limit, out);
    }
    // Other readings (display order, emoji as separators) add what only they reveal.
    for alternate in text.alternates() {
        if truncated {
            break;
        }
        let revealed_by = Some(alternate.revealed_by);
        truncated = find_terms(policy, &alternate.terms, revealed_by, limit, &mut seen, out);
        if let Some((units, folded)) = &alternate.folded
            && !truncated
            && !policy.patterns.is_empty()
        {
            let before = out.len();
            truncated = find_patterns(policy, units, folded, revealed_by, limit, out);
            // A pattern the ordinary reading already found at the same place is no news.
            let mut index = before;
            while index < out.len() {
                let found = &out[index];
                if out[..before]
                    .iter()
                    .any(|m| m.rule == found.rule && m.span == found.span)
                {
                    out.remove(index);
                } else {
                    index += 1;
                }
            }
        }
    }
    truncated
}

/// Every term in one term view. `revealed_by` names the alternate reading, if any; a
/// match already found (same rule, same span) is not listed twice.
fn find_terms(
    policy: &Policy,
    view: &TermView,
    revealed_by: Option<Stage>,
    limit: usize,
    seen: &mut Vec<(usize, Span)>,
    out: &mut Vec<Match>,
) -> bool {
    // Word extents, computed on first need (most inputs never need them).
    let mut word_bounds: Option<Vec<(u32, u32)>> = None;
    let bytes = view.bytes();
    if bytes.is_empty() || policy.terms.is_empty() {
        return false;
    }
    for found in policy.automaton.find_overlapping_iter(bytes) {
        let variant = found.pattern().as_usize();
        let rule_index = policy.variant_rule[variant] as usize;
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
        // One pass over the match for everything the checks below need.
        let mut stages = StageSet::EMPTY;
        let (mut leet, mut repeated, mut gap, mut emoji_gap) = (false, false, false, false);
        for (index, ch) in covered.iter().enumerate() {
            stages = stages.union(ch.stages);
            leet |= ch.leet;
            repeated |= ch.run > 1;
            if index > 0 {
                gap |= ch.gap_before;
                emoji_gap |= ch.emoji_gap_before;
            }
        }
        if rule.requires_leet && !leet {
            continue;
        }
        let term_runs = policy.variant_runs[variant].as_deref();
        if (repeated || term_runs.is_some()) && !runs_fit(term_runs, covered) {
            continue;
        }
        if gap {
            stages.insert(Stage::Separator);
        }
        if emoji_gap {
            stages.insert(Stage::EmojiSeparator);
        }
        match rule.mode {
            MatchMode::Word => match word_fit(policy, view, &mut word_bounds, first, last) {
                Some(fit_stages) => stages = stages.union(fit_stages),
                None => continue,
            },
            MatchMode::Anywhere => {
                if !anywhere_fit(chars, first, last) {
                    continue;
                }
            }
        }
        let span = covered
            .iter()
            .fold(covered[0].span, |acc, c| acc.union(c.span));
        if seen.contains(&(rule_index, span)) {
            continue;
        }
        seen.push((rule_index, span));
        let found = Match {
            rule: Arc::clone(&rule.id),
            kind: RuleKind::Term,
            tier: rule.tier,
            category: Arc::clone(&rule.category),
            span,
            normalized: display_bytes(&bytes[found.start()..found.end()]),
            stages,
            weight: rule.weight,
        };
        if record(out, limit, revealed_by, found) {
            return true;
        }
    }
    false
}

/// Adds a match to `out`, marked with the alternate view that revealed it; answers `true`
/// (and adds nothing) once `out` holds `limit` matches.
fn record(
    out: &mut Vec<Match>,
    limit: usize,
    revealed_by: Option<Stage>,
    mut found: Match,
) -> bool {
    if out.len() >= limit {
        return true;
    }
    if let Some(stage) = revealed_by {
        found.stages.insert(stage);
    }
    out.push(found);
    false
}

/// Every pattern over one folded view (`units` rendered as `folded`).
fn find_patterns(
    policy: &Policy,
    units: &[Unit],
    folded: &str,
    revealed_by: Option<Stage>,
    limit: usize,
    out: &mut Vec<Match>,
) -> bool {
    for pattern_index in policy.pattern_set.matches(folded).iter() {
        let rule = &policy.patterns[pattern_index];
        for found in rule.regex.find_iter(folded) {
            let Some((span, stages)) = range_origin(units, folded, found.start(), found.end())
            else {
                continue;
            };
            let found = Match {
                rule: Arc::clone(&rule.id),
                kind: RuleKind::Pattern,
                tier: rule.tier,
                category: Arc::clone(&rule.category),
                span,
                normalized: found.as_str().to_string(),
                stages,
                weight: rule.weight,
            };
            if record(out, limit, revealed_by, found) {
                return true;
            }
        }
    }
    false
}

/// Whether the letters repeated in the text fit the term's own (`term_runs`, one per
/// character of the match, `None` for all ones). Collapsing repeats must not make two words collide:
/// - a letter the term doubles must be at least doubled in the text (`s3ller` is not
///   `s3ler`);
/// - a letter the term writes once matches it once, stretched (three or more:
///   `peeedo`), or doubled as part of a deliberate disguise: across a separator
///   (`p e e d o`) or with other letters of the match repeated too (`ppeeddoo`). A
///   single doubled letter in an otherwise plain spelling is another word (`bitter`
///   is not `biter`, `peddo` is not `pedo`).
fn runs_fit(term_runs: Option<&[u8]>, covered: &[TermChar]) -> bool {
    let mut excess = 0usize;
    let mut lone_double = false;
    for (index, ch) in covered.iter().enumerate() {
        // `None`: every character of the term is one letter.
        let wanted = term_runs.map_or(1, |runs| runs.get(index).copied().unwrap_or(1));
        if ch.run < wanted {
            return false;
        }
        if ch.run > wanted && !ch.run_split {
            excess += usize::from(ch.run - wanted);
            lone_double |= wanted == 1 && ch.run == 2;
        }
    }
    !(lone_double && excess < 2)
}

/// Whether an `anywhere` match spells the term across deliberate separators only. A
/// space inside the match is ordinary when the pieces on both sides of it are words of
/// two or more characters (`zorb laxative` is two words); it is deliberate when one
/// side is a single character (`z o r b l a x`, `zorbla x`). Punctuation without a
/// space (`zor.blax`), invisible characters and emoji separators are deliberate. Looks
/// at most one character beyond each end of the match, so it stays constant-time per
/// character of the match.
fn anywhere_fit(chars: &[TermChar], first: usize, last: usize) -> bool {
    // Length (capped at 2) of the piece being read and of the piece before the last
    // space; the piece left of the match counts the word's characters before it.
    let mut piece: u8 = u8::from(first > 0 && !chars[first].space_before);
    let mut previous: Option<u8> = None;
    let close = |piece: u8, previous: &mut Option<u8>| -> bool {
        let ordinary = previous.is_some_and(|left| left >= 2 && piece >= 2);
        *previous = Some(piece);
        !ordinary
    };
    for (index, ch) in chars.iter().enumerate().take(last + 1).skip(first) {
        if index > first && ch.space_before && !close(piece, &mut previous) {
            return false;
        }
        if index > first && ch.space_before {
            piece = 0;
        }
        piece = (piece + 1).min(2);
        if ch.space_inside {
            // A repeat collapsed across the space: the character ends one piece and
            // begins the next.
            if !close(piece, &mut previous) {
                return false;
            }
            piece = 1;
        }
    }
    if chars.get(last + 1).is_some_and(|c| !c.space_before) {
        piece = (piece + 1).min(2);
    }
    close(piece, &mut previous)
}

/// Whether term-view characters `first..=last` stand as a word: on word boundaries at
/// both ends, or inside a word whose remaining parts are known words. Returns the extra
/// stages that were needed, or `None` when the match is part of an unrelated word.
fn word_fit(
    policy: &Policy,
    view: &TermView,
    word_bounds: &mut Option<Vec<(u32, u32)>>,
    first: usize,
    last: usize,
) -> Option<StageSet> {
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
