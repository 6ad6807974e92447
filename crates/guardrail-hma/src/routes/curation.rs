//! `/c/...` banks and bank content: create, read, update, delete, add content by URL,
//! upload or raw signal, and the configuration listings, with HMA's quirks (201 on bank
//! create but 200 on content add, upper-case bank names, numbers and booleans as
//! strings, 200 `Done` for deleting a bank that does not exist).
//!
//! Every change goes through [`HmaState::change`], so it is recorded in the journal
//! before it is applied and before the route answers. Checks that need the store happen
//! inside the change's plan, under the writer lock, so they cannot go stale.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::hashing::{hash_upload, hash_url};
use super::{Params, is_multipart, json_object, read_upload};
use crate::coerce;
use crate::error::ApiError;
use crate::journal::BankChange;
use crate::json::json_response;
use crate::signals::SignalType;
use crate::state::{HmaState, unix_now};
use crate::store::{BankView, ContentRecord, Store};

const BAD_BANK_NAME: &str = "Bank names must be UPPER_WITH_UNDERSCORE";
const NOTE_MAX_CHARS: usize = 255;
const FIVE_YEARS_SECONDS: i64 = 5 * 365 * 24 * 60 * 60;

fn bank_not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!("bank '{name}' not found"))
}

fn require_bank(store: &Store, name: &str) -> Result<BankView, ApiError> {
    store.bank(name).ok_or_else(|| bank_not_found(name))
}

/// A float field (`enabled_ratio`): number or numeric string.
fn float_field(value: &Value) -> Result<f64, ApiError> {
    coerce::json_float(value)
        .ok_or_else(|| ApiError::bad(format!("Invalid float: '{}'", text_of(value))))
}

/// A boolean field (`enabled`): boolean, 0/1 or a lax string.
fn bool_field(value: &Value) -> Result<bool, ApiError> {
    coerce::json_bool(value)
        .ok_or_else(|| ApiError::bad("invalid boolean parameter - prefer true/false"))
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A field that is present and not null.
fn present<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    body.get(name).filter(|value| !value.is_null())
}

/// HMA's `_validate_note`: empty → none; a string of at most 255 characters.
fn validate_note(value: Option<&Value>) -> Result<Option<String>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) if text.chars().count() > NOTE_MAX_CHARS => {
            Err(ApiError::bad("note must be at most 255 characters"))
        }
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Bool(false)) => Ok(None),
        Some(_) => Err(ApiError::bad("note should be a string")),
    }
}

/// HMA's `BankedContentMetadata`: only `content_id` (string), `content_uri` (string) and
/// `json` (object); `collab` is dropped; nulls are dropped; nothing left → none.
fn validate_metadata(value: Option<Value>) -> Result<Option<Value>, ApiError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Value::Object(mut fields) = value else {
        return Err(ApiError::bad("metadata should be a json object"));
    };
    fields.remove("collab");
    let mut kept = Map::new();
    for (key, item) in fields {
        let well_typed = match key.as_str() {
            "content_id" | "content_uri" => item.is_string() || item.is_null(),
            "json" => item.is_object() || item.is_null(),
            _ => {
                return Err(ApiError::bad(format!(
                    "Invalid metadata: 1 validation error for BankedContentMetadata\n{key}\n  Extra inputs are not permitted [type=extra_forbidden]"
                )));
            }
        };
        if !well_typed {
            let expected = if key == "json" {
                "a valid dictionary"
            } else {
                "a valid string"
            };
            return Err(ApiError::bad(format!(
                "Invalid metadata: 1 validation error for BankedContentMetadata\n{key}\n  Input should be {expected}"
            )));
        }
        if !item.is_null() {
            kept.insert(key, item);
        }
    }
    Ok((!kept.is_empty()).then_some(Value::Object(kept)))
}

/// HMA's `_bank_add_signals`: validates the signals (MD5 normalised) and plans the add.
fn plan_add(
    store: &Store,
    bank: &str,
    signals: &BTreeMap<String, String>,
    user_metadata: Option<Value>,
    note: Option<String>,
) -> Result<(Option<BankChange>, Value), ApiError> {
    require_bank(store, bank)?;
    if signals.is_empty() {
        return Err(ApiError::bad("No signals given"));
    }
    let mut validated = BTreeMap::new();
    for (name, signal) in signals {
        let signal_type = SignalType::from_name(name)
            .ok_or_else(|| ApiError::bad(format!("No such signal type {name}")))?;
        let signal = signal_type
            .validate(signal)
            .map_err(|why| ApiError::bad(format!("Invalid {name} signal: {why}")))?;
        validated.insert(name.clone(), signal);
    }
    let id = store.next_content_id();
    let answer = json!({ "id": id, "signals": validated });
    let change = BankChange::ContentAdded {
        id,
        bank: bank.to_string(),
        signals: validated,
        user_metadata,
        note,
        added_at: unix_now(),
    };
    Ok((Some(change), answer))
}

// -- banks --------------------------------------------------------------------------

/// `GET /c/banks` → every bank, in creation order.
pub(crate) async fn banks_list(State(state): State<HmaState>) -> Response {
    json_response(StatusCode::OK, &state.read().banks())
}

/// `GET /c/bank/<bank>` → the bank, or 404.
pub(crate) async fn bank_get(
    State(state): State<HmaState>,
    Path(bank): Path<String>,
) -> Result<Response, ApiError> {
    let view = require_bank(&state.read(), &bank)?;
    Ok(json_response(StatusCode::OK, &view))
}

/// `POST /c/banks` with `{"name", "enabled_ratio"?, "enabled"?}` → 201 the bank.
pub(crate) async fn bank_create(
    State(state): State<HmaState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let name = match present(&body, "name") {
        Some(Value::String(name)) => name.clone(),
        Some(other) => return Err(ApiError::bad(format!("name must be a string, not {other}"))),
        None => return Err(ApiError::bad("name is required")),
    };
    // HMA before pydantic: `enabled_ratio` if given, else `enabled`, else 1.0.
    let ratio = match (present(&body, "enabled_ratio"), present(&body, "enabled")) {
        (Some(ratio), _) => float_field(ratio)?,
        (None, Some(enabled)) => {
            if bool_field(enabled)? {
                1.0
            } else {
                0.0
            }
        }
        (None, None) => 1.0,
    };
    if !coerce::bank_name_ok(&name) {
        return Err(ApiError::bad(BAD_BANK_NAME));
    }
    let view = state
        .change(|store| {
            if store.bank(&name).is_some() {
                return Err(ApiError::Forbidden("Bank already exists".to_string()));
            }
            let view = BankView {
                matching_enabled_ratio: ratio,
                name: name.clone(),
            };
            let change = BankChange::BankCreated {
                name: name.clone(),
                matching_enabled_ratio: ratio,
            };
            Ok((Some(change), view))
        })
        .await?;
    Ok(json_response(StatusCode::CREATED, &view))
}

/// `PUT /c/bank/<bank>` with any of `name`, `enabled`, `enabled_ratio` → 200 the bank.
pub(crate) async fn bank_update(
    State(state): State<HmaState>,
    Path(bank): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let new_name = match present(&body, "name") {
        Some(Value::String(name)) => Some(name.clone()),
        Some(other) => return Err(ApiError::bad(format!("name must be a string, not {other}"))),
        None => None,
    };
    let enabled = present(&body, "enabled").map(bool_field).transpose()?;
    let enabled_ratio = present(&body, "enabled_ratio")
        .map(float_field)
        .transpose()?;
    let view = state
        .change(|store| {
            let current = store
                .bank(&bank)
                .ok_or_else(|| ApiError::NotFound("Bank not found".to_string()))?;
            let name = new_name.clone().unwrap_or_else(|| bank.clone());
            if !coerce::bank_name_ok(&name) {
                return Err(ApiError::bad(BAD_BANK_NAME));
            }
            if name != bank && store.bank(&name).is_some() {
                return Err(ApiError::Forbidden("Bank name already exists".to_string()));
            }
            let mut ratio = current.matching_enabled_ratio;
            if let Some(enabled) = enabled {
                ratio = if enabled { 1.0 } else { 0.0 };
            }
            if let Some(enabled_ratio) = enabled_ratio {
                ratio = enabled_ratio;
            }
            let change = BankChange::BankUpdated {
                name: bank.clone(),
                new_name: name.clone(),
                matching_enabled_ratio: ratio,
            };
            let view = BankView {
                matching_enabled_ratio: ratio,
                name,
            };
            Ok((Some(change), view))
        })
        .await?;
    Ok(json_response(StatusCode::OK, &view))
}

/// `DELETE /c/bank/<bank>` → 200 `{"message": "Done"}`, whether or not it existed.
pub(crate) async fn bank_delete(
    State(state): State<HmaState>,
    Path(bank): Path<String>,
) -> Result<Response, ApiError> {
    state
        .change(|store| {
            let change = store
                .bank(&bank)
                .map(|_| BankChange::BankDeleted { name: bank.clone() });
            Ok((change, ()))
        })
        .await?;
    Ok(json_response(StatusCode::OK, &json!({ "message": "Done" })))
}

// -- content ----------------------------------------------------------------------------

/// `POST /c/bank/<bank>/content?url=U` or with an upload → 200 `{"id", "signals"}`.
pub(crate) async fn content_add(
    State(state): State<HmaState>,
    Path(bank): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref());
    // HMA checks the bank before fetching or hashing anything.
    require_bank(&state.read(), &bank)?;
    let (metadata, note, upload) = if is_multipart(&request) {
        let upload = read_upload(request).await?;
        let metadata = match upload.form.get("metadata") {
            Some(text) => Some(
                serde_json::from_str::<Value>(text)
                    .map_err(|_| ApiError::bad("metadata form field must be valid JSON"))?,
            ),
            None => None,
        };
        let note = upload
            .form
            .get("note")
            .map(|text| Value::String(text.clone()));
        (metadata, note, Some(upload))
    } else {
        let body = axum::body::to_bytes(request.into_body(), state.config().max_upload_bytes)
            .await
            .map_err(|_| ApiError::TooLarge("Content too large".to_string()))?;
        // A JSON object body may carry `metadata` and `note`; anything else is ignored,
        // as the Ruby client's empty body and Coop's form bodies are by HMA.
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(mut fields)) => {
                (fields.remove("metadata"), fields.remove("note"), None)
            }
            _ => (None, None, None),
        }
    };
    let metadata = validate_metadata(metadata)?;
    let note = validate_note(note.as_ref())?;
    let signals = match (params.non_empty("url"), upload) {
        (Some(url), _) => hash_url(&state, url, &params).await?,
        (None, Some(upload)) => hash_upload(&state, upload, &params).await?,
        (None, None) => {
            return Err(ApiError::bad(
                "Neither `url` nor multipart file upload was received",
            ));
        }
    };
    let answer = state
        .change(|store| plan_add(store, &bank, &signals, metadata, note))
        .await?;
    Ok(json_response(StatusCode::OK, &answer))
}

/// `POST /c/bank/<bank>/signal` with `{"pdq": "<hex>", "note"?}` → 200 `{"id", "signals"}`.
pub(crate) async fn signal_add(
    State(state): State<HmaState>,
    Path(bank): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_bank(&state.read(), &bank)?;
    let mut body = json_object(&body)?;
    let note = validate_note(body.remove("note").as_ref())?;
    let mut signals = BTreeMap::new();
    for (name, value) in body {
        let signal = match value {
            Value::String(text) => text,
            other => other.to_string(),
        };
        signals.insert(name, signal);
    }
    let answer = state
        .change(|store| plan_add(store, &bank, &signals, None, note))
        .await?;
    Ok(json_response(StatusCode::OK, &answer))
}

fn content_id(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .map_err(|_| ApiError::NotFound(format!("content '{text}' not found")))
}

fn require_content<'a>(
    store: &'a Store,
    bank: &str,
    id: u64,
) -> Result<&'a ContentRecord, ApiError> {
    require_bank(store, bank)?;
    store
        .content_in(bank, id)
        .ok_or_else(|| ApiError::NotFound(format!("content '{id}' not found")))
}

/// `GET /c/bank/<bank>/content/<id>[?include_signals=true][&include_metadata=false]`.
pub(crate) async fn content_get(
    State(state): State<HmaState>,
    Path((bank, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref());
    let id = content_id(&id)?;
    // HMA compares these with "true" after lower-casing.
    let include_signals = params
        .get("include_signals")
        .unwrap_or("false")
        .eq_ignore_ascii_case("true");
    let include_metadata = params
        .get("include_metadata")
        .unwrap_or("true")
        .eq_ignore_ascii_case("true");
    let store = state.read();
    let record = require_content(&store, &bank, id)?;
    let view = require_bank(&store, &bank)?;
    let mut body = json!({
        "bank": view,
        "disable_until_ts": record.disable_until_ts,
        "id": record.id,
        "original_media_uri": null,
    });
    if include_signals {
        body["signals"] = json!(record.signals);
    }
    if include_metadata && let Some(Value::Object(fields)) = &record.user_metadata {
        body["metadata"] = json!({
            "collab": null,
            "content_id": fields.get("content_id").cloned().unwrap_or(Value::Null),
            "content_uri": fields.get("content_uri").cloned().unwrap_or(Value::Null),
            "json": fields.get("json").cloned().unwrap_or(Value::Null),
        });
    }
    if let Some(note) = &record.note {
        body["note"] = json!(note);
    }
    Ok(json_response(StatusCode::OK, &body))
}

/// `PUT /c/bank/<bank>/content/<id>` with `{"disable_until_ts"?, "note"?}` → the record.
pub(crate) async fn content_update(
    State(state): State<HmaState>,
    Path((bank, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = content_id(&id)?;
    let body = json_object(&body)?;
    let disable_until_ts = match body.get("disable_until_ts") {
        None => None,
        Some(value) => {
            let ts = coerce::json_int(value)
                .ok_or_else(|| ApiError::bad(format!("Invalid int: '{}'", text_of(value))))?;
            if ts < 0 {
                return Err(ApiError::bad(
                    "disable_until_ts must be a non-negative integer",
                ));
            }
            if ts > unix_now() + FIVE_YEARS_SECONDS {
                return Err(ApiError::bad(
                    "disable_until_ts must be less than 5 years in the future",
                ));
            }
            Some(ts)
        }
    };
    let note_given = body.contains_key("note");
    let note = validate_note(body.get("note"))?;
    let answer = state
        .change(|store| {
            let record = require_content(store, &bank, id)?;
            let view = require_bank(store, &bank)?;
            let disable_until_ts = disable_until_ts.unwrap_or(record.disable_until_ts);
            let note = if note_given {
                note
            } else {
                record.note.clone()
            };
            let answer = json!({
                "bank": view,
                "collab_metadata": {},
                "disable_until_ts": disable_until_ts,
                "id": id,
                "note": note,
                "original_media_uri": null,
                "user_metadata": record.user_metadata,
            });
            let change = BankChange::ContentUpdated {
                id,
                bank: bank.clone(),
                disable_until_ts,
                note,
            };
            Ok((Some(change), answer))
        })
        .await?;
    Ok(json_response(StatusCode::OK, &answer))
}

/// `DELETE /c/bank/<bank>/content/<id>` → `{"deleted": 1}` (0 when already gone).
pub(crate) async fn content_delete(
    State(state): State<HmaState>,
    Path((bank, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let deleted = state
        .change(|store| {
            require_bank(store, &bank)?;
            let Ok(id) = id.parse::<u64>() else {
                return Ok((None, 0));
            };
            match store.content_in(&bank, id) {
                Some(_) => Ok((
                    Some(BankChange::ContentRemoved {
                        id,
                        bank: bank.clone(),
                    }),
                    1,
                )),
                None => Ok((None, 0)),
            }
        })
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "deleted": deleted }),
    ))
}

// -- configuration --------------------------------------------------------------------

/// `GET /c/signal_type` → the signal types, all enabled.
pub(crate) async fn signal_types() -> Response {
    let list: Vec<Value> = SignalType::ALL
        .iter()
        .map(|t| json!({ "enabled_ratio": 1.0, "name": t.name() }))
        .collect();
    json_response(StatusCode::OK, &list)
}

/// `GET /c/content_type` → the content types, all enabled.
pub(crate) async fn content_types() -> Response {
    let list: Vec<Value> = crate::signals::ContentType::ALL
        .iter()
        .map(|t| json!({ "enabled": true, "name": t.name() }))
        .collect();
    json_response(StatusCode::OK, &list)
}

/// `GET /c/signal_type/index[?signal_type=T]` → per type, the index is never out of date.
pub(crate) async fn signal_type_index(
    State(state): State<HmaState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref());
    let selected: Vec<SignalType> = match params.get("signal_type") {
        Some(name) => vec![
            SignalType::from_name(name)
                .ok_or_else(|| ApiError::bad(format!("No such signal type '{name}'")))?,
        ],
        None => SignalType::ALL.to_vec(),
    };
    let store = state.read();
    let body: BTreeMap<&str, Value> = selected
        .into_iter()
        .map(|signal_type| {
            let size = store.signal_count(signal_type);
            let newest = store.newest_added_at(signal_type);
            let status = json!({
                "db_size": size,
                "index_built_to": newest,
                "index_out_of_date": false,
                "index_size": size,
                "newest_db_item": newest,
            });
            (signal_type.name(), status)
        })
        .collect();
    Ok(json_response(StatusCode::OK, &body))
}
