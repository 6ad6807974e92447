//! The synthetic coded vocabulary: invented placeholder terms with the disguise patterns
//! public reporting described (DESIGN.md section 9), never a real trading vocabulary.
//!
//! What it is for: giving sellers' bios, hashtags and captions the *shape* of the real
//! disguises — banned base terms and their variants (leet, appended suffixes as in "boys" /
//! "CP" appended to a banned name, split words), emoji codes (the map and pizza emoji named
//! in reporting), age codes ("on chapter 14", "age 31 ⬅️"), leet "s3ller"-style tokens of
//! invented words, payment handles, backup handles and links to file services on `.invalid`
//! domains. What it must never do: contain a real term beyond those named in public
//! reporting, or a real account name or domain.

use crate::truth::TokenRecord;

/// Invented banned base terms (the platform's exact ban list in this world).
pub const BANNED_BASES: [&str; 4] = ["vexnor", "plimsa", "quorbel", "dravik"];

/// Suffixes appended to banned terms; "boys" and "cp" are the appendages named in reporting.
pub const VARIANT_SUFFIXES: [&str; 3] = ["boys", "cp", "xo"];

/// Letters glued to a banned term to coin a new variant after a sweep (the reporting's
/// "new variants" that autocomplete then offered). No word list splits them off, so no
/// normaliser reaches them: only their company (the tags they travel with) gives them away.
pub const COINED_SUFFIXES: [&str; 2] = ["qa", "zq"];

/// Emoji codes named in public reporting (map, pizza) plus the reverse arrow of age codes.
pub const EMOJI_CODES: [&str; 3] = ["🗺️", "🍕", "⬅️"];

/// Invented words written in "s3ller"-style leet.
pub const LEET_WORDS: [&str; 3] = ["tr4nzo", "m3nuvik", "s0lkra"];

/// Invented file-service domain (reserved `.invalid` TLD).
pub const FILE_SERVICE: &str = "kwipfile.invalid";

fn leet(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            'e' => '3',
            'o' => '0',
            'i' => '1',
            'a' => '4',
            other => other,
        })
        .collect()
}

/// Every variant hashtag of one base: leet, each suffix, a split form, and coined forms.
pub fn variants(base: &str) -> Vec<(String, &'static str)> {
    let mut out = vec![(leet(base), "leet")];
    for suffix in VARIANT_SUFFIXES {
        out.push((format!("{base}{suffix}"), "suffix"));
    }
    let middle = base.len() / 2;
    out.push((format!("{}_{}", &base[..middle], &base[middle..]), "split"));
    for suffix in COINED_SUFFIXES {
        out.push((format!("{base}{suffix}"), "coined"));
    }
    out
}

/// The whole vocabulary as truth records.
pub fn token_records() -> Vec<TokenRecord> {
    let mut records = Vec::new();
    for base in BANNED_BASES {
        records.push(TokenRecord {
            token: base.to_string(),
            pattern: "banned".to_string(),
            base: base.to_string(),
        });
        for (token, pattern) in variants(base) {
            records.push(TokenRecord {
                token,
                pattern: pattern.to_string(),
                base: base.to_string(),
            });
        }
    }
    for emoji in EMOJI_CODES {
        records.push(TokenRecord {
            token: emoji.to_string(),
            pattern: "emoji".to_string(),
            base: String::new(),
        });
    }
    for word in LEET_WORDS {
        records.push(TokenRecord {
            token: word.to_string(),
            pattern: "leet".to_string(),
            base: String::new(),
        });
    }
    records.push(TokenRecord {
        token: FILE_SERVICE.to_string(),
        pattern: "file_link".to_string(),
        base: String::new(),
    });
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_table() {
        let got: Vec<String> = variants("vexnor").into_iter().map(|(t, _)| t).collect();
        assert_eq!(
            got,
            [
                "v3xn0r",
                "vexnorboys",
                "vexnorcp",
                "vexnorxo",
                "vex_nor",
                "vexnorqa",
                "vexnorzq"
            ]
        );
    }
}
