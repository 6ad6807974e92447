//! `guardrail-reports`: reports that are never lost.
//!
//! The reporting behind this project: a software fault silently stopped a substantial
//! share of user reports from being processed, and reports of child nudity went unanswered
//! for months. Here every report is a ledger event before it is acknowledged, moves
//! through explicit states to an explicit final one, carries timers that raise alerts,
//! and a checker proves from the ledger that none is lost, stuck, or overdue unseen.
//!
//! - [`caps`]: per-rule hourly caps on automated enforcement, with a circuit breaker;
//! - [`category`]: category ids, priorities (child sexual exploitation first) and timers;
//! - [`intake`]: a submission becomes a `report_received` event, once per client key;
//! - [`triage`]: detectors may raise a report's priority, never lower it or decide it;
//! - [`lifecycle`]: states, transitions, and who may make them (people decide);
//! - [`checker`]: the proof, and the alerts a sweep must raise;
//! - [`metrics`]: transparency figures;
//! - [`referral`]: a referred report assembled into a referral to the clearing house.
//!
//! Pure: the ledger's state comes in, events go out; the store and the service do the IO.

pub mod caps;
pub mod category;
pub mod checker;
pub mod intake;
pub mod lifecycle;
pub mod metrics;
pub mod referral;
pub mod triage;

pub use caps::{CAP_RESET, CAP_TRIPPED, CapCheck, check_cap, reset_event};
pub use category::{CATEGORIES, Category, category};
pub use checker::{CheckConfig, CheckReport, Problem, ProblemKind, check, due_alerts};
pub use intake::{Intake, IntakeError, ReportSubmission, intake, report_id};
pub use lifecycle::{
    Actor, MoveError, ReportState, TransitionError, check_transition, plan_transition,
};
pub use metrics::{Transparency, transparency};
pub use referral::{AssembleError, ReferralInputs, assemble_referral, referral_id};
pub use triage::{Triage, TriageInputs, triage};
