//! Report categories: their ids, priorities and service-level timers.
//!
//! Child sexual exploitation comes first. Each category has two timers: the time to a
//! first action (a person or triage moves the report out of `received`), and the time to
//! a final state (`closed`). The ids are the contract reporters send; the table is in
//! `docs/reports.md`.
//!
//! What it must never do: give a child-safety category a lower priority or a longer timer
//! than any other category.

use serde::Serialize;

/// One category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Category {
    /// The id reporters send.
    pub id: &'static str,
    /// Priority, 0 the highest.
    pub priority: u8,
    /// Whether it is a child-safety category (never closed without a person).
    pub child_safety: bool,
    /// Seconds to a first action.
    pub first_action_within: u64,
    /// Seconds to a final state.
    pub final_within: u64,
    /// What it covers.
    pub description: &'static str,
}

const HOUR: u64 = 3_600;
const DAY: u64 = 24 * HOUR;

/// Every category, highest priority first.
pub const CATEGORIES: [Category; 10] = [
    Category {
        id: "child_sexual_exploitation",
        priority: 0,
        child_safety: true,
        first_action_within: HOUR,
        final_within: DAY,
        description: "sexual content involving a child, its sale or trade, solicitation of it",
    },
    Category {
        id: "child_grooming",
        priority: 0,
        child_safety: true,
        first_action_within: HOUR,
        final_within: DAY,
        description: "an adult seeking sexual contact with a child, or to groom one",
    },
    Category {
        id: "offender_registry_match",
        priority: 0,
        child_safety: true,
        first_action_within: HOUR,
        final_within: DAY,
        description: "an account's email is on the offender registry's list (opened by Guardrail at sign-up or an identifier change; a person decides, never an automatic public action)",
    },
    Category {
        id: "child_endangerment",
        priority: 1,
        child_safety: true,
        first_action_within: 4 * HOUR,
        final_within: 2 * DAY,
        description: "a child in danger, sexualised comments on a child's content",
    },
    Category {
        id: "self_harm",
        priority: 1,
        child_safety: false,
        first_action_within: 4 * HOUR,
        final_within: 2 * DAY,
        description: "suicide or self-injury",
    },
    Category {
        id: "violence",
        priority: 2,
        child_safety: false,
        first_action_within: 12 * HOUR,
        final_within: 3 * DAY,
        description: "threats, incitement, violent extremism",
    },
    Category {
        id: "harassment",
        priority: 2,
        child_safety: false,
        first_action_within: 24 * HOUR,
        final_within: 5 * DAY,
        description: "bullying, harassment, hate",
    },
    Category {
        id: "impersonation",
        priority: 3,
        child_safety: false,
        first_action_within: 2 * DAY,
        final_within: 7 * DAY,
        description: "pretending to be someone else",
    },
    Category {
        id: "spam",
        priority: 4,
        child_safety: false,
        first_action_within: 3 * DAY,
        final_within: 14 * DAY,
        description: "spam, scams",
    },
    Category {
        id: "other",
        priority: 4,
        child_safety: false,
        first_action_within: 3 * DAY,
        final_within: 14 * DAY,
        description: "anything else",
    },
];

/// The category with this id.
pub fn category(id: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.id == id)
}

/// Every category id, for error messages.
pub fn category_ids() -> Vec<&'static str> {
    CATEGORIES.iter().map(|c| c.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duration_words(seconds: u64) -> String {
        if seconds >= DAY && seconds.is_multiple_of(DAY) {
            format!("{} d", seconds / DAY)
        } else {
            format!("{} h", seconds / HOUR)
        }
    }

    #[test]
    fn every_category_is_documented() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/reports.md");
        let doc = std::fs::read_to_string(path).unwrap_or_default();
        for c in &CATEGORIES {
            let row = format!(
                "| `{}` | {} | {} | {} | {} | {} |",
                c.id,
                c.priority,
                if c.child_safety { "yes" } else { "no" },
                duration_words(c.first_action_within),
                duration_words(c.final_within),
                c.description
            );
            assert!(
                doc.contains(&row),
                "docs/reports.md lacks or misstates\n{row}"
            );
        }
    }

    #[test]
    fn child_safety_comes_first_with_the_shortest_timers() {
        let first = &CATEGORIES[0];
        assert_eq!(first.id, "child_sexual_exploitation");
        for other in CATEGORIES.iter().filter(|c| !c.child_safety) {
            for child in CATEGORIES.iter().filter(|c| c.child_safety) {
                assert!(
                    child.priority <= other.priority,
                    "{} vs {}",
                    child.id,
                    other.id
                );
                assert!(child.first_action_within <= other.first_action_within);
            }
        }
        let mut ids = category_ids();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CATEGORIES.len());
        assert!(category("spam").is_some() && category("nope").is_none());
    }
}
