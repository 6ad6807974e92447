//! A referral's flow as a list of records, and the flow rebuilt from them.
//!
//! What it is for: the ledger is the source of truth (DESIGN.md §5), so the caller stores a
//! [`FlowRecord`] with every step it takes — the referral as started, each outcome, each
//! person's decision to retry — and after a crash or on another replica rebuilds exactly
//! the same [`ReferralFlow`] with [`replay`], then asks it for the next step. Nothing about
//! the conversation lives only in memory.
//!
//! What it must never do: accept records that do not fold (an outcome for a step that was
//! not current is an error naming the record, not a silent skip), or hold file bytes.

use super::*;

/// One thing that happened to a referral's flow, in the order it happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum FlowRecord {
    /// The flow started with this referral at this time.
    Started {
        /// The referral as checked.
        referral: Box<Referral>,
        /// When it started.
        at: Timestamp,
    },
    /// A step was performed and this came back.
    Outcome {
        /// The step.
        step: Step,
        /// What came back.
        outcome: HttpOutcome,
    },
    /// A person marked the failed step safe to run again.
    RetryAllowed,
    /// A person asked for the open report to be retracted.
    RetractionRequested,
    /// A person gave up before any report was opened.
    Abandoned {
        /// Why.
        reason: String,
    },
}

/// Why records do not rebuild a flow.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// No records, or the first is not `started`.
    #[error("a flow's records start with `started`; record {index} is {found}")]
    NotStarted {
        /// Which record.
        index: usize,
        /// What it was.
        found: String,
    },
    /// The referral no longer passes its check at its own start time.
    #[error("record 0: the referral does not start: {0}")]
    Referral(#[from] ReferralError),
    /// A record the flow refused.
    #[error("record {index}: {error}")]
    Refused {
        /// Which record.
        index: usize,
        /// Why.
        error: FlowError,
    },
}

/// Rebuilds the flow from its records.
pub fn replay(records: &[FlowRecord]) -> Result<ReferralFlow, ReplayError> {
    let Some(FlowRecord::Started { referral, at }) = records.first() else {
        return Err(ReplayError::NotStarted {
            index: 0,
            found: records
                .first()
                .map_or_else(|| "missing".to_string(), |r| format!("{r:?}")),
        });
    };
    let mut flow = ReferralFlow::start((**referral).clone(), *at)?;
    for (index, record) in records.iter().enumerate().skip(1) {
        let refused = |error| ReplayError::Refused { index, error };
        match record {
            FlowRecord::Started { .. } => {
                return Err(ReplayError::NotStarted {
                    index,
                    found: "a second `started`".to_string(),
                });
            }
            FlowRecord::Outcome { step, outcome } => {
                flow.record(step, outcome).map_err(refused)?;
            }
            FlowRecord::RetryAllowed => flow.allow_retry(),
            FlowRecord::RetractionRequested => flow.request_retraction().map_err(refused)?,
            FlowRecord::Abandoned { reason } => flow.abandon(reason).map_err(refused)?,
        }
    }
    Ok(flow)
}
