//! Stage 1: from raw bytes to characters, undoing the encodings people use to slip
//! words past filters: invalid UTF-8 (repaired), HTML character references (every
//! HTML5 name, see `entities.rs`), percent-encoding and emoji shortcodes. Decoding
//! repeats until nothing changes (bounded), so doubly encoded text (`&amp;#112;`)
//! decodes fully and normalising twice equals once. Also here: the display order of
//! text that explicit bidi controls reorder ([`display_order`]). Decoding must never
//! read past its bounds (names, digits, shortcodes and passes are all capped).

use super::chars::{PADDING_REPORT_THRESHOLD, is_invisible};
use super::entities;
use super::unit::{Diagnostic, DiagnosticKind, Span, Stage, Unit};

/// Passes of entity/percent/shortcode decoding; more nesting than this is left as is.
const MAX_DECODE_PASSES: usize = 4;
/// Digits of a numeric character reference (`&#x10FFFF;` has six).
const MAX_REFERENCE_DIGITS: usize = 8;
const MAX_SHORTCODE_LEN: usize = 48;

#[cfg(test)]
pub(crate) fn decode(input: &[u8], diagnostics: &mut Vec<Diagnostic>) -> Vec<Unit> {
    let units = repair_utf8(input, diagnostics);
    decode_units(units, diagnostics).0
}

/// Explicit bidi controls that reorder what follows them: embeddings and overrides
/// (`LRE RLE PDF LRO RLO`) and isolates (`LRI RLI FSI PDI`).
fn is_bidi_control(ch: char) -> bool {
    matches!(ch, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The units in the order a reader sees them, when explicit bidi controls change it
/// (`\u{202E}tiabodep\u{202C}` is displayed `pedobait`), else `None`. Reordering
/// follows the Unicode Bidirectional Algorithm (UAX #9, rules X1-L2 via
/// `unicode-bidi`) per paragraph, with a left-to-right base direction: the direction
/// of the interface the text is shown in. Mirroring of brackets (L4) is not applied;
/// it does not change letters. Each unit keeps its own span, so a match found in
/// display order still points at the bytes that hold it.
pub(crate) fn display_order(units: &[Unit]) -> Option<Vec<Unit>> {
    if !units.iter().any(|u| is_bidi_control(u.ch)) {
        return None;
    }
    let text: String = units.iter().map(|u| u.ch).collect();
    // Byte offset of each unit's character in `text`, to map paragraphs back to units.
    let mut unit_at_byte = Vec::with_capacity(units.len());
    let mut offset = 0;
    for unit in units {
        unit_at_byte.push(offset);
        offset += unit.ch.len_utf8();
    }
    let info = unicode_bidi::BidiInfo::new(&text, Some(unicode_bidi::Level::ltr()));
    if !info.has_rtl() {
        return None;
    }
    let mut out = Vec::with_capacity(units.len());
    for paragraph in &info.paragraphs {
        let first = unit_at_byte.partition_point(|&b| b < paragraph.range.start);
        let last = unit_at_byte.partition_point(|&b| b < paragraph.range.end);
        let levels = info.reordered_levels_per_char(paragraph, paragraph.range.clone());
        let levels = &levels[first..last];
        for logical in unicode_bidi::BidiInfo::reorder_visual(levels) {
            let mut unit = units[first + logical];
            if levels[logical].is_rtl() {
                unit.stages.insert(Stage::DisplayOrder);
            }
            out.push(unit);
        }
    }
    Some(out)
}

/// Decodes characters that are already units: invisible characters go first, so that
/// they cannot hide an encoding (`%<zero-width space>70`), then entity, percent and
/// shortcode passes until nothing changes (bounded). Returns whether anything changed.
pub(crate) fn decode_units(
    units: Vec<Unit>,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Vec<Unit>, bool) {
    let mut hidden = 0;
    let mut units = strip_invisible(units, &mut hidden);
    let mut changed_any = hidden > 0;
    for _ in 0..MAX_DECODE_PASSES {
        if !units.iter().any(|u| matches!(u.ch, '&' | '%' | ':')) {
            break;
        }
        let (next, changed) = decode_pass(&units);
        units = strip_invisible(next, &mut hidden);
        changed_any |= changed;
        if !changed {
            break;
        }
    }
    if hidden > PADDING_REPORT_THRESHOLD {
        diagnostics.push(Diagnostic {
            kind: DiagnosticKind::SuspiciousPadding,
            message: format!("{hidden} invisible characters were dropped"),
            span: None,
        });
    }
    (units, changed_any)
}

/// Drops invisible characters; the next visible character records that some were there.
fn strip_invisible(units: Vec<Unit>, count: &mut usize) -> Vec<Unit> {
    if !units.iter().any(|u| is_invisible(u.ch)) {
        return units;
    }
    let mut out = Vec::with_capacity(units.len());
    let mut hidden = false;
    for mut unit in units {
        if is_invisible(unit.ch) {
            hidden = true;
            *count += 1;
            continue;
        }
        if hidden {
            unit.stages.insert(Stage::Invisible);
            hidden = false;
        }
        out.push(unit);
    }
    out
}

pub(crate) fn repair_utf8(input: &[u8], diagnostics: &mut Vec<Diagnostic>) -> Vec<Unit> {
    if input.is_ascii() {
        // The common case: every byte is a character.
        return input
            .iter()
            .enumerate()
            .map(|(index, &byte)| Unit::new(char::from(byte), index, index + 1))
            .collect();
    }
    let mut units = Vec::with_capacity(input.len());
    let mut offset = 0;
    let mut invalid_runs = 0usize;
    let mut first_invalid: Option<Span> = None;
    for chunk in input.utf8_chunks() {
        for (index, ch) in chunk.valid().char_indices() {
            units.push(Unit::new(
                ch,
                offset + index,
                offset + index + ch.len_utf8(),
            ));
        }
        offset += chunk.valid().len();
        let invalid = chunk.invalid();
        if !invalid.is_empty() {
            let mut unit = Unit::new('\u{FFFD}', offset, offset + invalid.len());
            unit.stages.insert(Stage::Utf8Repair);
            units.push(unit);
            invalid_runs += 1;
            first_invalid.get_or_insert(unit.span());
            offset += invalid.len();
        }
    }
    if invalid_runs > 0 {
        diagnostics.push(Diagnostic {
            kind: DiagnosticKind::InvalidUtf8,
            message: format!(
                "{invalid_runs} invalid UTF-8 sequence(s) replaced by U+FFFD; the first is shown"
            ),
            span: first_invalid,
        });
    }
    units
}

/// One left-to-right pass; returns the new units and whether anything was decoded.
fn decode_pass(units: &[Unit]) -> (Vec<Unit>, bool) {
    let mut out = Vec::with_capacity(units.len());
    let mut changed = false;
    let mut index = 0;
    while index < units.len() {
        let decoded = match units[index].ch {
            '&' => decode_entity(units, index),
            '%' => decode_percent(units, index),
            ':' => decode_shortcode(units, index),
            _ => None,
        };
        match decoded {
            Some((replacement, consumed)) => {
                out.extend(replacement);
                index += consumed;
                changed = true;
            }
            None => {
                out.push(units[index]);
                index += 1;
            }
        }
    }
    (out, changed)
}

/// Units `[from, from + len)` as one merged origin (span and stages).
fn merged(units: &[Unit], from: usize, len: usize, stage: Stage) -> Unit {
    let mut unit = units[from];
    for other in &units[from + 1..from + len] {
        unit.start = unit.start.min(other.start);
        unit.end = unit.end.max(other.end);
        unit.stages = unit.stages.union(other.stages);
    }
    unit.stages.insert(stage);
    unit.set_upper(false);
    unit.emoji = None;
    unit
}

/// Decodes the character reference at `at` the way a browser reads it in text: a
/// numeric reference (`&#112;`, `&#x70;`, with or without `;`), any HTML5 name
/// written with `;` (`&eacute;`, `&Pscr;`), or, without `;`, the longest of the
/// legacy names a browser also accepts bare (`&eacutedo` reads `édo`). Look-ahead
/// is bounded by the longest name, so decoding stays linear; anything else stays
/// literal (`AT&T`, `&unknown;`).
fn decode_entity(units: &[Unit], at: usize) -> Option<(Vec<Unit>, usize)> {
    let next = units.get(at + 1)?.ch;
    if next == '#' {
        return decode_numeric_reference(units, at);
    }
    // The name: ASCII letters and digits, at most one longer than the longest name.
    let mut name = String::new();
    let mut cursor = at + 1;
    while cursor < units.len()
        && name.len() <= entities::MAX_NAME_LEN
        && units[cursor].ch.is_ascii_alphanumeric()
    {
        name.push(units[cursor].ch);
        cursor += 1;
    }
    if name.is_empty() {
        return None;
    }
    let terminated = units.get(cursor).is_some_and(|u| u.ch == ';');
    let (text, consumed) = match lookup(entities::NAMED, &name).filter(|_| terminated) {
        Some(text) => (text, name.len() + 2),
        None => {
            let longest = name.len().min(entities::MAX_LEGACY_LEN);
            let (text, len) = (2..=longest)
                .rev()
                .find_map(|len| lookup(entities::LEGACY, &name[..len]).map(|text| (text, len)))?;
            let semicolon = usize::from(len == name.len() && terminated);
            (text, len + 1 + semicolon)
        }
    };
    let template = merged(units, at, consumed, Stage::HtmlEntity);
    Some((
        text.chars().map(|ch| Unit { ch, ..template }).collect(),
        consumed,
    ))
}

fn lookup(table: &'static [(&'static str, &'static str)], name: &str) -> Option<&'static str> {
    table
        .binary_search_by(|(key, _)| key.cmp(&name))
        .ok()
        .map(|index| table[index].1)
}

/// `&#112;` and `&#x70;`; digits are bounded, so a long run of them stays literal.
fn decode_numeric_reference(units: &[Unit], at: usize) -> Option<(Vec<Unit>, usize)> {
    let mut cursor = at + 2;
    let hex = units.get(cursor).is_some_and(|u| matches!(u.ch, 'x' | 'X'));
    if hex {
        cursor += 1;
    }
    let radix = if hex { 16 } else { 10 };
    let digits_start = cursor;
    let mut value: u32 = 0;
    while cursor < units.len() && cursor - digits_start < MAX_REFERENCE_DIGITS {
        let Some(digit) = units[cursor].ch.to_digit(radix) else {
            break;
        };
        value = value * radix + digit;
        cursor += 1;
    }
    if cursor == digits_start {
        return None;
    }
    // Browsers accept a missing `;`; they do not accept a longer run of digits.
    if units.get(cursor).is_some_and(|u| u.ch.is_digit(radix)) {
        return None;
    }
    let ch = char::from_u32(value)?;
    let terminated = units.get(cursor).is_some_and(|u| u.ch == ';');
    let consumed = cursor - at + usize::from(terminated);
    let mut unit = merged(units, at, consumed, Stage::HtmlEntity);
    unit.ch = ch;
    Some((vec![unit], consumed))
}

fn hex_value(ch: char) -> Option<u8> {
    ch.to_digit(16).map(|d| d as u8)
}

/// A run of `%XX` triples that forms valid UTF-8 becomes its characters.
fn decode_percent(units: &[Unit], at: usize) -> Option<(Vec<Unit>, usize)> {
    let mut bytes = Vec::new();
    let mut cursor = at;
    while cursor + 2 < units.len() && units[cursor].ch == '%' {
        let (Some(high), Some(low)) = (
            hex_value(units[cursor + 1].ch),
            hex_value(units[cursor + 2].ch),
        ) else {
            break;
        };
        bytes.push((high << 4) | low);
        cursor += 3;
        if bytes.len() >= 64 {
            break;
        }
    }
    if bytes.is_empty() {
        return None;
    }
    // Decode the longest valid UTF-8 prefix; each character keeps the span of its triples.
    let valid_len = match std::str::from_utf8(&bytes) {
        Ok(_) => bytes.len(),
        Err(error) => error.valid_up_to(),
    };
    let text = std::str::from_utf8(&bytes[..valid_len]).ok()?;
    if text.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for (byte_index, ch) in text.char_indices() {
        let first_triple = at + byte_index * 3;
        let mut unit = merged(units, first_triple, ch.len_utf8() * 3, Stage::PercentDecode);
        unit.ch = ch;
        out.push(unit);
    }
    Some((out, valid_len * 3))
}

/// `:name:` becomes the emoji it names, when the name is a known shortcode.
fn decode_shortcode(units: &[Unit], at: usize) -> Option<(Vec<Unit>, usize)> {
    let (emoji, consumed) = read_shortcode(units[at..].iter().map(|u| u.ch))?;
    let template = merged(units, at, consumed, Stage::Shortcode);
    let out = emoji
        .as_str()
        .chars()
        .map(|ch| Unit { ch, ..template })
        .collect();
    Some((out, consumed))
}

/// The emoji a `:name:` at the start of `chars` names, and how many characters it
/// takes (both colons included); `None` when `chars` does not start with a known
/// shortcode. The folded view's writer asks the same question (see
/// `fold::guarded_colons`), so that it never writes text this would read otherwise.
pub(crate) fn read_shortcode(
    mut chars: impl Iterator<Item = char>,
) -> Option<(&'static emojis::Emoji, usize)> {
    if chars.next()? != ':' {
        return None;
    }
    let mut name = String::new();
    for (offset, ch) in chars.take(MAX_SHORTCODE_LEN).enumerate() {
        match ch {
            ':' => {
                let emoji = emojis::get_by_shortcode(&name)?;
                return Some((emoji, offset + 2));
            }
            'a'..='z' | '0'..='9' | '_' | '+' | '-' => name.push(ch),
            'A'..='Z' => name.push(ch.to_ascii_lowercase()),
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(input: &str) -> String {
        let mut diagnostics = Vec::new();
        decode(input.as_bytes(), &mut diagnostics)
            .iter()
            .map(|u| u.ch)
            .collect()
    }

    #[test]
    fn decodes_each_encoding() {
        let cases = [
            ("&#112;edo", "pedo"),
            ("&#x70;edo", "pedo"),
            ("&amp;#112;", "p"),
            ("a&amp;b", "a&b"),
            ("%70%65do", "pedo"),
            ("%E2%80%8B", ""),
            ("%\u{200B}70", "p"),
            ("%2570", "p"),
            (":pizza: night", "\u{1F355} night"),
            ("time: 10:30", "time: 10:30"),
            ("&unknown; 100%", "&unknown; 100%"),
            ("%zz %", "%zz %"),
            // Every HTML5 name, with `;`; the legacy ones also without, as browsers do.
            ("p&eacute;do", "p\u{E9}do"),
            ("p&eacutedo", "p\u{E9}do"),
            ("&Pscr;edo", "\u{1D4AB}edo"),
            ("&NotEqualTilde;", "\u{2242}\u{338}"),
            ("&CounterClockwiseContourIntegral;", "\u{2233}"),
            ("&pfr;&efr;", "\u{1D52D}\u{1D522}"),
            ("&notes", "\u{AC}es"),
            ("&AMP;", "&"),
            ("&#112edo", "pedo"),
            // Not references: stay literal.
            ("AT&T R&D Q&A", "AT&T R&D Q&A"),
            ("&Pscredo", "&Pscredo"),
            ("&#1121234567890;", "&#1121234567890;"),
            ("&#;&#x;&;", "&#;&#x;&;"),
            (
                "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
                "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(decoded(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn invalid_utf8_is_repaired_with_its_span() {
        let mut diagnostics = Vec::new();
        let units = decode(b"ab\xff\xfecd", &mut diagnostics);
        let text: String = units.iter().map(|u| u.ch).collect();
        assert_eq!(text, "ab\u{FFFD}\u{FFFD}cd");
        assert_eq!(units[2].span(), Span { start: 2, end: 3 });
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].kind, DiagnosticKind::InvalidUtf8);
    }

    #[test]
    fn decoded_characters_keep_the_span_of_their_encoding() {
        let mut diagnostics = Vec::new();
        let units = decode("x&#112;y".as_bytes(), &mut diagnostics);
        assert_eq!(units[1].ch, 'p');
        assert_eq!(units[1].span(), Span { start: 1, end: 7 });
        assert!(units[1].stages.contains(Stage::HtmlEntity));
    }
}
