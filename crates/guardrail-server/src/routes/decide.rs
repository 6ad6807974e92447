//! The decision routes: `POST /v1/decide/{surface}`, `/v1/text/check`,
//! `/v1/autocomplete/filter` and `/v1/signup/decide`.
//!
//! What it is for: a platform's recommendation, search, autocomplete and sign-up paths ask
//! here, once per page of candidates. Every answer carries the verdict per candidate, the
//! rule that decided, the evidence behind each condition in words, and the snapshot
//! version it read; it equals `guardrail decide` on the same ledger state.
//!
//! What it must never do: answer 5xx or let a candidate through when the snapshot is
//! missing or stale. Then every candidate gets the safe verdict (`drop`, `fail_closed`,
//! `missing: ["snapshot"]`) and the answer says why. An account id the ledger has not seen
//! created is decided as an unknown account, which the engine fails closed on.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use guardrail_adapter::{GuardView, Signup};
use guardrail_ledger::state::LedgerState;
use guardrail_policy::{Action, ConditionUse, ShadowHit, Verdict};
use guardrail_text::{TextDecision, check};
use guardrail_types::{AccountId, Surface, TextPlace};
use guardrail_world::IdentifierKind;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{Shared, caller, contained};
use crate::auth::Scope;
use crate::error::{ApiError, JsonBody};
use crate::registry::RegistryCheck;
use crate::service::Service;

/// The most candidates one request may carry.
pub const MAX_CANDIDATES: usize = 10_000;

/// A decision request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    /// Who will see the result (account surfaces).
    #[serde(default)]
    pub viewer: Option<String>,
    /// The sender (message requests; the candidates are the recipients).
    #[serde(default)]
    pub sender: Option<String>,
    /// The search text or typed prefix (search, autocomplete, related hashtags).
    #[serde(default)]
    pub query: Option<String>,
    /// Candidate account ids; on autocomplete and related hashtags, candidate texts.
    #[serde(default)]
    pub candidates: Vec<String>,
}

/// A verdict as answered: the candidate and the engine's verdict on it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateVerdict {
    /// The candidate as asked (an account id, a text, or `query`).
    pub candidate: String,
    /// The surface.
    pub surface: String,
    /// `allow`, `downrank`, `interstitial` or `drop`.
    pub action: String,
    /// The enforced rule that decided, if any.
    pub decided_by: Option<String>,
    /// The deciding rule's conditions, each with its value and evidence in words.
    #[schema(value_type = Vec<Object>)]
    pub conditions: Vec<ConditionAnswer>,
    /// Whether the decision rests on a missing signal taken as unsafe.
    pub fail_closed: bool,
    /// The signals that were missing where the decision needed them.
    pub missing: Vec<String>,
    /// Shadow rules that would have acted.
    #[schema(value_type = Vec<Object>)]
    pub shadow: Vec<ShadowHit>,
    /// The surface shows help resources instead of results.
    pub help_resources: bool,
}

/// A condition as answered: the engine's own (serialised straight from the verdict, with
/// no intermediate JSON tree: answers carry a hundred verdicts), or the one a fail-closed
/// verdict names.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ConditionAnswer {
    /// A condition of the deciding rule.
    Engine(ConditionUse),
    /// What a fail-closed verdict could not establish.
    FailClosed(Value),
}

/// The answer: one verdict per candidate, and the snapshot they read.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecideAnswer {
    /// One per candidate, in the order asked.
    pub verdicts: Vec<CandidateVerdict>,
    /// The snapshot version the verdicts read (`null` when they failed closed without one).
    pub snapshot: Option<u64>,
    /// Why every verdict failed closed, when no fresh snapshot could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_closed_reason: Option<String>,
}

fn answer(candidate: String, verdict: Verdict) -> CandidateVerdict {
    CandidateVerdict {
        candidate,
        surface: verdict.surface.name().to_string(),
        action: verdict.action.name().to_string(),
        decided_by: verdict.decided_by,
        conditions: verdict
            .conditions
            .into_iter()
            .map(ConditionAnswer::Engine)
            .collect(),
        fail_closed: verdict.fail_closed,
        missing: verdict.missing,
        shadow: verdict.shadow,
        help_resources: verdict.help_resources,
    }
}

fn fail_closed(surface: Surface, candidate: String, reason: &str) -> CandidateVerdict {
    fail_closed_on(surface, candidate, "snapshot_fresh", "snapshot", reason)
}

/// The safe verdict when `condition` could not be established (`missing` names what was
/// not there): drop, with the reason as its evidence.
fn fail_closed_on(
    surface: Surface,
    candidate: String,
    condition: &str,
    missing: &str,
    reason: &str,
) -> CandidateVerdict {
    CandidateVerdict {
        candidate,
        surface: surface.name().to_string(),
        action: Action::Drop.name().to_string(),
        decided_by: Some("fail_closed".to_string()),
        conditions: vec![ConditionAnswer::FailClosed(json!({
            "condition": condition,
            "value": "false",
            "evidence": [reason],
        }))],
        fail_closed: true,
        missing: vec![missing.to_string()],
        shadow: Vec::new(),
        help_resources: false,
    }
}

/// Resolves a platform id (or handle) to the dense id; an unseen account is decided as
/// unknown (beyond every dense id), which fails closed.
fn resolve(view: &GuardView<'_>, name: &str) -> AccountId {
    view.snapshot()
        .account_by_name(name)
        .unwrap_or(AccountId(u32::MAX))
}

fn is_text_surface(surface: Surface) -> bool {
    matches!(surface, Surface::Autocomplete | Surface::RelatedHashtags)
}

fn check_request(surface: Surface, request: &DecideRequest) -> Result<(), ApiError> {
    if request.candidates.len() > MAX_CANDIDATES {
        return Err(ApiError::bad_request(format!(
            "{} candidates; send at most {MAX_CANDIDATES} per request",
            request.candidates.len()
        )));
    }
    let query_surface = matches!(
        surface,
        Surface::Search | Surface::Autocomplete | Surface::RelatedHashtags
    );
    if query_surface && request.query.is_none() {
        return Err(ApiError::bad_request(format!(
            "field `query`: the {} surface decides on what the user typed; send \"query\"",
            surface.name()
        )));
    }
    if !query_surface && request.candidates.is_empty() {
        return Err(ApiError::bad_request(
            "field `candidates`: nothing to decide; send at least one candidate account id",
        ));
    }
    if surface == Surface::MessageRequests && request.sender.is_none() {
        return Err(ApiError::bad_request(
            "field `sender`: message requests are decided for the sender; send \"sender\"",
        ));
    }
    Ok(())
}

/// Decides every candidate for a surface.
#[utoipa::path(
    post, path = "/v1/decide/{surface}", tag = "decisions",
    params(("surface" = String, Path, description = "account_suggestions, similar_accounts, feed, search, autocomplete, related_hashtags or message_requests")),
    request_body = DecideRequest,
    responses(
        (status = 200, description = "One verdict per candidate (fail-closed verdicts when no fresh snapshot)", body = DecideAnswer),
        (status = 400, body = crate::openapi::ErrorBody), (status = 401, body = crate::openapi::ErrorBody),
        (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn decide(
    State(service): Shared,
    headers: HeaderMap,
    Path(surface): Path<String>,
    JsonBody(request): JsonBody<DecideRequest>,
) -> Result<Json<DecideAnswer>, ApiError> {
    caller(&service, &headers, Scope::Service)?;
    let surface: Surface = surface.parse().map_err(|e: guardrail_types::UnknownName| {
        ApiError::not_found(format!("no such surface: {e}"))
    })?;
    check_request(surface, &request)?;
    let answer = decide_on(&service, surface, &request);
    service.metrics.decisions(
        surface.name(),
        answer
            .verdicts
            .iter()
            .map(|v| (v.action.as_str(), v.decided_by.as_deref(), v.fail_closed)),
    );
    Ok(Json(answer))
}

/// The decisions themselves (shared with the in-process benchmark).
pub fn decide_on(service: &Service, surface: Surface, request: &DecideRequest) -> DecideAnswer {
    let guard = match service.fresh_guard() {
        Ok(guard) => guard,
        Err(unready) => {
            let reason = unready.reason();
            let mut names: Vec<String> = request.candidates.clone();
            if names.is_empty() {
                names.push("query".to_string());
            }
            return DecideAnswer {
                verdicts: names
                    .into_iter()
                    .map(|c| fail_closed(surface, c, &reason))
                    .collect(),
                snapshot: None,
                fail_closed_reason: Some(reason),
            };
        }
    };
    let view = guard.view();
    let viewer_name = if surface == Surface::MessageRequests {
        request.sender.as_deref()
    } else {
        request.viewer.as_deref()
    };
    let viewer = viewer_name.map(|name| resolve(&view, name));
    let query = request.query.as_deref().unwrap_or("");
    let mut verdicts = Vec::with_capacity(request.candidates.len().max(1));
    // Each decision is contained on its own: a fault fails that candidate closed.
    let decided = |candidate: &str, decide: &dyn Fn() -> Verdict| match contained(decide) {
        Ok(verdict) => answer(candidate.to_string(), verdict),
        Err(reason) => fail_closed_on(
            surface,
            candidate.to_string(),
            "engine_ran",
            "decision",
            &reason,
        ),
    };
    if is_text_surface(surface) {
        for text in &request.candidates {
            verdicts.push(decided(text, &|| view.decide_text(surface, query, text)));
        }
    } else {
        if surface == Surface::Search {
            verdicts.push(decided("query", &|| view.decide_query(query)));
        }
        for name in &request.candidates {
            verdicts.push(decided(name, &|| {
                view.decide_account(surface, viewer, resolve(&view, name))
            }));
        }
    }
    if verdicts.is_empty() {
        verdicts.push(decided("query", &|| view.decide_query(query)));
    }
    DecideAnswer {
        verdicts,
        snapshot: Some(view.snapshot().version()),
        fail_closed_reason: None,
    }
}

/// A text to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextCheckRequest {
    /// The text.
    pub text: String,
    /// Where it sits: search, hashtag, autocomplete, bio, caption, comment or username.
    #[serde(default = "default_place")]
    pub place: String,
}

fn default_place() -> String {
    TextPlace::Search.name().to_string()
}

/// The text guard's verdict: `decision` is `allow`, `restrict` or `block`; every match
/// carries its rule, tier, category and span in the original text.
#[derive(Debug, Serialize, ToSchema)]
pub struct TextCheckAnswer {
    /// `allow`, `restrict` or `block`.
    pub decision: String,
    /// Where the text sits.
    pub place: String,
    /// What decided: a rule id, `risk_score`, `truncated_input`, or `none`.
    pub decided_by: String,
    /// Combined weight of signal matches, in [0, 1].
    pub risk_score: f64,
    /// Every match, with its span (byte offsets in the original text).
    pub matches: Vec<Value>,
    /// What was wrong with the input.
    pub diagnostics: Vec<Value>,
}

fn parse_place(name: &str) -> Result<TextPlace, ApiError> {
    name.parse().map_err(|e: guardrail_types::UnknownName| {
        ApiError::bad_request(format!("field `place`: {e}"))
    })
}

fn text_answer(verdict: &guardrail_text::TextVerdict) -> TextCheckAnswer {
    let value = serde_json::to_value(verdict).unwrap_or(Value::Null);
    let list = |key: &str| match value.get(key) {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    TextCheckAnswer {
        decision: verdict.decision.name().to_string(),
        place: verdict.place.name().to_string(),
        decided_by: verdict.decided_by.to_string(),
        risk_score: verdict.risk_score,
        matches: list("matches"),
        diagnostics: list("diagnostics"),
    }
}

/// Checks one text with the text guard.
#[utoipa::path(
    post, path = "/v1/text/check", tag = "decisions", request_body = TextCheckRequest,
    responses(
        (status = 200, description = "The verdict with its matches and spans", body = TextCheckAnswer),
        (status = 400, body = crate::openapi::ErrorBody), (status = 401, body = crate::openapi::ErrorBody),
        (status = 403, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn text_check(
    State(service): Shared,
    headers: HeaderMap,
    JsonBody(request): JsonBody<TextCheckRequest>,
) -> Result<Json<TextCheckAnswer>, ApiError> {
    caller(&service, &headers, Scope::Service)?;
    let place = parse_place(&request.place)?;
    let Some(policy) = service.policy() else {
        return Ok(Json(TextCheckAnswer {
            decision: TextDecision::Block.name().to_string(),
            place: place.name().to_string(),
            decided_by: "fail_closed".to_string(),
            risk_score: 0.0,
            matches: Vec::new(),
            diagnostics: vec![json!({
                "kind": "fail_closed",
                "message": "the text policy is not loaded yet: the service is still reading the ledger",
            })],
        }));
    };
    match contained(|| check(policy, place, &request.text)) {
        Ok(verdict) => Ok(Json(text_answer(&verdict))),
        Err(reason) => Ok(Json(TextCheckAnswer {
            decision: TextDecision::Block.name().to_string(),
            place: place.name().to_string(),
            decided_by: "fail_closed".to_string(),
            risk_score: 0.0,
            matches: Vec::new(),
            diagnostics: vec![json!({ "kind": "fail_closed", "message": reason })],
        })),
    }
}

/// Autocomplete suggestions to filter.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutocompleteRequest {
    /// What the user typed.
    pub prefix: String,
    /// The suggestions the platform would show, in order.
    pub suggestions: Vec<String>,
}

/// The suggestions that may be shown, and why each other one may not.
#[derive(Debug, Serialize, ToSchema)]
pub struct AutocompleteAnswer {
    /// The suggestions kept, in the order given.
    pub kept: Vec<String>,
    /// One verdict per suggestion, in the order given.
    pub verdicts: Vec<CandidateVerdict>,
    /// The snapshot read (`null` when failed closed).
    pub snapshot: Option<u64>,
}

/// Filters autocomplete suggestions for a typed prefix.
#[utoipa::path(
    post, path = "/v1/autocomplete/filter", tag = "decisions", request_body = AutocompleteRequest,
    responses(
        (status = 200, description = "The suggestions kept, and a verdict for each", body = AutocompleteAnswer),
        (status = 400, body = crate::openapi::ErrorBody), (status = 401, body = crate::openapi::ErrorBody),
        (status = 403, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn autocomplete_filter(
    State(service): Shared,
    headers: HeaderMap,
    JsonBody(request): JsonBody<AutocompleteRequest>,
) -> Result<Json<AutocompleteAnswer>, ApiError> {
    caller(&service, &headers, Scope::Service)?;
    let decided = decide_on(
        &service,
        Surface::Autocomplete,
        &DecideRequest {
            viewer: None,
            sender: None,
            query: Some(request.prefix.clone()),
            candidates: request.suggestions.clone(),
        },
    );
    let kept = decided
        .verdicts
        .iter()
        .filter(|v| v.action == Action::Allow.name())
        .map(|v| v.candidate.clone())
        .collect();
    service.metrics.decisions(
        Surface::Autocomplete.name(),
        decided
            .verdicts
            .iter()
            .map(|v| (v.action.as_str(), v.decided_by.as_deref(), v.fail_closed)),
    );
    Ok(Json(AutocompleteAnswer {
        kept,
        verdicts: decided.verdicts,
        snapshot: decided.snapshot,
    }))
}

/// An account being created.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// The handle chosen.
    pub handle: String,
    /// The bio, if any.
    #[serde(default)]
    pub bio: String,
    /// The declared age.
    #[serde(default)]
    pub declared_age: Option<u8>,
    /// Email addresses.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Phone numbers.
    #[serde(default)]
    pub phones: Vec<String>,
    /// Device ids.
    #[serde(default)]
    pub devices: Vec<String>,
    /// Payment handles.
    #[serde(default)]
    pub payment_handles: Vec<String>,
    /// The declared country (two letters), for phone numbers written nationally.
    #[serde(default)]
    pub country: Option<String>,
}

/// What sign-up should do, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignupAnswer {
    /// `allow`, `review` (let it in, queue it for a person) or `block`.
    pub action: String,
    /// Why, in words.
    pub reasons: Vec<String>,
    /// Accounts that share an identifier with the new one and carry an enforcement or a
    /// label: the entity the new account would join.
    pub linked_accounts: Vec<Value>,
    /// The text guard's verdicts on the handle and the bio.
    pub text: Vec<TextCheckAnswer>,
    /// Labels in force on the entity the account would join, each with the chain of links
    /// that carries it (the account gets them at creation).
    pub inherited_labels: Vec<String>,
    /// The offender registry: `match`, `no match`, or `not checked: <why>`.
    pub registry: String,
}

/// A label the new account would inherit, in words, naming accounts by the platform's ids.
fn describe_inherited(
    state: &LedgerState,
    new_account: AccountId,
    inherited: &guardrail_policy::entities::InheritedLabel,
) -> String {
    let name = |a: AccountId| {
        if a == new_account {
            "the new account".to_string()
        } else {
            state.account(a).map_or_else(
                || format!("#{}", a.0),
                |r| format!("account {}", r.external),
            )
        }
    };
    let chain: Vec<String> = inherited
        .path
        .iter()
        .map(|link| format!("{} and {}: {}", name(link.a), name(link.b), link.evidence))
        .collect();
    format!(
        "label {} ({}; applied by {}) on {}, reached with confidence {:.2} through {}",
        inherited.label.name,
        inherited.label.reason,
        inherited.label.actor,
        name(inherited.applied_to),
        inherited.confidence,
        if chain.is_empty() {
            "the account itself".to_string()
        } else {
            chain.join("; then ")
        }
    )
}

/// Accounts that share an identifier with the sign-up and were actioned (taken down or
/// labelled), with the identifier kind that links them.
fn actioned_links(state: &LedgerState, request: &SignupRequest) -> Vec<Value> {
    fn wanted<'a>(
        kind: &'static str,
        items: &'a [String],
    ) -> impl Iterator<Item = (&'static str, String)> + 'a {
        items
            .iter()
            .map(move |i| (kind, i.trim().to_lowercase()))
            .filter(|(_, i)| !i.is_empty())
    }
    let identifiers: BTreeSet<(&str, String)> = wanted("email", &request.emails)
        .chain(wanted("phone", &request.phones))
        .chain(wanted("device", &request.devices))
        .chain(wanted("payment handle", &request.payment_handles))
        .collect();
    if identifiers.is_empty() {
        return Vec::new();
    }
    let labelled: BTreeSet<AccountId> = state
        .labels
        .iter()
        .filter(|l| l.lifted_at.is_none())
        .map(|l| l.account)
        .chain(state.takedowns.keys().copied())
        .collect();
    let mut links = Vec::new();
    for account in labelled {
        let Some(record) = state.account(account) else {
            continue;
        };
        let shares = |kind: &'static str, items: &[String]| {
            items
                .iter()
                .any(|i| identifiers.contains(&(kind, i.trim().to_lowercase())))
                .then_some(kind)
        };
        let kinds: Vec<&str> = [
            shares("email", &record.emails),
            shares("phone", &record.phones),
            shares("device", &record.devices),
            shares("payment handle", &record.payment_handles),
        ]
        .into_iter()
        .flatten()
        .collect();
        if kinds.is_empty() {
            continue;
        }
        let why: Vec<String> = state
            .labels
            .iter()
            .filter(|l| l.account == account && l.lifted_at.is_none())
            .map(|l| format!("label {} ({})", l.label, l.reason))
            .chain(
                state
                    .takedowns
                    .contains_key(&account)
                    .then(|| "taken down".to_string()),
            )
            .collect();
        links.push(json!({
            "account": record.external,
            "shared": kinds,
            "actions": why,
        }));
    }
    links
}

/// Decides an account at creation: its handle and bio through the text guard, and its
/// identifiers against accounts already actioned.
#[utoipa::path(
    post, path = "/v1/signup/decide", tag = "decisions", request_body = SignupRequest,
    responses(
        (status = 200, description = "allow, review or block, with reasons", body = SignupAnswer),
        (status = 400, body = crate::openapi::ErrorBody), (status = 401, body = crate::openapi::ErrorBody),
        (status = 403, body = crate::openapi::ErrorBody), (status = 503, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn signup_decide(
    State(service): Shared,
    headers: HeaderMap,
    JsonBody(request): JsonBody<SignupRequest>,
) -> Result<Json<SignupAnswer>, ApiError> {
    caller(&service, &headers, Scope::Service)?;
    let fail_closed = || {
        Json(SignupAnswer {
            action: "review".to_string(),
            reasons: vec![
                "fail closed: the service is still reading the ledger, so identifiers cannot be checked".to_string(),
            ],
            linked_accounts: Vec::new(),
            text: Vec::new(),
            inherited_labels: Vec::new(),
            registry: "not checked: the service is still reading the ledger".to_string(),
        })
    };
    let mut reasons = Vec::new();
    let mut action = "allow";
    let mut text = Vec::new();
    // Everything that reads the ledger, in a scope of its own: its lock is not held
    // across the entity check's await.
    let (registry, linked_accounts) = {
        let (Some(policy), Some(state)) = (service.policy(), service.ledger()) else {
            return Ok(fail_closed());
        };
        for (place, value) in [
            (TextPlace::Username, &request.handle),
            (TextPlace::Bio, &request.bio),
        ] {
            if value.is_empty() {
                continue;
            }
            let verdict = match contained(|| check(policy, place, value)) {
                Ok(verdict) => verdict,
                Err(reason) => {
                    // Like every other fail-closed path at sign-up: a person reviews.
                    if action == "allow" {
                        action = "review";
                    }
                    reasons.push(format!("{} not checked: {reason}", place.name()));
                    continue;
                }
            };
            match verdict.decision {
                TextDecision::Block => {
                    action = "block";
                    reasons.push(format!(
                        "{} blocked by {}",
                        place.name(),
                        verdict.decided_by
                    ));
                }
                TextDecision::Restrict => {
                    if action == "allow" {
                        action = "review";
                    }
                    reasons.push(format!(
                        "{} restricted by {}",
                        place.name(),
                        verdict.decided_by
                    ));
                }
                _ => {}
            }
            text.push(text_answer(&verdict));
        }
        let registry = service.registry.check(
            service.config.registry_key.as_ref(),
            &state,
            &request.emails,
        );
        (registry, actioned_links(&state, &request))
    };
    let registry = match registry {
        RegistryCheck::Checked { matches: 0, .. } => "no match".to_string(),
        RegistryCheck::Checked { matches, version } => {
            action = if action == "block" { "block" } else { "review" };
            reasons.push(format!(
                "{matches} email(s) are on the offender registry's list issued at {version}: a high-priority case opens for a person when the account is created; no automatic public action"
            ));
            "match".to_string()
        }
        RegistryCheck::Unusable(why) => {
            action = if action == "block" { "block" } else { "review" };
            reasons.push(format!(
                "fail closed: the offender registry cannot be read ({why}), so a person reviews"
            ));
            format!("not checked: {why}")
        }
        RegistryCheck::NotConfigured(why) => format!("not checked: {why}"),
    };
    let mut inherited_labels = Vec::new();
    match service.guard() {
        Some(guard) => {
            let guard = guard.clone();
            let asked = request.clone();
            let probe = tokio::task::spawn_blocking(move || {
                let mut identifiers = Vec::new();
                for (kind, items) in [
                    (IdentifierKind::Email, &asked.emails),
                    (IdentifierKind::Phone, &asked.phones),
                    (IdentifierKind::Device, &asked.devices),
                    (IdentifierKind::Payment, &asked.payment_handles),
                ] {
                    identifiers.extend(items.iter().map(|i| (kind, i.as_str())));
                }
                let probe = guard.signup_probe(&Signup {
                    handle: &asked.handle,
                    bio: &asked.bio,
                    country: asked.country.as_deref().unwrap_or(""),
                    identifiers,
                });
                (probe.account, probe.probe.labels, probe.taken_down.len())
            })
            .await;
            match probe {
                Ok((new_account, inherited, taken_down)) => {
                    let labels: Vec<String> = match service.ledger() {
                        Some(state) => inherited
                            .iter()
                            .map(|l| describe_inherited(&state, new_account, l))
                            .collect(),
                        None => inherited.iter().map(|l| l.describe(new_account)).collect(),
                    };
                    if !labels.is_empty() || taken_down > 0 {
                        action = if action == "block" { "block" } else { "review" };
                    }
                    reasons.extend(labels.iter().map(|l| format!("inherits {l}")));
                    if taken_down > 0 {
                        reasons.push(format!(
                            "joins an entity with {taken_down} account(s) the platform took down"
                        ));
                    }
                    inherited_labels = labels;
                }
                Err(e) => {
                    action = if action == "block" { "block" } else { "review" };
                    reasons.push(format!(
                        "fail closed: the entity check failed ({e}), so a person reviews"
                    ));
                }
            }
        }
        None => {
            action = if action == "block" { "block" } else { "review" };
            reasons.push(
                "fail closed: the snapshot is still loading, so entity labels cannot be checked"
                    .to_string(),
            );
        }
    }

    if !linked_accounts.is_empty() {
        if action == "allow" {
            action = "review";
        }
        reasons.push(format!(
            "shares identifiers with {} actioned account(s): the same person or operation may be returning",
            linked_accounts.len()
        ));
    }
    if reasons.is_empty() {
        reasons.push("no text rule matched and no identifier links to an actioned account".into());
    }
    Ok(Json(SignupAnswer {
        action: action.to_string(),
        reasons,
        linked_accounts,
        text,
        inherited_labels,
        registry,
    }))
}
