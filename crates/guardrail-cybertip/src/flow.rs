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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct FileProgress {
    key: String,
    file_id: Option<FileId>,
    upload: StepState,
    file_info: StepState,
}

/// One referral's progress through the API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferralFlow {
    referral: Referral,
    schema: SchemaVersion,
    started_at: Timestamp,
    report_id: Option<ReportId>,
    submit: StepState,
    files: Vec<FileProgress>,
    finish: StepState,
    retract: Option<StepState>,
    stray_file_ids: Vec<FileId>,
    status: Option<FlowStatus>,
}

impl ReferralFlow {
    /// Checks the referral ([`check_referral`] with the caller's `now`) and starts its
    /// flow, recording the schema version its documents are written for.
    pub fn start(referral: Referral, now: Timestamp) -> Result<Self, ReferralError> {
        check_referral(&referral, now)?;
        let files = referral
            .evidence
            .files()
            .iter()
            .map(|file| FileProgress {
                key: file.key.clone(),
                file_id: None,
                upload: StepState::Pending,
                file_info: StepState::Pending,
            })
            .collect();
        Ok(ReferralFlow {
            referral,
            schema: SchemaVersion::current(),
            started_at: now,
            report_id: None,
            submit: StepState::Pending,
            files,
            finish: StepState::Pending,
            retract: None,
            stray_file_ids: Vec::new(),
            status: None,
        })
    }

    /// The referral.
    pub fn referral(&self) -> &Referral {
        &self.referral
    }

    /// The schema version the flow's documents were written for.
    pub fn schema(&self) -> &SchemaVersion {
        &self.schema
    }

    /// When the flow was started (the `now` given to [`ReferralFlow::start`]).
    pub fn started_at(&self) -> Timestamp {
        self.started_at
    }

    /// The report id, once `/submit` succeeded.
    pub fn report_id(&self) -> Option<ReportId> {
        self.report_id
    }

    /// Whether this referral's incident type requires files
    /// ([`crate::IncidentType::files_required`]).
    pub fn files_required(&self) -> bool {
        self.referral.incident.incident_type.files_required()
    }

    /// Where the flow stands.
    pub fn status(&self) -> FlowStatus {
        if let Some(status) = &self.status {
            return status.clone();
        }
        let (next, state) = self.current();
        let last_failure = match state {
            StepState::Failed { failure, .. } => Some(failure.clone()),
            _ => None,
        };
        FlowStatus::Open { next, last_failure }
    }

    /// Every step with its state, in flow order (the retraction last, if requested).
    pub fn steps(&self) -> Vec<StepReport> {
        let mut rows = vec![StepReport {
            name: "submit".to_string(),
            file: None,
            state: self.submit.clone(),
        }];
        match &self.referral.evidence {
            Evidence::TextOnly { reason } => {
                for name in ["upload", "fileinfo"] {
                    rows.push(StepReport {
                        name: name.to_string(),
                        file: None,
                        state: StepState::NotApplicable {
                            reason: format!("text-only referral: {reason}"),
                        },
                    });
                }
            }
            Evidence::Files(_) => {
                for file in &self.files {
                    rows.push(StepReport {
                        name: "upload".to_string(),
                        file: Some(file.key.clone()),
                        state: file.upload.clone(),
                    });
                    rows.push(StepReport {
                        name: "fileinfo".to_string(),
                        file: Some(file.key.clone()),
                        state: file.file_info.clone(),
                    });
                }
            }
        }
        rows.push(StepReport {
            name: "finish".to_string(),
            file: None,
            state: self.finish.clone(),
        });
        if let Some(retract) = &self.retract {
            rows.push(StepReport {
                name: "retract".to_string(),
                file: None,
                state: retract.clone(),
            });
        }
        rows
    }

    /// The step the flow is at and its state (meaningless once final).
    fn current(&self) -> (Step, &StepState) {
        if let Some(retract) = &self.retract {
            return (Step::Retract, retract);
        }
        if !self.submit.succeeded() {
            return (Step::Submit, &self.submit);
        }
        for file in &self.files {
            if !file.upload.succeeded() {
                return (
                    Step::Upload {
                        file: file.key.clone(),
                    },
                    &file.upload,
                );
            }
            if !file.file_info.succeeded() {
                return (
                    Step::FileInfo {
                        file: file.key.clone(),
                    },
                    &file.file_info,
                );
            }
        }
        (Step::Finish, &self.finish)
    }

    /// What to do next.
    pub fn next_step(&self) -> NextStep {
        if self.status.is_some() {
            return NextStep::Done;
        }
        let (step, state) = self.current();
        if let StepState::Failed { failure, .. } = state
            && failure.retry == Retry::NeedsAttention
        {
            return NextStep::NeedsAttention {
                step,
                failure: failure.clone(),
            };
        }
        let attempt = state.attempts() + 1;
        NextStep::Run(self.request(step, attempt))
    }

    fn request(&self, step: Step, attempt: u32) -> StepRequest {
        let id_field = |report_id: Option<ReportId>| FormPart::Text {
            name: "id".to_string(),
            // current() only reaches steps after /submit once it has succeeded, and
            // /submit's success always sets the report id.
            value: report_id.map(|id| id.to_string()).unwrap_or_default(),
        };
        let body = match &step {
            Step::Submit => RequestBody::Xml(report_xml(&self.referral)),
            Step::Upload { file } => {
                let declared = self.file(file);
                RequestBody::Form(vec![
                    id_field(self.report_id),
                    FormPart::File {
                        name: "file".to_string(),
                        file_name: declared.map(|f| f.file_name.clone()).unwrap_or_default(),
                        file_key: file.clone(),
                        size_bytes: declared.map_or(0, |f| f.size_bytes),
                        content_type: "application/octet-stream".to_string(),
                    },
                ])
            }
            Step::FileInfo { file } => {
                let progress = self.files.iter().find(|progress| &progress.key == file);
                match (
                    self.report_id,
                    progress.and_then(|p| p.file_id.as_ref()),
                    self.file(file),
                ) {
                    (Some(report_id), Some(file_id), Some(declared)) => {
                        RequestBody::Xml(file_details_xml(report_id, file_id, declared))
                    }
                    // Unreachable through current(): file details follow a successful
                    // upload, which always records the file id.
                    _ => RequestBody::Xml(String::new()),
                }
            }
            Step::Finish | Step::Retract => RequestBody::Form(vec![id_field(self.report_id)]),
        };
        StepRequest {
            step_key: step.key(&self.referral.key),
            path: step.path().to_string(),
            method: Method::Post,
            attempt,
            step,
            body,
        }
    }

    fn file(&self, key: &str) -> Option<&crate::model::ReferralFile> {
        self.referral
            .evidence
            .files()
            .iter()
            .find(|file| file.key == key)
    }

    fn state_mut(&mut self, step: &Step) -> Option<&mut StepState> {
        match step {
            Step::Submit => Some(&mut self.submit),
            Step::Finish => Some(&mut self.finish),
            Step::Retract => self.retract.as_mut(),
            Step::Upload { file } => self
                .files
                .iter_mut()
                .find(|progress| &progress.key == file)
                .map(|progress| &mut progress.upload),
            Step::FileInfo { file } => self
                .files
                .iter_mut()
                .find(|progress| &progress.key == file)
                .map(|progress| &mut progress.file_info),
        }
    }

    /// Folds the outcome of performing `step` into the flow.
    ///
    /// An outcome for a step that already succeeded is ignored
    /// ([`Recorded::AlreadyRecorded`]); one for any other step than the current is an
    /// error that changes nothing.
    pub fn record(&mut self, step: &Step, outcome: &HttpOutcome) -> Result<Recorded, FlowError> {
        if self.state_mut(step).is_some_and(|state| state.succeeded()) {
            return Ok(Recorded::AlreadyRecorded);
        }
        if let Some(status) = &self.status {
            return Err(FlowError::Closed {
                referral: self.referral.key.clone(),
                state: match status {
                    FlowStatus::Finished(_) => "finished",
                    FlowStatus::Retracted { .. } => "retracted",
                    FlowStatus::Abandoned { .. } => "abandoned",
                    FlowStatus::Open { .. } => "open",
                },
            });
        }
        let (current, state) = self.current();
        if &current != step {
            return Err(FlowError::NotCurrentStep {
                referral: self.referral.key.clone(),
                got: step.key(&self.referral.key),
                expected: current.key(&self.referral.key),
            });
        }
        let attempt = state.attempts() + 1;
        let result = match read_outcome(outcome, attempt) {
            Ok((status, response)) => self.apply(step, status, response, attempt),
            Err(failure) => Err(failure),
        };
        let new_state = match &result {
            Ok(()) => StepState::Succeeded { attempts: attempt },
            Err(failure) => StepState::Failed {
                attempts: attempt,
                failure: failure.clone(),
            },
        };
        if let Some(state) = self.state_mut(step) {
            *state = new_state;
        }
        Ok(match result {
            Ok(()) => Recorded::Succeeded,
            Err(failure) => Recorded::Failed(failure),
        })
    }

    /// Applies a readable response with HTTP status `status` to `step`; on success the
    /// caller marks the step succeeded.
    fn apply(
        &mut self,
        step: &Step,
        status: u16,
        response: Response,
        attempt: u32,
    ) -> Result<(), StepFailure> {
        let code = response.code();
        let fail = |reason: String, retry: Retry, outcome_unknown: bool| StepFailure {
            attempt,
            http_status: Some(status),
            response_code: Some(code),
            reason,
            retry,
            outcome_unknown,
        };
        // Answers that mean "this already happened" after a lost answer.
        match (step, code) {
            (Step::Finish | Step::Retract, ResponseCode::ReportAlreadyFinished) => {
                let file_ids: Vec<FileId> = self
                    .files
                    .iter()
                    .filter_map(|f| f.file_id.clone())
                    .collect();
                self.finished(file_ids, FinishConfirmation::AlreadyFinished);
                return if *step == Step::Finish {
                    Ok(())
                } else {
                    // The flow is closed as finished, but the retraction did not happen
                    // and must not read as if it had.
                    Err(fail(
                        "/retract answered 5102: the report was already finished and cannot be retracted".to_string(),
                        Retry::NeedsAttention,
                        false,
                    ))
                };
            }
            (Step::Retract, ResponseCode::ReportAlreadyRetracted) => {
                self.retracted();
                return Ok(());
            }
            _ => {}
        }
        if !code.is_success() {
            let description = match &response {
                Response::Report(report) if !report.description.is_empty() => {
                    report.description.clone()
                }
                _ => code.documented_description().to_string(),
            };
            let retry = if code.is_transient() {
                Retry::Safe
            } else {
                Retry::NeedsAttention
            };
            return Err(fail(
                format!("{} answered {code}: {description}", step.path()),
                retry,
                code.is_transient(),
            ));
        }
        if !(200..300).contains(&status) {
            return Err(fail(
                format!(
                    "{} answered HTTP {status} with response code 0; not taken as success",
                    step.path()
                ),
                Retry::Safe,
                true,
            ));
        }
        let report = match response {
            Response::Report(report) => report,
            Response::Done(done) => {
                return if *step == Step::Finish {
                    self.apply_done(done.report_id, done.file_ids)
                        .map_err(|reason| fail(reason, Retry::NeedsAttention, true))
                } else {
                    Err(fail(
                        format!(
                            "{} answered <reportDoneResponse>, expected <reportResponse>",
                            step.path()
                        ),
                        Retry::NeedsAttention,
                        true,
                    ))
                };
            }
        };
        match (self.report_id, report.report_id) {
            (Some(ours), Some(theirs)) if ours != theirs => {
                return Err(fail(
                    format!(
                        "{} answered for report {theirs}, but this referral's report is {ours}",
                        step.path()
                    ),
                    Retry::NeedsAttention,
                    true,
                ));
            }
            _ => {}
        }
        match step {
            Step::Submit => match report.report_id {
                Some(report_id) => {
                    self.report_id = Some(report_id);
                    Ok(())
                }
                // A report was opened but its id is unknown: it can never be finished,
                // and the clearing house deletes it after 24 hours; submitting again
                // is safe.
                None => Err(fail(
                    "/submit answered success without a reportId".to_string(),
                    Retry::Safe,
                    true,
                )),
            },
            Step::Upload { file } => self
                .apply_upload(file, report.file_id, report.md5)
                .map_err(|(reason, retry)| fail(reason, retry, retry == Retry::NeedsAttention)),
            Step::FileInfo { .. } => Ok(()),
            Step::Finish => Err(fail(
                "/finish answered <reportResponse> with code 0, expected <reportDoneResponse>"
                    .to_string(),
                Retry::NeedsAttention,
                true,
            )),
            Step::Retract => {
                self.retracted();
                Ok(())
            }
        }
    }

    fn apply_upload(
        &mut self,
        file: &str,
        file_id: Option<FileId>,
        md5: Option<String>,
    ) -> Result<(), (String, Retry)> {
        let expected = self
            .file(file)
            .map(|declared| declared.md5.as_hex().to_string())
            .unwrap_or_default();
        let Some(file_id) = file_id else {
            // Without an id the file cannot be described or checked at finish; if the
            // server kept it, the finished report lists it as unexpected.
            return Err((
                format!("/upload of {file:?} answered success without a fileId"),
                Retry::Safe,
            ));
        };
        match md5 {
            Some(md5) if md5 == expected => {}
            other => {
                // The server holds a file that is not the one described; describing and
                // finishing it would misreport. The report must be retracted.
                let seen = other.unwrap_or_else(|| "no hash".to_string());
                self.stray_file_ids.push(file_id.clone());
                return Err((
                    format!(
                        "/upload of {file:?} stored file {file_id} with MD5 {seen}, but the file's MD5 is {expected}; retract the report and refile"
                    ),
                    Retry::NeedsAttention,
                ));
            }
        }
        if let Some(progress) = self.files.iter_mut().find(|progress| progress.key == file) {
            progress.file_id = Some(file_id);
        }
        Ok(())
    }

    fn apply_done(&mut self, report_id: ReportId, file_ids: Vec<FileId>) -> Result<(), String> {
        if Some(report_id) != self.report_id {
            return Err(format!(
                "/finish answered for report {report_id}, but this referral's report is {}",
                self.report_id
                    .map_or_else(|| "not open".to_string(), |id| id.to_string())
            ));
        }
        self.finished(file_ids, FinishConfirmation::DoneResponse);
        Ok(())
    }

    fn finished(&mut self, file_ids: Vec<FileId>, confirmation: FinishConfirmation) {
        let ours: Vec<FileId> = self
            .files
            .iter()
            .filter_map(|f| f.file_id.clone())
            .collect();
        let missing_file_ids = ours
            .iter()
            .filter(|id| !file_ids.contains(id))
            .cloned()
            .collect();
        let unexpected_file_ids = file_ids
            .iter()
            .filter(|id| !ours.contains(id))
            .cloned()
            .collect();
        let text_only_reason = match &self.referral.evidence {
            Evidence::TextOnly { reason } => Some(reason.clone()),
            Evidence::Files(_) => None,
        };
        if let Some(report_id) = self.report_id {
            self.status = Some(FlowStatus::Finished(FinishedReport {
                report_id,
                file_ids,
                confirmation,
                missing_file_ids,
                unexpected_file_ids,
                text_only_reason,
            }));
        }
    }

    fn retracted(&mut self) {
        if let Some(report_id) = self.report_id {
            self.status = Some(FlowStatus::Retracted { report_id });
        }
    }

    /// Marks the current step's failure as safe to retry: a person looked (fixed the
    /// credentials, confirmed the server recovered) and wants the step run again.
    pub fn allow_retry(&mut self) {
        if self.status.is_some() {
            return;
        }
        let (step, _) = self.current();
        if let Some(StepState::Failed { failure, .. }) = self.state_mut(&step) {
            failure.retry = Retry::Safe;
        }
    }

    /// Asks for the open report to be cancelled: the next step becomes `/retract`.
    /// Refused once the report is finished, and when no report is open (then use
    /// [`ReferralFlow::abandon`]).
    pub fn request_retraction(&mut self) -> Result<(), FlowError> {
        let refuse = |reason: &str| FlowError::NotAllowed {
            referral: self.referral.key.clone(),
            reason: reason.to_string(),
        };
        if self.status.is_some() {
            return Err(refuse(
                "the flow is closed; a finished report cannot be retracted",
            ));
        }
        if self.report_id.is_none() {
            return Err(refuse("no report is open; abandon the referral instead"));
        }
        if self.retract.is_none() {
            self.retract = Some(StepState::Pending);
        }
        Ok(())
    }

    /// Closes a referral that never opened a report (its `/submit` never succeeded),
    /// with the reason. Refused when a report is open: it must be retracted.
    pub fn abandon(&mut self, reason: &str) -> Result<(), FlowError> {
        if self.status.is_some() || self.report_id.is_some() {
            return Err(FlowError::NotAllowed {
                referral: self.referral.key.clone(),
                reason: "a report is open or the flow is closed; retract instead".to_string(),
            });
        }
        self.status = Some(FlowStatus::Abandoned {
            reason: reason.to_string(),
        });
        Ok(())
    }
}

/// Reads an outcome into a status and a parsed response, or the failure it is.
fn read_outcome(outcome: &HttpOutcome, attempt: u32) -> Result<(u16, Response), StepFailure> {
    match outcome {
        HttpOutcome::NoResponse { reason } => Err(StepFailure {
            attempt,
            http_status: None,
            response_code: None,
            reason: format!("no response: {reason}"),
            retry: Retry::Safe,
            outcome_unknown: true,
        }),
        HttpOutcome::Response { status, body } => match parse_response(body) {
            Ok(response) => Ok((*status, response)),
            Err(error) => {
                let server_side = *status >= 500 || *status == 408 || *status == 429;
                Err(StepFailure {
                    attempt,
                    http_status: Some(*status),
                    response_code: None,
                    reason: format!(
                        "HTTP {status} with an unreadable body ({error}): {}",
                        excerpt(body)
                    ),
                    retry: if server_side {
                        Retry::Safe
                    } else {
                        Retry::NeedsAttention
                    },
                    outcome_unknown: server_side,
                })
            }
        },
    }
}

/// The start of a body for a failure reason: one line, at most 120 characters.
fn excerpt(body: &str) -> String {
    let flat: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(120)
        .collect();
    if body.chars().count() > 120 {
        format!("{flat}…")
    } else {
        flat
    }
}
