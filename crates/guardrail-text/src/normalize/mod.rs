//! The staged normaliser: turns raw input bytes into the two views the matcher reads,
//! while remembering, for every character of every view, which bytes of the original
//! input it came from.
//!
//! Stages, in order:
//! 1. [`decode`]: UTF-8 repair, HTML character references (all HTML5 names),
//!    percent-encoding, emoji shortcodes;
//! 2. [`fold`]: invisible and bidi characters dropped, NFKD compatibility decomposition,
//!    combining marks dropped, case folding, UTS #39 confusable prototypes, letter-like
//!    symbols read by table (small capitals, negative enclosed letters, regional
//!    indicators), emoji recognised;
//! 3. [`compact`]: the *term view*: leetspeak and symbol letters resolved by context
//!    (also inside split spellings), separators removed (their positions kept as word
//!    boundaries), CamelCase and number boundaries, repeated letters collapsed (their
//!    counts kept).
//!
//! The *folded view* (after stage 2, emoji written as `:shortcode:`) is what policy
//! regular expressions run over; the *term view* (stage 3) is what term matching runs
//! over. Neither view ever loses the link back to the original bytes, so every match can
//! be reported as a byte span of the input that really contains it.
//!
//! Two readings need a second view, built only when the input calls for it (so the
//! common input pays nothing): the *display order* of text that explicit bidi controls
//! reorder (a reader sees `\u{202E}tiabodep` as `pedobait`; the logical order is
//! still read too), and the term view with *emoji as separators* (`p🍕e🍕d🍕o`; emoji
//! terms are still found in the ordinary view). Each is an [`Alternate`] naming the
//! [`Stage`] that revealed it.
//!
//! The normaliser never fails: malformed input is repaired and reported as a
//! [`Diagnostic`], and its work is linear in the input length.
//!
//! This file is only the orchestration; the types the stages share live in `unit.rs`
//! and the character classes they share in `chars.rs`, so no stage imports from here
//! or from another stage.

mod chars;
pub(crate) mod compact;
pub(crate) mod decode;
mod entities;
pub(crate) mod fold;
mod unit;

pub use compact::TermView;
pub(crate) use unit::Unit;
pub use unit::{Diagnostic, DiagnosticKind, NormalizeOptions, Span, Stage, StageSet};

/// The result of normalising one input: both views and what was wrong with the input.
#[derive(Debug, Clone)]
pub struct NormalizedText {
    pub(crate) folded_units: Vec<Unit>,
    pub(crate) folded: String,
    pub(crate) terms: TermView,
    pub(crate) alternates: Vec<Alternate>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) input_len: usize,
}

/// Another reading of the same input, matched besides the ordinary one.
#[derive(Debug, Clone)]
pub(crate) struct Alternate {
    /// The folded units and text, when they differ from the ordinary reading (patterns
    /// run over them too).
    pub folded: Option<(Vec<Unit>, String)>,
    pub terms: TermView,
    /// What this reading undoes; added to the stages of matches only it finds.
    pub revealed_by: Stage,
}

impl NormalizedText {
    /// The folded view: decoded, invisible characters gone, NFKD without marks, lower
    /// case, confusables mapped, emoji as `:shortcode:`. Policy patterns run over it.
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// The term view as text (separators removed, leetspeak resolved, repeats collapsed;
    /// emoji as `:shortcode:`), for explanations.
    pub fn term_text(&self) -> String {
        self.terms.display()
    }

    /// What was wrong with the input.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The length of the original input in bytes.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// The other readings (display order, emoji as separators), usually none.
    pub(crate) fn alternates(&self) -> &[Alternate] {
        &self.alternates
    }
}

/// The original span and stages behind a byte range of a folded view. Walks the units
/// (linear), which is only done for the rare pattern match.
pub(crate) fn range_origin(
    units: &[Unit],
    folded: &str,
    start: usize,
    end: usize,
) -> Option<(Span, StageSet)> {
    if start >= end || end > folded.len() {
        return None;
    }
    let mut offset = 0;
    let mut origin: Option<(Span, StageSet)> = None;
    for (unit, width) in units.iter().zip(fold::rendered_widths(units)) {
        let (unit_start, unit_end) = (offset, offset + width);
        offset = unit_end;
        if unit_end <= start {
            continue;
        }
        if unit_start >= end {
            break;
        }
        let unit_stages = unit.stages.stages_only();
        origin = Some(match origin {
            None => (unit.span(), unit_stages),
            Some((span, stages)) => (span.union(unit.span()), stages.union(unit_stages)),
        });
    }
    origin
}

/// Normalises raw input bytes (which need not be UTF-8).
pub fn normalize(input: &[u8], options: &NormalizeOptions) -> NormalizedText {
    let mut diagnostics = Vec::new();
    let mut evaluated = input;
    if input.len() > options.max_input_bytes {
        let mut cut = options.max_input_bytes;
        // Back up to a character boundary so the cut does not invent an invalid byte.
        while cut > 0 && (input[cut] & 0xC0) == 0x80 {
            cut -= 1;
        }
        evaluated = &input[..cut];
        diagnostics.push(Diagnostic {
            kind: DiagnosticKind::Truncated,
            message: format!(
                "input is {} bytes; only the first {} were evaluated",
                input.len(),
                cut
            ),
            span: Some(Span {
                start: cut,
                end: input.len(),
            }),
        });
    }
    let mut alternates = Vec::new();
    // Plain ASCII has no emoji, so no emoji can separate letters.
    let mut may_hold_emoji = false;
    let folded_units = match fold::plain_ascii(evaluated) {
        Some(units) => units,
        None => {
            may_hold_emoji = true;
            let repaired = decode::repair_utf8(evaluated, &mut diagnostics);
            if let Some(displayed) = decode::display_order(&repaired) {
                // Diagnostics describe the input once; the second reading's are the same.
                let units = decode_and_fold(displayed, &mut Vec::new());
                let folded = fold::render(&units);
                let terms = compact::build(&units, options, false);
                alternates.push(Alternate {
                    folded: Some((units, folded)),
                    terms,
                    revealed_by: Stage::DisplayOrder,
                });
            }
            decode_and_fold(repaired, &mut diagnostics)
        }
    };
    let folded = fold::render(&folded_units);
    let terms = compact::build(&folded_units, options, false);
    if may_hold_emoji && compact::emoji_between_letters(&folded_units) {
        alternates.push(Alternate {
            folded: None,
            terms: compact::build(&folded_units, options, true),
            revealed_by: Stage::EmojiSeparator,
        });
    }
    NormalizedText {
        folded_units,
        folded,
        terms,
        alternates,
        diagnostics,
        input_len: input.len(),
    }
}

/// Passes of decoding again after folding; folding can reveal an encoding that a
/// mark or a fullwidth character hid (`%<combining mark>70`, `％70`).
const MAX_FOLD_ROUNDS: usize = 3;

fn decode_and_fold(repaired: Vec<Unit>, diagnostics: &mut Vec<Diagnostic>) -> Vec<Unit> {
    let decoded = decode::decode_units(repaired, diagnostics).0;
    let mut units = fold::fold(decoded, diagnostics);
    for _ in 1..MAX_FOLD_ROUNDS {
        if !units.iter().any(|u| matches!(u.ch, '&' | '%' | ':')) {
            break;
        }
        let (decoded, changed) = decode::decode_units(units.clone(), diagnostics);
        if !changed {
            break;
        }
        units = fold::fold(decoded, diagnostics);
    }
    units
}

/// Normalises text (a convenience over [`normalize`] for valid UTF-8).
pub fn normalize_str(input: &str) -> NormalizedText {
    normalize(input.as_bytes(), &NormalizeOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The term view (stage 3) and its words (`|` between them), read through the whole
    /// pipeline so inputs arrive folded as they do in use (upper case marked for
    /// CamelCase splits).
    fn term_view(input: &str) -> (String, String) {
        let normalized = normalize(input.as_bytes(), &NormalizeOptions::default());
        let view = &normalized.terms;
        let mut words = String::new();
        for ch in &view.chars {
            if ch.begins_word && !words.is_empty() {
                words.push('|');
            }
            words.push_str(&String::from_utf8_lossy(
                &view.bytes[ch.byte_start as usize..ch.byte_end as usize],
            ));
        }
        (view.display(), words)
    }

    #[test]
    fn reads_disguised_words() {
        // (input, term view, words separated by `|`)
        let cases = [
            ("pedo bait", "pedobait", "pedo|bait"),
            ("p.e.d.o", "pedo", "p|e|d|o"),
            ("p3d0", "pedo", "pedo"),
            ("$eller", "seler", "seler"),
            ("s3ll3r", "seler", "seler"),
            ("p@ss", "pas", "pas"),
            ("@pedo", "pedo", "pedo"),
            ("chapter 14", "chapter14", "chapter|14"),
            ("pedobait2024", "pedobait2024", "pedobait|2024"),
            ("#PedoBait", "pedobait", "pedo|bait"),
            ("PedoBait", "pedobait", "pedobait"),
            ("#PEDOBait", "pedobait", "pedo|bait"),
            ("peeddoo", "pedo", "pedo"),
            ("hello!", "helo", "helo"),
            ("$5 off", "5of", "5|of"),
        ];
        for (input, view, words) in cases {
            assert_eq!(
                term_view(input),
                (view.to_string(), words.to_string()),
                "input {input:?}"
            );
        }
    }
}
