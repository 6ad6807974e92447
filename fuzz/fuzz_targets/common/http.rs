//! Shared by the API targets: turns fuzz bytes into a short sequence of HTTP requests
//! over a fixed route table, so that the fuzzer reaches every route with bodies it
//! mutates, and routes that depend on earlier ones (a bank, then its content) in order.
//!
//! Input layout: requests separated by a line `###`; in each, the first byte picks the
//! route, the second the path parameters (low nibble `{a}`, high
//! nibble `{b}`), and the rest is the body (or, for a route
//! without a body, the query string). Must never: produce a request that leaves the
//! process (no `url` parameter reaches a route: HMA fetches those).

// Each API target uses part of this module.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Method, Request};

/// How a route takes its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A JSON body.
    Json,
    /// Raw bytes (`application/octet-stream`).
    Octets,
    /// A URL-encoded form body.
    Form,
    /// A multipart body with the boundary `FUZZ`.
    Multipart,
    /// No body; the bytes are the query string.
    Query,
}

/// One route: method, path with `{a}` and `{b}` placeholders, how it takes input.
pub type Route = (Method, &'static str, Input);

/// Hostile values every target adds to its own path parameters.
pub const HOSTILE: [&str; 7] = [
    "%2E%2E",
    "18446744073709551616",
    "-1",
    "a%00b",
    "a%FFb",
    "x%20y",
    "0",
];

/// Percent-encodes every byte that may not stand bare in a query string.
pub fn query_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~=&+".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The requests in `data` over `routes`, with path parameters from `params` (the
/// target's names and ids first, then [`HOSTILE`]).
pub fn requests(data: &[u8], routes: &[Route], params: &[&str]) -> Vec<Request<Body>> {
    let mut out = Vec::new();
    for chunk in split(data).take(8) {
        let Some((&pick, rest)) = chunk.split_first() else {
            continue;
        };
        let (method, template, input) = routes[pick as usize % routes.len()].clone();
        let (pick_params, body) = rest.split_first().map_or((0, rest), |(&p, b)| (p, b));
        let path = template
            .replace("{a}", params[(pick_params & 15) as usize % params.len()])
            .replace("{b}", params[(pick_params >> 4) as usize % params.len()]);
        let mut body = body.to_vec();
        // No `url` parameter or field, in any case: the HMA routes would fetch it.
        for window in 0..body.len().saturating_sub(2) {
            if body[window..window + 3].eq_ignore_ascii_case(b"url") {
                body[window] = b'x';
            }
        }
        let (uri, content_type, body) = match input {
            Input::Query => (format!("{path}?{}", query_string(&body)), None, Vec::new()),
            Input::Json => (path, Some("application/json"), body),
            Input::Octets => (path, Some("application/octet-stream"), body),
            Input::Form => (path, Some("application/x-www-form-urlencoded"), body),
            Input::Multipart => (path, Some("multipart/form-data; boundary=FUZZ"), body),
        };
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        if let Ok(request) = request.body(Body::from(body)) {
            out.push(request);
        }
    }
    out
}

fn split(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.windows(5).position(|w| w == b"\n###\n") {
            Some(at) => {
                rest = Some(&text[at + 5..]);
                Some(&text[..at])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}
