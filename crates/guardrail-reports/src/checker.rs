//! The checker: proof from the ledger that no report is lost, stuck, or past its timer
//! without anyone being told.
//!
//! What it is for: `guardrail reports check` (and the console's health page) run it over
//! the ledger's folded state. It finds every report in a state that is not in the
//! lifecycle, every report past a service-level timer without an alert of that kind, every
//! report left without a transition for longer than the stuck threshold, every referral
//! with a failed or blocked step and no alert, every transition of a report the ledger
//! never received, and every acknowledged key (from a client's own list) that the ledger
//! does not hold. [`due_alerts`] gives the alerts a sweep must raise.
//!
//! What it must never do: change anything. It reads; the sweep writes alerts as events.

use std::str::FromStr;

use guardrail_ledger::event::{AlertRaised, Event, Payload};
use guardrail_ledger::state::LedgerState;
use serde::Serialize;

use crate::category::category;
use crate::lifecycle::ReportState;

/// What the checker found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The state is not one of the lifecycle's.
    UnknownState,
    /// The category is not one of ours.
    UnknownCategory,
    /// The first-action timer passed with no alert.
    FirstActionOverdueWithoutAlert,
    /// The final-state timer passed with no alert.
    FinalOverdueWithoutAlert,
    /// No transition for longer than the stuck threshold.
    Stuck,
    /// A referral step failed or was blocked, and nobody was alerted.
    ReferralFailedWithoutAlert,
    /// The ledger has a transition or an alert for a report it never received.
    UnknownReport,
    /// A key the client saw acknowledged is not in the ledger.
    AcknowledgedMissing,
}

/// One problem, with its subject and the details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// The report, referral or key.
    pub subject: String,
    /// The details, in words.
    pub detail: String,
}

/// Thresholds of the check.
#[derive(Debug, Clone, Copy)]
pub struct CheckConfig {
    /// The time of the check (Unix seconds).
    pub now: u64,
    /// Seconds without a transition after which an open report is stuck.
    pub stuck_after: u64,
}

/// The checker's answer.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Reports in the ledger.
    pub reports: usize,
    /// Of them, closed.
    pub closed: usize,
    /// Acknowledged keys checked.
    pub acknowledged_checked: usize,
    /// Everything wrong.
    pub problems: Vec<Problem>,
}

/// Runs every check.
pub fn check(state: &LedgerState, config: &CheckConfig, acknowledged: &[String]) -> CheckReport {
    let mut problems = Vec::new();
    let mut closed = 0;
    for record in state.reports.values() {
        let subject = record.report.clone();
        let Ok(current) = ReportState::from_str(&record.state) else {
            problems.push(Problem {
                kind: ProblemKind::UnknownState,
                subject,
                detail: format!("state {:?} is not in the lifecycle", record.state),
            });
            continue;
        };
        if current.is_final() {
            closed += 1;
            continue;
        }
        let Some(category) = category(&record.category) else {
            problems.push(Problem {
                kind: ProblemKind::UnknownCategory,
                subject,
                detail: format!("category {:?} is not one of ours", record.category),
            });
            continue;
        };
        let alerted = |kind: &str| record.alerts.iter().any(|(k, _)| k == kind);
        if current == ReportState::Received
            && config.now > record.received_at + category.first_action_within
            && !alerted(SLA_FIRST_ACTION)
        {
            problems.push(Problem {
                kind: ProblemKind::FirstActionOverdueWithoutAlert,
                subject: subject.clone(),
                detail: format!(
                    "received {} s ago, first action due within {} s, no alert",
                    config.now - record.received_at,
                    category.first_action_within
                ),
            });
        }
        if config.now > record.received_at + category.final_within && !alerted(SLA_FINAL) {
            problems.push(Problem {
                kind: ProblemKind::FinalOverdueWithoutAlert,
                subject: subject.clone(),
                detail: format!(
                    "open in {} for {} s, final state due within {} s, no alert",
                    record.state,
                    config.now - record.received_at,
                    category.final_within
                ),
            });
        }
        if config.now > record.state_at + config.stuck_after {
            problems.push(Problem {
                kind: ProblemKind::Stuck,
                subject,
                detail: format!(
                    "in {} without a transition for {} s (stuck after {} s)",
                    record.state,
                    config.now - record.state_at,
                    config.stuck_after
                ),
            });
        }
    }
    for referral in state.referrals.values() {
        let failed = referral
            .steps
            .iter()
            .filter(|(_, _, outcome, _, _)| outcome == "failed" || outcome == "blocked")
            .map(|(_, _, _, _, at)| *at)
            .max();
        let alerted = state
            .other_alerts
            .iter()
            .any(|(subject, _, at)| *subject == referral.referral && Some(*at) >= failed);
        if failed.is_some() && !referral.finished() && !alerted {
            problems.push(Problem {
                kind: ProblemKind::ReferralFailedWithoutAlert,
                subject: referral.referral.clone(),
                detail: format!(
                    "referral of report {} has a failed or blocked step and no alert since",
                    referral.report
                ),
            });
        }
    }
    for flag in &state.flags {
        if flag.reason.contains("unknown report") {
            problems.push(Problem {
                kind: ProblemKind::UnknownReport,
                subject: flag.event_id.clone(),
                detail: format!("sequence {}: {}", flag.seq, flag.reason),
            });
        }
    }
    for key in acknowledged {
        if !state.report_keys.contains_key(key) {
            problems.push(Problem {
                kind: ProblemKind::AcknowledgedMissing,
                subject: key.clone(),
                detail: "acknowledged to the client, not in the ledger".into(),
            });
        }
    }
    CheckReport {
        reports: state.reports.len(),
        closed,
        acknowledged_checked: acknowledged.len(),
        problems,
    }
}

/// The alert kind of a missed first-action timer.
pub const SLA_FIRST_ACTION: &str = "sla_first_action";
/// The alert kind of a missed final-state timer.
pub const SLA_FINAL: &str = "sla_final";

/// The alerts a sweep at `now` must raise: one per report and missed timer, once.
pub fn due_alerts(state: &LedgerState, now: u64) -> Vec<Event> {
    let mut out = Vec::new();
    for record in state.reports.values() {
        let (Ok(current), Some(category)) = (
            ReportState::from_str(&record.state),
            category(&record.category),
        ) else {
            continue;
        };
        if current.is_final() {
            continue;
        }
        let alerted = |kind: &str| record.alerts.iter().any(|(k, _)| k == kind);
        let mut raise = |kind: &str, detail: String| {
            out.push(Event::new(
                format!("alert:{kind}:{}", record.report),
                now,
                Payload::AlertRaised(AlertRaised {
                    subject: record.report.clone(),
                    kind: kind.to_string(),
                    detail,
                }),
            ));
        };
        if current == ReportState::Received
            && now > record.received_at + category.first_action_within
            && !alerted(SLA_FIRST_ACTION)
        {
            raise(
                SLA_FIRST_ACTION,
                format!(
                    "{} report {} (priority {}) has had no first action for {} s",
                    record.category,
                    record.report,
                    record.priority,
                    now - record.received_at
                ),
            );
        }
        if now > record.received_at + category.final_within && !alerted(SLA_FINAL) {
            raise(
                SLA_FINAL,
                format!(
                    "{} report {} is still {} after {} s",
                    record.category,
                    record.report,
                    record.state,
                    now - record.received_at
                ),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardrail_ledger::event::{ReportReceived, ReportTransition, Subject};

    fn received(n: u64, at: u64) -> Event {
        Event::new(
            format!("rr-{n}"),
            at,
            Payload::ReportReceived(ReportReceived {
                report: format!("r-{n}"),
                client_key: format!("k-{n}"),
                reporter: "1".into(),
                subject: Subject::Account("45".into()),
                category: "child_sexual_exploitation".into(),
                text: String::new(),
                media_hashes: Vec::new(),
                priority: 0,
                triage: Vec::new(),
                body_hash: String::new(),
            }),
        )
    }

    fn moved(n: u64, at: u64, from: &str, to: &str) -> Event {
        Event::new(
            format!("rt-{n}-{to}"),
            at,
            Payload::ReportTransition(ReportTransition {
                report: format!("r-{n}"),
                from: from.into(),
                to: to.into(),
                actor: "person:rev".into(),
                reason: "seen".into(),
            }),
        )
    }

    #[test]
    fn overdue_reports_need_alerts_and_a_sweep_raises_them_once() {
        let events = vec![
            received(1, 0),
            received(2, 0),
            moved(2, 10, "received", "in_review"),
        ];
        let mut state = LedgerState::from_events(&events);
        let config = CheckConfig {
            now: 7_200,
            stuck_after: 7 * 86_400,
        };
        let report = check(&state, &config, &[]);
        let kinds: Vec<(&str, &ProblemKind)> = report
            .problems
            .iter()
            .map(|p| (p.subject.as_str(), &p.kind))
            .collect();
        assert_eq!(
            kinds,
            [("r-1", &ProblemKind::FirstActionOverdueWithoutAlert)]
        );
        let alerts = due_alerts(&state, 7_200);
        assert_eq!(alerts.len(), 1);
        for (i, alert) in alerts.iter().enumerate() {
            state.apply(10 + i as u64, alert);
        }
        assert!(check(&state, &config, &[]).problems.is_empty());
        assert!(due_alerts(&state, 7_200).is_empty(), "raised once");
        // A day later both are past their final timer; a week later both are stuck too.
        let later = CheckConfig {
            now: 8 * 86_400,
            ..config
        };
        let kinds: Vec<ProblemKind> = check(&state, &later, &["k-1".into(), "k-9".into()])
            .problems
            .into_iter()
            .map(|p| p.kind)
            .collect();
        assert_eq!(
            kinds
                .iter()
                .filter(|k| **k == ProblemKind::FinalOverdueWithoutAlert)
                .count(),
            2
        );
        assert_eq!(
            kinds.iter().filter(|k| **k == ProblemKind::Stuck).count(),
            2
        );
        assert!(kinds.contains(&ProblemKind::AcknowledgedMissing));
    }
}
