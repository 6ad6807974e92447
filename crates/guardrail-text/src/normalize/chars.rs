//! Character classes the stages share: which characters are invisible, how many
//! hidden characters make padding worth reporting, and the name an emoji is written as.
//!
//! Pure functions of a character (or an emoji) and constants: this module never sees a
//! `Unit` or a view, and never imports a stage, so `decode`,
//! `fold` and `compact` agree on these answers without importing one another.

/// Invisible runs longer than this (per input) are reported as padding.
pub(super) const PADDING_REPORT_THRESHOLD: usize = 64;

/// Characters that render as nothing, or only steer rendering: zero-width characters,
/// bidi controls, variation selectors, tags, fillers. Hidden inside words they split
/// them for a filter but not for a reader.
pub(super) fn is_invisible(ch: char) -> bool {
    matches!(ch,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}'
        // Emoji skin-tone modifiers: they change the picture, not the meaning.
        | '\u{1F3FB}'..='\u{1F3FF}')
}

/// The name an emoji gets in the folded and term views.
pub(super) fn emoji_name(emoji: &emojis::Emoji) -> String {
    match emoji.shortcode() {
        Some(code) => code.to_string(),
        None => emoji
            .name()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect(),
    }
}
