//! Stage 3: the term view. Reads the folded characters the way a person reads a
//! disguised word: digits and symbols inside words are letters (`p3d0` is `pedo`,
//! `p€do` too), and so are digits inside a spelling split by separators
//! (`v.3.x.n.0.r`); separators between letters are ignored (`p.e.d.o`), hashtags split
//! at CamelCase and number boundaries (`#PedoBait2024`), and repeated letters collapse
//! (`peedoo`).
//!
//! Separators are removed, but where they were is kept as a word boundary, so the
//! matcher can still insist that a word term starts and ends on a word boundary
//! (`torpedo` is not `pedo`) while tolerating separators *inside* a match. Each
//! character also keeps how many letters collapsed into it (`run`) and whether a
//! space stood before it, so the matcher can tell `biter` from `bitter` and an
//! `anywhere` term spelt across two ordinary words from one split on purpose. This
//! stage must never drop a character without keeping its span.

use super::chars::emoji_name;
use super::unit::{NormalizeOptions, Span, Stage, StageSet, Unit};

/// Bytes that bracket an emoji's name in the term view. They cannot come from text
/// (control characters are separators), so an emoji never matches a plain word.
pub(crate) const EMOJI_OPEN: u8 = 0x01;
pub(crate) const EMOJI_CLOSE: u8 = 0x02;

/// One character of the term view.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TermChar {
    /// Byte range of this character in [`TermView::bytes`].
    pub byte_start: u32,
    pub byte_end: u32,
    /// Span of the original input it came from.
    pub span: Span,
    pub stages: StageSet,
    /// A word starts here (after a separator, a CamelCase or number boundary, or at the start).
    pub begins_word: bool,
    /// A word ends here.
    pub ends_word: bool,
    /// A separator stood between the previous character and this one.
    pub gap_before: bool,
    /// This character was a digit or symbol read as a letter.
    pub leet: bool,
    /// The word boundary before this character came from a CamelCase or number split.
    pub split_before: bool,
    /// This character is an emoji.
    pub emoji: bool,
    /// The character written into the view (for collapsing repeats).
    pub letter: char,
    /// How many input characters collapsed into this one (saturating): 2 for the `ll`
    /// of `seller`, 1 for the `l` of `seler`.
    pub run: u8,
    /// The collapsed repeat crossed a separator or a word split (`p e e d o`,
    /// `pedo obsessed`): deliberate spacing, not a doubled letter of one word.
    pub run_split: bool,
    /// The separator before this character held whitespace (two words, not `p.e`).
    pub space_before: bool,
    /// A repeat collapsed into this character across whitespace (`zor rblax`).
    pub space_inside: bool,
    /// An emoji read as a separator stood before this character.
    pub emoji_gap_before: bool,
}

/// The term view of one input.
#[derive(Debug, Clone, Default)]
pub struct TermView {
    pub(crate) bytes: Vec<u8>,
    pub(crate) chars: Vec<TermChar>,
}

impl TermView {
    /// The view as readable text (emoji as `:shortcode:`).
    pub fn display(&self) -> String {
        let mut text = String::with_capacity(self.bytes.len());
        for ch in &self.chars {
            let bytes = &self.bytes[ch.byte_start as usize..ch.byte_end as usize];
            if ch.emoji {
                text.push(':');
                text.push_str(&String::from_utf8_lossy(&bytes[1..bytes.len() - 1]));
                text.push(':');
            } else {
                text.push_str(&String::from_utf8_lossy(bytes));
            }
        }
        text
    }

    /// The raw bytes the term automaton runs over.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The index of the character that holds byte `at` of the view.
    pub(crate) fn char_at_byte(&self, at: usize) -> usize {
        self.chars
            .partition_point(|c| c.byte_end as usize <= at)
            .min(self.chars.len().saturating_sub(1))
    }

    /// Whether any character of the view was read as leetspeak.
    pub(crate) fn any_leet(&self) -> bool {
        self.chars.iter().any(|c| c.leet)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Letter,
    Digit,
    /// `@ $ ! | +`: a letter inside a word, punctuation elsewhere.
    Symbol,
    Emoji,
    Separator,
}

#[inline]
fn classify(unit: &Unit, emoji_separates: bool) -> Class {
    if unit.ch.is_ascii_lowercase() && unit.emoji.is_none() {
        // The common case first: folded text is mostly lower-case ASCII letters.
        return Class::Letter;
    }
    if unit.emoji.is_some() {
        // `©` and `®` are emoji too, but between letters they are letters.
        if symbol_letter(unit.ch).is_some() {
            return Class::Symbol;
        }
        return if emoji_separates {
            Class::Separator
        } else {
            Class::Emoji
        };
    }
    match unit.ch {
        '0'..='9' => Class::Digit,
        '@' | '$' | '!' | '|' | '+' => Class::Symbol,
        ch if symbol_letter(ch).is_some() => Class::Symbol,
        ch if ch.is_alphabetic() => Class::Letter,
        _ => Class::Separator,
    }
}

/// What a digit or ASCII symbol stands for inside a word. `1`, `!` and `|` are read as
/// `i`; terms are compiled with `l`→`i` variants to cover the other reading.
fn leet_letter(ch: char) -> Option<char> {
    Some(match ch {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' | '+' => 't',
        '8' => 'b',
        '9' => 'g',
        _ => return symbol_letter(ch),
    })
}

/// Non-ASCII symbols that stand for the letter they look like, inside a word. Neither
/// NFKC nor UTS #39 maps them to ASCII (`€`'s prototype is `Ꞓ`, `¢`'s is `c` with an
/// overlay). `£` is a crossed capital L (libra) and is read as `l`, never `e`: reading
/// it as `e` would turn every `£` price written after a word into a letter `e`.
fn symbol_letter(ch: char) -> Option<char> {
    Some(match ch {
        '\u{20AC}' => 'e', // €
        '\u{A2}' => 'c',   // ¢
        '\u{A3}' => 'l',   // £
        '\u{A5}' => 'y',   // ¥
        '\u{20BF}' => 'b', // ₿
        '\u{20B1}' => 'p', // ₱
        '\u{20B3}' => 'a', // ₳
        '\u{A9}' => 'c',   // ©
        '\u{AE}' => 'r',   // ®
        '\u{2202}' => 'd', // ∂
        _ => return None,
    })
}

/// Currency signs: a price when a digit follows (`$5`, `€20`), a letter when a letter
/// does at the start of a word (`$eller`, `€vil`).
fn is_currency(ch: char) -> bool {
    matches!(
        ch,
        '$' | '\u{20AC}' | '\u{A2}' | '\u{A3}' | '\u{A5}' | '\u{20BF}' | '\u{20B1}' | '\u{20B3}'
    )
}

/// A spelling split into single characters is at least this many of them
/// (`v.3.x` is; `chapter 3 of` is not).
const MIN_SPLIT_SPELLING: usize = 3;
/// Separators between two characters of a split spelling are at most this many
/// (`p . e`); longer gaps are between words.
const MAX_SPLIT_GAP: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    Letter,
    Leet(char),
    Number,
    Emoji,
    Separator,
}

/// Decides, for every folded unit, how the term view reads it.
fn readings(units: &[Unit], emoji_separates: bool) -> Vec<Reading> {
    let class_of = |index: usize| classify(&units[index], emoji_separates);
    let class_at = |i: usize| units.get(i).map(|unit| classify(unit, emoji_separates));
    let mut readings: Vec<Reading> = units
        .iter()
        .map(|unit| match classify(unit, emoji_separates) {
            Class::Letter => Reading::Letter,
            Class::Emoji => Reading::Emoji,
            Class::Separator => Reading::Separator,
            Class::Digit | Class::Symbol => Reading::Number,
        })
        .collect();
    let is_letter = |i: usize| class_at(i) == Some(Class::Letter);
    // Whether some digit or symbol stayed a number or separator: only then can a split
    // spelling (`v.3.x`) change anything.
    let mut unread_symbol = false;
    let mut index = 0;
    while index < units.len() {
        match class_of(index) {
            Class::Digit => {
                let run_start = index;
                while index < units.len() && class_of(index) == Class::Digit {
                    index += 1;
                }
                let run_len = index - run_start;
                let left = run_start > 0 && is_letter(run_start - 1);
                let right = is_letter(index);
                let mappable = units[run_start..index]
                    .iter()
                    .all(|u| leet_letter(u.ch).is_some());
                // A lone digit touching a letter is a letter in disguise (`p3do`); a
                // longer run is one only when letters surround it (`p00p`). Other digit
                // runs are numbers (`pedobait2024`, `chapter 14`).
                let leet = mappable
                    && ((run_len == 1 && (left || right)) || (run_len <= 3 && left && right));
                unread_symbol |= !leet && run_len == 1;
                for position in run_start..index {
                    readings[position] = match (leet, leet_letter(units[position].ch)) {
                        (true, Some(letter)) => Reading::Leet(letter),
                        _ => Reading::Number,
                    };
                }
            }
            Class::Symbol => {
                let ch = units[index].ch;
                let before =
                    index > 0 && matches!(class_at(index - 1), Some(Class::Letter | Class::Digit));
                let after = matches!(class_at(index + 1), Some(Class::Letter | Class::Digit));
                let at_word_start = index == 0 || class_at(index - 1) == Some(Class::Separator);
                // `@name` is a mention and `$5` a price, but `$eller` and `p@ss` are words.
                let starts_word = is_letter(index + 1)
                    || (class_at(index + 1) == Some(Class::Digit) && is_letter(index + 2));
                let leet = (before && after) || (is_currency(ch) && at_word_start && starts_word);
                unread_symbol |= !leet;
                readings[index] = match (leet, leet_letter(ch)) {
                    (true, Some(letter)) => Reading::Leet(letter),
                    // `©` alone stays the emoji it is.
                    _ if units[index].emoji.is_some() => Reading::Emoji,
                    _ => Reading::Separator,
                };
                index += 1;
            }
            _ => index += 1,
        }
    }
    if unread_symbol {
        // Rare (a digit or symbol left alone): classes are worth keeping for this pass.
        let classes: Vec<Class> = (0..units.len()).map(class_of).collect();
        read_split_spellings(units, &classes, &mut readings);
    }
    readings
}

/// Digits and symbols standing alone inside a spelling split by separators are
/// letters too (`v.3.x.n.0.r`, `p 3 d 0`): a run of at least [`MIN_SPLIT_SPELLING`]
/// single characters, each gap at most [`MAX_SPLIT_GAP`] separators without a line
/// break, at least two of them letters. A lone number between words (`chapter 3 of`)
/// is not such a run. One pass over the units.
fn read_split_spellings(units: &[Unit], classes: &[Class], readings: &mut [Reading]) {
    let is_token = |at: usize| matches!(classes[at], Class::Letter | Class::Digit | Class::Symbol);
    // Starts of the single-character tokens of the current run, and its letters.
    let mut chain: Vec<usize> = Vec::new();
    let mut letters = 0;
    let flush = |chain: &mut Vec<usize>, letters: &mut usize, readings: &mut [Reading]| {
        if chain.len() >= MIN_SPLIT_SPELLING && *letters >= 2 {
            for &at in chain.iter() {
                if matches!(readings[at], Reading::Number | Reading::Separator)
                    && matches!(classes[at], Class::Digit | Class::Symbol)
                    && let Some(letter) = leet_letter(units[at].ch)
                {
                    readings[at] = Reading::Leet(letter);
                }
            }
        }
        chain.clear();
        *letters = 0;
    };
    let mut index = 0;
    let mut gap_ok = true;
    while index < units.len() {
        if !is_token(index) {
            let gap_start = index;
            let mut line_break = false;
            while index < units.len() && !is_token(index) {
                line_break |= matches!(units[index].ch, '\n' | '\r');
                index += 1;
            }
            gap_ok = index - gap_start <= MAX_SPLIT_GAP && !line_break;
            if !gap_ok {
                flush(&mut chain, &mut letters, readings);
            }
            continue;
        }
        let start = index;
        while index < units.len() && is_token(index) {
            index += 1;
        }
        if index - start == 1 {
            if !gap_ok {
                flush(&mut chain, &mut letters, readings);
            }
            chain.push(start);
            letters += usize::from(classes[start] == Class::Letter);
        } else {
            flush(&mut chain, &mut letters, readings);
        }
    }
    flush(&mut chain, &mut letters, readings);
}

/// Whether a CamelCase boundary falls before `index` (`pedoBait`, `PEDOBait`).
fn camel_boundary(units: &[Unit], readings: &[Reading], index: usize) -> bool {
    if index == 0 || readings[index] != Reading::Letter || readings[index - 1] != Reading::Letter {
        return false;
    }
    let here = units[index].upper();
    let previous = units[index - 1].upper();
    let next_lower = units
        .get(index + 1)
        .is_some_and(|u| !u.upper() && readings[index + 1] == Reading::Letter);
    here && (!previous || next_lower)
}

/// Builds the term view from the folded units. With `emoji_separates`, emoji are read
/// as separators (the view the matcher reads for `p🍕e🍕d🍕o`; emoji terms are found
/// in the ordinary view).
pub(crate) fn build(units: &[Unit], options: &NormalizeOptions, emoji_separates: bool) -> TermView {
    let readings = readings(units, emoji_separates);
    let mut view = TermView {
        bytes: Vec::with_capacity(units.len()),
        chars: Vec::with_capacity(units.len()),
    };
    let mut gap = false;
    let mut gap_space = false;
    let mut gap_emoji = false;
    let mut forced_boundary = false;
    let mut split = false;
    // Whether the current token is a hashtag or handle, where CamelCase marks words.
    let mut camel_token = options.split_camel_case_everywhere;
    let mut previous_reading = Reading::Separator;
    for (index, unit) in units.iter().enumerate() {
        let reading = readings[index];
        if reading == Reading::Separator {
            gap = true;
            gap_space |= unit.ch.is_whitespace();
            gap_emoji |= unit.emoji.is_some();
            if matches!(unit.ch, '#' | '@') {
                camel_token = true;
            } else if unit.ch.is_whitespace() {
                camel_token = options.split_camel_case_everywhere;
            }
            previous_reading = reading;
            continue;
        }
        let number_edge = (reading == Reading::Number) != (previous_reading == Reading::Number)
            && previous_reading != Reading::Separator;
        let emoji_edge = reading == Reading::Emoji || previous_reading == Reading::Emoji;
        let camel = camel_token && camel_boundary(units, &readings, index);
        if number_edge || camel {
            forced_boundary = true;
            split = true;
        }
        if emoji_edge {
            forced_boundary = true;
        }
        previous_reading = reading;

        let mut stages = unit.stages.stages_only();
        let mut leet = false;
        let mut encoded = [0u8; 4];
        let bytes: Vec<u8>;
        let text: &[u8] = match reading {
            Reading::Letter | Reading::Number => unit.ch.encode_utf8(&mut encoded).as_bytes(),
            Reading::Leet(letter) => {
                leet = true;
                stages.insert(if unit.ch.is_ascii() {
                    Stage::Leetspeak
                } else {
                    Stage::SymbolLetter
                });
                letter.encode_utf8(&mut encoded).as_bytes()
            }
            Reading::Emoji => {
                let name = unit.emoji.map(emoji_name).unwrap_or_default();
                let mut framed = Vec::with_capacity(name.len() + 2);
                framed.push(EMOJI_OPEN);
                framed.extend_from_slice(name.as_bytes());
                framed.push(EMOJI_CLOSE);
                bytes = framed;
                &bytes
            }
            Reading::Separator => continue,
        };
        let written = match reading {
            Reading::Leet(letter) => letter,
            _ => unit.ch,
        };
        let starts_word = view.chars.is_empty() || gap || forced_boundary;

        // Collapse a repeat of the previous character. Across a separator or a
        // CamelCase split too (`p e e d o`, `qu.ux`, `#PedoOrgy`), in which case a word
        // both ends and begins inside the merged character (`pedo obsessed` still ends
        // `pedo` and begins `obsessed`).
        if reading != Reading::Emoji
            && let Some(last) = view.chars.last_mut()
            && !last.emoji
            && last.letter == written
        {
            last.span = last.span.union(unit.span());
            last.stages = last.stages.union(stages);
            last.stages.insert(Stage::Repeat);
            last.leet |= leet;
            last.run = last.run.saturating_add(1);
            if gap || forced_boundary {
                last.stages.insert(if gap {
                    Stage::Separator
                } else {
                    Stage::WordSplit
                });
                if gap_emoji {
                    last.stages.insert(Stage::EmojiSeparator);
                }
                last.begins_word = true;
                last.ends_word = true;
                last.run_split = true;
                last.space_inside |= gap_space;
                gap = false;
                gap_space = false;
                gap_emoji = false;
                forced_boundary = false;
                split = false;
            }
            continue;
        }
        if starts_word && let Some(last) = view.chars.last_mut() {
            last.ends_word = true;
        }
        let byte_start = view.bytes.len() as u32;
        view.bytes.extend_from_slice(text);
        view.chars.push(TermChar {
            byte_start,
            byte_end: view.bytes.len() as u32,
            span: unit.span(),
            stages,
            begins_word: starts_word,
            ends_word: false,
            gap_before: gap && !view.chars.is_empty(),
            leet,
            split_before: split,
            emoji: reading == Reading::Emoji,
            letter: written,
            run: 1,
            run_split: false,
            space_before: gap_space && !view.chars.is_empty(),
            space_inside: false,
            emoji_gap_before: gap_emoji && !view.chars.is_empty(),
        });
        gap = false;
        gap_space = false;
        gap_emoji = false;
        forced_boundary = false;
        split = false;
    }
    if let Some(last) = view.chars.last_mut() {
        last.ends_word = true;
    }
    view
}

/// Whether some emoji stands between letters the way a separator does: touching a
/// letter or digit on both sides (`pedo🍕bait`), or with a single character on a side
/// across spaces (`p 🍕 e`). Only then is the view with emoji as separators worth
/// building; `pizza 🍕 night` is two words with a picture between them. Looks at most
/// [`EMOJI_GAP_LOOKAROUND`] units to each side of each emoji, so it stays linear.
pub(crate) fn emoji_between_letters(units: &[Unit]) -> bool {
    let is_token = |unit: &Unit| {
        unit.emoji.is_none()
            && matches!(
                classify(unit, true),
                Class::Letter | Class::Digit | Class::Symbol
            )
    };
    // From `at` stepping by `step`: the first token within reach, whether a space lay
    // before it, and whether that token is a single character.
    let reach = |at: usize, backwards: bool| -> Option<(bool, bool)> {
        let mut space = false;
        let mut cursor = at;
        for _ in 0..EMOJI_GAP_LOOKAROUND {
            cursor = if backwards {
                cursor.checked_sub(1)?
            } else {
                cursor + 1
            };
            let unit = units.get(cursor)?;
            if is_token(unit) {
                let beyond = if backwards {
                    cursor.checked_sub(1)
                } else {
                    Some(cursor + 1)
                };
                let single = beyond
                    .and_then(|b| units.get(b))
                    .is_none_or(|u| !is_token(u));
                return Some((space, single));
            }
            space |= unit.ch.is_whitespace();
        }
        None
    };
    units.iter().enumerate().any(|(at, unit)| {
        unit.emoji.is_some()
            && matches!(
                (reach(at, true), reach(at, false)),
                (Some((left_space, left_single)), Some((right_space, right_single)))
                    if !(left_space || right_space) || left_single || right_single
            )
    })
}

/// How far [`emoji_between_letters`] looks past an emoji for the letters it separates.
const EMOJI_GAP_LOOKAROUND: usize = 8;

/// For each character, the first and last character of its word, found in two linear
/// passes so that matching inside very long words stays linear.
pub(crate) fn word_bounds(chars: &[TermChar]) -> Vec<(u32, u32)> {
    let mut bounds = vec![(0u32, 0u32); chars.len()];
    let mut start = 0u32;
    for (index, ch) in chars.iter().enumerate() {
        if ch.begins_word {
            start = index as u32;
        }
        bounds[index].0 = start;
    }
    let mut end = chars.len().saturating_sub(1) as u32;
    for (index, ch) in chars.iter().enumerate().rev() {
        if ch.ends_word {
            end = index as u32;
        }
        bounds[index].1 = end;
    }
    bounds
}
