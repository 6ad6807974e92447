//! Contamination control: which engagements may feed co-engagement signals.
//!
//! The published failure: a safety advocate opened an abusive account for a few
//! seconds to report it, and the recommender then suggested that account to parents who
//! visited her profile. Co-engagement ("people who viewed X also viewed Y") treats every
//! touch as interest. Here, reports, blocks and reviewer visits never count, and no
//! engagement *with* a flagged, high-risk or network account counts, so no profile can
//! become a conduit to one. Unknown target signals do not count either (fail closed).

use guardrail_types::EngagementKind;
use serde::Serialize;

use crate::rules::Thresholds;
use crate::signals::AccountSignals;

/// Whether an engagement may feed co-engagement signals, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoEngagement {
    /// It may.
    pub feeds: bool,
    /// Why it may not.
    pub reason: Option<&'static str>,
}

/// Decides whether `engagement` with `target` may feed co-engagement.
pub fn feeds_coengagement(
    engagement: EngagementKind,
    target: &AccountSignals,
    thresholds: &Thresholds,
) -> CoEngagement {
    let refuse = |reason| CoEngagement {
        feeds: false,
        reason: Some(reason),
    };
    match engagement {
        EngagementKind::Report | EngagementKind::Block => {
            return refuse("reports and blocks are not interest");
        }
        EngagementKind::ReviewerVisit => return refuse("reviewer visits are not interest"),
        _ => {}
    }
    let (Some(flagged), Some(network), Some(entity_actioned)) = (
        target.flagged,
        target.network.as_ref(),
        target.entity_actioned,
    ) else {
        return refuse("the target's risk signals are unknown");
    };
    if flagged || entity_actioned {
        return refuse("the target is flagged or its entity actioned");
    }
    if network.member || network.score >= thresholds.risk_signal_network_score {
        return refuse("the target is in or near a detected network");
    }
    if target.text.as_ref().is_some_and(|t| t.worst_tier.is_some())
        || target.hash.as_ref().is_some_and(|h| h.matches > 0)
    {
        return refuse("the target has text-guard or hash matches");
    }
    CoEngagement {
        feeds: true,
        reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::NetworkSignal;
    use guardrail_types::AccountId;

    #[test]
    fn only_interest_in_clean_accounts_feeds_coengagement() {
        let thresholds = Thresholds::default();
        let clean = AccountSignals::clean_adult(AccountId(1));
        let mut network = AccountSignals::clean_adult(AccountId(2));
        network.network = Some(NetworkSignal {
            score: 0.9,
            member: true,
            role: None,
        });
        let unknown = AccountSignals::unknown(AccountId(3));
        // (engagement, target, feeds)
        let rows = [
            (EngagementKind::View, &clean, true),
            (EngagementKind::Follow, &clean, true),
            (EngagementKind::Report, &clean, false),
            (EngagementKind::ReviewerVisit, &clean, false),
            (EngagementKind::View, &network, false),
            (EngagementKind::Like, &network, false),
            (EngagementKind::View, &unknown, false),
        ];
        for (engagement, target, feeds) in rows {
            assert_eq!(
                feeds_coengagement(engagement, target, &thresholds).feeds,
                feeds,
                "{engagement:?} of {}",
                target.id
            );
        }
    }
}
