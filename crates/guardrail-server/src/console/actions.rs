//! The console's writes: claim and release a report, decide a case, reveal a media item.
//!
//! What it is for: each action is one or more ledger events carrying the reviewer and a
//! reason — a `report_transition` checked by the lifecycle (the same check the JSON route
//! makes), a `review_decision` for every decision, a `label_applied` with its expiry for
//! an action on the entity, a `referral_step` that opens the clearing-house referral, an
//! `evidence_viewed` for every reveal — appended through [`Service::append`], durable
//! before the page answers.
//!
//! What it must never do: act without the session's CSRF token and the role the action
//! needs, move a report the lifecycle does not allow, or show a media item before its
//! reveal is stored.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use guardrail_ledger::event::{
    Event, EvidenceViewed, LabelApplied, Payload, ReferralStep, ReportTransition, ReviewDecision,
};
use guardrail_reports::{Actor, ReportState, check_transition};
use guardrail_store::AppendOutcome;
use serde::Deserialize;

use super::pages::{MediaView, case_media, media_what, report_original, subject_account};
use super::{PageResult, Refused, Shared, Viewer, error_page, ledger, render};
use crate::auth::Scope;
use crate::service::{Service, unix_now};

/// A form posting a move: the CSRF token, the state the reviewer saw, and a reason.
#[derive(Debug, Deserialize)]
pub struct MoveForm {
    csrf: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// The events of one move of report `id` to `to`, checked against the lifecycle; `extra`
/// builds events stored with it (given the account the report names).
fn transition_events(
    service: &Service,
    viewer: &Viewer,
    id: &str,
    to: ReportState,
    seen: Option<&str>,
    reason: &str,
) -> Result<(Vec<Event>, Option<String>), Refused> {
    let state = ledger(service, viewer)?;
    let record = state.reports.get(id).ok_or_else(|| {
        error_page(
            Some(viewer),
            StatusCode::NOT_FOUND,
            &format!("There is no report {id}."),
        )
    })?;
    if let Some(seen) = seen.filter(|s| !s.is_empty())
        && seen != record.state
    {
        return Err(error_page(
            Some(viewer),
            StatusCode::CONFLICT,
            &format!(
                "Report {id} is {} now, not {seen}: someone moved it meanwhile. Reload it.",
                record.state
            ),
        ));
    }
    let finished = state
        .referrals
        .values()
        .any(|r| r.report == id && r.finished());
    let actor = Actor::Person(viewer.session.user.clone());
    let from = check_transition(record, to, &actor, reason, finished)
        .map_err(|e| error_page(Some(viewer), StatusCode::CONFLICT, &e.to_string()))?;
    let account = subject_account(&state, &record.subject)
        .and_then(|a| state.account(a))
        .map(|a| a.external.clone());
    let step = record.history.len() + 1;
    let event = Event::new(
        // The report's next step: two reviewers' concurrent moves are a stored conflict.
        format!("report-transition:{id}:{step}"),
        unix_now().max(record.state_at),
        Payload::ReportTransition(ReportTransition {
            report: id.to_string(),
            from: from.name().to_string(),
            to: to.name().to_string(),
            actor: actor.recorded(),
            reason: reason.to_string(),
        }),
    );
    Ok((vec![event], account))
}

/// Appends `events`, the first being the transition; a conflict on it means another
/// reviewer moved the report first.
async fn store(
    service: &Service,
    viewer: &Viewer,
    id: &str,
    events: Vec<Event>,
) -> Result<(), Refused> {
    let outcomes = service.append(events).await.map_err(|e| {
        error_page(
            Some(viewer),
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("Nothing was stored: the ledger refused the write ({e}). Try again."),
        )
    })?;
    if matches!(outcomes.first(), Some(AppendOutcome::Conflict { .. })) {
        return Err(error_page(
            Some(viewer),
            StatusCode::CONFLICT,
            &format!("Report {id} was moved by someone else at the same time; reload it."),
        ));
    }
    Ok(())
}

fn back_to_case(id: &str) -> Response {
    Redirect::to(&format!("/cases/{id}")).into_response()
}

/// `POST /queue/{id}/claim`: the report goes into review with the reviewer.
pub async fn claim(
    State(service): Shared,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> PageResult {
    viewer.require(Scope::Reviewer)?;
    viewer.check_csrf(form.csrf.as_deref())?;
    let reason = format!("claimed by {}", viewer.session.user);
    let (events, _) = transition_events(
        &service,
        &viewer,
        &id,
        ReportState::InReview,
        form.from.as_deref(),
        &reason,
    )?;
    store(&service, &viewer, &id, events).await?;
    Ok(back_to_case(&id))
}

/// `POST /queue/{id}/release`: back to the queue (triaged), by the reviewer who has it.
pub async fn release(
    State(service): Shared,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> PageResult {
    viewer.require(Scope::Reviewer)?;
    viewer.check_csrf(form.csrf.as_deref())?;
    // Only the reviewer who has the case gives it back (an admin may, for someone absent).
    let holder = {
        let state = ledger(&service, &viewer)?;
        state.reports.get(&id).and_then(super::pages::claimed_by)
    };
    if holder.as_deref() != Some(viewer.session.user.as_str())
        && !viewer.session.role.allows(Scope::Admin)
    {
        return Err(error_page(
            Some(&viewer),
            StatusCode::FORBIDDEN,
            &format!(
                "Report {id} is with {}; only they (or an admin) can release it.",
                holder.as_deref().unwrap_or("nobody")
            ),
        ));
    }
    let reason = form
        .reason
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| format!("released by {}", viewer.session.user));
    let (events, _) = transition_events(
        &service,
        &viewer,
        &id,
        ReportState::Triaged,
        form.from.as_deref(),
        &reason,
    )?;
    store(&service, &viewer, &id, events).await?;
    Ok(Redirect::to("/queue").into_response())
}

/// A decision on a case.
#[derive(Debug, Deserialize)]
pub struct DecideForm {
    csrf: Option<String>,
    #[serde(default)]
    from: Option<String>,
    /// `no_violation`, `action`, `refer`, `escalate` or `close`.
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    /// For `action`: the label to put on the entity.
    #[serde(default)]
    label: Option<String>,
    /// For `action`: days until the label lapses (empty: never).
    #[serde(default)]
    expires_days: Option<String>,
}

/// The longest label expiry, in days (five years).
const MAX_LABEL_DAYS: u64 = 5 * 365;

/// `POST /cases/{id}/decide`: no violation, an action (a label with an expiry on the
/// entity), a referral to the clearing house, an escalation, or closing a decided report.
pub async fn decide(
    State(service): Shared,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<DecideForm>,
) -> PageResult {
    viewer.require(Scope::Reviewer)?;
    viewer.check_csrf(form.csrf.as_deref())?;
    let reason = form.reason.trim().to_string();
    if reason.is_empty() {
        return Err(error_page(
            Some(&viewer),
            StatusCode::BAD_REQUEST,
            "Every decision needs a reason a later reviewer can read; nothing was stored.",
        ));
    }
    let to = match form.decision.as_str() {
        "no_violation" => ReportState::NoViolation,
        "action" => ReportState::Actioned,
        "refer" => ReportState::Referred,
        "escalate" => ReportState::Escalated,
        "close" => ReportState::Closed,
        other => {
            return Err(error_page(
                Some(&viewer),
                StatusCode::BAD_REQUEST,
                &format!(
                    "Unknown decision {other:?}: expected no_violation, action, refer, escalate or close."
                ),
            ));
        }
    };
    let (mut events, account) =
        transition_events(&service, &viewer, &id, to, form.from.as_deref(), &reason)?;
    let now = unix_now();
    let step = events
        .first()
        .map(|e| e.id.rsplit(':').next().unwrap_or("0").to_string())
        .unwrap_or_default();
    let subject = {
        let state = ledger(&service, &viewer)?;
        state.reports.get(&id).map(|r| r.subject.clone())
    };
    if let Some(subject) = subject
        && to != ReportState::Closed
    {
        events.push(Event::new(
            format!("review-decision:{id}:{step}"),
            now,
            Payload::ReviewDecision(ReviewDecision {
                subject,
                reviewer: viewer.actor(),
                decision: to.name().to_string(),
                reason: reason.clone(),
            }),
        ));
    }
    match to {
        ReportState::Actioned => {
            let label = form.label.as_deref().map(str::trim).unwrap_or_default();
            if label.is_empty() || label.len() > 100 {
                return Err(error_page(
                    Some(&viewer),
                    StatusCode::BAD_REQUEST,
                    "An action needs a label (1-100 characters) to put on the entity.",
                ));
            }
            let days = match form.expires_days.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(text) => match text.parse::<u64>() {
                    Ok(days) if (1..=MAX_LABEL_DAYS).contains(&days) => Some(days),
                    _ => {
                        return Err(error_page(
                            Some(&viewer),
                            StatusCode::BAD_REQUEST,
                            &format!("The expiry must be a whole number of days from 1 to {MAX_LABEL_DAYS}, or empty for none."),
                        ));
                    }
                },
            };
            let Some(account) = account else {
                return Err(error_page(
                    Some(&viewer),
                    StatusCode::CONFLICT,
                    "The reported account is not in the ledger, so there is no entity to label.",
                ));
            };
            events.push(Event::new(
                format!("label:{id}:{step}"),
                now,
                Payload::LabelApplied(LabelApplied {
                    account,
                    label: label.to_string(),
                    reason: reason.clone(),
                    actor: viewer.actor(),
                    expires_at: days.map(|d| now + d * 86_400),
                }),
            ));
        }
        ReportState::Referred => events.push(Event::new(
            format!("referral-step:{}:requested", guardrail_reports::referral_id(&id)),
            now,
            Payload::ReferralStep(ReferralStep {
                referral: guardrail_reports::referral_id(&id),
                report: id.clone(),
                step: "requested".to_string(),
                attempt: 0,
                outcome: "pending".to_string(),
                detail: format!(
                    "referred to the clearing house by {}; the submission runs when the platform hands in the files (POST /v1/reports/{id}/referral, docs/cybertipline.md)",
                    viewer.session.user
                ),
                record: None,
            }),
        )),
        _ => {}
    }
    store(&service, &viewer, &id, events).await?;
    Ok(back_to_case(&id))
}

#[derive(Template)]
#[template(path = "media_item.html")]
struct MediaItem<'a> {
    id: &'a str,
    item: MediaView,
    csrf: &'a str,
}

/// `POST /cases/{id}/media/{index}/reveal`: records who revealed which item of which case
/// (`evidence_viewed`), then shows it; for htmx the item alone, else the case again.
pub async fn reveal(
    State(service): Shared,
    viewer: Viewer,
    headers: HeaderMap,
    Path((id, index)): Path<(String, usize)>,
    Form(form): Form<MoveForm>,
) -> PageResult {
    viewer.require(Scope::Reviewer)?;
    viewer.check_csrf(form.csrf.as_deref())?;
    let (received_seq, post_hashes) = {
        let state = ledger(&service, &viewer)?;
        let record = state.reports.get(&id).ok_or_else(|| {
            error_page(
                Some(&viewer),
                StatusCode::NOT_FOUND,
                &format!("There is no report {id}."),
            )
        })?;
        let post_hashes = match &record.subject {
            guardrail_ledger::event::Subject::Post(post) => state
                .post_id(post)
                .and_then(|p| state.posts.get(p.index()))
                .map(|p| p.media_hashes.clone())
                .unwrap_or_default(),
            guardrail_ledger::event::Subject::Account(_) => Vec::new(),
        };
        (record.received_seq, post_hashes)
    };
    let mut hashes = report_original(&service, received_seq).await.media_hashes;
    hashes.extend(post_hashes);
    let item = {
        let state = ledger(&service, &viewer)?;
        case_media(&service, &state, &viewer, &id, &hashes)
            .into_iter()
            .find(|m| m.index == index)
    };
    let Some(mut item) = item else {
        return Err(error_page(
            Some(&viewer),
            StatusCode::NOT_FOUND,
            &format!("Report {id} has no media item {index}."),
        ));
    };
    audit_view(
        &service,
        &viewer,
        &id,
        media_what(index, &item.hash),
        "revealed a blurred media item while reviewing the case",
    )
    .await
    .map_err(|e| {
        error_page(
            Some(&viewer),
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("The reveal was not recorded, so the item stays blurred ({e})."),
        )
    })?;
    item.revealed = true;
    if headers.contains_key("hx-request") {
        return Ok(render(&MediaItem {
            id: &id,
            item,
            csrf: &viewer.session.csrf,
        }));
    }
    Ok(back_to_case(&id))
}

/// Records, durably, that `viewer` is about to see evidence (`evidence_viewed`: who, in
/// which role, what, of which subject, why). Callers show the evidence only once this
/// returned `Ok`: a view that cannot be recorded is not shown.
pub async fn audit_view(
    service: &Service,
    viewer: &Viewer,
    subject: &str,
    what: String,
    why: &str,
) -> Result<(), guardrail_store::StoreError> {
    let event = Event::new(
        format!(
            "evidence-viewed:{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        ),
        unix_now(),
        Payload::EvidenceViewed(EvidenceViewed {
            actor: viewer.actor(),
            role: viewer.session.role.name().to_string(),
            subject: subject.to_string(),
            what,
            why: why.to_string(),
        }),
    );
    service.append(vec![event]).await.map(|_| ())
}
