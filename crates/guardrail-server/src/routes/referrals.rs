//! Referrals over HTTP: `POST /v1/reports/{id}/referral` refers a report to the clearing
//! house (or resumes its referral), `GET /v1/referrals/{id}` shows where one stands.
//!
//! What it is for: an investigator who moved a report to `referred` hands in the files (if
//! any) and the incident type; the service assembles the referral from the ledger and
//! drives the CyberTipline flow ([`crate::referrals`]), answering where it stands: finished
//! with the clearing house's report id, or open/blocked with the reason and an alert.
//!
//! What it must never do: answer success for a referral that did not finish, keep the
//! files it was handed, or let a reviewer (not an investigator) refer.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use base64::Engine;
use guardrail_cybertip::{
    Email, FileAnnotations, FileRelevance, IncidentType, IndustryClassification, Md5, Pdq,
    ReferralFile, Reporter, ReportingPerson, Sha1,
};
use guardrail_reports::{ReferralInputs, assemble_referral, referral_id};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{Shared, caller, loaded_ledger};
use crate::auth::Scope;
use crate::error::{ApiError, JsonBody};
use crate::referrals::{DriveError, ReferralAnswer, answer, drive, stored_flow};

/// A file handed in for a referral: its bytes live only for this request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralFileBody {
    /// The platform's key for the file (e.g. the media id); no `/`.
    pub key: String,
    /// The file name.
    pub name: String,
    /// The bytes, base64.
    pub content_base64: String,
    /// Industry classification (`A1`, `A2`, `B1`, `B2`), when a person classified it.
    #[serde(default)]
    pub industry_classification: Option<String>,
    /// Whether a person at the platform viewed the whole file.
    #[serde(default)]
    pub viewed_by_platform: Option<bool>,
    /// The PDQ hash Guardrail computed, hex.
    #[serde(default)]
    pub pdq: Option<String>,
}

/// A referral of a report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralBody {
    /// The incident type: `child_pornography`, `online_enticement`,
    /// `child_sex_trafficking`, `child_sex_tourism`, `child_sexual_molestation`,
    /// `misleading_domain_name`, `misleading_words_or_digital_images`,
    /// `unsolicited_obscene_material_sent_to_child`.
    pub incident_type: String,
    /// The files (none for a text-only referral).
    #[serde(default)]
    pub files: Vec<ReferralFileBody>,
    /// Why there are no files (required when `files` is empty).
    #[serde(default)]
    pub text_only_reason: Option<String>,
    /// Notes for the clearing house.
    #[serde(default)]
    pub additional_info: Option<String>,
    /// A step waiting for a person may run again (the person looked).
    #[serde(default)]
    pub retry: bool,
}

fn incident_type(name: &str) -> Result<IncidentType, ApiError> {
    Ok(match name {
        "child_pornography" => IncidentType::ChildPornography,
        "child_sex_trafficking" => IncidentType::ChildSexTrafficking,
        "child_sex_tourism" => IncidentType::ChildSexTourism,
        "child_sexual_molestation" => IncidentType::ChildSexualMolestation,
        "misleading_domain_name" => IncidentType::MisleadingDomainName,
        "misleading_words_or_digital_images" => IncidentType::MisleadingWordsOrDigitalImages,
        "online_enticement" => IncidentType::OnlineEnticement,
        "unsolicited_obscene_material_sent_to_child" => {
            IncidentType::UnsolicitedObsceneMaterialSentToChild
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "field `incident_type`: {other:?} is not one of the CyberTipline's incident types"
            )));
        }
    })
}

fn classification(text: &str) -> Result<IndustryClassification, ApiError> {
    Ok(match text {
        "A1" => IndustryClassification::A1,
        "A2" => IndustryClassification::A2,
        "B1" => IndustryClassification::B1,
        "B2" => IndustryClassification::B2,
        other => {
            return Err(ApiError::bad_request(format!(
                "field `industry_classification`: {other:?} is not A1, A2, B1 or B2"
            )));
        }
    })
}

/// File bytes by the platform's key, held for one request only.
type FileBytes = BTreeMap<String, Vec<u8>>;

/// The files' descriptions (digests computed here) and their bytes by key.
fn files(body: &ReferralBody) -> Result<(Vec<ReferralFile>, FileBytes), ApiError> {
    use md5::Digest as _;
    let mut described = Vec::new();
    let mut bytes = BTreeMap::new();
    for (index, file) in body.files.iter().enumerate() {
        let at = |what: String| ApiError::bad_request(format!("files[{index}]: {what}"));
        let content = base64::engine::general_purpose::STANDARD
            .decode(file.content_base64.as_bytes())
            .map_err(|e| at(format!("`content_base64` is not base64: {e}")))?;
        let hex = |digest: &[u8]| {
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        let md5 = Md5::parse(&hex(&md5::Md5::digest(&content))).map_err(|e| at(e.to_string()))?;
        let sha1 =
            Sha1::parse(&hex(&sha1::Sha1::digest(&content))).map_err(|e| at(e.to_string()))?;
        described.push(ReferralFile {
            key: file.key.clone(),
            file_name: file.name.clone(),
            size_bytes: content.len() as u64,
            md5,
            sha1,
            pdq: file
                .pdq
                .as_deref()
                .map(Pdq::parse)
                .transpose()
                .map_err(|e| at(e.to_string()))?,
            original_file_name: None,
            uploaded_to_platform_at: None,
            location_of_file: None,
            viewed_by_platform: file.viewed_by_platform,
            publicly_available: None,
            relevance: FileRelevance::Reported,
            annotations: FileAnnotations::default(),
            industry_classification: file
                .industry_classification
                .as_deref()
                .map(classification)
                .transpose()?,
            upload_ip: None,
            additional_info: Vec::new(),
        });
        if bytes.insert(file.key.clone(), content).is_some() {
            return Err(at(format!("key {:?} is used twice", file.key)));
        }
    }
    Ok((described, bytes))
}

/// Refers a report to the clearing house, or resumes its referral.
#[utoipa::path(
    post, path = "/v1/reports/{id}/referral", tag = "reports",
    params(("id" = String, Path, description = "The report id")), request_body = ReferralBody,
    responses(
        (status = 200, description = "Where the referral stands: `finished`, or `open`/`blocked` with the reason (an alert is raised)", body = ReferralAnswer),
        (status = 400, body = crate::openapi::ErrorBody), (status = 401, body = crate::openapi::ErrorBody),
        (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody),
        (status = 409, description = "The report is not referred, or another request is driving this referral", body = crate::openapi::ErrorBody),
        (status = 503, description = "No clearing house is configured, or the ledger is unavailable", body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn refer(
    State(service): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReferralBody>,
) -> Result<Json<ReferralAnswer>, ApiError> {
    let who = caller(&service, &headers, Scope::Investigator)?;
    // What the caller can fix comes first (400, 404, 409); a missing clearing house last.
    let incident = incident_type(&body.incident_type)?;
    let (described, bytes) = files(&body)?;
    {
        let state = loaded_ledger(&service)?;
        let record = state
            .reports
            .get(&id)
            .ok_or_else(|| ApiError::not_found(format!("no report {id:?}")))?;
        if record.state != "referred" && !state.referrals.contains_key(&referral_id(&id)) {
            return Err(ApiError::conflict(format!(
                "report {id} is {}; move it to referred (POST /v1/reports/{id}/transitions) before referring it",
                record.state
            )));
        }
    }
    let config = service.config.clearing_house.clone().ok_or_else(|| {
        ApiError::unavailable(
            "no clearing house is configured (guardrail serve --cybertip-url); the report stays referred and open",
        )
    })?;
    let subject = {
        let state = loaded_ledger(&service)?;
        state
            .reports
            .get(&id)
            .and_then(|r| state.subject_account(&r.subject))
    };
    // The person's other accounts as the linker sees them (the plain shared-identifier
    // walk only while the snapshot loads).
    let linked: Vec<(String, String)> = match (subject, service.guard()) {
        (Some(account), Some(guard)) => {
            let view = tokio::task::spawn_blocking(move || guard.entity(account))
                .await
                .map_err(|e| ApiError::unavailable(format!("the entity could not be read: {e}")))?;
            let state = loaded_ledger(&service)?;
            let name = |a: guardrail_types::AccountId| state.account(a).map(|r| r.external.clone());
            view.members
                .iter()
                .filter(|&&m| m != account)
                .filter_map(|&m| {
                    let why = view
                        .links
                        .iter()
                        .find(|l| l.merged && (l.a == m || l.b == m))
                        .map_or_else(
                            || "the same entity, through its other accounts".to_string(),
                            |l| l.evidence.clone(),
                        );
                    Some((name(m)?, why))
                })
                .collect()
        }
        (Some(account), None) => {
            let state = loaded_ledger(&service)?;
            super::reports::linked_accounts(&state, account)
        }
        (None, _) => Vec::new(),
    };
    let inputs = ReferralInputs {
        reporter: Reporter {
            reporting_person: ReportingPerson {
                first_name: None,
                last_name: None,
                phones: Vec::new(),
                email: Email::new(config.reporter_email.clone()),
            },
            contact_person: None,
            company_template: None,
            terms_of_service: None,
            legal_url: None,
        },
        platform: config.platform.clone(),
        incident_type: incident,
        files: described,
        text_only_reason: body.text_only_reason.clone(),
        additional_info: body
            .additional_info
            .clone()
            .map(|notes| format!("{notes} (referred by {})", who.actor())),
        linked,
    };
    let start = {
        let service = service.clone();
        let id = id.clone();
        move || {
            let state = service
                .ledger()
                .ok_or_else(|| "the ledger is loading".to_string())?;
            assemble_referral(&state, &id, inputs).map_err(|e| e.to_string())
        }
    };
    drive(&service, &config, &id, start, &bytes, body.retry)
        .await
        .map(Json)
        .map_err(|e| match e {
            DriveError::Concurrent(_) => ApiError::conflict(e.to_string()),
            _ => ApiError::unavailable(e.to_string()),
        })
}

/// Where a referral stands.
#[utoipa::path(
    get, path = "/v1/referrals/{id}", tag = "reports",
    params(("id" = String, Path, description = "The referral id (`referral-<report id>`)")),
    responses(
        (status = 200, body = ReferralAnswer), (status = 401, body = crate::openapi::ErrorBody),
        (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_referral(
    State(service): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ReferralAnswer>, ApiError> {
    caller(&service, &headers, Scope::Investigator)?;
    let report = {
        let state = loaded_ledger(&service)?;
        state
            .referrals
            .get(&id)
            .map(|r| r.report.clone())
            .ok_or_else(|| ApiError::not_found(format!("no referral {id:?}")))?
    };
    let flow = stored_flow(&service, &id);
    Ok(Json(answer(&service, &id, &report, flow.as_ref())))
}
