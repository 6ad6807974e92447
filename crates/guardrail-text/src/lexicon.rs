//! The lexicon: common words that concatenated hashtags are made of
//! (`#ilovepedobaitforyou`), and [`Lexicon`], the automaton over them (plus the
//! policy's own word terms) that the matcher asks whether the rest of a hashtag splits
//! into words.
//!
//! A `word` term found inside a longer unbroken word counts only when the rest of that
//! word splits into these words (and the policy's own terms). That is what tells
//! `#ilovepedobait` (a hit) from `torpedo` and `speedo` (not hits): `tor` and `spe`
//! are not words here. Keep this list to common, whole words: adding a fragment such
//! as `tor` would turn `torpedo` into a false hit. Words are stored as written and
//! normalised like any input when the policy compiles. Segmentation never looks at more
//! than 64 bytes: a longer unbroken run counts as words (fail closed).

use aho_corasick::{AhoCorasick, MatchKind};

/// Unbroken runs longer than this around a term are not segmented (see `segments`).
const MAX_SEGMENTED_LEN: usize = 64;

/// Words a concatenated hashtag may be made of besides the match (built-in common
/// words plus the policy's own word terms), in term-view form.
#[derive(Debug, Clone)]
pub(crate) struct Lexicon {
    /// Every lexicon word, found in one overlapping pass over a segment.
    automaton: AhoCorasick,
}

impl Lexicon {
    pub(crate) fn new(words: &[Vec<u8>]) -> Result<Lexicon, aho_corasick::BuildError> {
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(words.iter().filter(|w| !w.is_empty()))?;
        Ok(Lexicon { automaton })
    }

    /// Whether `text` splits entirely into lexicon words (empty text does).
    pub(crate) fn segments(&self, text: &[u8]) -> bool {
        if text.is_empty() {
            return true;
        }
        if text.len() > MAX_SEGMENTED_LEN {
            // No word is this long: a run like this is spam or padding around the term,
            // so count the term (fail closed) rather than spend time proving it.
            return true;
        }
        // reachable[i]: text[..i] splits into words. Overlapping matches arrive in order
        // of their end, so every word that could extend a split is seen after it.
        let mut reachable = [false; MAX_SEGMENTED_LEN + 1];
        reachable[0] = true;
        for found in self.automaton.find_overlapping_iter(text) {
            if reachable[found.start()] {
                reachable[found.end()] = true;
            }
        }
        reachable[text.len()]
    }

    pub(crate) fn memory_usage(&self) -> usize {
        self.automaton.memory_usage()
    }
}

pub(crate) const BUILTIN_WORDS: &[&str] = &[
    // pronouns, articles, prepositions, conjunctions
    "i",
    "a",
    "u",
    "me",
    "my",
    "mine",
    "we",
    "us",
    "our",
    "you",
    "your",
    "yours",
    "he",
    "him",
    "his",
    "she",
    "her",
    "they",
    "them",
    "their",
    "it",
    "its",
    "the",
    "an",
    "and",
    "or",
    "but",
    "of",
    "for",
    "to",
    "in",
    "on",
    "at",
    "by",
    "with",
    "from",
    "into",
    "onto",
    "about",
    "all",
    "any",
    "some",
    "no",
    "not",
    "only",
    "just",
    "so",
    "too",
    "very",
    "more",
    "most",
    "this",
    "that",
    "these",
    "those",
    "here",
    "there",
    "who",
    "what",
    "where",
    "when",
    "why",
    "how",
    // common verbs
    "is",
    "am",
    "are",
    "be",
    "was",
    "were",
    "been",
    "do",
    "does",
    "did",
    "have",
    "has",
    "had",
    "get",
    "got",
    "go",
    "goes",
    "come",
    "see",
    "look",
    "looking",
    "watch",
    "find",
    "follow",
    "like",
    "likes",
    "love",
    "loves",
    "lover",
    "lovers",
    "loving",
    "want",
    "need",
    "buy",
    "sell",
    "sells",
    "selling",
    "trade",
    "trading",
    "share",
    "sharing",
    "send",
    "dm",
    "dms",
    "message",
    "click",
    "join",
    "add",
    "swap",
    "meet",
    "chat",
    "talk",
    "play",
    "make",
    "made",
    "take",
    // people and descriptions
    "boy",
    "boys",
    "girl",
    "girls",
    "kid",
    "kids",
    "teen",
    "teens",
    "baby",
    "man",
    "men",
    "woman",
    "women",
    "guy",
    "guys",
    "friend",
    "friends",
    "fan",
    "fans",
    "lady",
    "daddy",
    "mommy",
    "mom",
    "dad",
    "young",
    "little",
    "cute",
    "hot",
    "sweet",
    "new",
    "old",
    "real",
    "free",
    "best",
    "top",
    "big",
    "small",
    "good",
    "nice",
    "pretty",
    "private",
    "secret",
    "daily",
    "official",
    "only",
    "exclusive",
    "vip",
    "premium",
    "rare",
    // hashtag words
    "pic",
    "pics",
    "photo",
    "photos",
    "vid",
    "vids",
    "video",
    "videos",
    "content",
    "link",
    "links",
    "page",
    "account",
    "club",
    "group",
    "team",
    "community",
    "collection",
    "pack",
    "packs",
    "sale",
    "shop",
    "store",
    "deal",
    "deals",
    "menu",
    "list",
    "life",
    "world",
    "time",
    "day",
    "night",
    "fun",
    "art",
    "style",
    "model",
    "models",
    "gram",
    "insta",
    "post",
    "posts",
    "story",
    "stories",
    "reel",
    "reels",
    "feed",
    "trend",
    "viral",
    "explore",
    "backup",
    "main",
    "alt",
    "official",
    "now",
    "today",
    "here",
    "online",
    "live",
    "open",
    "inbox",
    "lol",
    "xo",
    "xoxo",
    "yes",
    "ok",
    "hey",
    "hi",
    "hello",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexicon_segments_words() {
        let words: Vec<Vec<u8>> = ["i", "love", "for", "you", "lo"]
            .iter()
            .map(|w| w.as_bytes().to_vec())
            .collect();
        let lexicon = Lexicon::new(&words).expect("lexicon builds");
        assert!(lexicon.segments(b"ilove"));
        assert!(lexicon.segments(b"foryou"));
        assert!(lexicon.segments(b"iloveforyou"));
        assert!(lexicon.segments(b""));
        assert!(!lexicon.segments(b"tor"));
        assert!(!lexicon.segments(b"lov"));
    }
}
