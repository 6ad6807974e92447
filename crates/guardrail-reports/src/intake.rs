//! Report intake: a submission becomes a `report_received` event, once.
//!
//! What it is for: the body of `POST /v1/reports` (and of `guardrail reports submit`) is
//! checked, given a priority by triage, and turned into the event the ledger stores. A
//! report is acknowledged only after that event is durable. The report id and the event
//! id are derived from the reporter's `client_key`, so a retry — even one racing the first
//! attempt, even after a crash before the acknowledgement — lands on the same event: the
//! same key with the same body is the same report; the same key with another body is a
//! conflict, and the stored report stands.
//!
//! What it must never do: accept a report it cannot store whole, or drop one: every
//! refusal names the field and why, so the reporter can fix it and send it again.

use guardrail_ledger::event::{Event, Payload, ReportReceived, Subject};
use guardrail_ledger::state::LedgerState;
use serde::{Deserialize, Serialize};

use crate::category::{category, category_ids};
use crate::triage::{Triage, TriageInputs, triage};

/// The body of a report submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSubmission {
    /// The reporter's idempotency key.
    pub client_key: String,
    /// Who reports (an account id, or a system's name).
    pub reporter: String,
    /// What is reported: `{"account": ID}` or `{"post": ID}`.
    pub subject: Subject,
    /// The category id.
    pub category: String,
    /// The reporter's words.
    #[serde(default)]
    pub text: String,
    /// Media hashes (`pdq:HEX`).
    #[serde(default)]
    pub media_hashes: Vec<String>,
}

/// Why a submission is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct IntakeError {
    /// The field at fault.
    pub field: &'static str,
    /// What was expected.
    pub message: String,
}

/// What intake decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Intake {
    /// A new report: store this event, then acknowledge.
    New {
        /// The report id.
        report: String,
        /// The event to store.
        event: Box<Event>,
        /// The triage behind its priority.
        triage: Triage,
    },
    /// The same key and body were stored before: the same report.
    Existing {
        /// The report id.
        report: String,
        /// Its state now.
        state: String,
    },
    /// The same key with another body: a conflict; the stored report stands.
    Conflict {
        /// The stored report.
        report: String,
    },
}

/// The longest client key accepted.
pub const MAX_CLIENT_KEY: usize = 200;
/// The longest report text accepted, in bytes.
pub const MAX_TEXT: usize = 64 * 1024;

/// The report id a client key gets.
pub fn report_id(client_key: &str) -> String {
    let hash = blake3::hash(client_key.as_bytes());
    format!("r-{}", &hash.to_hex()[..20])
}

/// The hash of a submission's body (what makes "the same body").
pub fn body_hash(submission: &ReportSubmission) -> String {
    let canonical = serde_json::to_vec(&serde_json::json!({
        "client_key": submission.client_key,
        "reporter": submission.reporter,
        "subject": submission.subject,
        "category": submission.category,
        "text": submission.text,
        "media_hashes": submission.media_hashes,
    }))
    .unwrap_or_default();
    blake3::hash(&canonical).to_hex().to_string()
}

/// Checks a submission's fields.
pub fn validate(submission: &ReportSubmission) -> Result<(), IntakeError> {
    let bad = |field, message: String| Err(IntakeError { field, message });
    if submission.client_key.trim().is_empty() || submission.client_key.len() > MAX_CLIENT_KEY {
        return bad(
            "client_key",
            format!("expected a non-empty key of at most {MAX_CLIENT_KEY} bytes"),
        );
    }
    if submission.reporter.trim().is_empty() {
        return bad("reporter", "expected who reports".into());
    }
    let subject = match &submission.subject {
        Subject::Account(id) | Subject::Post(id) => id,
    };
    if subject.trim().is_empty() {
        return bad("subject", "expected an account or post id".into());
    }
    if category(&submission.category).is_none() {
        return bad(
            "category",
            format!(
                "unknown category {:?}; expected one of {}",
                submission.category,
                category_ids().join(", ")
            ),
        );
    }
    if submission.text.len() > MAX_TEXT {
        return bad("text", format!("at most {MAX_TEXT} bytes"));
    }
    for hash in &submission.media_hashes {
        let valid = hash
            .strip_prefix("pdq:")
            .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        if !valid {
            return bad(
                "media_hashes",
                format!("{hash:?} is not `pdq:` followed by 64 hex digits"),
            );
        }
    }
    Ok(())
}

/// Decides what a submission is against the ledger's state, at time `now`.
pub fn intake(
    state: &LedgerState,
    submission: &ReportSubmission,
    inputs: &TriageInputs,
    now: u64,
) -> Result<Intake, IntakeError> {
    validate(submission)?;
    let hash = body_hash(submission);
    if let Some(report) = state.report_keys.get(&submission.client_key) {
        let stored = state.reports.get(report);
        return Ok(match stored {
            Some(record) if record.body_hash == hash => Intake::Existing {
                report: report.clone(),
                state: record.state.clone(),
            },
            _ => Intake::Conflict {
                report: report.clone(),
            },
        });
    }
    let report = report_id(&submission.client_key);
    let triage = triage(&submission.category, inputs);
    let event = Event::new(
        format!("report-received:{report}"),
        now,
        Payload::ReportReceived(ReportReceived {
            report: report.clone(),
            client_key: submission.client_key.clone(),
            reporter: submission.reporter.clone(),
            subject: submission.subject.clone(),
            category: submission.category.clone(),
            text: submission.text.clone(),
            media_hashes: submission.media_hashes.clone(),
            priority: triage.priority,
            triage: triage.reasons.clone(),
            body_hash: hash,
        }),
    );
    Ok(Intake::New {
        report,
        event: Box::new(event),
        triage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submission(key: &str, text: &str) -> ReportSubmission {
        ReportSubmission {
            client_key: key.into(),
            reporter: "7".into(),
            subject: Subject::Account("45".into()),
            category: "child_sexual_exploitation".into(),
            text: text.into(),
            media_hashes: Vec::new(),
        }
    }

    #[test]
    fn the_same_key_is_the_same_report_and_another_body_conflicts() {
        let mut state = LedgerState::new();
        let inputs = TriageInputs::default();
        let first = intake(&state, &submission("k-1", "a"), &inputs, 100).expect("valid");
        let Intake::New { report, event, .. } = first else {
            panic!("new report expected");
        };
        assert_eq!(report, report_id("k-1"));
        state.apply(1, &event);
        assert_eq!(
            intake(&state, &submission("k-1", "a"), &inputs, 200),
            Ok(Intake::Existing {
                report: report.clone(),
                state: "received".into()
            })
        );
        assert_eq!(
            intake(&state, &submission("k-1", "b"), &inputs, 200),
            Ok(Intake::Conflict { report })
        );
    }

    #[test]
    fn bad_submissions_name_their_field() {
        let state = LedgerState::new();
        let inputs = TriageInputs::default();
        let cases: Vec<(ReportSubmission, &str)> = vec![
            (submission("", "x"), "client_key"),
            (
                ReportSubmission {
                    reporter: " ".into(),
                    ..submission("k", "x")
                },
                "reporter",
            ),
            (
                ReportSubmission {
                    category: "nudity".into(),
                    ..submission("k", "x")
                },
                "category",
            ),
            (
                ReportSubmission {
                    subject: Subject::Post(String::new()),
                    ..submission("k", "x")
                },
                "subject",
            ),
            (
                ReportSubmission {
                    media_hashes: vec!["md5:00".into()],
                    ..submission("k", "x")
                },
                "media_hashes",
            ),
        ];
        for (bad, field) in cases {
            let error = intake(&state, &bad, &inputs, 0).expect_err(field);
            assert_eq!(error.field, field, "{error}");
        }
    }
}
