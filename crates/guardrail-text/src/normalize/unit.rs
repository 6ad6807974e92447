//! The vocabulary every normalisation stage speaks: byte [`Span`]s of the original
//! input, the [`Stage`]s that can act on a character, [`Diagnostic`]s about the input,
//! the options that steer reading ([`NormalizeOptions`]), and [`Unit`], one character of
//! a view tied back to the bytes it came from.
//!
//! Types only: this module never normalises anything and never imports a stage or the
//! pipeline, so every stage can import it without an arrow running back up.

use serde::Serialize;

/// A half-open byte range `start..end` of the original input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    /// First byte of the range.
    pub start: usize,
    /// One past the last byte of the range.
    pub end: usize,
}

impl Span {
    /// The smallest span covering both.
    pub fn union(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The number of bytes covered.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

/// One normalisation step that had to act for a match to be found. Each has a
/// snake_case [`name`](Stage::name) for machines and a [`reason`](Stage::reason) in
/// words a reviewer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Invalid UTF-8 was replaced by U+FFFD.
    Utf8Repair,
    /// Text inside right-to-left overrides or isolates was read in the order it is
    /// displayed (`\u{202E}tiabodep\u{202C}` shows as `pedobait`).
    DisplayOrder,
    /// An HTML character reference (`&#112;`, `&eacute;`, `&amp;`) was decoded.
    HtmlEntity,
    /// Percent-encoding (`%70`) was decoded.
    PercentDecode,
    /// An emoji shortcode (`:pizza:`) was read as its emoji.
    Shortcode,
    /// An emoji was recognised and named.
    Emoji,
    /// Invisible, zero-width or bidi control characters were dropped.
    Invisible,
    /// Compatibility decomposition (NFKD: fullwidth, mathematical, circled letters).
    Compatibility,
    /// Combining marks were dropped.
    CombiningMark,
    /// Upper case was folded to lower case.
    CaseFold,
    /// A look-alike character from another script was mapped to its prototype (UTS #39).
    Confusable,
    /// A small capital that neither NFKC nor UTS #39 maps (`ᴘ`, `ʀ`) was read as its letter.
    SmallCapital,
    /// A negative circled or negative squared letter (`🅟`, `🅿`) was read as its letter.
    EnclosedLetter,
    /// Regional indicator symbols (`🇵`, the halves of flags) were read as letters.
    RegionalIndicator,
    /// A digit or symbol was read as the letter it stands for.
    Leetspeak,
    /// A currency or other symbol was read as the letter it looks like (`€` for `e`).
    SymbolLetter,
    /// Separators between letters were ignored (`p.e.d.o`).
    Separator,
    /// Emoji between letters were read as separators (`p🍕e🍕d🍕o`).
    EmojiSeparator,
    /// Repeated letters were collapsed (`peedoo`).
    Repeat,
    /// A CamelCase or number boundary split a hashtag into words.
    WordSplit,
    /// A concatenated hashtag was segmented into known words.
    Segmentation,
}

impl Stage {
    const ALL: [Stage; 21] = [
        Stage::Utf8Repair,
        Stage::DisplayOrder,
        Stage::HtmlEntity,
        Stage::PercentDecode,
        Stage::Shortcode,
        Stage::Emoji,
        Stage::Invisible,
        Stage::Compatibility,
        Stage::CombiningMark,
        Stage::CaseFold,
        Stage::Confusable,
        Stage::SmallCapital,
        Stage::EnclosedLetter,
        Stage::RegionalIndicator,
        Stage::Leetspeak,
        Stage::SymbolLetter,
        Stage::Separator,
        Stage::EmojiSeparator,
        Stage::Repeat,
        Stage::WordSplit,
        Stage::Segmentation,
    ];

    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The snake_case name used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Utf8Repair => "utf8_repair",
            Stage::DisplayOrder => "display_order",
            Stage::HtmlEntity => "html_entity",
            Stage::PercentDecode => "percent_decode",
            Stage::Shortcode => "shortcode",
            Stage::Emoji => "emoji",
            Stage::Invisible => "invisible",
            Stage::Compatibility => "compatibility",
            Stage::CombiningMark => "combining_mark",
            Stage::CaseFold => "case_fold",
            Stage::Confusable => "confusable",
            Stage::SmallCapital => "small_capital",
            Stage::EnclosedLetter => "enclosed_letter",
            Stage::RegionalIndicator => "regional_indicator",
            Stage::Leetspeak => "leetspeak",
            Stage::SymbolLetter => "symbol_letter",
            Stage::Separator => "separator",
            Stage::EmojiSeparator => "emoji_separator",
            Stage::Repeat => "repeat",
            Stage::WordSplit => "word_split",
            Stage::Segmentation => "segmentation",
        }
    }

    /// What the stage did, in words a reviewer reads next to the match.
    pub fn reason(self) -> &'static str {
        match self {
            Stage::Utf8Repair => "invalid UTF-8 bytes replaced",
            Stage::DisplayOrder => "reversed by a right-to-left override, read as displayed",
            Stage::HtmlEntity => "HTML character references decoded",
            Stage::PercentDecode => "percent-encoding decoded",
            Stage::Shortcode => "emoji shortcode read as its emoji",
            Stage::Emoji => "emoji recognised",
            Stage::Invisible => "invisible characters removed",
            Stage::Compatibility => {
                "fullwidth, mathematical or circled letters read as plain letters"
            }
            Stage::CombiningMark => "accents and overlay marks removed",
            Stage::CaseFold => "upper case read as lower case",
            Stage::Confusable => "look-alike letters from other scripts read as Latin",
            Stage::SmallCapital => "small capitals read as letters",
            Stage::EnclosedLetter => "negative circled or squared letters read as letters",
            Stage::RegionalIndicator => "regional indicators read as letters",
            Stage::Leetspeak => "digits or symbols read as the letters they stand for",
            Stage::SymbolLetter => "currency or other symbols read as the letters they look like",
            Stage::Separator => "separators between letters ignored",
            Stage::EmojiSeparator => "emoji between letters read as separators",
            Stage::Repeat => "repeated letters collapsed",
            Stage::WordSplit => "hashtag split at capitals or numbers",
            Stage::Segmentation => "run-together hashtag split into known words",
        }
    }
}

/// A small set of [`Stage`]s; serialised as the list of their names in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct StageSet(u32);

impl Serialize for StageSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl StageSet {
    /// The empty set.
    pub const EMPTY: StageSet = StageSet(0);

    /// Adds a stage.
    pub fn insert(&mut self, stage: Stage) {
        self.0 |= stage.bit();
    }

    /// Whether a stage is present.
    pub fn contains(self, stage: Stage) -> bool {
        self.0 & stage.bit() != 0
    }

    /// Both sets together.
    pub fn union(self, other: StageSet) -> StageSet {
        StageSet(self.0 | other.0)
    }

    /// The stages in pipeline order.
    pub fn iter(self) -> impl Iterator<Item = Stage> {
        Stage::ALL
            .into_iter()
            .filter(move |stage| self.contains(*stage))
    }

    /// Whether no stage is present.
    pub fn is_empty(self) -> bool {
        self.0 & !UPPER_BIT == 0
    }

    /// The stages alone, without the flag a [`Unit`] keeps in the spare bit.
    pub(crate) fn stages_only(self) -> StageSet {
        StageSet(self.0 & !UPPER_BIT)
    }

    /// The stages' reasons in pipeline order, for reviewers.
    pub fn reasons(self) -> impl Iterator<Item = &'static str> {
        self.iter().map(Stage::reason)
    }
}

/// What kind of trouble the input had. Diagnostics never stop evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// Bytes that are not UTF-8 were replaced.
    InvalidUtf8,
    /// The input was longer than the configured limit; only a prefix was evaluated.
    Truncated,
    /// Unusually many combining marks or invisible characters (a Zalgo or padding attack).
    SuspiciousPadding,
    /// More matches than the limit; the rest were not listed.
    TooManyMatches,
}

/// A note about the input, attached to the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// What kind of trouble.
    pub kind: DiagnosticKind,
    /// A human-readable explanation.
    pub message: String,
    /// Where in the input, when it is one place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
}

/// A bit no [`Stage`] uses: a [`Unit`] keeps its upper-case flag there, so that a unit
/// stays 24 bytes (a separate `bool` would pad it to 32, and every stage copies units).
/// [`StageSet::stages_only`] clears it before stages leave the units.
const UPPER_BIT: u32 = 1 << 31;
const _: () = assert!(
    Stage::ALL.len() < 31,
    "stages would reach the upper-case bit"
);

/// One character of a view, tied back to the original bytes it came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unit {
    pub ch: char,
    pub start: u32,
    pub end: u32,
    /// The stages that acted on the character, and (in a spare bit) whether it was
    /// upper case before folding: see [`Unit::upper`].
    pub stages: StageSet,
    /// The unit is a recognised emoji (its shortcode is written into the folded view).
    pub emoji: Option<&'static emojis::Emoji>,
}

const _: () = assert!(std::mem::size_of::<Unit>() == 24);

impl Unit {
    pub(crate) fn new(ch: char, start: usize, end: usize) -> Unit {
        Unit {
            ch,
            start: start as u32,
            end: end as u32,
            stages: StageSet::EMPTY,
            emoji: None,
        }
    }

    /// The character was upper case before folding (for CamelCase splits).
    pub(crate) fn upper(&self) -> bool {
        self.stages.0 & UPPER_BIT != 0
    }

    pub(crate) fn set_upper(&mut self, upper: bool) {
        if upper {
            self.stages.0 |= UPPER_BIT;
        } else {
            self.stages.0 &= !UPPER_BIT;
        }
    }

    pub(crate) fn span(&self) -> Span {
        Span {
            start: self.start as usize,
            end: self.end as usize,
        }
    }
}

/// Options that change how text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormalizeOptions {
    /// Split CamelCase inside every token, not only in `#hashtags` and `@handles`
    /// (set for the hashtag and username surfaces, where the whole input is one tag).
    pub split_camel_case_everywhere: bool,
    /// Inputs longer than this many bytes are evaluated on their first this-many bytes
    /// (cut at a character boundary) and carry a [`DiagnosticKind::Truncated`] diagnostic.
    pub max_input_bytes: usize,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        NormalizeOptions {
            split_camel_case_everywhere: false,
            max_input_bytes: 4 << 20,
        }
    }
}
