//! Referrals to the clearing house, driven: the CyberTipline flow performed over HTTP with
//! every step recorded in the ledger.
//!
//! What it is for: a person refers a report (`POST /v1/reports/{id}/referral`); this module
//! assembles the referral from the ledger, rebuilds the flow from the ledger's records of it
//! (so a retry, a restart or another replica resumes exactly where it stopped), performs
//! each step the flow asks for against the configured Reporting API (submit, upload, file
//! details, finish), and stores a `referral_step` event per step — with the flow's own
//! record of it — before taking the next. A step that fails, or cannot run (no files
//! handed in for an upload, a referral the documentation's rules refuse), is stored as
//! failed or blocked with its reason, and an alert is raised for it.
//!
//! What it must never do: report a step as done that did not succeed, keep file contents
//! (the bytes live only for the request that hands them in), or run two drives of one
//! referral at once (each step's event id is the referral's next step number, so a second
//! drive's write is a stored conflict and it stops).

use std::collections::BTreeMap;
use std::time::Duration;

use guardrail_cybertip::{
    FlowRecord, FlowStatus, FormPart, HttpOutcome, NextStep, Recorded, Referral, ReferralFlow,
    RequestBody, Retry, Timestamp, replay,
};
use guardrail_ledger::event::{AlertRaised, Event, Payload, ReferralStep};
use guardrail_store::AppendOutcome;
use serde::Serialize;

use crate::service::{Service, unix_now};

/// Where referrals go, and who sends them.
#[derive(Debug, Clone)]
pub struct ClearingHouseConfig {
    /// The Reporting API's base URL (the clearing house's, or the test server's).
    pub base_url: String,
    /// Basic-auth user.
    pub user: String,
    /// Basic-auth password.
    pub password: String,
    /// The reporting person's email (the schema requires one).
    pub reporter_email: String,
    /// The platform's application name as the report names it.
    pub platform: String,
}

/// How many times one drive runs a step whose failure is safe to retry.
const ATTEMPTS_PER_DRIVE: u32 = 3;

/// Where a referral stands after a drive.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReferralAnswer {
    /// The referral id.
    pub referral: String,
    /// The report it refers.
    pub report: String,
    /// `finished`, `open`, `blocked`, `retracted`, `abandoned`, or `requested` (a person
    /// referred the report; the files have not been handed in yet).
    pub status: String,
    /// The clearing house's report id, once it opened one.
    pub clearing_house_report: Option<i64>,
    /// Why it is not finished, in words (the last failure or block).
    pub reason: Option<String>,
    /// Every step the ledger holds, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<serde_json::Value>,
}

/// Why a drive could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    /// Another drive of this referral wrote first.
    #[error("referral {0} is being driven by another request; reload it")]
    Concurrent(String),
    /// The ledger could not store a step.
    #[error("the ledger did not store the step: {0}")]
    Store(String),
    /// The stored records do not rebuild the flow.
    #[error("referral {referral}: its stored records do not rebuild the flow: {reason}")]
    Corrupt {
        /// The referral.
        referral: String,
        /// Why.
        reason: String,
    },
}

/// One drive of a referral: the ledger writes it makes, in order.
struct Drive<'a> {
    service: &'a Service,
    referral: String,
    report: String,
    next_step: usize,
}

impl Drive<'_> {
    async fn write(&mut self, payload: Payload) -> Result<(), DriveError> {
        self.next_step += 1;
        let event = Event::new(
            format!("{}:{}", self.referral, self.next_step),
            unix_now(),
            payload,
        );
        match self
            .service
            .append(vec![event])
            .await
            .map_err(|e| DriveError::Store(e.to_string()))?
            .first()
        {
            Some(AppendOutcome::Conflict { .. } | AppendOutcome::Duplicate { .. }) => {
                Err(DriveError::Concurrent(self.referral.clone()))
            }
            _ => Ok(()),
        }
    }

    async fn step(
        &mut self,
        step: &str,
        attempt: u32,
        outcome: &str,
        detail: String,
        record: Option<FlowRecord>,
    ) -> Result<(), DriveError> {
        let record = record.map(|r| serde_json::to_value(r).unwrap_or_default());
        self.write(Payload::ReferralStep(ReferralStep {
            referral: self.referral.clone(),
            report: self.report.clone(),
            step: step.to_string(),
            attempt,
            outcome: outcome.to_string(),
            detail,
            record,
        }))
        .await
    }

    async fn alert(&mut self, kind: &str, detail: String) -> Result<(), DriveError> {
        tracing::warn!(referral = %self.referral, kind, %detail, "referral alert");
        self.write(Payload::AlertRaised(AlertRaised {
            subject: self.referral.clone(),
            kind: kind.to_string(),
            detail,
        }))
        .await
    }
}

/// Drives the referral of `report`: starts it with `start` when the ledger has none (the
/// referral `start` builds, or the reason it cannot be built), otherwise resumes it; runs
/// the steps the flow asks for with `files` (key → bytes) for uploads. `allow_retry` is a
/// person's decision that a step waiting for one may run again.
pub async fn drive(
    service: &Service,
    config: &ClearingHouseConfig,
    report: &str,
    start: impl FnOnce() -> Result<Referral, String>,
    files: &BTreeMap<String, Vec<u8>>,
    allow_retry: bool,
) -> Result<ReferralAnswer, DriveError> {
    let referral_id = guardrail_reports::referral_id(report);
    // Steps and alerts of this referral share one numbering of event ids.
    let (records, written) = match service.ledger() {
        Some(state) => {
            let alerts = state
                .other_alerts
                .iter()
                .filter(|(subject, _, _)| *subject == referral_id)
                .count();
            state
                .referrals
                .get(&referral_id)
                .map_or((Vec::new(), alerts), |r| {
                    (r.records.clone(), r.steps.len() + alerts)
                })
        }
        None => (Vec::new(), 0),
    };
    let mut drive = Drive {
        service,
        referral: referral_id.clone(),
        report: report.to_string(),
        next_step: written,
    };
    let mut flow = if records.is_empty() {
        let now = Timestamp::from_unix_seconds(i64::try_from(unix_now()).unwrap_or(i64::MAX))
            .map_err(|e| DriveError::Store(format!("the clock: {e}")))?;
        let started = start().and_then(|referral| {
            ReferralFlow::start(referral.clone(), now)
                .map(|flow| (flow, referral))
                .map_err(|e| e.to_string())
        });
        match started {
            Ok((flow, referral)) => {
                let files = referral.evidence.files().len();
                let detail = if files == 0 {
                    "referral checked against the API's rules; text only, no file steps".into()
                } else {
                    format!("referral checked against the API's rules; {files} files")
                };
                let record = FlowRecord::Started {
                    referral: Box::new(referral),
                    at: now,
                };
                drive
                    .step("open", 1, "succeeded", detail, Some(record))
                    .await?;
                flow
            }
            Err(reason) => {
                drive
                    .step("open", 1, "blocked", reason.clone(), None)
                    .await?;
                drive
                    .alert(
                        "referral_blocked",
                        format!("the referral of report {report} cannot start: {reason}"),
                    )
                    .await?;
                return Ok(answer(service, &referral_id, report, None));
            }
        }
    } else {
        let records: Vec<FlowRecord> = records
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<_, _>>()
            .map_err(|e| DriveError::Corrupt {
                referral: referral_id.clone(),
                reason: e.to_string(),
            })?;
        replay(&records).map_err(|e| DriveError::Corrupt {
            referral: referral_id.clone(),
            reason: e.to_string(),
        })?
    };
    if allow_retry && matches!(flow.next_step(), NextStep::NeedsAttention { .. }) {
        flow.allow_retry();
        drive
            .step(
                "retry",
                1,
                "succeeded",
                "a person allowed the blocked step to run again".into(),
                Some(FlowRecord::RetryAllowed),
            )
            .await?;
    }
    let client = client()?;
    let mut tries_this_drive: BTreeMap<String, u32> = BTreeMap::new();
    while let NextStep::Run(request) = flow.next_step() {
        let tries = tries_this_drive
            .entry(request.step_key.clone())
            .or_default();
        if *tries >= ATTEMPTS_PER_DRIVE {
            break;
        }
        *tries += 1;
        let step_name = request.step.name();
        let body = match build_body(&request.body, files) {
            Ok(body) => body,
            Err(missing) => {
                let reason = format!(
                    "{step_name} of file {missing} cannot run: its bytes were not handed in with this request (Guardrail keeps no file content); refer again with the file"
                );
                drive
                    .step(step_name, request.attempt, "blocked", reason.clone(), None)
                    .await?;
                drive.alert("referral_step_blocked", reason).await?;
                break;
            }
        };
        let outcome = perform(&client, config, &request.path, body).await;
        let recorded = flow
            .record(&request.step, &outcome)
            .map_err(|e| DriveError::Corrupt {
                referral: referral_id.clone(),
                reason: e.to_string(),
            })?;
        let record = FlowRecord::Outcome {
            step: request.step.clone(),
            outcome,
        };
        match recorded {
            Recorded::Succeeded | Recorded::AlreadyRecorded => {
                let detail = match (&request.step.file(), flow.report_id()) {
                    (Some(file), Some(id)) => {
                        format!("{step_name} of {file} accepted for report {id:?}")
                    }
                    (None, Some(id)) => {
                        format!("{step_name} accepted; the clearing house's report {id:?}")
                    }
                    _ => format!("{step_name} accepted"),
                };
                drive
                    .step(
                        step_name,
                        request.attempt,
                        "succeeded",
                        detail,
                        Some(record),
                    )
                    .await?;
            }
            Recorded::Failed(failure) => {
                drive
                    .step(
                        step_name,
                        request.attempt,
                        "failed",
                        failure.reason.clone(),
                        Some(record),
                    )
                    .await?;
                drive
                    .alert(
                        "referral_step_failed",
                        format!(
                            "{step_name} (attempt {}) failed: {}{}",
                            request.attempt,
                            failure.reason,
                            if failure.retry == Retry::Safe {
                                "; it will be retried"
                            } else {
                                "; a person must look before it runs again"
                            }
                        ),
                    )
                    .await?;
                if failure.retry == Retry::Safe {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
    Ok(answer(service, &referral_id, report, Some(&flow)))
}

/// The referral's state as the ledger holds it (and the flow, when there is one).
pub fn answer(
    service: &Service,
    referral: &str,
    report: &str,
    flow: Option<&ReferralFlow>,
) -> ReferralAnswer {
    let steps: Vec<(String, u32, String, String, u64)> = service
        .ledger()
        .and_then(|state| state.referrals.get(referral).map(|r| r.steps.clone()))
        .unwrap_or_default();
    let last_problem = steps
        .iter()
        .rev()
        .find(|(_, _, outcome, _, _)| outcome == "failed" || outcome == "blocked")
        .map(|(step, _, _, detail, _)| format!("{step}: {detail}"));
    let (status, reason, report_id) = match flow.map(ReferralFlow::status) {
        Some(FlowStatus::Finished(done)) => ("finished", None, Some(done.report_id)),
        Some(FlowStatus::Retracted { report_id }) => ("retracted", None, Some(report_id)),
        Some(FlowStatus::Abandoned { reason }) => ("abandoned", Some(reason), None),
        Some(FlowStatus::Open { last_failure, .. }) => (
            "open",
            last_failure.map(|f| f.reason).or(last_problem),
            flow.and_then(ReferralFlow::report_id),
        ),
        None if last_problem.is_some() => ("blocked", last_problem, None),
        None => ("requested", None, None),
    };
    ReferralAnswer {
        referral: referral.to_string(),
        report: report.to_string(),
        status: status.to_string(),
        clearing_house_report: report_id.map(|id| id.0),
        reason,
        steps: steps
            .into_iter()
            .map(|(step, attempt, outcome, detail, at)| {
                serde_json::json!({"step": step, "attempt": attempt, "outcome": outcome, "detail": detail, "at": at})
            })
            .collect(),
    }
}

/// Rebuilds a referral's flow from the ledger (for reads).
pub fn stored_flow(service: &Service, referral: &str) -> Option<ReferralFlow> {
    let state = service.ledger()?;
    let records: Vec<FlowRecord> = state
        .referrals
        .get(referral)?
        .records
        .iter()
        .cloned()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()
        .ok()?;
    replay(&records).ok()
}

fn client() -> Result<reqwest::Client, DriveError> {
    let tls = guardrail_hma::tls_config().map_err(DriveError::Store)?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| DriveError::Store(format!("the HTTP client: {e}")))
}

/// A request body and its content type; `Err(file key)` when an upload's bytes are missing.
fn build_body(
    body: &RequestBody,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<(String, Vec<u8>), String> {
    match body {
        RequestBody::Xml(xml) => Ok((body.content_type().to_string(), xml.clone().into_bytes())),
        RequestBody::Form(parts) => {
            let boundary = format!("guardrail-{:032x}", rand::random::<u128>());
            let mut out = Vec::new();
            for part in parts {
                out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                match part {
                    FormPart::Text { name, value } => {
                        out.extend_from_slice(
                            format!(
                                "Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                            )
                            .as_bytes(),
                        );
                    }
                    FormPart::File {
                        name,
                        file_name,
                        file_key,
                        content_type,
                        ..
                    } => {
                        let bytes = files.get(file_key).ok_or_else(|| file_key.clone())?;
                        out.extend_from_slice(
                            format!(
                                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{}\"\r\nContent-Type: {content_type}\r\n\r\n",
                                file_name.replace(['"', '\r', '\n'], "_")
                            )
                            .as_bytes(),
                        );
                        out.extend_from_slice(bytes);
                        out.extend_from_slice(b"\r\n");
                    }
                }
            }
            out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            Ok((format!("multipart/form-data; boundary={boundary}"), out))
        }
    }
}

async fn perform(
    client: &reqwest::Client,
    config: &ClearingHouseConfig,
    path: &str,
    (content_type, body): (String, Vec<u8>),
) -> HttpOutcome {
    let url = format!("{}{path}", config.base_url.trim_end_matches('/'));
    let sent = client
        .post(&url)
        .basic_auth(&config.user, Some(&config.password))
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.text().await {
                Ok(body) => HttpOutcome::Response { status, body },
                Err(e) => HttpOutcome::NoResponse {
                    reason: format!("the answer's body was lost: {e}"),
                },
            }
        }
        Err(e) => HttpOutcome::NoResponse {
            reason: format!("no answer from {url}: {e}"),
        },
    }
}
