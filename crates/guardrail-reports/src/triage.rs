//! Automatic triage: what the detectors already know about a report's subject may raise
//! its priority, never lower it, and never decide it.
//!
//! Inputs come from the caller (the service reads them off the live snapshot and the hash
//! banks): the text guard's decision on the report's words and the subject's text, the
//! number of known-image matches among attached or posted media, and the network map's
//! score and membership of the subject.
//!
//! What it must never do: close, decide or deprioritise a report. Its output is a
//! priority and the reasons for it, in words.

use guardrail_types::TextDecision;
use serde::Serialize;

use crate::category::category;

/// What detectors know about a report's subject.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TriageInputs {
    /// The text guard's decision on the report's text and the subject's texts.
    pub text: Option<TextDecision>,
    /// Known-image matches among the media.
    pub hash_matches: u32,
    /// The subject's network-map score, in [0, 1].
    pub network_score: Option<f64>,
    /// Whether the map lists the subject as a network member.
    pub network_member: bool,
}

/// A priority and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Triage {
    /// Priority, 0 the highest.
    pub priority: u8,
    /// Why, in words.
    pub reasons: Vec<String>,
}

/// Triage of a report in `category_id` with what detectors know.
pub fn triage(category_id: &str, inputs: &TriageInputs) -> Triage {
    let base = category(category_id).map_or(4, |c| c.priority);
    let mut priority = base;
    let mut reasons = vec![format!("category {category_id}: priority {base}")];
    let mut raise = |to: u8, why: String| {
        if to < priority {
            priority = to;
        }
        reasons.push(why);
    };
    if inputs.hash_matches > 0 {
        raise(
            0,
            format!("{} known-image match(es): priority 0", inputs.hash_matches),
        );
    }
    if inputs.network_member {
        raise(
            0,
            "the subject is a mapped network member: priority 0".into(),
        );
    } else if let Some(score) = inputs.network_score
        && score >= 0.5
    {
        raise(1, format!("network score {score:.2}: priority 1"));
    }
    match inputs.text {
        Some(TextDecision::Block) => raise(0, "the text guard blocks the text: priority 0".into()),
        Some(TextDecision::Restrict) => {
            raise(1, "the text guard restricts the text: priority 1".into())
        }
        _ => {}
    }
    Triage { priority, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triage_only_raises() {
        // (category, inputs, expected priority)
        let rows = [
            ("spam", TriageInputs::default(), 4),
            (
                "spam",
                TriageInputs {
                    hash_matches: 1,
                    ..TriageInputs::default()
                },
                0,
            ),
            (
                "harassment",
                TriageInputs {
                    network_score: Some(0.6),
                    ..TriageInputs::default()
                },
                1,
            ),
            (
                "child_sexual_exploitation",
                TriageInputs {
                    text: Some(TextDecision::Allow),
                    ..TriageInputs::default()
                },
                0,
            ),
            (
                "violence",
                TriageInputs {
                    text: Some(TextDecision::Restrict),
                    ..TriageInputs::default()
                },
                1,
            ),
            (
                "self_harm",
                TriageInputs {
                    network_member: true,
                    ..TriageInputs::default()
                },
                0,
            ),
        ];
        for (category_id, inputs, expected) in rows {
            let result = triage(category_id, &inputs);
            assert_eq!(result.priority, expected, "{category_id}: {result:?}");
            assert!(result.priority <= category(category_id).map_or(4, |c| c.priority));
        }
    }
}
