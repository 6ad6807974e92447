//! A referral to the clearing house, assembled from the ledger: the reported person and
//! their linked accounts with the identifiers the platform holds, the incident, and the
//! files the platform hands in (by their digests; Guardrail keeps no content).
//!
//! What it is for: a report a person moved to `referred` becomes a CyberTipline referral
//! ([`guardrail_cybertip::Referral`]); the service drives its flow and records each step in
//! the ledger. Everything in it comes from the ledger or the person who refers.
//!
//! What it must never do: put a risk score, a network-map role or ground truth into a
//! referral (only what the platform knows and a person decided), or invent a file.

use guardrail_cybertip::{
    Account, AssociatedAccount, AssociatedAccountKind, Email, Evidence, Incident, IncidentType,
    Phone, Referral, ReferralFile, ReportAnnotations, ReportedPerson, Reporter, Timestamp,
};
use guardrail_ledger::state::{AccountRecord, LedgerState};

/// What the person who refers, and the platform's configuration, add to the ledger's facts.
#[derive(Debug, Clone)]
pub struct ReferralInputs {
    /// The reporting organisation (configuration).
    pub reporter: Reporter,
    /// The platform's application name (configuration).
    pub platform: String,
    /// The incident type a person chose.
    pub incident_type: IncidentType,
    /// Files the platform handed in, described by their digests.
    pub files: Vec<ReferralFile>,
    /// Why there are no files, when there are none.
    pub text_only_reason: Option<String>,
    /// Notes by the person who refers.
    pub additional_info: Option<String>,
    /// Other accounts of the reported person, with why each is linked.
    pub linked: Vec<(String, String)>,
}

/// Why a referral cannot be assembled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// No such report.
    #[error("no report {0:?}")]
    NoReport(String),
    /// The report is not in `referred`.
    #[error("report {report} is {state}; a person moves it to referred before it is referred")]
    NotReferred {
        /// The report.
        report: String,
        /// Its state.
        state: String,
    },
    /// No files and no reason why.
    #[error(
        "a referral without files needs `text_only_reason` (e.g. the reported content is the account's bio)"
    )]
    NoEvidence,
    /// The report's time is not a timestamp the API takes.
    #[error("report {0}: its time does not convert to the API's timestamp")]
    Time(String),
}

/// The referral's id for a report (one referral per report).
pub fn referral_id(report: &str) -> String {
    format!("referral-{report}")
}

fn account(record: &AccountRecord) -> Account {
    Account {
        esp_user_id: Some(record.external.clone()),
        screen_name: Some(record.handle.clone()).filter(|h| !h.is_empty()),
        profile_bio: Some(record.bio.clone()).filter(|b| !b.is_empty()),
        emails: record.emails.iter().map(Email::new).collect(),
        phones: record.phones.iter().map(Phone::new).collect(),
        ..Account::default()
    }
}

/// Assembles the referral of `report` from the ledger's state and the inputs.
pub fn assemble_referral(
    state: &LedgerState,
    report: &str,
    inputs: ReferralInputs,
) -> Result<Referral, AssembleError> {
    let record = state
        .reports
        .get(report)
        .ok_or_else(|| AssembleError::NoReport(report.to_string()))?;
    if record.state != "referred" {
        return Err(AssembleError::NotReferred {
            report: report.to_string(),
            state: record.state.clone(),
        });
    }
    let subject = state.subject_account(&record.subject);
    let reported_person = subject.and_then(|id| state.account(id)).map(|holder| {
        let associated_accounts = inputs
            .linked
            .iter()
            .filter(|(external, _)| *external != holder.external)
            .filter_map(|(external, why)| {
                let other = state.account(state.account_id(external)?)?;
                Some(AssociatedAccount {
                    kind: AssociatedAccountKind::Linked,
                    platform: None,
                    account: account(other),
                    additional_info: Some(why.clone()),
                })
            })
            .collect();
        ReportedPerson {
            account: account(holder),
            associated_accounts,
            additional_info: None,
        }
    });
    let evidence = if inputs.files.is_empty() {
        Evidence::TextOnly {
            reason: inputs.text_only_reason.ok_or(AssembleError::NoEvidence)?,
        }
    } else {
        Evidence::Files(inputs.files)
    };
    let occurred_at = i64::try_from(record.received_at)
        .ok()
        .and_then(|at| Timestamp::from_unix_seconds(at).ok())
        .ok_or_else(|| AssembleError::Time(report.to_string()))?;
    Ok(Referral {
        key: referral_id(report),
        reporter: inputs.reporter,
        incident: Incident {
            incident_type: inputs.incident_type,
            platform: Some(inputs.platform),
            escalate_to_high_priority: None,
            annotations: ReportAnnotations::default(),
            occurred_at,
            occurred_at_description: Some(
                "when the platform received the user report; the content was posted earlier"
                    .to_string(),
            ),
        },
        web_page_urls: Vec::new(),
        reported_person,
        evidence,
        additional_info: inputs.additional_info,
    })
}
