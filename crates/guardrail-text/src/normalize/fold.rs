//! Stage 2: folding characters to what they look like. Drops invisible and bidi
//! characters, applies compatibility decomposition (fullwidth, mathematical and circled
//! letters become plain ones), drops combining marks, folds case, maps look-alike
//! letters from other scripts to their Latin prototype (UTS #39 confusables) and
//! recognises emoji. Letter-like symbols that neither NFKC nor UTS #39 map to Latin
//! are read by a table here: small capitals (`ᴘᴇᴅᴏ`), negative circled and negative
//! squared letters (`🅟`, `🅿`), and regional indicators (`🇵`) when they do not form
//! a flag. Each output character keeps the span of the input character it came from,
//! so folding never loses track of where a match really is; folding must never read
//! an ordinary flag or a lone emoji as letters (see `regional_run_as_letters`).

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use super::chars::{PADDING_REPORT_THRESHOLD, emoji_name, is_invisible};
use super::unit::{Diagnostic, DiagnosticKind, Stage, StageSet, Unit};

fn is_regional_indicator(ch: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&ch)
}

/// Small capitals that neither NFKD nor the UTS #39 prototypes turn into ASCII (checked
/// against `unicode-security` 0.1: `ᴄ ᴏ ᴜ ᴠ ᴡ ᴢ ɪ ʏ ꜱ` already map there and are not
/// listed). Sorted by code point.
const SMALL_CAPITALS: &[(char, char)] = &[
    ('\u{0262}', 'g'), // ɢ
    ('\u{0274}', 'n'), // ɴ
    ('\u{0280}', 'r'), // ʀ
    ('\u{0299}', 'b'), // ʙ
    ('\u{029C}', 'h'), // ʜ
    ('\u{029F}', 'l'), // ʟ
    ('\u{1D00}', 'a'), // ᴀ
    ('\u{1D03}', 'b'), // ᴃ (barred)
    ('\u{1D05}', 'd'), // ᴅ
    ('\u{1D06}', 'd'), // ᴆ (eth)
    ('\u{1D07}', 'e'), // ᴇ
    ('\u{1D09}', 'i'), // ᴉ (turned i)
    ('\u{1D0A}', 'j'), // ᴊ
    ('\u{1D0B}', 'k'), // ᴋ
    ('\u{1D0C}', 'l'), // ᴌ (with stroke)
    ('\u{1D0D}', 'm'), // ᴍ
    ('\u{1D0E}', 'n'), // ᴎ (reversed)
    ('\u{1D18}', 'p'), // ᴘ
    ('\u{1D19}', 'r'), // ᴙ (reversed)
    ('\u{1D1A}', 'r'), // ᴚ (turned)
    ('\u{1D1B}', 't'), // ᴛ
    ('\u{1D29}', 'p'), // ᴩ (Greek rho)
    ('\u{A730}', 'f'), // ꜰ
    ('\u{A7AF}', 'q'), // ꞯ
];

/// Negative squared letters that are also emoji (`🅰 🅱 🅾 🅿`): alone they are emoji
/// (blood type, parking), next to other letters they spell.
fn is_emoji_letter(ch: char) -> bool {
    matches!(ch, '\u{1F170}' | '\u{1F171}' | '\u{1F17E}' | '\u{1F17F}')
}

/// A letter-like symbol read as a letter regardless of its neighbours, and the stage
/// that names the reading. Regional indicators and the emoji letters need context and
/// are decided by the caller.
fn letter_like(ch: char) -> Option<(char, Stage)> {
    match ch {
        // Negative circled (🅐-🅩) and negative squared (🅰-🆉) capitals: no decomposition.
        '\u{1F150}'..='\u{1F169}' => Some((offset_letter(ch, '\u{1F150}'), Stage::EnclosedLetter)),
        _ if is_emoji_letter(ch) => None,
        '\u{1F170}'..='\u{1F189}' => Some((offset_letter(ch, '\u{1F170}'), Stage::EnclosedLetter)),
        '\u{0262}'..='\u{A7AF}' => SMALL_CAPITALS
            .binary_search_by_key(&ch, |(capital, _)| *capital)
            .ok()
            .map(|index| (SMALL_CAPITALS[index].1, Stage::SmallCapital)),
        _ => None,
    }
}

/// Whether a character spells: a letter, or a symbol that reads as one here.
fn spells(ch: char) -> bool {
    ch.is_alphabetic() || is_regional_indicator(ch) || letter_like(ch).is_some()
}

/// Whether the character before `units[start..end]` or the one after it spells.
/// Combining marks are looked past (they are dropped; `🅿\u{301}p` must read as
/// `🅿p` reads, or folding would not be idempotent). Each scan stops at the first
/// character that is not a mark, so every mark is looked past at most twice (once
/// from each side) and the whole fold stays linear.
fn neighbour_spells(units: &[Unit], start: usize, end: usize) -> bool {
    let before = units[..start]
        .iter()
        .rev()
        .find(|u| !is_combining_mark(u.ch));
    let after = units[end..].iter().find(|u| !is_combining_mark(u.ch));
    before.is_some_and(|u| spells(u.ch)) || after.is_some_and(|u| spells(u.ch))
}

/// Whether the run of regional indicators `units[start..end]` is read as letters
/// rather than flags. A flag is exactly two indicators that name a region; so a single
/// indicator, a pair that names none, or a run of three or more (`🇵🇪🇩🇴` renders as
/// two flags only where fonts draw them, and as `PEDO` where they do not) spells
/// letters, as does a run that touches a letter (`pe🇩🇴`). The cost: a post that
/// puts flags side by side with no space reads as letters; a term spelt by two real
/// flags (Peru and the Dominican Republic) is then a hit, which is the evasion.
fn regional_run_as_letters(units: &[Unit], start: usize, end: usize) -> bool {
    let indicators: Vec<char> = units[start..end]
        .iter()
        .map(|u| u.ch)
        .filter(|&ch| is_regional_indicator(ch))
        .collect();
    let touches_letter = neighbour_spells(units, start, end);
    if indicators.len() != 2 || touches_letter {
        return true;
    }
    let pair: String = indicators.iter().collect();
    emojis::get(&pair).is_none()
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
                    unit.set_upper(true);
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
                unit.set_upper(true);
                unit.stages.insert(Stage::CaseFold);
            }
        }
        return units;
    }
    let mut out: Vec<Unit> = Vec::with_capacity(units.len());
    let mut dropped_invisible = 0usize;
    let mut dropped_marks = 0usize;
    let mut pending_stages = StageSet::EMPTY;
    // Regional indicators before this index are read as letters (decided per run).
    let mut regional_letters_until = 0;
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
                folded.set_upper(true);
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
        let at = index - 1;
        if is_regional_indicator(ch) && at >= regional_letters_until {
            // The start of a run (combining marks inside it are dropped later).
            let mut end = at;
            while end < units.len()
                && (is_regional_indicator(units[end].ch) || is_combining_mark(units[end].ch))
            {
                end += 1;
            }
            if regional_run_as_letters(&units, at, end) {
                regional_letters_until = end;
            }
        }
        let reading = if is_regional_indicator(ch) && at < regional_letters_until {
            Some((offset_letter(ch, '\u{1F1E6}'), Stage::RegionalIndicator))
        } else if is_emoji_letter(ch) {
            let neighbour_spells = neighbour_spells(&units, at, at + 1);
            neighbour_spells.then(|| (offset_letter(ch, '\u{1F170}'), Stage::EnclosedLetter))
        } else {
            letter_like(ch)
        };
        if let Some((letter, stage)) = reading {
            let mut folded = unit;
            folded.ch = letter;
            folded.stages = folded.stages.union(pending_stages);
            pending_stages = StageSet::EMPTY;
            folded.stages.insert(stage);
            // Regional indicators and enclosed letters are capitals; small capitals
            // are lower-case letters that only look like capitals.
            folded.set_upper(stage != Stage::SmallCapital);
            out.push(folded);
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
                    folded.set_upper(true);
                }
                // A capital whose lower case is a letter-like symbol (U+01A6 `Ʀ`, whose
                // lower case is the small capital `ʀ`) reads as that symbol does, or
                // folding the folded text again would read it (found by fuzzing).
                if let Some((letter, stage)) = letter_like(lower) {
                    folded.ch = letter;
                    folded.stages.insert(stage);
                    out.push(folded);
                    continue;
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

/// The ASCII letter `ch` stands for in an alphabet of 26 symbols starting at `base`.
fn offset_letter(ch: char, base: char) -> char {
    char::from(b'a' + (ch as u32 - base as u32) as u8)
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

/// What a literal colon is written as where `:` would be misread (see
/// [`guarded_colons`]). Folding maps it back to `:`, and decoding, which runs before
/// folding, does not read it as the start of a shortcode.
const GUARDED_COLON: char = '\u{FF1A}';

/// What one unit is written as in the folded view.
enum Piece {
    Char(char),
    Emoji(&'static emojis::Emoji),
}

/// Each unit's piece of the folded view, in order: the one place that decides how a unit
/// is written, so the text and its byte widths cannot disagree.
fn pieces(units: &[Unit]) -> impl Iterator<Item = Piece> + '_ {
    let guarded = guarded_colons(units);
    units
        .iter()
        .enumerate()
        .map(move |(index, unit)| match unit.emoji {
            Some(emoji) => Piece::Emoji(emoji),
            None if guarded.contains(&index) => Piece::Char(GUARDED_COLON),
            None => Piece::Char(unit.ch),
        })
}

/// Writes the folded view: each unit's character, emoji as `:shortcode:`.
pub(crate) fn render(units: &[Unit]) -> String {
    let mut text = String::with_capacity(units.len());
    for piece in pieces(units) {
        match piece {
            Piece::Emoji(emoji) => {
                text.push(':');
                text.push_str(&emoji_name(emoji));
                text.push(':');
            }
            Piece::Char(ch) => text.push(ch),
        }
    }
    text
}

/// How many bytes each unit takes in the folded view, in order.
pub(crate) fn rendered_widths(units: &[Unit]) -> impl Iterator<Item = usize> + '_ {
    pieces(units).map(|piece| match piece {
        Piece::Emoji(emoji) => emoji_name(emoji).len() + 2,
        Piece::Char(ch) => ch.len_utf8(),
    })
}

/// The literal colons that, written as `:`, would be read as the start of a shortcode
/// when the folded view is normalised again: `:a` before `♥` would be written
/// `:a:hearts:`, which reads as `🅰` then `hearts:`. Folding must be idempotent (a
/// folded text folds to itself), so those colons are written as [`GUARDED_COLON`].
/// Only an emoji's `:shortcode:` can close such a name (decoding already read every
/// `:name:` made of literal characters), so text without emoji has none. Indices of
/// units, in order; usually empty.
fn guarded_colons(units: &[Unit]) -> Vec<usize> {
    if !units.iter().any(|u| u.emoji.is_some()) || !units.iter().any(|u| u.ch == ':') {
        return Vec::new();
    }
    // The folded view as characters, each with the literal unit it came from (`None`
    // inside an emoji's shortcode), read the way decoding reads it: left to right, a
    // shortcode consumed whole.
    let mut chars: Vec<(char, Option<usize>)> = Vec::with_capacity(units.len());
    for (index, unit) in units.iter().enumerate() {
        match unit.emoji {
            Some(emoji) => {
                chars.push((':', None));
                chars.extend(emoji_name(emoji).chars().map(|ch| (ch, None)));
                chars.push((':', None));
            }
            None => chars.push((unit.ch, Some(index))),
        }
    }
    let mut guarded = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let shortcode = (chars[at].0 == ':')
            .then(|| super::decode::read_shortcode(chars[at..].iter().map(|&(ch, _)| ch)))
            .flatten();
        match (shortcode, chars[at].1) {
            (Some(_), Some(literal)) => {
                guarded.push(literal);
                at += 1;
            }
            (Some((_, consumed)), None) => at += consumed,
            (None, _) => at += 1,
        }
    }
    guarded
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
