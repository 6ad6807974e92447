//! `/c/exchanges...` and `/c/exchange/...`, answered minimally in HMA's shapes so that
//! clients that probe them (the Ruby client's `require_exchange_apis_configured!`, Coop's
//! exchange pages) work. Guardrail never fetches from ThreatExchange, NCMEC or StopNCII.
//!
//! Credentials posted here are checked for shape and then dropped: only the fact that
//! they were set is kept and journalled. This module must never store, log or echo a
//! credential.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::json_object;
use crate::coerce;
use crate::error::ApiError;
use crate::journal::BankChange;
use crate::json::{json_response, raw_json_response};
use crate::state::HmaState;

/// The exchange types, in HMA's configuration order (the Ruby spec needs `sample` first).
const EXCHANGE_APIS: [&str; 3] = ["sample", "ncmec", "stop_ncii"];

/// The credential fields each type that takes credentials requires.
fn credential_fields(api: &str) -> Option<&'static [&'static str]> {
    match api {
        "ncmec" => Some(&["user", "password"]),
        "stop_ncii" => Some(&["fetch_function_key", "subscription_key"]),
        _ => None,
    }
}

fn require_api(api: &str) -> Result<&str, ApiError> {
    if EXCHANGE_APIS.contains(&api) {
        Ok(api)
    } else {
        Err(ApiError::bad(format!("no such Exchange API '{api}'")))
    }
}

fn exchange_not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!("Exchange '{name}' not found"))
}

fn api_status(state: &HmaState, api: &str) -> Value {
    json!({
        "has_set_authentification": state.read().credentials_set(api),
        "supports_authentification": credential_fields(api).is_some(),
    })
}

/// `GET /c/exchanges/apis` → `["sample", "ncmec", "stop_ncii"]`.
pub(crate) async fn apis_list() -> Response {
    json_response(StatusCode::OK, &EXCHANGE_APIS)
}

/// `GET /c/exchanges/api/<api>` → the two `…_authentification` flags (sic).
pub(crate) async fn api_get(
    State(state): State<HmaState>,
    Path(api): Path<String>,
) -> Result<Response, ApiError> {
    let api = require_api(&api)?;
    Ok(json_response(StatusCode::OK, &api_status(&state, api)))
}

/// `POST /c/exchanges/api/<api>` with `{"credential_json": {...}}` (empty clears).
pub(crate) async fn api_update(
    State(state): State<HmaState>,
    Path(api): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let api = require_api(&api)?.to_string();
    let body = json_object(&body)?;
    let set = match body.get("credential_json") {
        None | Some(Value::Null) => None,
        Some(credentials) if is_empty(credentials) => Some(false),
        Some(Value::Object(credentials)) => {
            let Some(required) = credential_fields(&api) else {
                return Err(ApiError::bad(format!(
                    "Exchange API '{api}' does not take credentials"
                )));
            };
            if let Some(missing) = required
                .iter()
                .find(|field| !credentials.get(**field).is_some_and(Value::is_string))
            {
                return Err(ApiError::bad(format!(
                    "credential_json for '{api}' needs the string field `{missing}`"
                )));
            }
            Some(true)
        }
        Some(_) => {
            return Err(ApiError::bad("credential_json must be an object"));
        }
    };
    if let Some(set) = set {
        state
            .change(|_| {
                let change = BankChange::ExchangeCredentialsSet {
                    api: api.clone(),
                    set,
                };
                Ok((Some(change), ()))
            })
            .await?;
    }
    Ok(json_response(StatusCode::OK, &api_status(&state, &api)))
}

/// Python's falsiness of a JSON value, which decides "clear the credentials".
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(flag) => !flag,
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
    }
}

fn field(
    name: &str,
    kind: &str,
    required: bool,
    default: Value,
    help: &str,
    choices: Value,
) -> Value {
    json!({
        "choices": choices,
        "default": default,
        "help": help,
        "name": name,
        "required": required,
        "type": kind,
    })
}

/// `GET /c/exchanges/api/<api>/schema` → the fields of `api_json` and `credential_json`.
pub(crate) async fn api_schema(Path(api): Path<String>) -> Result<Response, ApiError> {
    let (config, credentials) = match api.as_str() {
        "sample" => (vec![], Value::Null),
        "ncmec" => (
            vec![
                field(
                    "environment",
                    "enum",
                    true,
                    Value::Null,
                    "which database to connect to",
                    json!(NCMEC_ENVIRONMENTS),
                ),
                field(
                    "only_esp_ids",
                    "set_of_number",
                    false,
                    json!([]),
                    "Only take entries from these eletronic service provider (ESP) ids",
                    Value::Null,
                ),
            ],
            json!({ "fields": [
                field("user", "string", true, Value::Null, "NCMEC hash sharing API username.", Value::Null),
                field("password", "string", true, Value::Null, "NCMEC hash sharing API password.", Value::Null),
            ]}),
        ),
        "stop_ncii" => (
            vec![],
            json!({ "fields": [
                field("fetch_function_key", "string", true, Value::Null, "API key for the Fetch Hashes endpoint. Used when downloading hashes from StopNCII.", Value::Null),
                field("subscription_key", "string", true, Value::Null, "Azure API Management subscription key. Sent as Ocp-Apim-Subscription-Key on all requests.", Value::Null),
                field("base_url_override", "string", false, Value::Null, "Optional. Override the API base URL (e.g. for testing). Leave blank to use https://api.stopncii.org/v1", Value::Null),
            ]}),
        ),
        _ => {
            return Err(ApiError::NotFound(format!(
                "Exchange API '{api}' not found"
            )));
        }
    };
    let body = json!({ "config_schema": { "fields": config }, "credentials_schema": credentials });
    Ok(json_response(StatusCode::OK, &body))
}

/// NCMEC's environments (pytx `NCMECEnvironment` values), for the schema's choices.
const NCMEC_ENVIRONMENTS: [&str; 14] = [
    "https://report.cybertip.org/hashsharing",
    "https://report.cybertip.org/exploitative-hashsharing",
    "https://lesp.ncmec.org/csam-hashsharing",
    "https://hashsharing.ncmec.org/npo",
    "https://hashsharing.ncmec.org/exploitative",
    "https://hashsharing.ncmec.org/generative-ai-csam",
    "https://hashsharing.ncmec.org/generative-ai-exploitative",
    "https://exttest.cybertip.org/hashsharing",
    "https://exttest.cybertip.org/exploitative-hashsharing",
    "https://betalesp.ncmec.org/csam-hashsharing",
    "https://hashsharing-test.ncmec.org/npo",
    "https://hashsharing-test.ncmec.org/exploitative",
    "https://hashsharing-test.ncmec.org/generative-ai-csam",
    "https://hashsharing-test.ncmec.org/generative-ai-exploitative",
];

/// `POST /c/exchanges` with `{"api", "bank", "api_json"}` → 201, and the bank exists.
pub(crate) async fn exchange_create(
    State(state): State<HmaState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let name = match body.get("bank") {
        Some(Value::String(name)) => name.clone(),
        Some(Value::Null) | None => return Err(ApiError::bad("bank is required")),
        Some(other) => {
            return Err(ApiError::bad(format!(
                "Field `bank` must be a string, not {other}"
            )));
        }
    };
    if !coerce::exchange_name_ok(&name) {
        return Err(ApiError::bad("Field `bank` must match /^[A-Z0-9_]+$/"));
    }
    let api_json = match body.get("api_json") {
        None => Map::new(),
        Some(Value::Object(fields)) => fields.clone(),
        Some(_) => return Err(ApiError::bad("Field `api_json` must be object")),
    };
    let api = match body.get("api") {
        Some(Value::String(api)) => api.clone(),
        Some(Value::Null) | None => return Err(ApiError::bad("Field `api_type` is required")),
        Some(other) => return Err(ApiError::bad(format!("No such exchange type '{}'", other))),
    };
    if !EXCHANGE_APIS.contains(&api.as_str()) {
        return Err(ApiError::bad(format!("No such exchange type '{api}'")));
    }
    // An exchange's name is its bank's, so the bank rule applies too (HMA's storage).
    if !coerce::bank_name_ok(&name) {
        return Err(ApiError::bad("Bank names must be UPPER_WITH_UNDERSCORE"));
    }
    let enabled = match api_json.get("enabled") {
        None | Some(Value::Null) => true,
        Some(value) => coerce::json_bool(value).ok_or_else(|| {
            ApiError::bad("Failed to parse `api_json` - enabled must be a boolean")
        })?,
    };
    let config: BTreeMap<String, Value> = api_json
        .into_iter()
        .filter(|(key, _)| !matches!(key.as_str(), "name" | "api" | "enabled"))
        .collect();
    if api == "ncmec"
        && !config.get("environment").is_some_and(|env| {
            env.as_str()
                .is_some_and(|text| NCMEC_ENVIRONMENTS.contains(&text))
        })
    {
        return Err(ApiError::bad(
            "Failed to parse `api_json` - environment must be one of NCMEC's environment URLs",
        ));
    }
    state
        .change(|store| {
            // HMA answers 500 here (an unhandled IntegrityError); 403 is what clients expect.
            if store.bank(&name).is_some() || store.exchange(&name).is_some() {
                return Err(ApiError::Forbidden("Bank already exists".to_string()));
            }
            let change = BankChange::ExchangeCreated {
                name: name.clone(),
                api: api.clone(),
                enabled,
                config: config.clone(),
            };
            Ok((Some(change), ()))
        })
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({ "message": "Created successfully" }),
    ))
}

/// `GET /c/exchanges` → the exchange names.
pub(crate) async fn exchanges_list(State(state): State<HmaState>) -> Response {
    json_response(StatusCode::OK, &state.read().exchange_names())
}

/// HMA writes this body with `dataclass_dumps`: `name, api, enabled` first, in that
/// order, then the type's own fields.
#[derive(Serialize)]
struct ExchangeBody<'a> {
    name: &'a str,
    api: &'a str,
    enabled: bool,
    #[serde(flatten)]
    config: &'a BTreeMap<String, Value>,
}

fn exchange_body(state: &HmaState, name: &str) -> Result<Response, ApiError> {
    let store = state.read();
    let record = store
        .exchange(name)
        .ok_or_else(|| exchange_not_found(name))?;
    let body = ExchangeBody {
        name: &record.name,
        api: &record.api,
        enabled: record.enabled,
        config: &record.config,
    };
    let text = serde_json::to_string(&body)
        .map_err(|error| ApiError::Internal(format!("cannot write the exchange: {error}")))?;
    Ok(raw_json_response(StatusCode::OK, text))
}

/// `GET /c/exchange/<name>` → `{"name", "api", "enabled", ...}` in that order.
pub(crate) async fn exchange_get(
    State(state): State<HmaState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    exchange_body(&state, &name)
}

/// `PUT /c/exchange/<name>` with `{"enabled": bool}` → the exchange.
pub(crate) async fn exchange_update(
    State(state): State<HmaState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let enabled = match body.get("enabled") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            coerce::json_bool(value)
                .ok_or_else(|| ApiError::bad("invalid boolean parameter - prefer true/false"))?,
        ),
    };
    state
        .change(|store| {
            let record = store
                .exchange(&name)
                .ok_or_else(|| exchange_not_found(&name))?;
            let change = enabled
                .filter(|enabled| *enabled != record.enabled)
                .map(|enabled| BankChange::ExchangeUpdated {
                    name: name.clone(),
                    enabled,
                });
            Ok((change, ()))
        })
        .await?;
    exchange_body(&state, &name)
}

/// `DELETE /c/exchange/<name>` → `{"message": "Exchange deleted"}` (its bank stays).
pub(crate) async fn exchange_delete(
    State(state): State<HmaState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    state
        .change(|store| {
            let change = store
                .exchange(&name)
                .map(|_| BankChange::ExchangeDeleted { name: name.clone() });
            Ok((change, ()))
        })
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "message": "Exchange deleted" }),
    ))
}

/// `GET /c/exchange/<name>/status` → the fetch status; Guardrail never fetches, so it is
/// always the status before the first fetch.
pub(crate) async fn exchange_status(
    State(state): State<HmaState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    if state.read().exchange(&name).is_none() {
        return Err(exchange_not_found(&name));
    }
    let body = json!({
        "checkpoint_ts": null,
        "fetched_items": 0,
        "last_fetch_complete_ts": null,
        "last_fetch_succeeded": null,
        "running_fetch_start_ts": null,
        "up_to_date": false,
    });
    Ok(json_response(StatusCode::OK, &body))
}
