//! Stage 2: folding characters to what they look like. Drops invisible and bidi
//! characters, applies compatibility decomposition (fullwidth, mathematical and circled
//! letters become plain ones), drops combining marks, folds case, maps look-alike
//! letters from other scripts to their Latin prototype (UTS #39 confusables) and
//! recognises emoji. Each output character keeps the span of the input character it
//! came from, so folding never loses track of where a match really is.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use super::chars::{PADDING_REPORT_THRESHOLD, emoji_name, is_invisible};
use super::unit::{Diagnostic, DiagnosticKind, Stage, StageSet, Unit};

fn is_regional_indicator(ch: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&ch)
}

/// The common case in one pass: ASCII input with nothing to decode (no `&`, `%` or
/// `:`) folds to its lower-case characters directly.
pub(crate) fn plain_ascii(input: &[u8]) -> Option<Vec<Unit>> {
    if !input.is_ascii() || input.iter().any(|b| matches!(b, b'&' | b'%' | b':')) {
        return None;
    }
    Some(
        input
            .iter()
            .enumerate()
            .map(|(index, &byte)| {
                let mut unit = Unit::new(char::from(byte.to_ascii_lowercase()), index, index + 1);
                if byte.is_ascii_uppercase() {
                    unit.upper = true;
                    unit.stages.insert(Stage::CaseFold);
                }
                unit
            })
            .collect(),
    )
}

pub(crate) fn fold(units: Vec<Unit>, diagnostics: &mut Vec<Diagnostic>) -> Vec<Unit> {
    if units.iter().all(|u| u.ch.is_ascii()) {
        // The common case folds in place: only case changes.
        let mut units = units;
        for unit in &mut units {
            if unit.ch.is_ascii_uppercase() {
                unit.ch = unit.ch.to_ascii_lowercase();
                unit.upper = true;
                unit.stages.insert(Stage::CaseFold);
            }
        }
        return units;
    }
    let mut out: Vec<Unit> = Vec::with_capacity(units.len());
    let mut dropped_invisible = 0usize;
    let mut dropped_marks = 0usize;
    let mut pending_stages = StageSet::EMPTY;
    let mut index = 0;
    while index < units.len() {
        let unit = units[index];
        index += 1;
        let ch = unit.ch;
        if ch.is_ascii() {
            let mut folded = unit;
            folded.stages = folded.stages.union(pending_stages);
            pending_stages = StageSet::EMPTY;
            if ch.is_ascii_uppercase() {
                folded.ch = ch.to_ascii_lowercase();
                folded.upper = true;
                folded.stages.insert(Stage::CaseFold);
            }
            out.push(folded);
            continue;
        }
        if is_invisible(ch) {
            dropped_invisible += 1;
            // The next visible character carries the evidence that something was hidden.
            pending_stages.insert(Stage::Invisible);
            continue;
        }
        if let Some(emoji) = recognise_emoji(&units, index - 1) {
            let (emoji, consumed) = emoji;
            let mut folded = unit;
            for other in &units[index..index - 1 + consumed] {
                folded.end = folded.end.max(other.end);
            }
            index += consumed - 1;
            folded.emoji = Some(emoji);
            folded.stages = folded.stages.union(pending_stages);
            pending_stages = StageSet::EMPTY;
            folded.stages.insert(Stage::Emoji);
            out.push(folded);
            continue;
        }
        let mut produced_any = false;
        decompose_compatible(ch, |part| {
            if is_combining_mark(part) {
                dropped_marks += 1;
                // Attach the mark's evidence and span to the letter it decorated.
                if let Some(last) = out.last_mut() {
                    last.stages.insert(Stage::CombiningMark);
                    last.end = last.end.max(unit.end);
                    last.start = last.start.min(unit.start);
                }
                return;
            }
            produced_any = true;
            let mut stages = unit.stages.union(pending_stages);
            if part != ch {
                stages.insert(Stage::Compatibility);
                // A character that decomposes to an emoji (U+21AE, an arrow with a stroke,
                // is U+2194 and a mark) is that emoji, or folding the folded text again
                // would find it: folding must be idempotent (found by fuzzing).
                let mut buffer = [0u8; 4];
                if let Some(emoji) = emojis::get(part.encode_utf8(&mut buffer)) {
                    let mut folded = unit;
                    folded.ch = part;
                    folded.emoji = Some(emoji);
                    folded.stages = stages;
                    folded.stages.insert(Stage::Emoji);
                    out.push(folded);
                    return;
                }
            }
            for lower in part.to_lowercase() {
                let mut folded = unit;
                folded.stages = stages;
                if lower != part {
                    folded.stages.insert(Stage::CaseFold);
                    folded.upper = true;
                }
                folded.ch = lower;
                push_with_prototype(&mut out, folded);
            }
        });
        if produced_any {
            pending_stages = StageSet::EMPTY;
        }
    }
    if dropped_invisible > PADDING_REPORT_THRESHOLD || dropped_marks > PADDING_REPORT_THRESHOLD {
        diagnostics.push(Diagnostic {
            kind: DiagnosticKind::SuspiciousPadding,
            message: format!(
                "{dropped_invisible} invisible characters and {dropped_marks} combining marks were dropped"
            ),
            span: None,
        });
    }
    out
}

/// Maps a non-ASCII letter to its ASCII prototype when UTS #39 says it is confusable
/// with one (Cyrillic `а`, Greek `ο`, Cherokee, ...); other characters stay as they are.
fn push_with_prototype(out: &mut Vec<Unit>, unit: Unit) {
    if unit.ch.is_ascii() {
        out.push(unit);
        return;
    }
    let mut buffer = [0u8; 4];
    let text: &str = unit.ch.encode_utf8(&mut buffer);
    let mut prototype = [' '; 4];
    let mut length = 0;
    for ch in unicode_security::skeleton(text) {
        if length == prototype.len() || !ch.is_ascii() || ch.is_ascii_control() || ch == ' ' {
            out.push(unit);
            return;
        }
        prototype[length] = ch.to_ascii_lowercase();
        length += 1;
    }
    if length == 0 || (length == 1 && prototype[0] == unit.ch) {
        out.push(unit);
        return;
    }
    for &ch in &prototype[..length] {
        let mut mapped = unit;
        mapped.ch = ch;
        mapped.stages.insert(Stage::Confusable);
        out.push(mapped);
    }
}

/// An emoji starting at `at`: a single pictograph, or a flag (two regional indicators).
/// Returns the emoji and how many units it spans.
fn recognise_emoji(units: &[Unit], at: usize) -> Option<(&'static emojis::Emoji, usize)> {
    let first = units[at].ch;
    if is_regional_indicator(first) {
        // Marks between the two halves of a flag are dropped later; look past them now.
        let offset = units[at + 1..]
            .iter()
            .position(|u| !is_combining_mark(u.ch))?;
        let second = units[at + 1 + offset].ch;
        if !is_regional_indicator(second) {
            return None;
        }
        let pair: String = [first, second].iter().collect();
        return emojis::get(&pair).map(|emoji| (emoji, offset + 2));
    }
    let mut buffer = [0u8; 4];
    emojis::get(first.encode_utf8(&mut buffer)).map(|emoji| (emoji, 1))
}

/// Writes the folded view: each unit's character, emoji as `:shortcode:`.
pub(crate) fn render(units: &[Unit]) -> String {
    let mut text = String::with_capacity(units.len());
    for unit in units {
        match unit.emoji {
            Some(emoji) => {
                text.push(':');
                text.push_str(&emoji_name(emoji));
                text.push(':');
            }
            None => text.push(unit.ch),
        }
    }
    text
}

/// How many bytes a unit takes in the folded view.
pub(crate) fn rendered_len(unit: &Unit) -> usize {
    match unit.emoji {
        Some(emoji) => emoji_name(emoji).len() + 2,
        None => unit.ch.len_utf8(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(input: &str) -> String {
        let mut diagnostics = Vec::new();
        let units: Vec<Unit> = input
            .char_indices()
            .map(|(i, c)| Unit::new(c, i, i + c.len_utf8()))
            .collect();
        render(&fold(units, &mut diagnostics))
    }

    #[test]
    fn folds_look_alikes_to_plain_latin() {
        let cases = [
            ("PeDo", "pedo"),
            ("p\u{200B}e\u{200D}d\u{2060}o", "pedo"),
            ("\u{FF50}\u{FF45}\u{FF44}\u{FF4F}", "pedo"),
            ("\u{1D429}\u{1D41E}\u{1D41D}\u{1D428}", "pedo"),
            ("\u{24DF}\u{24D4}\u{24D3}\u{24DE}", "pedo"),
            ("\u{440}\u{435}d\u{43E}", "pedo"),
            ("\u{3C1}\u{435}d\u{3BF}", "pedo"),
            ("p\u{301}e\u{308}d\u{336}o\u{335}", "pedo"),
            ("caf\u{E9}", "cafe"),
            ("\u{1F5FA}\u{FE0F}", ":world_map:"),
            ("\u{1F1FA}\u{1F1F8}", ":us:"),
            ("日本", "日本"),
        ];
        for (input, expected) in cases {
            assert_eq!(folded(input), expected, "input {input:?}");
        }
    }
}
