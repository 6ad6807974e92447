//! Backfill: replay recorded requests through a new rule set before it goes live and
//! report every decision it would change. The same replay, with the new rules in
//! shadow mode, shows that shadow records exactly what enforcement would do.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::decide::{Candidate, Context, Engine};
use guardrail_types::Surface;

use crate::rules::Action;
use crate::signals::{AccountSignals, Relationship};

/// A request as recorded in the decision log: owned, replayable (and read back from the
/// ledger's `decision_logged` events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// The surface.
    pub surface: Surface,
    /// The viewer's signals at the time.
    pub viewer: Option<AccountSignals>,
    /// The query, if any.
    pub query: Option<String>,
    /// The candidate account's signals at the time.
    pub account: Option<AccountSignals>,
    /// The candidate text, if any.
    pub text: Option<String>,
    /// Variant-cluster restriction at the time.
    pub variant_restricted: Option<bool>,
    /// Whether the item features minors.
    pub features_minors: Option<bool>,
    /// The relationship at the time.
    pub relationship: Option<Relationship>,
}

impl RecordedRequest {
    /// Records a request as it was decided (owned, so it outlives the signals it read).
    pub fn record(context: &Context, candidate: &Candidate) -> RecordedRequest {
        RecordedRequest {
            surface: context.surface,
            viewer: context.viewer.cloned(),
            query: context.query.map(str::to_string),
            account: candidate.account.cloned(),
            text: candidate.text.map(str::to_string),
            variant_restricted: candidate.variant_restricted,
            features_minors: candidate.features_minors,
            relationship: candidate.relationship,
        }
    }

    /// Decides this request with an engine.
    pub fn decide(&self, engine: &Engine) -> crate::decide::Verdict {
        let context = Context {
            surface: self.surface,
            viewer: self.viewer.as_ref(),
            query: self.query.as_deref(),
        };
        let candidate = Candidate {
            account: self.account.as_ref(),
            text: self.text.as_deref(),
            variant_restricted: self.variant_restricted,
            features_minors: self.features_minors,
            relationship: self.relationship,
        };
        engine.decide(&context, &candidate)
    }
}

/// One decision the new rules change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Index of the request in the replayed log.
    pub request: usize,
    /// Action under the current rules.
    pub before: Action,
    /// Action under the new rules.
    pub after: Action,
    /// The rule that decides under the new rules.
    pub decided_by: Option<String>,
}

/// What a new rule set would have changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackfillReport {
    /// Requests replayed.
    pub requests: usize,
    /// Every changed decision.
    pub changes: Vec<Change>,
    /// Changed decisions per deciding rule of the new set (`none` for new allows).
    pub changes_by_rule: BTreeMap<String, usize>,
}

/// Replays `log` through `current` and `proposed` and reports the differences.
pub fn backfill(current: &Engine, proposed: &Engine, log: &[RecordedRequest]) -> BackfillReport {
    let mut changes = Vec::new();
    let mut changes_by_rule = BTreeMap::new();
    for (index, request) in log.iter().enumerate() {
        let before = request.decide(current);
        let after = request.decide(proposed);
        if before.action != after.action {
            *changes_by_rule
                .entry(
                    after
                        .decided_by
                        .clone()
                        .unwrap_or_else(|| "none".to_string()),
                )
                .or_insert(0) += 1;
            changes.push(Change {
                request: index,
                before: before.action,
                after: after.action,
                decided_by: after.decided_by,
            });
        }
    }
    BackfillReport {
        requests: log.len(),
        changes,
        changes_by_rule,
    }
}
