//! Takedowns and their propagation to the person behind an account.
//!
//! What it is for: when the platform takes accounts down, the guard flags them, labels
//! their entities, and every account linked to a labelled entity (backups named in bios,
//! shared payment handles) inherits the restriction, in the next published snapshot.
//!
//! What it must never do: unlabel anything, or change the snapshot requests are reading.

use guardrail_policy::entities::Label;
use guardrail_types::{AccountId, Day};

use crate::guard::Guard;

/// Why the audit's takedowns label an entity.
const TAKEDOWN_REASON: &str = "taken down for child sexual exploitation";

impl Guard {
    /// The platform took these accounts down on logical day `at`; publishes the snapshot
    /// in which they are flagged and their entities actioned.
    pub fn take_down(&self, accounts: &[AccountId], at: Day) {
        self.publish_change(|next| {
            for &account in accounts {
                if let Some(signals) = next.signals_mut().get_mut(account.index()) {
                    signals.flagged = Some(true);
                }
                next.entities_mut().label(
                    account,
                    Label {
                        reason: TAKEDOWN_REASON.to_string(),
                        applied_at: at.start(),
                        expires_at: None,
                    },
                );
            }
            // The actioned entity's other accounts inherit the restriction.
            let ids: Vec<AccountId> = next.signals_mut().iter().map(|s| s.id).collect();
            for (row, id) in ids.into_iter().enumerate() {
                let actioned = !next.entities_mut().labels_at(id, at.start()).is_empty();
                next.signals_mut()[row].entity_actioned = Some(actioned);
            }
        });
    }
}
