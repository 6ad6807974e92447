//! JSON bodies as Flask writes them: object keys sorted at every depth, compact.
//!
//! HMA's clients rely on the order (the Ruby spec takes the first bank of a lookup as
//! "the" match, and HMA's JSON provider sorts keys), so bodies are written by this
//! module's own writer rather than by whatever map order serde_json happens to be built
//! with (its `preserve_order` feature, switched on by any crate in the build, would
//! silently change it). It must never reorder arrays: their order is data.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// Writes `value` compactly with every object's keys in sorted order.
pub fn to_sorted_string(value: &Value) -> String {
    let mut out = String::new();
    write_sorted(value, &mut out);
    out
}

fn write_sorted(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (position, (key, item)) in entries.into_iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_sorted(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                write_sorted(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A JSON response with sorted keys.
pub fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_value(body) {
        Ok(value) => raw_json_response(status, to_sorted_string(&value)),
        Err(error) => raw_json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            to_sorted_string(&serde_json::json!({
                "message": format!("cannot write the response as JSON: {error}")
            })),
        ),
    }
}

/// A JSON response whose text is already written (for the one body HMA writes in
/// declaration order, `GET /c/exchange/<name>`).
pub fn raw_json_response(status: StatusCode, text: String) -> Response {
    let mut response = (status, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_depth_and_arrays_keep_their_order() {
        let value = json!({"b": 1, "a": {"z": [3, 1, {"y": 1.0, "x": "s"}], "m": null}});
        assert_eq!(
            to_sorted_string(&value),
            r#"{"a":{"m":null,"z":[3,1,{"x":"s","y":1.0}]},"b":1}"#
        );
    }
}
