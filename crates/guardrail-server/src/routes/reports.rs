//! Reports and enforcement over HTTP: `POST /v1/reports`, `GET /v1/reports/{id}`,
//! `POST /v1/reports/{id}/transitions`, `POST /v1/enforcement`, `GET /v1/entities/{id}`.
//!
//! What it is for: report intake is idempotent by the reporter's `client_key` (the same key
//! and body answer the same report; another body under a used key is 409), triaged with
//! what the detectors know of the subject, and acknowledged once the `report_received`
//! event is durable. Reviewers move reports through the lifecycle's explicit states; the
//! lifecycle's checks (allowed moves, who may make them, referrals that must finish) refuse
//! anything else with 409 and the reason.
//!
//! What it must never do: lose an acknowledged report, move a report the lifecycle does not
//! allow, or let two reviewers' concurrent moves both land (the transition's event id is
//! the report's next step, so the second is a stored conflict, answered 409).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use guardrail_ledger::event::{EnforcementAction, Event, Payload, Subject};
use guardrail_ledger::state::{LedgerState, ReportRecord};
use guardrail_reports::{
    Actor, CapCheck, Intake, MoveError, ReportState, ReportSubmission, TriageInputs, check_cap,
    intake, plan_transition,
};
use guardrail_store::AppendOutcome;
use guardrail_text::check;
use guardrail_types::{AccountId, TextPlace};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{Shared, caller, loaded_ledger};
use crate::auth::{Caller, Scope};
use crate::error::{ApiError, JsonBody};
use crate::service::{Service, unix_now};

/// A report submission (`subject` is `{"account": ID}` or `{"post": ID}`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// The reporter's idempotency key.
    pub client_key: String,
    /// Who reports (an account id, or a system's name).
    pub reporter: String,
    /// What is reported.
    #[schema(value_type = Object)]
    pub subject: Subject,
    /// The category id (`child_sexual_exploitation`, ...).
    pub category: String,
    /// The reporter's words.
    #[serde(default)]
    pub text: String,
    /// Media hashes attached (`pdq:HEX`).
    #[serde(default)]
    pub media_hashes: Vec<String>,
}

/// A report as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportAnswer {
    /// The report id.
    pub id: String,
    /// The reporter's idempotency key.
    pub client_key: String,
    /// Its state.
    pub state: String,
    /// Its category.
    pub category: String,
    /// What is reported.
    #[schema(value_type = Object)]
    pub subject: Value,
    /// Priority, 0 the highest.
    pub priority: u8,
    /// When it was received (Unix seconds).
    pub received_at: u64,
    /// Every transition, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<Value>,
}

fn report_answer(record: &ReportRecord) -> ReportAnswer {
    ReportAnswer {
        id: record.report.clone(),
        client_key: record.client_key.clone(),
        state: record.state.clone(),
        category: record.category.clone(),
        subject: serde_json::to_value(&record.subject).unwrap_or(Value::Null),
        priority: record.priority,
        received_at: record.received_at,
        history: record
            .history
            .iter()
            .map(|t| {
                json!({"from": t.from, "to": t.to, "at": t.at, "actor": t.actor, "reason": t.reason})
            })
            .collect(),
    }
}

fn either(
    service: &Service,
    headers: &HeaderMap,
    first: Scope,
    second: Scope,
) -> Result<Caller, ApiError> {
    match caller(service, headers, first) {
        Err(error) if error.status == StatusCode::FORBIDDEN => caller(service, headers, second),
        other => other,
    }
}

/// What the detectors know of a report's subject, for triage.
fn triage_inputs(service: &Service, state: &LedgerState, body: &ReportBody) -> TriageInputs {
    let mut inputs = TriageInputs::default();
    if let Some(policy) = service.policy()
        && !body.text.is_empty()
    {
        inputs.text = Some(check(policy, TextPlace::Comment, &body.text).decision);
    }
    let account = state.subject_account(&body.subject);
    if let (Some(account), Some(guard)) = (account, service.guard()) {
        let snapshot = guard.snapshot();
        if let Some(network) = &snapshot.signals_of(account).network {
            inputs.network_score = Some(network.score);
            inputs.network_member = network.member;
        }
    }
    inputs
}

/// Receives a report.
#[utoipa::path(
    post, path = "/v1/reports", tag = "reports", request_body = ReportBody,
    responses(
        (status = 201, description = "The report (the same one again for the same client_key and body)", body = ReportAnswer),
        (status = 400, body = crate::openapi::ErrorBody), (status = 401, body = crate::openapi::ErrorBody),
        (status = 403, body = crate::openapi::ErrorBody),
        (status = 409, description = "The client_key was used with another body; details name the stored report", body = crate::openapi::ErrorBody),
        (status = 503, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn submit(
    State(service): Shared,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ReportBody>,
) -> Result<(StatusCode, Json<ReportAnswer>), ApiError> {
    caller(&service, &headers, Scope::Service)?;
    let submission = ReportSubmission {
        client_key: body.client_key.clone(),
        reporter: body.reporter.clone(),
        subject: body.subject.clone(),
        category: body.category.clone(),
        text: body.text.clone(),
        media_hashes: body.media_hashes.clone(),
    };
    let decided = {
        let state = loaded_ledger(&service)?;
        let inputs = triage_inputs(&service, &state, &body);
        intake(&state, &submission, &inputs, unix_now())
            .map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    let report = match decided {
        Intake::Existing { report, .. } => report,
        Intake::Conflict { report } => return Err(key_conflict(&report, &body.client_key)),
        Intake::New { report, event, .. } => {
            let outcomes = service
                .append(vec![*event])
                .await
                .map_err(|e| ApiError::unavailable(format!("the report was not stored: {e}")))?;
            if matches!(outcomes.first(), Some(AppendOutcome::Conflict { .. })) {
                return Err(key_conflict(&report, &body.client_key));
            }
            report
        }
    };
    let state = loaded_ledger(&service)?;
    let record = state.reports.get(&report).ok_or_else(|| {
        ApiError::unavailable(format!(
            "report {report} is stored but not folded yet; GET /v1/reports/{report} shortly"
        ))
    })?;
    Ok((StatusCode::CREATED, Json(report_answer(record))))
}

fn key_conflict(report: &str, key: &str) -> ApiError {
    ApiError::conflict(format!(
        "client_key {key:?} was used for report {report} with a different body; the stored report stands"
    ))
    .with_details(json!({ "id": report }))
}

/// A report by id.
#[utoipa::path(
    get, path = "/v1/reports/{id}", tag = "reports",
    params(("id" = String, Path, description = "The report id")),
    responses(
        (status = 200, body = ReportAnswer), (status = 401, body = crate::openapi::ErrorBody),
        (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_report(
    State(service): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ReportAnswer>, ApiError> {
    either(&service, &headers, Scope::Reviewer, Scope::Service)?;
    let state = loaded_ledger(&service)?;
    let record = state
        .reports
        .get(&id)
        .ok_or_else(|| ApiError::not_found(format!("no report {id:?}")))?;
    Ok(Json(report_answer(record)))
}

/// A move of a report to another state.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// The state to enter.
    pub to: String,
    /// Why, in words a later reviewer reads.
    pub reason: String,
    /// The state the reviewer saw the report in (refused with 409 if it moved since).
    #[serde(default)]
    pub from: Option<String>,
}

/// Moves a report through its lifecycle.
#[utoipa::path(
    post, path = "/v1/reports/{id}/transitions", tag = "reports",
    params(("id" = String, Path, description = "The report id")), request_body = TransitionBody,
    responses(
        (status = 200, description = "The report in its new state", body = ReportAnswer),
        (status = 400, body = crate::openapi::ErrorBody), (status = 401, body = crate::openapi::ErrorBody),
        (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody),
        (status = 409, description = "The lifecycle does not allow it, or the report moved meanwhile", body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn transition(
    State(service): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<TransitionBody>,
) -> Result<Json<ReportAnswer>, ApiError> {
    let who = caller(&service, &headers, Scope::Reviewer)?;
    let to: ReportState = body
        .to
        .parse()
        .map_err(|e: guardrail_reports::TransitionError| {
            ApiError::bad_request(format!("field `to`: {e}"))
        })?;
    let event = {
        let state = loaded_ledger(&service)?;
        let actor = Actor::Person(who.actor());
        plan_transition(
            &state,
            &id,
            to,
            &actor,
            &body.reason,
            body.from.as_deref(),
            unix_now(),
        )
        .map_err(|e| match e {
            MoveError::NotFound(_) => ApiError::not_found(e.to_string()),
            _ => ApiError::conflict(e.to_string()),
        })?
    };
    let outcomes = service
        .append(vec![event])
        .await
        .map_err(|e| ApiError::unavailable(format!("the transition was not stored: {e}")))?;
    if matches!(outcomes.first(), Some(AppendOutcome::Conflict { .. })) {
        return Err(ApiError::conflict(format!(
            "report {id} was moved by someone else at the same time; reload it"
        )));
    }
    get_report(State(service), headers, Path(id)).await
}

/// An enforcement action on an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnforcementBody {
    /// An idempotency id (retries with the same id store nothing new).
    #[serde(default)]
    pub id: Option<String>,
    /// The account.
    pub account: String,
    /// `takedown`, `restrict`, `warn` or another platform action.
    pub action: String,
    /// Why, in words.
    pub reason: String,
    /// The automated rule, when a rule acted.
    #[serde(default)]
    pub rule: Option<String>,
}

/// The stored action.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnforcementAnswer {
    /// The event id.
    pub id: String,
    /// Its sequence number in the ledger.
    pub seq: u64,
    /// `stored` or `duplicate`.
    pub outcome: String,
    /// The snapshot version that reflects it.
    pub snapshot: Option<u64>,
}

/// Records an enforcement action; the guard reflects it (a takedown flags the account and
/// labels the person behind it).
#[utoipa::path(
    post, path = "/v1/enforcement", tag = "reports", request_body = EnforcementBody,
    responses(
        (status = 201, body = EnforcementAnswer), (status = 400, body = crate::openapi::ErrorBody),
        (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
        (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn enforce(
    State(service): Shared,
    headers: HeaderMap,
    JsonBody(body): JsonBody<EnforcementBody>,
) -> Result<(StatusCode, Json<EnforcementAnswer>), ApiError> {
    let who = either(&service, &headers, Scope::Reviewer, Scope::Service)?;
    if body.action.trim().is_empty() || body.reason.trim().is_empty() {
        return Err(ApiError::bad_request(
            "fields `action` and `reason` must say what was done and why",
        ));
    }
    let tripped = {
        let state = loaded_ledger(&service)?;
        if state.account_id(&body.account).is_none() {
            return Err(ApiError::not_found(format!(
                "no account {:?} in the ledger",
                body.account
            )));
        }
        // A rule's actions are capped per hour; past the cap its breaker opens.
        match &body.rule {
            Some(rule) => {
                match check_cap(&state, rule, unix_now(), service.config.rule_cap_per_hour) {
                    CapCheck::Allowed { .. } => None,
                    CapCheck::Open { reason } => return Err(ApiError::too_many(reason)),
                    CapCheck::Trips { alert, reason } => Some((alert, reason)),
                }
            }
            None => None,
        }
    };
    if let Some((alert, reason)) = tripped {
        tracing::error!(rule = ?body.rule, %reason, "automated enforcement cap tripped");
        service
            .append(vec![*alert])
            .await
            .map_err(|e| ApiError::unavailable(format!("the cap's alert was not stored: {e}")))?;
        return Err(ApiError::too_many(reason));
    }
    let id = body
        .id
        .clone()
        .unwrap_or_else(|| format!("enforcement:{:016x}", rand::random::<u64>()));
    let event = Event::new(
        id.clone(),
        unix_now(),
        Payload::Enforcement(EnforcementAction {
            account: body.account.clone(),
            action: body.action.clone(),
            actor: who.actor(),
            reason: body.reason.clone(),
            rule: body.rule.clone(),
        }),
    );
    let outcomes = service
        .append(vec![event])
        .await
        .map_err(|e| ApiError::unavailable(format!("the action was not stored: {e}")))?;
    let (outcome, seq) = match outcomes.first() {
        Some(AppendOutcome::Stored { seq }) => ("stored", *seq),
        Some(AppendOutcome::Duplicate { seq }) => ("duplicate", *seq),
        Some(AppendOutcome::Conflict { .. }) | None => {
            return Err(ApiError::conflict(format!(
                "event id {id:?} was stored with another body"
            )));
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(EnforcementAnswer {
            id,
            seq,
            outcome: outcome.to_string(),
            snapshot: service.guard().map(|g| g.snapshot().version()),
        }),
    ))
}

/// The entity behind an account: accounts linked to it through shared identifiers, with
/// the evidence for each link and the actions on any of them.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityAnswer {
    /// The account asked about.
    pub account: String,
    /// Every account of the entity (the one asked about first).
    pub accounts: Vec<String>,
    /// Each link, in words: which two accounts share which identifier kind.
    #[schema(value_type = Vec<Object>)]
    pub links: Vec<Value>,
    /// Labels and takedowns on the entity's accounts.
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<Value>,
}

/// The largest entity answered (a shared identifier reaching further is reported as
/// truncated, not walked).
const MAX_ENTITY: usize = 200;

/// The entity of an account.
#[utoipa::path(
    get, path = "/v1/entities/{id}", tag = "reports",
    params(("id" = String, Path, description = "An account id")),
    responses(
        (status = 200, body = EntityAnswer), (status = 401, body = crate::openapi::ErrorBody),
        (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn entity(
    State(service): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<EntityAnswer>, ApiError> {
    caller(&service, &headers, Scope::Reviewer)?;
    let start = loaded_ledger(&service)?
        .account_id(&id)
        .ok_or_else(|| ApiError::not_found(format!("no account {id:?}")))?;
    // The linker's own view (canonical identifiers, the fan-out cap, backups named in
    // bios, labels through their chains) once the snapshot is loaded; before that, the
    // plain shared-identifier walk over the ledger.
    if let Some(guard) = service.guard() {
        let view = tokio::task::spawn_blocking(move || guard.entity(start))
            .await
            .map_err(|e| ApiError::unavailable(format!("the entity could not be read: {e}")))?;
        let state = loaded_ledger(&service)?;
        return Ok(Json(entity_from_view(&state, start, &view)));
    }
    let state = loaded_ledger(&service)?;
    Ok(Json(entity_of(&state, start)))
}

fn entity_from_view(
    state: &LedgerState,
    start: AccountId,
    view: &guardrail_adapter::EntityView,
) -> EntityAnswer {
    let name = |a: AccountId| {
        state
            .account(a)
            .map_or_else(|| format!("#{}", a.0), |r| r.external.clone())
    };
    let mut accounts = vec![name(start)];
    accounts.extend(
        view.members
            .iter()
            .filter(|&&a| a != start)
            .map(|&a| name(a)),
    );
    let links = view
        .links
        .iter()
        .map(|link| {
            json!({
                "from": name(link.a),
                "to": name(link.b),
                "shared": link.kind.as_str(),
                "evidence": link.evidence,
                "confidence": link.confidence,
                "merged": link.merged,
            })
        })
        .collect();
    let mut actions: Vec<Value> = view
        .labels
        .iter()
        .map(|l| {
            json!({
                "account": name(l.applied_to),
                "label": l.label.name,
                "reason": l.label.reason,
                "at": l.label.applied_at.0,
                "confidence": l.confidence,
            })
        })
        .collect();
    actions.extend(
        view.members
            .iter()
            .filter_map(|a| state.takedowns.get(a).map(|at| (a, at)))
            .map(|(a, at)| json!({"account": name(*a), "action": "takedown", "at": at})),
    );
    EntityAnswer {
        account: name(start),
        accounts,
        links,
        actions,
    }
}

fn identifiers(state: &LedgerState, account: AccountId) -> Vec<(&'static str, String)> {
    let Some(record) = state.account(account) else {
        return Vec::new();
    };
    let kinds: [(&'static str, &Vec<String>); 4] = [
        ("email", &record.emails),
        ("phone", &record.phones),
        ("device", &record.devices),
        ("payment handle", &record.payment_handles),
    ];
    kinds
        .into_iter()
        .flat_map(|(kind, items)| items.iter().map(move |i| (kind, i.trim().to_lowercase())))
        .filter(|(_, i)| !i.is_empty())
        .collect()
}

/// The other accounts of `account`'s entity, each with the evidence that links it.
pub(crate) fn linked_accounts(state: &LedgerState, account: AccountId) -> Vec<(String, String)> {
    entity_of(state, account)
        .links
        .iter()
        .filter_map(|link| {
            Some((
                link["to"].as_str()?.to_string(),
                link["evidence"].as_str()?.to_string(),
            ))
        })
        .collect()
}

pub(crate) fn entity_of(state: &LedgerState, start: AccountId) -> EntityAnswer {
    let mut by_identifier: BTreeMap<(&'static str, String), Vec<AccountId>> = BTreeMap::new();
    for index in 0..state.accounts.len() {
        let account = AccountId(index as u32);
        for key in identifiers(state, account) {
            by_identifier.entry(key).or_default().push(account);
        }
    }
    let mut seen: BTreeSet<AccountId> = BTreeSet::from([start]);
    let mut order = vec![start];
    let mut queue = VecDeque::from([start]);
    let mut links = Vec::new();
    while let Some(account) = queue.pop_front() {
        for key in identifiers(state, account) {
            for &other in by_identifier.get(&key).map_or(&[][..], Vec::as_slice) {
                if seen.len() >= MAX_ENTITY || !seen.insert(other) {
                    continue;
                }
                let name = |a: AccountId| {
                    state
                        .account(a)
                        .map_or_else(String::new, |r| r.external.clone())
                };
                links.push(json!({
                    "from": name(account),
                    "to": name(other),
                    "shared": key.0,
                    "evidence": format!("{} and {} share a {}", name(account), name(other), key.0),
                }));
                order.push(other);
                queue.push_back(other);
            }
        }
    }
    let members: BTreeSet<AccountId> = order.iter().copied().collect();
    let name = |a: AccountId| {
        state
            .account(a)
            .map_or_else(String::new, |r| r.external.clone())
    };
    let mut actions: Vec<Value> = state
        .labels
        .iter()
        .filter(|l| members.contains(&l.account) && l.lifted_at.is_none())
        .map(|l| json!({"account": name(l.account), "label": l.label, "reason": l.reason, "at": l.applied_at}))
        .collect();
    actions.extend(
        state
            .takedowns
            .iter()
            .filter(|(a, _)| members.contains(a))
            .map(|(a, at)| json!({"account": name(*a), "action": "takedown", "at": at})),
    );
    EntityAnswer {
        account: name(start),
        accounts: order.into_iter().map(name).collect(),
        links,
        actions,
    }
}
