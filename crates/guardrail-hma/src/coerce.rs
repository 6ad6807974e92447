//! HMA's input rules: how strings stand in for booleans and numbers, which bank and
//! exchange names are legal, and what a well-formed signal looks like.
//!
//! HMA's clients send `"enabled": "true"`, `"enabled_ratio": "1"` and
//! `include_distance=false`; HMA accepted them through `str_to_bool` (then) and pydantic's
//! lax mode (now), so these functions accept the union of both. They are pure: no state,
//! no IO. They must never accept a value HMA would refuse in a way a client could rely
//! on being refused (a bank name in lower case, an upper-case PDQ hash).

use guardrail_pdq::PdqHash;
use serde_json::Value;

/// A boolean written as text: `true/false/1/0` (HMA's `str_to_bool`) and pydantic's lax
/// words `yes/no/on/off/t/f/y/n`, in any case. `None` for anything else.
pub fn lax_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Some(true),
        "false" | "0" | "no" | "off" | "f" | "n" => Some(false),
        _ => None,
    }
}

/// A boolean in a JSON body: a JSON boolean, the numbers 0 and 1, or a [`lax_bool`] string.
pub fn json_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => match number.as_f64() {
            Some(0.0) => Some(false),
            Some(1.0) => Some(true),
            _ => None,
        },
        Value::String(text) => lax_bool(text),
        _ => None,
    }
}

/// A float in a JSON body: a JSON number or a numeric string (`"1"`, `" 0.5 "`). Not NaN
/// or infinite: a ratio must compare sensibly with the coin flip.
pub fn json_float(value: &Value) -> Option<f64> {
    let number = match value {
        Value::Number(number) => number.as_f64()?,
        Value::String(text) => text.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    number.is_finite().then_some(number)
}

/// An integer in a JSON body: a JSON integer, a float with no fractional part, or a
/// decimal string (Python's `int("17")`).
pub fn json_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64().or_else(|| {
            let float = number.as_f64()?;
            let in_range = float.fract() == 0.0 && float.abs() < 9.0e15;
            in_range.then_some(float as i64)
        }),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// HMA's storage rule for bank names, `[A-Z_][A-Z0-9_]*` (`_bank_name_ok`).
pub fn bank_name_ok(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(first) if first.is_ascii_uppercase() || first == b'_' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// HMA's rule for exchange names, `^[A-Z0-9_]+$`, checked before the bank rule.
pub fn exchange_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// A PDQ signal as HMA accepts it: exactly 64 lower-case hex digits (pytx's
/// `^[0-9a-f]{64}$`; an upper-case hash is refused, not normalised).
pub fn pdq_signal(text: &str) -> Option<PdqHash> {
    let well_formed = text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return None;
    }
    text.parse().ok()
}

/// A `video_md5` signal as HMA accepts it: 32 hex digits after trimming and lower-casing
/// (pytx normalises this type, unlike PDQ). Returns the normalised text.
pub fn md5_signal(text: &str) -> Option<String> {
    let normalised = text.trim().to_ascii_lowercase();
    let well_formed = normalised.len() == 32 && normalised.bytes().all(|b| b.is_ascii_hexdigit());
    well_formed.then_some(normalised)
}

/// A comma-separated list parameter (`banks=A,B`, `types=pdq`): items trimmed, blanks dropped.
pub fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn booleans_accept_the_words_hma_clients_send() {
        let cases: &[(&str, Option<bool>)] = &[
            ("true", Some(true)),
            ("TRUE", Some(true)),
            ("1", Some(true)),
            ("yes", Some(true)),
            ("On", Some(true)),
            ("t", Some(true)),
            ("y", Some(true)),
            ("false", Some(false)),
            ("0", Some(false)),
            ("No", Some(false)),
            ("off", Some(false)),
            ("f", Some(false)),
            ("n", Some(false)),
            ("", None),
            ("2", None),
            ("truthy", None),
        ];
        for (text, expected) in cases {
            assert_eq!(lax_bool(text), *expected, "lax_bool({text:?})");
        }
    }

    #[test]
    fn json_values_coerce_like_pydantic_lax_mode() {
        let bools: &[(Value, Option<bool>)] = &[
            (json!(true), Some(true)),
            (json!("true"), Some(true)),
            (json!(1), Some(true)),
            (json!(0.0), Some(false)),
            (json!("0"), Some(false)),
            (json!(2), None),
            (json!(null), None),
            (json!([true]), None),
        ];
        for (value, expected) in bools {
            assert_eq!(json_bool(value), *expected, "json_bool({value})");
        }
        let floats: &[(Value, Option<f64>)] = &[
            (json!(1), Some(1.0)),
            (json!(0.5), Some(0.5)),
            (json!("1"), Some(1.0)),
            (json!(" 0.25 "), Some(0.25)),
            (json!("NaN"), None),
            (json!("inf"), None),
            (json!("one"), None),
            (json!(true), None),
        ];
        for (value, expected) in floats {
            assert_eq!(json_float(value), *expected, "json_float({value})");
        }
        let ints: &[(Value, Option<i64>)] = &[
            (json!(17), Some(17)),
            (json!("17"), Some(17)),
            (json!(3.0), Some(3)),
            (json!(3.5), None),
            (json!("3.5"), None),
            (json!(false), None),
        ];
        for (value, expected) in ints {
            assert_eq!(json_int(value), *expected, "json_int({value})");
        }
    }

    #[test]
    fn bank_and_exchange_names_follow_hma_patterns() {
        let cases: &[(&str, bool, bool)] = &[
            // name, bank rule, exchange rule
            ("TEST_BANK", true, true),
            ("_PRIVATE", true, true),
            ("BANK2", true, true),
            ("2BANK", false, true),
            ("test_bank", false, false),
            ("Test", false, false),
            ("BANK-1", false, false),
            ("", false, false),
            ("ÄBANK", false, false),
        ];
        for (name, bank, exchange) in cases {
            assert_eq!(bank_name_ok(name), *bank, "bank_name_ok({name:?})");
            assert_eq!(
                exchange_name_ok(name),
                *exchange,
                "exchange_name_ok({name:?})"
            );
        }
    }

    #[test]
    fn signals_are_validated_as_pytx_does() {
        let bridge = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
        assert_eq!(
            pdq_signal(bridge).map(|h| h.to_hex()).as_deref(),
            Some(bridge)
        );
        assert_eq!(pdq_signal(&bridge.to_uppercase()), None);
        assert_eq!(pdq_signal(&bridge[1..]), None);
        assert_eq!(pdq_signal(&format!(" {bridge}")), None);
        assert_eq!(
            md5_signal(" D41D8CD98F00B204E9800998ECF8427E ").as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(md5_signal("d41d8cd98f00b204e9800998ecf8427"), None);
        assert_eq!(
            comma_list(" A, ,B,"),
            vec!["A".to_string(), "B".to_string()]
        );
    }
}
