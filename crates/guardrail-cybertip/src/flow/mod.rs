//! The referral flow as a pure state machine: `/submit`, then for each file `/upload`
//! and `/fileinfo`, then `/finish` (or `/retract` to cancel).
//!
//! The caller owns all IO. It asks [`ReferralFlow::next_step`] what to do, performs the
//! described request (adding the base URL, basic auth and, for an upload, the file's
//! bytes), and folds what came back into the flow with [`ReferralFlow::record`]. The
//! flow is serialisable, so the caller can store it in the ledger after every step and
//! resume after a crash exactly where it stopped.
//!
//! What the flow guarantees:
//! - **Nothing is skipped silently.** Steps run in order; `/finish` is only offered
//!   after every file was uploaded and described. A text-only referral has no upload or
//!   file-details steps, and its step list says "not applicable" with the reason, never
//!   "succeeded". [`ReferralFlow::files_required`] says whether the incident type needs
//!   files (then a text-only referral is refused at [`ReferralFlow::start`]).
//! - **A failure leaves the referral open with its reason** (HTTP status, response
//!   code, the server's description, whether the request may have taken effect), and
//!   marks whether running the step again is safe or a person must look first.
//! - **Retries are safe to drive blindly.** Every step has a stable key
//!   (`{referral}/upload/{file}`) shared by all its attempts; recording an outcome for a
//!   step that already succeeded changes nothing. A lost `/finish` answer followed by
//!   5102 "Report already finished" on the retry counts as finished; a lost `/retract`
//!   answer followed by 5101 counts as retracted.
//!
//! What it cannot guarantee, because the API has no idempotency keys of its own: a
//! `/submit` whose answer was lost may have opened a report that no one will finish
//! (the clearing house deletes unfinished reports after 24 hours), and an `/upload`
//! whose answer was lost may have added the file once more (the finished report then
//! lists a file id the flow never saw; [`FinishedReport::unexpected_file_ids`] shows
//! it). Both are recorded in the failure as `outcome_unknown`.
//!
//! This module never performs IO, never reads a clock (time comes in as arguments),
//! never holds file bytes (an upload names the file by its key) and never holds
//! credentials.

use serde::{Deserialize, Serialize};

use crate::SchemaVersion;
use crate::model::{Evidence, Referral, ReferralError, check_referral};
use crate::response::{FileId, ReportId, Response, ResponseCode, parse_response};
use crate::time::Timestamp;
use crate::xml::{file_details_xml, report_xml};

/// One step of the flow.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Step {
    /// `POST /submit` with the `<report>` document: opens the report.
    Submit,
    /// `POST /upload` of one file (by the file's key).
    Upload {
        /// The file's key in the referral.
        file: String,
    },
    /// `POST /fileinfo` with the `<fileDetails>` document of one file.
    FileInfo {
        /// The file's key in the referral.
        file: String,
    },
    /// `POST /finish`: completes the report.
    Finish,
    /// `POST /retract`: cancels the open report.
    Retract,
}

impl Step {
    /// The endpoint path, relative to the API's base URI.
    pub fn path(&self) -> &'static str {
        match self {
            Step::Submit => "/submit",
            Step::Upload { .. } => "/upload",
            Step::FileInfo { .. } => "/fileinfo",
            Step::Finish => "/finish",
            Step::Retract => "/retract",
        }
    }

    /// The step's name in keys and reports (`submit`, `upload`, `fileinfo`, `finish`,
    /// `retract`).
    pub fn name(&self) -> &'static str {
        match self {
            Step::Submit => "submit",
            Step::Upload { .. } => "upload",
            Step::FileInfo { .. } => "fileinfo",
            Step::Finish => "finish",
            Step::Retract => "retract",
        }
    }

    /// The file the step is about, if any.
    pub fn file(&self) -> Option<&str> {
        match self {
            Step::Upload { file } | Step::FileInfo { file } => Some(file),
            _ => None,
        }
    }

    /// The stable key of this step within `referral_key`'s flow, the same for every
    /// attempt: `{referral}/{step}` or `{referral}/{step}/{file}`.
    pub fn key(&self, referral_key: &str) -> String {
        match self.file() {
            Some(file) => format!("{referral_key}/{}/{file}", self.name()),
            None => format!("{referral_key}/{}", self.name()),
        }
    }
}

/// HTTP method of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// `GET` (`/status`, `/xsd`; not used by the flow's steps).
    Get,
    /// `POST`.
    Post,
}

/// One part of a `multipart/form-data` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormPart {
    /// A plain field, e.g. `id=4564654`.
    Text {
        /// Field name.
        name: String,
        /// Field value.
        value: String,
    },
    /// A file field. The caller streams the bytes of the referral file `file_key`.
    File {
        /// Field name (`file`).
        name: String,
        /// The `filename` of the part's Content-Disposition.
        file_name: String,
        /// Which referral file to send.
        file_key: String,
        /// Its size, as the referral declares it.
        size_bytes: u64,
        /// The part's Content-Type.
        content_type: String,
    },
}

/// The body of a step's request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestBody {
    /// An XML document, sent as `text/xml; charset=utf-8` (as the API's examples do).
    Xml(String),
    /// A `multipart/form-data` form (as `curl --form` sends it); the caller picks the
    /// boundary.
    Form(Vec<FormPart>),
}

impl RequestBody {
    /// The Content-Type to send (for a form, without the boundary parameter, which the
    /// caller appends).
    pub fn content_type(&self) -> &'static str {
        match self {
            RequestBody::Xml(_) => "text/xml; charset=utf-8",
            RequestBody::Form(_) => "multipart/form-data",
        }
    }
}

/// A request the caller should perform, described as data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRequest {
    /// Which step.
    pub step: Step,
    /// The step's stable key ([`Step::key`]); the same for every attempt.
    pub step_key: String,
    /// Which attempt this request is, from 1.
    pub attempt: u32,
    /// HTTP method.
    pub method: Method,
    /// Path relative to the base URI.
    pub path: String,
    /// The body.
    pub body: RequestBody,
}

/// What came back from performing a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpOutcome {
    /// A response arrived.
    Response {
        /// HTTP status code.
        status: u16,
        /// The body as text.
        body: String,
    },
    /// No response: connection refused, reset, timed out. The request may or may not
    /// have reached the server.
    NoResponse {
        /// What the transport said.
        reason: String,
    },
}

/// Whether running a failed step again is safe without a person looking first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Retry {
    /// Transient (no response, server error): run the step again.
    Safe,
    /// Running it again would fail the same way or make things worse (refused data,
    /// credentials, a report that no longer exists, a corrupted upload).
    NeedsAttention,
}

/// Why a step failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepFailure {
    /// The attempt that failed, from 1.
    pub attempt: u32,
    /// The HTTP status, if a response arrived.
    pub http_status: Option<u16>,
    /// The API's response code, if the body was readable.
    pub response_code: Option<ResponseCode>,
    /// What happened, for the ledger and the console.
    pub reason: String,
    /// Whether running the step again is safe.
    pub retry: Retry,
    /// Whether the failed request may nevertheless have taken effect on the server.
    pub outcome_unknown: bool,
}

/// The state of one step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepState {
    /// Not run yet.
    Pending,
    /// Succeeded after `attempts` attempts.
    Succeeded {
        /// Attempts made, the last one successful.
        attempts: u32,
    },
    /// The last attempt failed; the step is still open.
    Failed {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        failure: StepFailure,
    },
    /// The step does not exist for this referral (a text-only referral has no upload).
    NotApplicable {
        /// Why.
        reason: String,
    },
}

impl StepState {
    fn attempts(&self) -> u32 {
        match self {
            StepState::Succeeded { attempts } | StepState::Failed { attempts, .. } => *attempts,
            StepState::Pending | StepState::NotApplicable { .. } => 0,
        }
    }

    fn succeeded(&self) -> bool {
        matches!(self, StepState::Succeeded { .. })
    }
}

/// One row of [`ReferralFlow::steps`]: a step (or, for a text-only referral, the
/// upload and file-details steps that do not apply) and its state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepReport {
    /// `submit`, `upload`, `fileinfo`, `finish` or `retract`.
    pub name: String,
    /// The file, for upload and file-details steps of a referral with files.
    pub file: Option<String>,
    /// Its state.
    pub state: StepState,
}

/// How the server confirmed that the report is finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FinishConfirmation {
    /// A `<reportDoneResponse>` with code 0, listing the files.
    DoneResponse,
    /// 5102 "Report already finished": an earlier `/finish` (whose answer was lost)
    /// went through. The file list is the flow's own.
    AlreadyFinished,
}

/// A report the clearing house holds as finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishedReport {
    /// The report id.
    pub report_id: ReportId,
    /// The files the server lists for the report (or, with
    /// [`FinishConfirmation::AlreadyFinished`], the files the flow uploaded).
    pub file_ids: Vec<FileId>,
    /// How the finish was confirmed.
    pub confirmation: FinishConfirmation,
    /// Files the flow uploaded that the server's list lacks. Should be empty; if not,
    /// a person must follow up with the clearing house.
    pub missing_file_ids: Vec<FileId>,
    /// Files the server lists that the flow never saw an answer for (an upload whose
    /// answer was lost and that was sent again).
    pub unexpected_file_ids: Vec<FileId>,
    /// For a text-only referral, why there are no files.
    pub text_only_reason: Option<String>,
}

/// Where the flow stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlowStatus {
    /// Still open: `next` is the step to run, `last_failure` the reason it has not run
    /// successfully yet.
    Open {
        /// The step to run next.
        next: Step,
        /// The last failure of that step, if it failed.
        last_failure: Option<StepFailure>,
    },
    /// Finished on the server (final).
    Finished(FinishedReport),
    /// Retracted on the server (final).
    Retracted {
        /// The retracted report.
        report_id: ReportId,
    },
    /// Given up before any report was opened, so there was nothing to retract (final).
    Abandoned {
        /// Why.
        reason: String,
    },
}

/// What the caller should do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Perform this request and [`ReferralFlow::record`] what came back.
    Run(StepRequest),
    /// The step failed in a way that running it again will not fix; a person must
    /// decide ([`ReferralFlow::allow_retry`], [`ReferralFlow::request_retraction`] or
    /// [`ReferralFlow::abandon`]).
    NeedsAttention {
        /// The blocked step.
        step: Step,
        /// Its last failure.
        failure: StepFailure,
    },
    /// Nothing left to do: the flow reached a final state ([`ReferralFlow::status`]).
    Done,
}

/// What [`ReferralFlow::record`] did with an outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// The step succeeded.
    Succeeded,
    /// The step failed; the referral stays open.
    Failed(StepFailure),
    /// The step had already succeeded; the outcome was ignored (a replayed or
    /// duplicated delivery).
    AlreadyRecorded,
}

/// A call the flow's state does not allow.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// An outcome for a step that is not the one the flow is waiting for.
    #[error(
        "referral {referral:?}: outcome for step {got:?}, but the flow is waiting for {expected}"
    )]
    NotCurrentStep {
        /// The referral.
        referral: String,
        /// The step whose outcome was given.
        got: String,
        /// The step the flow is at (or "nothing: the flow is closed").
        expected: String,
    },
    /// The flow reached a final state.
    #[error("referral {referral:?} is {state}; no step can run")]
    Closed {
        /// The referral.
        referral: String,
        /// Its final state.
        state: &'static str,
    },
    /// A retraction or abandonment that the report's state does not allow.
    #[error("referral {referral:?}: {reason}")]
    NotAllowed {
        /// The referral.
        referral: String,
        /// Why.
        reason: String,
    },
}

mod machine;
mod replay;

pub use machine::ReferralFlow;
pub use replay::{FlowRecord, ReplayError, replay};
