//! Takedowns and their propagation to the person behind an account, and posts reported
//! directly (their hashtags observed for variant clusters).
//!
//! What it is for: when the platform takes accounts down, the guard flags them, labels
//! their entities, and every account linked to a labelled entity (backups named in bios,
//! shared payment handles) inherits the restriction, in the next published snapshot.
//!
//! What it must never do: unlabel anything, or change the snapshot requests are reading.

use guardrail_types::{AccountId, Day};

use crate::guard::Guard;

/// The label a takedown puts on an entity.
pub const TAKEDOWN_LABEL: &str = "csea.takedown";
/// Why the audit's takedowns label an entity.
const TAKEDOWN_REASON: &str = "taken down for child sexual exploitation";

impl Guard {
    /// The platform took these accounts down on logical day `at`; publishes the snapshot
    /// in which they are flagged and their entities actioned.
    pub fn take_down(&self, accounts: &[AccountId], at: Day) {
        self.write(|deriver| {
            deriver.take_down(accounts, at.start(), TAKEDOWN_LABEL, TAKEDOWN_REASON);
        });
    }

    /// A post published on the platform with these hashtags: observed for variant
    /// clusters, so a new spelling seen beside blocked tags is restricted in the next
    /// snapshot (the path a platform without a ledger, or the audit's wrapper, uses).
    pub fn observe_post(&self, hashtags: &[String]) {
        let tags: Vec<&str> = hashtags.iter().map(String::as_str).collect();
        self.write(|deriver| {
            let now = deriver.now();
            deriver.observe_hashtags(&tags, now);
        });
    }
}
