//! Transparency metrics from the ledger: reports received and processed by category, time
//! to first action and to the final state, how much was actioned, referrals made.
//!
//! What it must never do: count from anything but the ledger's folded state, so the figures
//! can be recomputed by anyone who holds the ledger.

use std::collections::BTreeMap;

use guardrail_ledger::state::LedgerState;
use serde::Serialize;

/// Figures per category.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CategoryFigures {
    /// Reports received.
    pub received: usize,
    /// Reports decided (actioned, no violation, referred, duplicate, closed).
    pub processed: usize,
    /// Reports actioned or referred.
    pub actioned: usize,
}

/// The transparency figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Transparency {
    /// By category id.
    pub by_category: BTreeMap<String, CategoryFigures>,
    /// Seconds from receipt to the first transition: median.
    pub first_action_p50: Option<u64>,
    /// ...and 90th percentile.
    pub first_action_p90: Option<u64>,
    /// Seconds from receipt to `closed`: median.
    pub final_state_p50: Option<u64>,
    /// ...and 90th percentile.
    pub final_state_p90: Option<u64>,
    /// Share of decided reports that were actioned or referred.
    pub actioned_share: f64,
    /// Referrals opened.
    pub referrals_opened: usize,
    /// Referrals the clearing house confirmed.
    pub referrals_finished: usize,
}

fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    Some(sorted[((sorted.len() - 1) as f64 * p).round() as usize])
}

/// Computes the figures from the ledger's state.
pub fn transparency(state: &LedgerState) -> Transparency {
    let mut figures = Transparency::default();
    let (mut first, mut last) = (Vec::new(), Vec::new());
    let (mut decided, mut actioned) = (0usize, 0usize);
    for record in state.reports.values() {
        let entry = figures
            .by_category
            .entry(record.category.clone())
            .or_default();
        entry.received += 1;
        let reached = |state: &str| record.history.iter().any(|t| t.to == state);
        let is_decided = [
            "actioned",
            "no_violation",
            "referred",
            "duplicate",
            "closed",
        ]
        .iter()
        .any(|s| reached(s));
        if is_decided {
            entry.processed += 1;
            decided += 1;
        }
        if reached("actioned") || reached("referred") {
            entry.actioned += 1;
            actioned += 1;
        }
        if let Some(transition) = record.history.first() {
            first.push(transition.at.saturating_sub(record.received_at));
        }
        if let Some(closing) = record.history.iter().find(|t| t.to == "closed") {
            last.push(closing.at.saturating_sub(record.received_at));
        }
    }
    first.sort_unstable();
    last.sort_unstable();
    figures.first_action_p50 = percentile(&first, 0.5);
    figures.first_action_p90 = percentile(&first, 0.9);
    figures.final_state_p50 = percentile(&last, 0.5);
    figures.final_state_p90 = percentile(&last, 0.9);
    figures.actioned_share = if decided == 0 {
        0.0
    } else {
        actioned as f64 / decided as f64
    };
    figures.referrals_opened = state.referrals.len();
    figures.referrals_finished = state.referrals.values().filter(|r| r.finished()).count();
    figures
}
