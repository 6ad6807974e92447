//! The referral flow as a state machine: the happy path, a failure at every step,
//! retries, lost answers, answers that need a person, the text-only case, and
//! idempotent recording.

mod common;

use common::*;
use guardrail_cybertip::{
    Evidence, FileId, FinishConfirmation, FlowError, FlowStatus, FormPart, HttpOutcome,
    IncidentType, NextStep, Recorded, Referral, ReferralFlow, RequestBody, ResponseCode, Retry,
    Step, StepRequest, StepState, report_xml,
};

const REPORT: i64 = 4564654;

fn response(status: u16, body: String) -> HttpOutcome {
    HttpOutcome::Response { status, body }
}

fn ok(body: String) -> HttpOutcome {
    response(200, body)
}

fn lost() -> HttpOutcome {
    HttpOutcome::NoResponse {
        reason: "connection reset by peer".to_string(),
    }
}

fn server_error() -> HttpOutcome {
    response(500, report_response(1000, "Server error", None))
}

fn start(referral: Referral) -> ReferralFlow {
    ReferralFlow::start(referral, now()).expect("fixture referral is valid")
}

fn expect_run(flow: &ReferralFlow) -> StepRequest {
    match flow.next_step() {
        NextStep::Run(request) => request,
        other => panic!(
            "expected a step to run, got {other:?}\nstatus {:?}",
            flow.status()
        ),
    }
}

/// Runs the next step, checks it is `step_key`, records `outcome`.
fn step(flow: &mut ReferralFlow, step_key: &str, outcome: HttpOutcome) -> Recorded {
    let request = expect_run(flow);
    assert_eq!(request.step_key, step_key, "next step");
    flow.record(&request.step, &outcome)
        .expect("outcome for the current step")
}

/// The successful answer for each step of the two-file fixture, in order.
fn happy_script() -> Vec<(&'static str, HttpOutcome)> {
    vec![
        (
            "case-0001/submit",
            ok(report_response(0, "Success", Some(REPORT))),
        ),
        (
            "case-0001/upload/media-1",
            ok(upload_response(REPORT, "file-a", MD5_A)),
        ),
        (
            "case-0001/fileinfo/media-1",
            ok(report_response(0, "Success", Some(REPORT))),
        ),
        (
            "case-0001/upload/media-2",
            ok(upload_response(REPORT, "file-b", MD5_B)),
        ),
        (
            "case-0001/fileinfo/media-2",
            ok(report_response(0, "Success", Some(REPORT))),
        ),
        (
            "case-0001/finish",
            ok(done_response(REPORT, &["file-a", "file-b"])),
        ),
    ]
}

fn finished(flow: &ReferralFlow) -> guardrail_cybertip::FinishedReport {
    match flow.status() {
        FlowStatus::Finished(report) => report,
        other => panic!("expected finished, got {other:?}"),
    }
}

fn ids(names: &[&str]) -> Vec<FileId> {
    names
        .iter()
        .map(|name| FileId::new(name).expect("id"))
        .collect()
}

#[test]
fn happy_path_runs_every_step_once_and_finishes() {
    let referral = full_referral();
    let mut flow = start(referral.clone());
    assert!(flow.files_required());
    for (index, (key, outcome)) in happy_script().into_iter().enumerate() {
        let request = expect_run(&flow);
        assert_eq!(request.attempt, 1);
        // Each request is described as data the caller can perform.
        match index {
            0 => {
                assert_eq!(request.path, "/submit");
                assert_eq!(request.body, RequestBody::Xml(report_xml(&referral)));
                assert_eq!(request.body.content_type(), "text/xml; charset=utf-8");
            }
            1 => {
                assert_eq!(request.path, "/upload");
                assert_eq!(
                    request.body,
                    RequestBody::Form(vec![
                        FormPart::Text {
                            name: "id".to_string(),
                            value: REPORT.to_string()
                        },
                        FormPart::File {
                            name: "file".to_string(),
                            file_name: "media-1.bin".to_string(),
                            file_key: "media-1".to_string(),
                            size_bytes: 4096,
                            content_type: "application/octet-stream".to_string(),
                        },
                    ])
                );
            }
            2 => {
                let RequestBody::Xml(xml) = &request.body else {
                    panic!("fileinfo is XML")
                };
                assert!(xml.contains("<reportId>4564654</reportId>"), "{xml}");
                assert!(xml.contains("<fileId>file-a</fileId>"), "{xml}");
            }
            5 => {
                assert_eq!(request.path, "/finish");
                assert_eq!(
                    request.body,
                    RequestBody::Form(vec![FormPart::Text {
                        name: "id".to_string(),
                        value: REPORT.to_string()
                    }])
                );
            }
            _ => {}
        }
        assert_eq!(request.step_key, key);
        assert_eq!(
            flow.record(&request.step, &outcome),
            Ok(Recorded::Succeeded)
        );
    }
    let report = finished(&flow);
    assert_eq!(report.file_ids, ids(&["file-a", "file-b"]));
    assert_eq!(report.confirmation, FinishConfirmation::DoneResponse);
    assert!(report.missing_file_ids.is_empty() && report.unexpected_file_ids.is_empty());
    assert_eq!(flow.next_step(), NextStep::Done);
    assert!(
        flow.steps()
            .iter()
            .all(|row| row.state == StepState::Succeeded { attempts: 1 })
    );
    assert_eq!(flow.steps().len(), 6);
}

#[test]
fn a_failure_at_any_step_leaves_the_referral_open_and_a_retry_continues() {
    let script = happy_script();
    for failing in 0..script.len() {
        for failure in [
            server_error(),
            lost(),
            response(502, "<html>Bad Gateway</html>".to_string()),
        ] {
            let mut flow = start(full_referral());
            for (key, outcome) in &script[..failing] {
                assert_eq!(step(&mut flow, key, outcome.clone()), Recorded::Succeeded);
            }
            let (failing_key, success) = &script[failing];
            let Recorded::Failed(reason) = step(&mut flow, failing_key, failure.clone()) else {
                panic!("step {failing_key} should fail with {failure:?}");
            };
            assert_eq!(reason.retry, Retry::Safe, "{reason:?}");
            assert!(reason.outcome_unknown, "{reason:?}");
            match flow.status() {
                FlowStatus::Open { next, last_failure } => {
                    assert_eq!(next.key("case-0001"), *failing_key);
                    assert_eq!(last_failure, Some(reason.clone()));
                }
                other => panic!("after a failed {failing_key}: {other:?}"),
            }
            // The same step is offered again, as attempt 2, with the same key.
            let retry = expect_run(&flow);
            assert_eq!((retry.step_key.as_str(), retry.attempt), (*failing_key, 2));
            assert_eq!(flow.record(&retry.step, success), Ok(Recorded::Succeeded));
            for (key, outcome) in &script[failing + 1..] {
                assert_eq!(step(&mut flow, key, outcome.clone()), Recorded::Succeeded);
            }
            let report = finished(&flow);
            assert_eq!(
                report.file_ids,
                ids(&["file-a", "file-b"]),
                "failing {failing_key}"
            );
            let attempts: Vec<u32> = flow
                .steps()
                .iter()
                .map(|row| match row.state {
                    StepState::Succeeded { attempts } => attempts,
                    ref other => panic!("{other:?}"),
                })
                .collect();
            let mut expected = vec![1; script.len()];
            expected[failing] = 2;
            assert_eq!(attempts, expected);
        }
    }
}

#[test]
fn failures_that_retrying_cannot_fix_wait_for_a_person() {
    // (answer to /submit, expected code, text the reason must contain)
    let cases: Vec<(HttpOutcome, Option<ResponseCode>, &str)> = vec![
        (
            response(
                400,
                report_response(
                    4100,
                    "Validation failed: line 3: Element 'x' is not expected",
                    None,
                ),
            ),
            Some(ResponseCode::ValidationFailed),
            "/submit answered 4100 (Validation failed): Validation failed: line 3",
        ),
        (
            response(400, report_response(4110, "Malformed XML submittal", None)),
            Some(ResponseCode::MalformedXml),
            "4110",
        ),
        (
            response(401, report_response(2000, "Authentication required", None)),
            Some(ResponseCode::AuthenticationRequired),
            "2000 (Authentication required)",
        ),
        (
            response(401, "<html><body>Unauthorized</body></html>".to_string()),
            None,
            "HTTP 401 with an unreadable body",
        ),
        (
            response(200, report_response(0, "Success", None)),
            Some(ResponseCode::Success),
            "without a reportId",
        ),
    ];
    for (answer, code, reason_text) in cases {
        let mut flow = start(minimal_referral());
        let Recorded::Failed(failure) = step(&mut flow, "case-0001/submit", answer.clone()) else {
            panic!("{answer:?} should fail");
        };
        assert_eq!(failure.response_code, code, "{answer:?}");
        assert!(
            failure.reason.contains(reason_text),
            "{:?} lacks {reason_text:?}",
            failure.reason
        );
        if failure.retry == Retry::NeedsAttention {
            assert!(matches!(
                flow.next_step(),
                NextStep::NeedsAttention {
                    step: Step::Submit,
                    ..
                }
            ));
            // No report was opened, so there is nothing to retract: abandon.
            assert!(matches!(
                flow.request_retraction(),
                Err(FlowError::NotAllowed { .. })
            ));
            flow.abandon("referral data refused; refiled as case-0001b")
                .expect("abandon");
            assert!(matches!(flow.status(), FlowStatus::Abandoned { .. }));
            assert_eq!(flow.next_step(), NextStep::Done);
        } else {
            // Success without a report id: a report may exist, unknown; submit again.
            assert!(failure.outcome_unknown);
            assert_eq!(expect_run(&flow).step, Step::Submit);
        }
    }
}

#[test]
fn a_refused_step_after_submit_is_retracted() {
    let mut flow = start(minimal_referral());
    step(
        &mut flow,
        "case-0001/submit",
        ok(report_response(0, "Success", Some(REPORT))),
    );
    step(
        &mut flow,
        "case-0001/upload/media-1",
        ok(upload_response(REPORT, "file-a", MD5_A)),
    );
    let refused = response(
        400,
        report_response(4100, "Validation failed: bad fileDetails", Some(REPORT)),
    );
    let Recorded::Failed(failure) = step(&mut flow, "case-0001/fileinfo/media-1", refused) else {
        panic!("fileinfo should fail");
    };
    assert_eq!(failure.retry, Retry::NeedsAttention);
    assert!(!failure.outcome_unknown);
    // A person decides: abandoning is refused while the report is open; retract it.
    assert!(matches!(
        flow.abandon("x"),
        Err(FlowError::NotAllowed { .. })
    ));
    flow.request_retraction().expect("retract an open report");
    let request = expect_run(&flow);
    assert_eq!(
        (request.path.as_str(), request.step_key.as_str()),
        ("/retract", "case-0001/retract")
    );
    // The retraction's answer is lost; the retry learns it already happened (5101).
    assert!(matches!(
        flow.record(&request.step, &lost()),
        Ok(Recorded::Failed(_))
    ));
    let retry = expect_run(&flow);
    assert_eq!(retry.attempt, 2);
    let already = response(
        409,
        report_response(5101, "Report already retracted", Some(REPORT)),
    );
    assert_eq!(flow.record(&retry.step, &already), Ok(Recorded::Succeeded));
    assert_eq!(
        flow.status(),
        FlowStatus::Retracted {
            report_id: guardrail_cybertip::ReportId(REPORT)
        }
    );
    // The failed file-details step is still reported as failed, never as succeeded.
    let fileinfo = flow
        .steps()
        .into_iter()
        .find(|row| row.name == "fileinfo")
        .expect("row");
    assert!(
        matches!(fileinfo.state, StepState::Failed { .. }),
        "{fileinfo:?}"
    );
}

#[test]
fn a_person_can_allow_a_blocked_step_to_run_again() {
    let mut flow = start(minimal_referral());
    step(
        &mut flow,
        "case-0001/submit",
        response(401, report_response(2000, "Authentication required", None)),
    );
    assert!(matches!(flow.next_step(), NextStep::NeedsAttention { .. }));
    flow.allow_retry(); // credentials fixed
    assert_eq!(expect_run(&flow).attempt, 2);
}

#[test]
fn a_lost_finish_answer_is_confirmed_by_already_finished() {
    let mut flow = start(minimal_referral());
    step(
        &mut flow,
        "case-0001/submit",
        ok(report_response(0, "Success", Some(REPORT))),
    );
    step(
        &mut flow,
        "case-0001/upload/media-1",
        ok(upload_response(REPORT, "file-a", MD5_A)),
    );
    step(
        &mut flow,
        "case-0001/fileinfo/media-1",
        ok(report_response(0, "Success", Some(REPORT))),
    );
    assert!(matches!(
        step(&mut flow, "case-0001/finish", lost()),
        Recorded::Failed(_)
    ));
    let already = response(
        409,
        report_response(5102, "Report already finished", Some(REPORT)),
    );
    assert_eq!(
        step(&mut flow, "case-0001/finish", already),
        Recorded::Succeeded
    );
    let report = finished(&flow);
    assert_eq!(report.confirmation, FinishConfirmation::AlreadyFinished);
    assert_eq!(report.file_ids, ids(&["file-a"]));
}

#[test]
fn a_retraction_that_comes_too_late_is_not_reported_as_done() {
    let mut flow = start(text_only_referral());
    step(
        &mut flow,
        "case-0002/submit",
        ok(report_response(0, "Success", Some(7))),
    );
    // The finish went through but its answer was lost; a person asks to retract.
    assert!(matches!(
        step(&mut flow, "case-0002/finish", lost()),
        Recorded::Failed(_)
    ));
    flow.request_retraction()
        .expect("report is open as far as the flow knows");
    let too_late = response(
        409,
        report_response(5102, "Report already finished", Some(7)),
    );
    let Recorded::Failed(failure) = step(&mut flow, "case-0002/retract", too_late) else {
        panic!("a retraction refused as too late is not a success");
    };
    assert!(
        failure.reason.contains("cannot be retracted"),
        "{failure:?}"
    );
    assert_eq!(
        finished(&flow).confirmation,
        FinishConfirmation::AlreadyFinished
    );
    let retract = flow.steps().pop().expect("retract row");
    assert_eq!(retract.name, "retract");
    assert!(
        matches!(retract.state, StepState::Failed { .. }),
        "{retract:?}"
    );
    assert_eq!(flow.next_step(), NextStep::Done);
}

#[test]
fn a_lost_upload_answer_shows_up_as_an_unexpected_file_at_finish() {
    let mut flow = start(minimal_referral());
    step(
        &mut flow,
        "case-0001/submit",
        ok(report_response(0, "Success", Some(REPORT))),
    );
    step(&mut flow, "case-0001/upload/media-1", lost());
    step(
        &mut flow,
        "case-0001/upload/media-1",
        ok(upload_response(REPORT, "file-b", MD5_A)),
    );
    step(
        &mut flow,
        "case-0001/fileinfo/media-1",
        ok(report_response(0, "Success", Some(REPORT))),
    );
    step(
        &mut flow,
        "case-0001/finish",
        ok(done_response(REPORT, &["file-a", "file-b"])),
    );
    let report = finished(&flow);
    assert_eq!(report.unexpected_file_ids, ids(&["file-a"]));
    assert!(report.missing_file_ids.is_empty());
}

#[test]
fn answers_that_contradict_the_flow_are_not_taken_as_success() {
    let cases: Vec<(HttpOutcome, &str, Retry)> = vec![
        (
            ok(upload_response(REPORT, "file-a", MD5_B)),
            "retract the report and refile",
            Retry::NeedsAttention,
        ),
        (
            ok(upload_response(999, "file-a", MD5_A)),
            "answered for report 999",
            Retry::NeedsAttention,
        ),
        (
            ok(report_response(0, "Success", Some(REPORT))),
            "without a fileId",
            Retry::Safe,
        ),
        (
            response(500, report_response(0, "Success", Some(REPORT))),
            "HTTP 500 with response code 0",
            Retry::Safe,
        ),
        (
            ok(done_response(REPORT, &[])),
            "expected <reportResponse>",
            Retry::NeedsAttention,
        ),
    ];
    for (answer, reason_text, retry) in cases {
        let mut flow = start(minimal_referral());
        step(
            &mut flow,
            "case-0001/submit",
            ok(report_response(0, "Success", Some(REPORT))),
        );
        let Recorded::Failed(failure) = step(&mut flow, "case-0001/upload/media-1", answer.clone())
        else {
            panic!("{answer:?} must not count as an upload");
        };
        assert!(
            failure.reason.contains(reason_text),
            "{:?} lacks {reason_text:?}",
            failure.reason
        );
        assert_eq!(failure.retry, retry, "{answer:?}");
        assert!(matches!(
            flow.status(),
            FlowStatus::Open {
                next: Step::Upload { .. },
                ..
            }
        ));
    }
}

#[test]
fn a_text_only_referral_never_reports_uploads_as_done() {
    let mut flow = start(text_only_referral());
    assert!(!flow.files_required());
    step(
        &mut flow,
        "case-0002/submit",
        ok(report_response(0, "Success", Some(7))),
    );
    // Straight to finish: there is no upload step to run...
    step(&mut flow, "case-0002/finish", ok(done_response(7, &[])));
    let report = finished(&flow);
    assert!(report.file_ids.is_empty());
    assert_eq!(
        report.text_only_reason.as_deref(),
        Some("the reported content is comment text")
    );
    // ...and the step list says so, with the reason, never "succeeded".
    let rows = flow.steps();
    let names: Vec<(&str, &str)> = rows
        .iter()
        .map(|row| {
            let state = match row.state {
                StepState::Succeeded { .. } => "succeeded",
                StepState::NotApplicable { .. } => "not applicable",
                _ => "other",
            };
            (row.name.as_str(), state)
        })
        .collect();
    assert_eq!(
        names,
        [
            ("submit", "succeeded"),
            ("upload", "not applicable"),
            ("fileinfo", "not applicable"),
            ("finish", "succeeded")
        ]
    );
    let StepState::NotApplicable { reason } = &rows[1].state else {
        unreachable!()
    };
    assert!(reason.contains("comment text"), "{reason}");
}

#[test]
fn a_text_only_referral_under_a_type_that_needs_files_is_refused() {
    let mut referral = text_only_referral();
    referral.incident.incident_type = IncidentType::ChildPornography;
    let error = ReferralFlow::start(referral, now()).expect_err("files are required");
    assert_eq!(error.problems.len(), 1, "{error}");
    assert_eq!(error.problems[0].field, "evidence");
    assert!(
        error.to_string().contains("requires at least one file"),
        "{error}"
    );

    let mut empty = minimal_referral();
    empty.evidence = Evidence::Files(vec![]);
    let error = ReferralFlow::start(empty, now()).expect_err("no files");
    assert!(error.to_string().contains("must say why"), "{error}");
}

#[test]
fn recording_is_idempotent_and_refuses_steps_out_of_order() {
    let mut flow = start(minimal_referral());
    let submit = expect_run(&flow);
    let answer = ok(report_response(0, "Success", Some(REPORT)));
    // An outcome for a later step is refused and changes nothing.
    let before = flow.clone();
    let early = flow.record(&Step::Finish, &ok(done_response(REPORT, &[])));
    assert!(
        matches!(early, Err(FlowError::NotCurrentStep { .. })),
        "{early:?}"
    );
    assert_eq!(flow, before);
    assert_eq!(flow.record(&submit.step, &answer), Ok(Recorded::Succeeded));
    // The same delivery again (a replayed ledger entry, a duplicate worker): ignored.
    let after = flow.clone();
    assert_eq!(
        flow.record(&submit.step, &answer),
        Ok(Recorded::AlreadyRecorded)
    );
    assert_eq!(
        flow.record(&submit.step, &server_error()),
        Ok(Recorded::AlreadyRecorded)
    );
    assert_eq!(flow, after);
    // The next request is the same however often it is asked for.
    assert_eq!(expect_run(&flow), expect_run(&flow));
    // A closed flow refuses new steps but still recognises replays.
    step(
        &mut flow,
        "case-0001/upload/media-1",
        ok(upload_response(REPORT, "file-a", MD5_A)),
    );
    step(
        &mut flow,
        "case-0001/fileinfo/media-1",
        ok(report_response(0, "Success", Some(REPORT))),
    );
    step(
        &mut flow,
        "case-0001/finish",
        ok(done_response(REPORT, &["file-a"])),
    );
    assert_eq!(
        flow.record(&Step::Finish, &server_error()),
        Ok(Recorded::AlreadyRecorded)
    );
    assert!(matches!(
        flow.record(&Step::Retract, &server_error()),
        Err(FlowError::Closed { .. })
    ));
    assert!(matches!(
        flow.request_retraction(),
        Err(FlowError::NotAllowed { .. })
    ));
}

#[test]
fn the_flow_survives_a_round_trip_through_the_ledger() {
    let mut flow = start(full_referral());
    let script = happy_script();
    for (key, outcome) in &script[..3] {
        step(&mut flow, key, outcome.clone());
    }
    let stored = serde_json::to_string(&flow).expect("flow serialises");
    let mut resumed: ReferralFlow = serde_json::from_str(&stored).expect("flow deserialises");
    assert_eq!(resumed, flow);
    assert_eq!(
        resumed.schema().sha256,
        guardrail_cybertip::SchemaVersion::CURRENT_SHA256
    );
    for (key, outcome) in &script[3..] {
        step(&mut resumed, key, outcome.clone());
    }
    assert_eq!(finished(&resumed).file_ids, ids(&["file-a", "file-b"]));
}

#[test]
fn records_replay_to_the_same_flow_at_every_point() {
    use guardrail_cybertip::{FlowRecord, ReplayError, replay};
    let script = happy_script();
    // A failure at the upload, a person's retry, then every step: after each record the
    // replayed flow equals the live one.
    let mut flow = start(full_referral());
    let mut records = vec![FlowRecord::Started {
        referral: Box::new(full_referral()),
        at: now(),
    }];
    let mut outcomes: Vec<HttpOutcome> = script.iter().map(|(_, o)| o.clone()).collect();
    outcomes.insert(1, server_error());
    for outcome in outcomes {
        let request = expect_run(&flow);
        flow.record(&request.step, &outcome).expect("current step");
        records.push(FlowRecord::Outcome {
            step: request.step,
            outcome,
        });
        let stored = serde_json::to_string(&records).expect("records serialise");
        let read: Vec<FlowRecord> = serde_json::from_str(&stored).expect("records read back");
        assert_eq!(replay(&read).expect("records replay"), flow);
    }
    assert_eq!(finished(&flow).file_ids, ids(&["file-a", "file-b"]));
    // Records that do not fold are refused, naming the record.
    assert!(matches!(
        replay(&records[1..]),
        Err(ReplayError::NotStarted { index: 0, .. })
    ));
    let mut out_of_order = records[..1].to_vec();
    out_of_order.push(records[3].clone());
    assert!(matches!(
        replay(&out_of_order),
        Err(ReplayError::Refused { index: 1, .. })
    ));
}
