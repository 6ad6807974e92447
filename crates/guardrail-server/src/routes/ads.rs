//! Ad delivery over HTTP: `POST /v1/ads/{ad}` registers an ad (its targeting and whether
//! it features a minor), `POST /v1/ads/{ad}/deliver` decides a batch of impressions, and
//! `GET /v1/ads/{ad}/monitor` reads out whom it reached against whom it targeted.
//!
//! What it is for: the platform's ad server asks, per batch of won impressions, which it may
//! show. An ad that features a minor (the advertiser's declaration or the platform's
//! classifier) is never shown to a risk-flagged viewer (the guard's delivery rule); with
//! delivery control on, each demographic group's share of impressions is held within the
//! controller's margin of its share of the eligible audience; every delivered impression
//! feeds the ad's streaming monitor (composition by gender and age range with Wilson
//! intervals, total variation, alerts past the bound).
//!
//! What it must never do: show a minor-featuring ad when the guard cannot say the viewer is
//! safe (no snapshot, an unknown viewer: excluded, with the reason), or report personal data
//! in the read-out (counts only). The per-ad state lives in this process: a restart or
//! another replica starts its counts afresh, which the read-out's `since_start` says.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use guardrail_ads::{
    AgeRange, AlertBound, Controller, ControllerConfig, Group, Monitor, MonitorReport,
};
use guardrail_policy::Action;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Shared, caller, contained, loaded_ledger};
use crate::auth::Scope;
use crate::error::{ApiError, JsonBody};

/// One ad's delivery state.
#[derive(Debug)]
struct AdDelivery {
    features_minor: bool,
    monitor: Monitor,
    controller: Option<Controller>,
    excluded: BTreeMap<String, u64>,
}

/// Every registered ad's delivery state (in this process).
#[derive(Debug, Default)]
pub struct AdsState {
    ads: Mutex<BTreeMap<String, AdDelivery>>,
}

/// An ad's registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdBody {
    /// Interests targeted: an account is eligible when it declared at least one.
    pub target_interests: Vec<String>,
    /// Only adults are eligible.
    #[serde(default = "yes")]
    pub adults_only: bool,
    /// The advertiser declares that the creative features a minor.
    #[serde(default)]
    pub declared_features_minor: bool,
    /// The platform's classifier says the creative features a minor.
    #[serde(default)]
    pub classified_features_minor: bool,
    /// Hold each group's delivered share near its eligible share (the delivery controller).
    #[serde(default = "yes")]
    pub control: bool,
}

fn yes() -> bool {
    true
}

/// A registered ad.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdAnswer {
    /// The ad.
    pub ad: String,
    /// People in the eligible audience.
    pub eligible: u64,
    /// Whether the ad counts as featuring a minor.
    pub features_minor: bool,
    /// Whether delivery control is on.
    pub control: bool,
}

/// Registers (or replaces) an ad: its eligible audience is counted from the ledger's accounts.
#[utoipa::path(
    post, path = "/v1/ads/{ad}", tag = "ads",
    params(("ad" = String, Path, description = "The platform's ad id")), request_body = AdBody,
    responses(
        (status = 201, body = AdAnswer), (status = 400, body = crate::openapi::ErrorBody),
        (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
        (status = 503, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn register(
    State(service): Shared,
    headers: HeaderMap,
    Path(ad): Path<String>,
    JsonBody(body): JsonBody<AdBody>,
) -> Result<(StatusCode, Json<AdAnswer>), ApiError> {
    caller(&service, &headers, Scope::Service)?;
    if body.target_interests.is_empty() {
        return Err(ApiError::bad_request(
            "field `target_interests`: an ad targets at least one interest",
        ));
    }
    let eligible: Vec<Group> = {
        let state = loaded_ledger(&service)?;
        state
            .accounts
            .iter()
            .filter(|a| !body.adults_only || a.declared_age >= 18)
            .filter(|a| {
                a.interests
                    .iter()
                    .any(|i| body.target_interests.contains(i))
            })
            .map(|a| Group::of(a.gender, AgeRange::of_age(a.declared_age)))
            .collect()
    };
    let monitor = Monitor::new(eligible.iter().copied(), AlertBound::default());
    let controller = body
        .control
        .then(|| Controller::new(monitor.eligible_counts(), ControllerConfig::default()));
    let features_minor = body.declared_features_minor || body.classified_features_minor;
    let answer = AdAnswer {
        ad: ad.clone(),
        eligible: eligible.len() as u64,
        features_minor,
        control: body.control,
    };
    lock(&service.ads.ads).insert(
        ad,
        AdDelivery {
            features_minor,
            monitor,
            controller,
            excluded: BTreeMap::new(),
        },
    );
    Ok((StatusCode::CREATED, Json(answer)))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// A batch of won impressions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverBody {
    /// The viewers, one per impression, in the order they were won.
    pub impressions: Vec<String>,
}

/// The decision on one impression.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImpressionDecision {
    /// The viewer.
    pub viewer: String,
    /// Whether the ad may be shown.
    pub deliver: bool,
    /// Why not, in words (the rule that excluded the viewer, or the controller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The decisions on a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliverAnswer {
    /// One per impression, in order.
    pub decisions: Vec<ImpressionDecision>,
    /// Impressions delivered in this batch.
    pub delivered: u64,
    /// Impressions excluded in this batch.
    pub excluded: u64,
}

/// The most impressions one batch may carry.
const MAX_IMPRESSIONS: usize = 100_000;

/// Decides a batch of impressions of an ad.
#[utoipa::path(
    post, path = "/v1/ads/{ad}/deliver", tag = "ads",
    params(("ad" = String, Path, description = "The ad")), request_body = DeliverBody,
    responses(
        (status = 200, body = DeliverAnswer), (status = 400, body = crate::openapi::ErrorBody),
        (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
        (status = 404, body = crate::openapi::ErrorBody), (status = 503, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn deliver(
    State(service): Shared,
    headers: HeaderMap,
    Path(ad): Path<String>,
    JsonBody(body): JsonBody<DeliverBody>,
) -> Result<Json<DeliverAnswer>, ApiError> {
    caller(&service, &headers, Scope::Service)?;
    if body.impressions.len() > MAX_IMPRESSIONS {
        return Err(ApiError::bad_request(format!(
            "{} impressions in one batch; send at most {MAX_IMPRESSIONS}",
            body.impressions.len()
        )));
    }
    let guard = service.fresh_guard().ok();
    let state = loaded_ledger(&service)?;
    let view = guard.as_ref().map(|g| g.view());
    let mut ads = lock(&service.ads.ads);
    let delivery = ads.get_mut(&ad).ok_or_else(|| {
        ApiError::not_found(format!("no ad {ad:?}; register it with POST /v1/ads/{ad}"))
    })?;
    let mut answer = DeliverAnswer {
        decisions: Vec::with_capacity(body.impressions.len()),
        delivered: 0,
        excluded: 0,
    };
    for viewer in body.impressions {
        let account = state.account_id(&viewer);
        let record = account.and_then(|a| state.account(a));
        let reason = match (account, record) {
            (Some(account), Some(record)) => {
                let group = Group::of(record.gender, AgeRange::of_age(record.declared_age));
                let risk = match &view {
                    Some(view) => {
                        match contained(|| view.decide_delivery(account, delivery.features_minor)) {
                            Ok(verdict) => (verdict.action == Action::Drop).then(|| {
                                verdict
                                    .decided_by
                                    .unwrap_or_else(|| "guardrail".to_string())
                            }),
                            Err(reason) => Some(reason),
                        }
                    }
                    None if delivery.features_minor => Some(
                        "fail closed: no fresh snapshot to say the viewer carries no risk"
                            .to_string(),
                    ),
                    None => None,
                };
                match risk {
                    Some(rule) => Some(rule),
                    None => {
                        let admitted = delivery
                            .controller
                            .as_mut()
                            .is_none_or(|controller| controller.decide(group));
                        if admitted {
                            delivery.monitor.record(group);
                            None
                        } else {
                            Some(format!(
                                "delivery control: {} is at its share of the eligible audience",
                                group.label()
                            ))
                        }
                    }
                }
            }
            _ => Some("unknown viewer: not in the ledger".to_string()),
        };
        match &reason {
            Some(why) => {
                answer.excluded += 1;
                *delivery.excluded.entry(why.clone()).or_default() += 1;
            }
            None => answer.delivered += 1,
        }
        answer.decisions.push(ImpressionDecision {
            viewer,
            deliver: reason.is_none(),
            reason,
        });
    }
    Ok(Json(answer))
}

/// An ad's read-out.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonitorAnswer {
    /// The ad.
    pub ad: String,
    /// Whom it reached against whom it targeted (counts and shares only).
    #[schema(value_type = Object)]
    pub monitor: MonitorReport,
    /// Impressions excluded, by reason.
    pub excluded: BTreeMap<String, u64>,
    /// Counts are this process's since the ad was registered here.
    pub since_start: bool,
}

/// The ad's delivery read-out.
#[utoipa::path(
    get, path = "/v1/ads/{ad}/monitor", tag = "ads",
    params(("ad" = String, Path, description = "The ad")),
    responses(
        (status = 200, body = MonitorAnswer), (status = 401, body = crate::openapi::ErrorBody),
        (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn monitor(
    State(service): Shared,
    headers: HeaderMap,
    Path(ad): Path<String>,
) -> Result<Json<MonitorAnswer>, ApiError> {
    match caller(&service, &headers, Scope::Reviewer) {
        Err(error) if error.status == StatusCode::FORBIDDEN => {
            caller(&service, &headers, Scope::Service)?;
        }
        other => {
            other?;
        }
    }
    let ads = lock(&service.ads.ads);
    let delivery = ads
        .get(&ad)
        .ok_or_else(|| ApiError::not_found(format!("no ad {ad:?}")))?;
    Ok(Json(MonitorAnswer {
        ad,
        monitor: delivery.monitor.report(),
        excluded: delivery.excluded.clone(),
        since_start: true,
    }))
}

/// One ad as the console shows it: its read-out and exclusions.
#[derive(Debug, Clone)]
pub struct AdSummary {
    /// The ad.
    pub ad: String,
    /// Whether it counts as featuring a minor.
    pub features_minor: bool,
    /// Whether delivery control is on.
    pub control: bool,
    /// The monitor's read-out.
    pub report: MonitorReport,
    /// Impressions excluded, by reason.
    pub excluded: BTreeMap<String, u64>,
}

impl AdsState {
    /// Every registered ad's read-out, by ad id.
    pub fn summaries(&self) -> Vec<AdSummary> {
        lock(&self.ads)
            .iter()
            .map(|(ad, delivery)| AdSummary {
                ad: ad.clone(),
                features_minor: delivery.features_minor,
                control: delivery.controller.is_some(),
                report: delivery.monitor.report(),
                excluded: delivery.excluded.clone(),
            })
            .collect()
    }
}
