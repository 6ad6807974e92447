//! `/m/...`: lookups against the banks (`raw_lookup`, `lookup` by signal, URL or upload),
//! the index status and hash comparison, in HMA's shapes: distances as strings, bank maps
//! with sorted keys and no empty lists, wrapped per signal type only when the server
//! hashed the content itself.
//!
//! Lookups only read: they never change a bank, and never wait for a write's journal.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::hashing::{hash_upload, hash_url};
use super::{Params, json_object, read_upload};
use crate::coerce;
use crate::error::ApiError;
use crate::json::json_response;
use crate::signals::{PDQ_MATCH_THRESHOLD, SignalType};
use crate::state::{HmaState, unix_now};
use crate::store::MatchView;

type BankMap = BTreeMap<String, Vec<MatchView>>;

/// A signal type name checked as HMA's `_validate_and_transform_signal_type` does.
fn signal_type_named(name: &str) -> Result<SignalType, ApiError> {
    SignalType::from_name(name).ok_or_else(|| ApiError::bad(format!("No such SignalType '{name}'")))
}

/// A signal validated for lookup (HMA's 400 `invalid signal: ...`); MD5 is normalised.
fn lookup_signal(signal_type: SignalType, signal: &str) -> Result<String, ApiError> {
    signal_type
        .validate(signal)
        .map_err(|why| ApiError::bad(format!("invalid signal: {why}")))
}

/// The per-request coin flip `r ∈ [0, 1)`; a bank is kept when its ratio is `>= r`.
/// 0 when bypassed (so even a ratio-0 bank matches, as HMA's `>=` has it), a fixed value
/// per `seed`, else random.
pub(crate) fn coin_flip(seed: Option<&str>, bypass: bool) -> f64 {
    if bypass {
        return 0.0;
    }
    match seed {
        // FNV-1a, then SplitMix64: the same seed always gives the same coin. (HMA seeds
        // Python's Mersenne Twister; clients rely on repeatability, not on its values.)
        Some(seed) => {
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
            for byte in seed.bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
            let mut z = hash.wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64
        }
        None => rand::random::<f64>(),
    }
}

/// The `banks=B1,B2` filter, if given.
fn bank_filter(params: &Params) -> Option<BTreeSet<String>> {
    params
        .non_empty("banks")
        .map(|text| coerce::comma_list(text).into_iter().collect())
}

/// What one `lookup` request asks for besides the signal.
struct LookupOptions {
    coin: f64,
    banks: Option<BTreeSet<String>>,
}

impl LookupOptions {
    fn from_params(params: &Params) -> Result<LookupOptions, ApiError> {
        let bypass = params.flag("bypass_coinflip", false)?;
        Ok(LookupOptions {
            coin: coin_flip(params.get("seed"), bypass),
            banks: bank_filter(params),
        })
    }
}

/// HMA's `lookup()` for one signal.
fn bank_map(
    state: &HmaState,
    signal_type_name: &str,
    signal: &str,
    options: &LookupOptions,
) -> Result<BankMap, ApiError> {
    let signal_type = signal_type_named(signal_type_name)?;
    let signal = lookup_signal(signal_type, signal)?;
    Ok(state.read().lookup(
        signal_type,
        &signal,
        options.coin,
        options.banks.as_ref(),
        unix_now(),
    ))
}

/// Bank maps for every signal the server computed, keyed by signal type.
fn wrapped_bank_maps(
    state: &HmaState,
    signals: &BTreeMap<String, String>,
    options: &LookupOptions,
) -> Result<BTreeMap<String, BankMap>, ApiError> {
    signals
        .iter()
        .map(|(name, signal)| Ok((name.clone(), bank_map(state, name, signal, options)?)))
        .collect()
}

/// `GET /m/raw_lookup?signal=H&signal_type=T[&include_distance=B][&banks=…]`.
pub(crate) async fn raw_lookup(
    State(state): State<HmaState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref());
    let signal = params.required("signal")?;
    let signal_type_name = params.required("signal_type")?;
    let include_distance = params.flag("include_distance", false)?;
    let banks = bank_filter(&params);
    let signal_type = signal_type_named(signal_type_name)?;
    let signal = lookup_signal(signal_type, signal)?;
    let matches: Vec<MatchView> = {
        let store = state.read();
        store
            .query(signal_type, &signal)
            .into_iter()
            .filter(|found| match &banks {
                None => true,
                Some(names) => store
                    .bank_of(found.bank_content_id)
                    .is_some_and(|bank| names.contains(bank)),
            })
            .collect()
    };
    let body = if include_distance {
        json!({ "matches": matches })
    } else {
        let ids: Vec<u64> = matches.iter().map(|m| m.bank_content_id).collect();
        json!({ "matches": ids })
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /m/lookup`: by `signal` + `signal_type` (bare bank map) or by `url` (bank maps
/// per signal type, or the bare map of `signal_type` when given).
pub(crate) async fn lookup_get(
    State(state): State<HmaState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref());
    let options = LookupOptions::from_params(&params)?;
    if let Some(url) = params.non_empty("url") {
        let signals = hash_url(&state, url, &params).await?;
        let mut maps = wrapped_bank_maps(&state, &signals, &options)?;
        if let Some(selected) = params.non_empty("signal_type") {
            let map = maps.remove(selected).unwrap_or_default();
            return Ok(json_response(StatusCode::OK, &map));
        }
        return Ok(json_response(StatusCode::OK, &maps));
    }
    match (params.non_empty("signal"), params.non_empty("signal_type")) {
        (Some(signal), Some(signal_type)) => {
            let map = bank_map(&state, signal_type, signal, &options)?;
            Ok(json_response(StatusCode::OK, &map))
        }
        _ => Err(ApiError::bad(
            "Either url or both signal and signal_type are required",
        )),
    }
}

/// `POST /m/lookup[?banks=…][&seed=S][&bypass_coinflip=B]` with an upload → bank maps
/// per signal type.
pub(crate) async fn lookup_post(
    State(state): State<HmaState>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref());
    let options = LookupOptions::from_params(&params)?;
    let upload = read_upload(request).await?;
    let signals = hash_upload(&state, upload, &params).await?;
    let maps = wrapped_bank_maps(&state, &signals, &options)?;
    Ok(json_response(StatusCode::OK, &maps))
}

/// `GET /m/index/status[?signal_type=T]` → `{"pdq": {"built_to", "present", "size"}}`.
/// The index is current with every write, so it is always present.
pub(crate) async fn index_status(
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
            let status = json!({
                "built_to": store.newest_added_at(signal_type),
                "present": true,
                "size": store.signal_count(signal_type),
            });
            (signal_type.name(), status)
        })
        .collect();
    Ok(json_response(StatusCode::OK, &body))
}

/// `POST /m/compare` with `{"pdq": [h1, h2]}` → `{"pdq": [match, {"distance": d}]}`.
pub(crate) async fn compare(body: Bytes) -> Result<Response, ApiError> {
    let request = json_object(&body).map_err(|_| ApiError::bad("Request input was not a dict"))?;
    let mut results = BTreeMap::new();
    for (name, hashes) in &request {
        let Some(pair) = hashes.as_array() else {
            return Err(ApiError::bad(format!(
                "Comparison hashes for {name} was not a list"
            )));
        };
        let [left, right] = pair.as_slice() else {
            return Err(ApiError::bad(
                "Comparison hash list length must be exactly 2",
            ));
        };
        let signal_type = signal_type_named(name)?;
        let invalid = |why: String| ApiError::bad(format!("Invalid {name} hash: {why}"));
        let text = |value: &Value| value.as_str().map(str::to_string).unwrap_or_default();
        let left = signal_type.validate(&text(left)).map_err(invalid)?;
        let right = signal_type.validate(&text(right)).map_err(invalid)?;
        let result = match signal_type {
            SignalType::Pdq => {
                let distance = match (coerce::pdq_signal(&left), coerce::pdq_signal(&right)) {
                    (Some(a), Some(b)) => a.distance(&b),
                    _ => return Err(invalid("invalid PDQ hash".to_string())),
                };
                json!([distance <= PDQ_MATCH_THRESHOLD, { "distance": distance }])
            }
            SignalType::VideoMd5 => json!([left == right, {}]),
        };
        results.insert(name.clone(), result);
    }
    Ok(json_response(StatusCode::OK, &results))
}

#[cfg(test)]
mod tests {
    use super::coin_flip;

    #[test]
    fn the_coin_is_zero_when_bypassed_and_repeatable_per_seed() {
        assert_eq!(coin_flip(Some("x"), true), 0.0);
        assert_eq!(coin_flip(None, true), 0.0);
        let first = coin_flip(Some("content-17"), false);
        assert_eq!(first, coin_flip(Some("content-17"), false));
        assert!((0.0..1.0).contains(&first));
        let spread: Vec<f64> = (0..200)
            .map(|n| coin_flip(Some(&n.to_string()), false))
            .collect();
        let below_half = spread.iter().filter(|c| **c < 0.5).count();
        assert!(
            (60..140).contains(&below_half),
            "{below_half} of 200 below 0.5"
        );
    }
}
