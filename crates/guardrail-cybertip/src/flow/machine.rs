//! The referral flow's state machine: which step runs next, and how each outcome is
//! folded in.
//!
//! What it must never do: report a step as done that did not succeed, or offer `/finish`
//! before every file step succeeded.

use super::*;

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
