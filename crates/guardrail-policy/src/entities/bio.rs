//! Handles named in bios: `@name` mentions anywhere and bare names after a backup cue
//! (`main: quux.main`), with the phrase that names them, for entity links' evidence.
//!
//! What it must never do: take a shout-out for an identity. A mention without a cue word
//! is returned uncued; the caller records it as weak evidence and never merges on it.

/// Words that, just before a handle, say the handle is the same person's other account.
pub const BACKUP_CUES: [&str; 5] = ["backup", "bkup", "spare", "main", "alt"];

/// A handle named in a bio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BioMention {
    /// The handle, lower case, without `@`.
    pub handle: String,
    /// The words that name it (`backup @seller_two`), for evidence.
    pub phrase: String,
    /// Whether a backup cue ([`BACKUP_CUES`]) is one of the two words before it.
    pub cued: bool,
}

/// Handles a bio names: `@name` mentions anywhere, and bare names right after a cue word
/// (`main: quux.main`). Each handle once, first mention kept.
pub fn bio_mentions(bio: &str) -> Vec<BioMention> {
    let words: Vec<&str> = bio.split_whitespace().collect();
    let is_cue = |word: &str| {
        let word = word
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        BACKUP_CUES.contains(&word.as_str())
    };
    let mut mentions: Vec<BioMention> = Vec::new();
    for (index, word) in words.iter().enumerate() {
        let cleaned =
            word.trim_matches(|c: char| !(c.is_alphanumeric() || matches!(c, '@' | '_' | '.')));
        let cue_before = index > 0 && is_cue(words[index - 1]);
        let cue_two_before = index > 1 && is_cue(words[index - 2]);
        let next_is_mention = words.get(index + 1).is_some_and(|w| w.starts_with('@'));
        let candidate = if let Some(handle) = cleaned.strip_prefix('@') {
            Some((handle, cue_before || cue_two_before))
        } else if cue_before && !next_is_mention {
            // "backup acc @x": the cue is for the mention, not for "acc".
            Some((cleaned, true))
        } else {
            None
        };
        let Some((handle, cued)) = candidate else {
            continue;
        };
        let handle = handle.trim_end_matches('.').to_lowercase();
        let valid = (2..=30).contains(&handle.len())
            && handle
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if !valid || mentions.iter().any(|m| m.handle == handle) {
            continue;
        }
        let from = if cue_before {
            index - 1
        } else if cued {
            index - 2
        } else {
            index
        };
        mentions.push(BioMention {
            handle,
            phrase: words[from..=index].join(" "),
            cued,
        });
    }
    mentions
}

/// Handles a bio points to: `@name` mentions, and names after words like `backup`.
pub fn handles_in_bio(bio: &str) -> Vec<String> {
    bio_mentions(bio).into_iter().map(|m| m.handle).collect()
}
