//! The text policy a platform deploys: Guardrail's default policy (publicly reported
//! terms) plus the platform's own ban list.
//!
//! What it is for: a synthetic world's platform bans its own (invented) base terms, the way
//! the real platform had an exact list; Guardrail reads that list through its normaliser, so
//! leet, split and segmented spellings are caught without being listed. What it must never
//! do: list variants it learned from ground truth. Only the base terms are written here; the
//! variants the normaliser cannot reach are left to variant clusters.

use guardrail_text::{DEFAULT_POLICY_TOML, Policy, SourceError};

/// The file name a world folder's platform policy is written under.
pub const POLICY_FILE: &str = "policy.toml";

/// The default policy's TOML followed by one block-tier term per banned base term.
pub fn platform_policy_toml(banned: &[&str]) -> String {
    let mut out = String::from(DEFAULT_POLICY_TOML);
    out.push_str(
        "\n# ---------------------------------------------------------------------------\n\
         # This platform's own ban list (exact base terms; spellings are the normaliser's job).\n",
    );
    for term in banned {
        let id: String = term
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        out.push_str(&format!(
            "\n[[term]]\nid = \"platform-banned-{id}\"\ntext = {term:?}\ntier = \"block\"\ncategory = \"platform.banned\"\nnotes = \"On the platform's exact ban list.\"\n"
        ));
    }
    out
}

/// Compiles [`platform_policy_toml`].
pub fn platform_policy(banned: &[&str]) -> Result<Policy, SourceError> {
    Policy::from_toml(&platform_policy_toml(banned), POLICY_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardrail_text::{TextDecision, TextPlace, check};

    #[test]
    fn banned_bases_block_their_reachable_spellings_only() {
        let policy = platform_policy(&["vexnor", "dravik"]).expect("policy");
        // (hashtag, decision): every spelling the normaliser reaches is blocked without
        // being listed; a coined tag it cannot reach is left to variant clusters.
        let rows = [
            ("vexnor", TextDecision::Block),
            ("v3xn0r", TextDecision::Block),
            ("vex_nor", TextDecision::Block),
            ("vexnorboys", TextDecision::Block),
            ("dr4v1k", TextDecision::Block),
            ("vexnorcp", TextDecision::Block),
            ("zintaro", TextDecision::Allow),
            ("embroidery", TextDecision::Allow),
            ("pedobait", TextDecision::Block),
        ];
        for (tag, expected) in rows {
            assert_eq!(
                check(&policy, TextPlace::Hashtag, tag).decision,
                expected,
                "{tag}"
            );
        }
    }
}
