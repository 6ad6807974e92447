//! Referrals to the national clearing house's CyberTipline (DESIGN.md C6).
//!
//! A platform that finds apparent child sexual abuse material, or the trade in it, must
//! report it to NCMEC's CyberTipline. The Reporting API is a short conversation:
//! `/submit` a `<report>` document and receive a report id, `/upload` each file and
//! receive a file id, `/fileinfo` a `<fileDetails>` document per file, then `/finish`
//! (or `/retract`). This crate is that conversation without the network:
//!
//! - [`model`]: the referral as typed data (reporter, incident, the reported person and
//!   their accounts, files by name and hashes, notes) and [`check_referral`], which
//!   applies the documentation's rules and names every field that breaks one;
//! - [`xml`]: [`report_xml`] and [`file_details_xml`], the request documents, in the
//!   schema's element order and escaped for XML 1.0;
//! - [`response`]: [`parse_response`] and friends, the answers read into typed values;
//! - [`flow`]: [`ReferralFlow`], the steps as a pure state machine. It says which
//!   request to make next, as data; the caller performs it and folds the outcome back.
//!   Failures leave the referral open with the reason; retries are keyed per step.
//! - [`time`]: [`Timestamp`], ISO 8601 with a mandatory zone, as the API requires.
//!
//! Why no IO: the ledger is the source of truth (DESIGN.md section 5). Keeping the
//! conversation pure lets the caller store the flow after every step, replay it, and
//! test every failure without a server; the caller owns HTTP, credentials and the
//! file bytes. The crate never holds file contents, never reads a clock, and has no
//! field through which a risk score or ground truth could reach a report.
//!
//! The schema the documents are written for is recorded with every flow
//! ([`SchemaVersion`]); `docs/cybertipline.md` says how the flow maps to the API and
//! what Guardrail never sends. The test server in `tools/cybertipline-server/`
//! implements the documented API for the integration tests.

pub mod flow;
pub mod model;
pub mod response;
pub mod time;
pub mod xml;

use serde::{Deserialize, Serialize};

pub use flow::{
    FinishConfirmation, FinishedReport, FlowError, FlowRecord, FlowStatus, FormPart, HttpOutcome,
    Method, NextStep, Recorded, ReferralFlow, ReplayError, RequestBody, Retry, Step, StepFailure,
    StepReport, StepRequest, StepState, replay,
};
pub use model::{
    Account, AssociatedAccount, AssociatedAccountKind, ContactPerson, DigestError, Email,
    EmailKind, Evidence, FileAnnotations, FileRelevance, Incident, IncidentType,
    IndustryClassification, IpCaptureEvent, IpEvent, Md5, Pdq, Phone, PhoneKind, Problem, Referral,
    ReferralError, ReferralFile, ReportAnnotations, ReportedPerson, Reporter, ReportingPerson,
    Sha1, Verified, check_referral,
};
pub use response::{
    FileId, ReportDoneResponse, ReportId, ReportResponse, Response, ResponseCode, ResponseError,
    parse_report_done_response, parse_report_response, parse_response,
};
pub use time::{Timestamp, TimestampError};
pub use xml::{escape_text, file_details_xml, report_xml};

/// The report schema a document was written for.
///
/// The schema has no version number of its own, and the API serves its current one at
/// `/xsd`, so a version is the SHA-256 of the schema file. The writer is validated
/// against [`SchemaVersion::current`] (`../shared/reference/cybertipline/`, published
/// with the API documentation last updated 2025-06-11); a caller that fetches `/xsd`
/// and finds another digest knows the live schema moved and the writer must be checked
/// against it before the next referral.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaVersion {
    /// Lowercase hex SHA-256 of the XSD file.
    pub sha256: String,
    /// Where the schema came from, for people.
    pub source: String,
}

impl SchemaVersion {
    /// SHA-256 of `cybertipline-report.xsd` in the shared reference folder.
    pub const CURRENT_SHA256: &'static str =
        "aee4c88099409b8a27d1403a5bc9bf0809bdc4819c079081abc1e2275efb392b";

    /// The version this crate's writer is tested against.
    pub fn current() -> Self {
        SchemaVersion {
            sha256: Self::CURRENT_SHA256.to_string(),
            source: "CyberTipline Reporting API schema (documentation last updated 2025-06-11)"
                .to_string(),
        }
    }
}
