//! A report's states and the transitions between them.
//!
//! ```text
//! received ─▶ triaged ─▶ in_review ─▶ actioned ──────┐
//!    │           ▲           │    ├──▶ no_violation ──┤
//!    └───────────┼───────────┤    ├──▶ duplicate ─────┼─▶ closed
//!                └─ release ─┘    ├──▶ referred ──────┘ (once the referral finished)
//!                                 └──▶ escalated ─▶ in_review | actioned | referred | no_violation
//! ```
//!
//! `closed` is the one final state; `actioned`, `no_violation`, `duplicate` and `referred`
//! are decisions that must still be closed. Every transition names its actor and its
//! reason. The system (automatic triage) may only triage a report; every decision is a
//! person's, and a child-safety report is never decided or closed without one.
//!
//! What it must never do: let a referral be closed before the clearing house confirmed it,
//! or accept a transition from a state the report is not in.

use std::fmt;
use std::str::FromStr;

use guardrail_ledger::event::{Event, Payload, ReportTransition};
use guardrail_ledger::state::{LedgerState, ReportRecord};
use serde::Serialize;

use crate::category::category;

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Stored and acknowledged; nobody has looked yet.
    Received,
    /// Triaged (prioritised) and waiting in the queue.
    Triaged,
    /// A reviewer has it.
    InReview,
    /// Sent up to a specialist or investigator.
    Escalated,
    /// Decided: a violation, acted on.
    Actioned,
    /// Decided: no violation.
    NoViolation,
    /// Decided: sent to the clearing house.
    Referred,
    /// Decided: the same as another report.
    Duplicate,
    /// Final.
    Closed,
}

impl ReportState {
    /// Every state.
    pub const ALL: [ReportState; 9] = [
        ReportState::Received,
        ReportState::Triaged,
        ReportState::InReview,
        ReportState::Escalated,
        ReportState::Actioned,
        ReportState::NoViolation,
        ReportState::Referred,
        ReportState::Duplicate,
        ReportState::Closed,
    ];

    /// The name used in events and routes.
    pub fn name(self) -> &'static str {
        match self {
            ReportState::Received => "received",
            ReportState::Triaged => "triaged",
            ReportState::InReview => "in_review",
            ReportState::Escalated => "escalated",
            ReportState::Actioned => "actioned",
            ReportState::NoViolation => "no_violation",
            ReportState::Referred => "referred",
            ReportState::Duplicate => "duplicate",
            ReportState::Closed => "closed",
        }
    }

    /// Whether the report is done.
    pub fn is_final(self) -> bool {
        self == ReportState::Closed
    }

    /// Whether a decision was taken (it may still need closing).
    pub fn is_decided(self) -> bool {
        matches!(
            self,
            ReportState::Actioned
                | ReportState::NoViolation
                | ReportState::Referred
                | ReportState::Duplicate
                | ReportState::Closed
        )
    }

    /// The states this one may move to.
    pub fn next(self) -> &'static [ReportState] {
        use ReportState::*;
        match self {
            Received => &[Triaged, InReview, Duplicate],
            Triaged => &[InReview, Duplicate],
            InReview => &[
                Triaged,
                Escalated,
                Actioned,
                NoViolation,
                Referred,
                Duplicate,
            ],
            Escalated => &[InReview, Actioned, NoViolation, Referred],
            Actioned => &[Referred, Closed],
            NoViolation | Duplicate | Referred => &[Closed],
            Closed => &[],
        }
    }
}

impl fmt::Display for ReportState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ReportState {
    type Err = TransitionError;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ReportState::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| TransitionError::UnknownState(name.to_string()))
    }
}

/// Who moves a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// Automatic triage and sweeps.
    System,
    /// A person, by login name.
    Person(String),
}

impl Actor {
    /// How the actor is recorded in events.
    pub fn recorded(&self) -> String {
        match self {
            Actor::System => "system".to_string(),
            Actor::Person(name) => format!("person:{name}"),
        }
    }

    /// Reads a recorded actor.
    pub fn from_recorded(text: &str) -> Actor {
        match text.strip_prefix("person:") {
            Some(name) => Actor::Person(name.to_string()),
            None => Actor::System,
        }
    }
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    /// The state name is not one of ours.
    #[error(
        "unknown state {0:?}; expected one of received, triaged, in_review, escalated, actioned, no_violation, referred, duplicate, closed"
    )]
    UnknownState(String),
    /// The report is not in the state the transition leaves.
    #[error("report {report} is in {actual}, not {expected}")]
    NotInState {
        /// The report.
        report: String,
        /// Its state.
        actual: String,
        /// The state the transition assumed.
        expected: String,
    },
    /// The move is not in the lifecycle.
    #[error(
        "report {report} cannot move from {from} to {to}; from {from} it may move to {allowed}"
    )]
    NotAllowed {
        /// The report.
        report: String,
        /// From.
        from: ReportState,
        /// To.
        to: ReportState,
        /// What it may move to.
        allowed: String,
    },
    /// The move needs a person.
    #[error("report {report} ({category}) may only move to {to} by a person, never automatically")]
    NeedsPerson {
        /// The report.
        report: String,
        /// Its category.
        category: String,
        /// The target state.
        to: ReportState,
    },
    /// A referral must be confirmed before the report closes.
    #[error(
        "report {report} was referred; it closes only when the clearing house confirmed the referral, and it has not"
    )]
    ReferralOpen {
        /// The report.
        report: String,
    },
    /// A transition needs a reason a reviewer can read.
    #[error("a transition needs a reason")]
    NoReason,
}

/// Checks a transition of `record` to `to` by `actor`. `referral_finished` says whether
/// the report's referral (if any) was confirmed by the clearing house.
pub fn check_transition(
    record: &ReportRecord,
    to: ReportState,
    actor: &Actor,
    reason: &str,
    referral_finished: bool,
) -> Result<ReportState, TransitionError> {
    let from: ReportState = record.state.parse()?;
    if reason.trim().is_empty() {
        return Err(TransitionError::NoReason);
    }
    if !from.next().contains(&to) {
        return Err(TransitionError::NotAllowed {
            report: record.report.clone(),
            from,
            to,
            allowed: from
                .next()
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    // The system triages; everything else is a person's decision.
    if *actor == Actor::System && to != ReportState::Triaged {
        let child_safety = category(&record.category).is_some_and(|c| c.child_safety);
        if child_safety || to != ReportState::Duplicate {
            return Err(TransitionError::NeedsPerson {
                report: record.report.clone(),
                category: record.category.clone(),
                to,
            });
        }
    }
    if from == ReportState::Referred && to == ReportState::Closed && !referral_finished {
        return Err(TransitionError::ReferralOpen {
            report: record.report.clone(),
        });
    }
    Ok(from)
}

/// Why a planned move of a report cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoveError {
    /// The ledger has no such report.
    #[error("no report {0:?}")]
    NotFound(String),
    /// The report moved since the reviewer saw it.
    #[error("report {report} is in {actual}, not {seen}: someone moved it meanwhile")]
    MovedMeanwhile {
        /// The report.
        report: String,
        /// Its state now.
        actual: String,
        /// The state the reviewer saw.
        seen: String,
    },
    /// The lifecycle refuses it.
    #[error(transparent)]
    Refused(#[from] TransitionError),
}

/// The `report_transition` event that moves `report` to `to`, checked against the ledger's
/// state: the report exists, is still in `seen` (when the caller says what it saw), the
/// lifecycle allows the move by this actor, and a referred report closes only once its
/// referral finished. The event id is the report's next step, so two concurrent moves of
/// one report cannot both be stored (the second is a conflict in the store).
pub fn plan_transition(
    state: &LedgerState,
    report: &str,
    to: ReportState,
    actor: &Actor,
    reason: &str,
    seen: Option<&str>,
    now: u64,
) -> Result<Event, MoveError> {
    let record = state
        .reports
        .get(report)
        .ok_or_else(|| MoveError::NotFound(report.to_string()))?;
    if let Some(seen) = seen
        && seen != record.state
    {
        return Err(MoveError::MovedMeanwhile {
            report: report.to_string(),
            actual: record.state.clone(),
            seen: seen.to_string(),
        });
    }
    let finished = state
        .referrals
        .values()
        .filter(|r| r.report == report)
        .any(|r| r.finished());
    let from = check_transition(record, to, actor, reason, finished)?;
    Ok(Event::new(
        format!("report-transition:{report}:{}", record.history.len() + 1),
        now.max(record.state_at),
        Payload::ReportTransition(ReportTransition {
            report: report.to_string(),
            from: from.name().to_string(),
            to: to.name().to_string(),
            actor: actor.recorded(),
            reason: reason.to_string(),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardrail_ledger::event::Subject;

    fn record(state: &str, category: &str) -> ReportRecord {
        ReportRecord {
            report: "r-1".into(),
            client_key: "k".into(),
            category: category.into(),
            subject: Subject::Account("45".into()),
            received_seq: 1,
            received_at: 0,
            state: state.into(),
            state_at: 0,
            priority: 0,
            body_hash: String::new(),
            history: Vec::new(),
            alerts: Vec::new(),
        }
    }

    #[test]
    fn transitions_follow_the_lifecycle_and_people_decide() {
        let person = Actor::Person("rev".into());
        use ReportState::*;
        // (from, to, actor, referral finished, allowed?)
        let rows: &[(&str, ReportState, &Actor, bool, bool)] = &[
            ("received", Triaged, &Actor::System, false, true),
            ("received", InReview, &person, false, true),
            ("received", Closed, &person, false, false),
            ("triaged", InReview, &person, false, true),
            ("in_review", NoViolation, &person, false, true),
            ("in_review", NoViolation, &Actor::System, false, false),
            ("in_review", Actioned, &Actor::System, false, false),
            ("actioned", Closed, &person, false, true),
            ("referred", Closed, &person, false, false),
            ("referred", Closed, &person, true, true),
            ("closed", Triaged, &person, false, false),
            ("escalated", Referred, &person, false, true),
        ];
        for (from, to, actor, finished, allowed) in rows {
            let got = check_transition(
                &record(from, "child_sexual_exploitation"),
                *to,
                actor,
                "why",
                *finished,
            );
            assert_eq!(
                got.is_ok(),
                *allowed,
                "{from} -> {to} by {actor:?}: {got:?}"
            );
        }
        // The system may mark a spam report a duplicate, never a child-safety one.
        assert!(
            check_transition(
                &record("triaged", "spam"),
                Duplicate,
                &Actor::System,
                "same",
                false
            )
            .is_ok()
        );
        assert!(
            check_transition(
                &record("triaged", "child_grooming"),
                Duplicate,
                &Actor::System,
                "same",
                false
            )
            .is_err()
        );
        assert_eq!(
            check_transition(&record("in_review", "spam"), Closed, &person, "x", false)
                .expect_err("not allowed")
                .to_string(),
            "report r-1 cannot move from in_review to closed; from in_review it may move to triaged, escalated, actioned, no_violation, referred, duplicate"
        );
        assert_eq!(
            check_transition(&record("in_review", "spam"), Actioned, &person, " ", false),
            Err(TransitionError::NoReason)
        );
    }

    #[test]
    fn every_state_can_reach_the_final_one() {
        for state in ReportState::ALL {
            let mut seen = vec![state];
            let mut frontier = vec![state];
            while let Some(s) = frontier.pop() {
                for &n in s.next() {
                    if !seen.contains(&n) {
                        seen.push(n);
                        frontier.push(n);
                    }
                }
            }
            assert!(
                seen.contains(&ReportState::Closed),
                "{state} cannot reach closed"
            );
        }
    }
}
