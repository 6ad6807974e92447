//! Stage 1: from raw bytes to characters, undoing the encodings people use to slip
//! words past filters: invalid UTF-8 (repaired), HTML entities, percent-encoding and
//! emoji shortcodes. Decoding repeats until nothing changes (bounded), so doubly
//! encoded text (`&amp;#112;`) decodes fully and normalising twice equals once.

use super::chars::{PADDING_REPORT_THRESHOLD, is_invisible};
use super::unit::{Diagnostic, DiagnosticKind, Span, Stage, Unit};

/// Passes of entity/percent/shortcode decoding; more nesting than this is left as is.
const MAX_DECODE_PASSES: usize = 4;
const MAX_ENTITY_LEN: usize = 12;
const MAX_SHORTCODE_LEN: usize = 48;

pub(crate) fn decode(input: &[u8], diagnostics: &mut Vec<Diagnostic>) -> Vec<Unit> {
    let units = repair_utf8(input, diagnostics);
    decode_units(units, diagnostics).0
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

fn repair_utf8(input: &[u8], diagnostics: &mut Vec<Diagnostic>) -> Vec<Unit> {
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
    unit.upper = false;
    unit.emoji = None;
    unit
}

fn decode_entity(units: &[Unit], at: usize) -> Option<(Vec<Unit>, usize)> {
    let mut body = String::new();
    let mut end = None;
    for (offset, unit) in units.iter().enumerate().skip(at + 1).take(MAX_ENTITY_LEN) {
        if unit.ch == ';' {
            end = Some(offset);
            break;
        }
        body.push(unit.ch);
    }
    let end = end?;
    let ch = if let Some(number) = body.strip_prefix('#') {
        let value = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse::<u32>().ok()?,
        };
        char::from_u32(value)?
    } else {
        named_entity(&body)?
    };
    let consumed = end - at + 1;
    let mut unit = merged(units, at, consumed, Stage::HtmlEntity);
    unit.ch = ch;
    Some((vec![unit], consumed))
}

/// The named entities that appear in scraped text; an unknown name stays literal.
fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{A0}',
        "shy" => '\u{AD}',
        "zwj" => '\u{200D}',
        "zwnj" => '\u{200C}',
        "lrm" => '\u{200E}',
        "rlm" => '\u{200F}',
        "hellip" => '\u{2026}',
        "ndash" => '\u{2013}',
        "mdash" => '\u{2014}',
        "middot" => '\u{B7}',
        "bull" => '\u{2022}',
        "period" => '.',
        "comma" => ',',
        "colon" => ':',
        "lowbar" => '_',
        "hyphen" => '-',
        "num" => '#',
        "commat" => '@',
        "dollar" => '$',
        "excl" => '!',
        "vert" => '|',
        "plus" => '+',
        _ => return None,
    })
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
    let mut name = String::new();
    let mut end = None;
    for (offset, unit) in units
        .iter()
        .enumerate()
        .skip(at + 1)
        .take(MAX_SHORTCODE_LEN)
    {
        match unit.ch {
            ':' => {
                end = Some(offset);
                break;
            }
            'a'..='z' | '0'..='9' | '_' | '+' | '-' => name.push(unit.ch),
            'A'..='Z' => name.push(unit.ch.to_ascii_lowercase()),
            _ => return None,
        }
    }
    let end = end?;
    let emoji = emojis::get_by_shortcode(&name)?;
    let consumed = end - at + 1;
    let template = merged(units, at, consumed, Stage::Shortcode);
    let out = emoji
        .as_str()
        .chars()
        .map(|ch| Unit { ch, ..template })
        .collect();
    Some((out, consumed))
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
