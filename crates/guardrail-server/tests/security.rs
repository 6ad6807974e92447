//! The service under abuse: every route × every scope (and no token, a revoked token, an
//! expired one), rate limits per token, and SQL injection payloads in every string field.
//!
//! The route table is `guardrail_server::routes::access::ROUTE_SCOPES`; the first test
//! holds it equal to the routes the OpenAPI document lists, so a new route cannot ship
//! without a declared scope and a row in this matrix.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use common::{Harness, Scope, ServeConfig, new_token, router, unix_now};
use guardrail_ledger::event::{Event, Payload, TokenRevoked};
use guardrail_server::rate::RateLimit;
use guardrail_server::routes::access::ROUTE_SCOPES;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Sends a request with a raw `Authorization` header (or none) and a JSON body (or none);
/// answers status, headers and body.
async fn send(
    harness: &Harness,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let body = body.map(|b| ("application/json", b.as_bytes().to_vec()));
    send_bytes(harness, method, path, authorization, body).await
}

/// [`send`] with any body and content type.
async fn send_bytes(
    harness: &Harness,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let request = match body {
        Some((content_type, bytes)) => request
            .header("content-type", content_type)
            .body(Body::from(bytes)),
        None => request.body(Body::empty()),
    }
    .expect("a request");
    let response = router(harness.service.clone())
        .oneshot(request)
        .await
        .expect("an answer");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), 64 << 20)
        .await
        .expect("a body");
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, value)
}

fn token_id(event: &Event) -> String {
    match &event.payload {
        Payload::TokenCreated(created) => created.token.clone(),
        other => panic!("not a token event: {other:?}"),
    }
}

/// A concrete path for a route template.
fn concrete(template: &str) -> String {
    template
        .replace("{surface}", "account_suggestions")
        .replace("{ad}", "matrix-ad")
        .replace("{rule}", "matrix-rule")
        .replace("{id}", "102")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_scope_as_its_table_says() {
    let harness = Harness::start(ServeConfig {
        rate_limit: None,
        ..ServeConfig::default()
    })
    .await;
    harness.ready().await;
    let now = unix_now();
    // A revoked admin token and an expired admin token: the strongest scope, refused.
    let revoked = new_token(Scope::Admin, now, None, "test");
    let expired = new_token(Scope::Admin, now - 7_200, Some(now - 3_600), "test");
    let revocation = Event::new(
        "revoke-matrix",
        now,
        Payload::TokenRevoked(TokenRevoked {
            token: token_id(&revoked.event),
            actor: "test".into(),
            reason: "leaked".into(),
        }),
    );
    let outcomes = harness
        .service
        .append(vec![
            revoked.event.clone(),
            expired.event.clone(),
            revocation,
        ])
        .await
        .expect("stored");
    let last = outcomes.iter().map(|o| o.seq()).max().unwrap_or(0);
    assert!(
        harness
            .service
            .wait_folded(last, Duration::from_secs(10))
            .await
    );

    // The table lists exactly the routes the OpenAPI document describes (HMA's routes
    // aside: they are checked below).
    let (_, _, openapi) = send(&harness, "GET", "/openapi.json", None, None).await;
    let mut documented = BTreeSet::new();
    for (path, item) in openapi["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("methods").keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let tabled: BTreeSet<(String, String)> = ROUTE_SCOPES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(tabled, documented, "ROUTE_SCOPES against /openapi.json");

    let bearer = |token: &str| format!("Bearer {token}");
    let mut checked = 0;
    for (method, template, accepts) in ROUTE_SCOPES {
        let path = concrete(template);
        let body = (*method == "POST").then_some("{}");
        if accepts.is_empty() {
            let (status, _, answer) = send(&harness, method, &path, None, body).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{method} {path} is public: {answer}"
            );
            continue;
        }
        let refused: [(&str, Option<String>); 4] = [
            ("no token", None),
            (
                "a malformed token",
                Some("Bearer grd.nope.nope".to_string()),
            ),
            ("a revoked admin token", Some(bearer(&revoked.token))),
            ("an expired admin token", Some(bearer(&expired.token))),
        ];
        for (who, authorization) in refused {
            let (status, headers, answer) =
                send(&harness, method, &path, authorization.as_deref(), body).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {who}: {answer}"
            );
            assert_eq!(
                headers.get("www-authenticate").map(|v| v.as_bytes()),
                Some(&b"Bearer"[..])
            );
            assert_eq!(answer["error"]["code"], "unauthorized", "{answer}");
            checked += 1;
        }
        for scope in Scope::ALL {
            let allowed = accepts.iter().any(|needed| scope.allows(*needed));
            let (status, _, answer) = send(
                &harness,
                method,
                &path,
                Some(&bearer(harness.token(scope))),
                body,
            )
            .await;
            if allowed {
                assert!(
                    status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::FORBIDDEN
                        && !status.is_server_error(),
                    "{method} {path} as {scope:?} is allowed, got {status}: {answer}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} as {scope:?}: {answer}"
                );
                assert_eq!(answer["error"]["code"], "forbidden", "{answer}");
            }
            checked += 1;
        }
    }
    // HMA's routes take the service scope (or admin).
    for path in ["/m/index/status", "/c/banks", "/c/signal_type"] {
        let (status, _, _) = send(&harness, "GET", path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        for scope in Scope::ALL {
            let (status, _, answer) = send(
                &harness,
                "GET",
                path,
                Some(&bearer(harness.token(scope))),
                None,
            )
            .await;
            let allowed = scope.allows(Scope::Service);
            assert_eq!(
                status.is_success(),
                allowed,
                "{path} as {scope:?}: {status} {answer}"
            );
        }
    }
    assert!(checked >= ROUTE_SCOPES.len() * 5, "{checked} cases");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_over_its_rate_limit_is_answered_429_and_other_tokens_are_not() {
    let harness = Harness::start(ServeConfig {
        rate_limit: Some(RateLimit {
            per_second: 0.5,
            burst: 3.0,
        }),
        ..ServeConfig::default()
    })
    .await;
    harness.ready().await;
    let service = format!("Bearer {}", harness.token(Scope::Service));
    let body = json!({"text": "cooking", "place": "bio"}).to_string();
    for n in 0..3 {
        let (status, _, answer) = send(
            &harness,
            "POST",
            "/v1/text/check",
            Some(&service),
            Some(&body),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "request {n}: {answer}");
    }
    let (status, headers, answer) = send(
        &harness,
        "POST",
        "/v1/text/check",
        Some(&service),
        Some(&body),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert_eq!(answer["error"]["code"], "rate_limited", "{answer}");
    let retry: u64 = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After header");
    assert!((1..=2).contains(&retry), "retry after {retry} s");
    // Another token has its own budget.
    let admin = format!("Bearer {}", harness.token(Scope::Admin));
    let (status, _, answer) = send(
        &harness,
        "POST",
        "/v1/text/check",
        Some(&admin),
        Some(&body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // Unauthenticated requests are refused before the limiter: they spend nobody's budget.
    let (status, _, _) = send(&harness, "POST", "/v1/text/check", None, Some(&body)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Strings that would change a query if one were ever built by pasting text into SQL.
const INJECTIONS: &[&str] = &[
    "'; DROP TABLE events; --",
    "\" OR \"1\"=\"1",
    "x' OR '1'='1' --",
    "1); DELETE FROM meta; --",
    "'; UPDATE events SET body = x'00'; --",
    "$1",
    "?",
    "%' --",
    "\\'; DROP TABLE checkpoints; --",
    "Robert'); DROP TABLE events;--",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_injection_payloads_in_every_string_field_are_stored_as_data() {
    let harness = Harness::start(ServeConfig {
        rate_limit: None,
        ..ServeConfig::default()
    })
    .await;
    harness.ready().await;
    let (_, before) = harness
        .call("GET", "/v1/ledger/verify", Some(Scope::Admin), None)
        .await;
    let before = before["records"].as_u64().expect("records");
    let at = common::T0 + 500;
    let mut stored = 0;
    for (n, payload) in INJECTIONS.iter().enumerate() {
        // Every string field of the events that carry strings: ids, accounts, handles,
        // bios, emails, post ids, texts, hashtags, queries.
        let account = format!("{payload}-{n}");
        let events = json!([
            {"id": format!("acct {payload} {n}"), "type": "account_created", "at": at, "account": account,
             "handle": format!("{payload}{n}"), "declared_age": 30, "bio": payload,
             "emails": [format!("{n}{payload}@example.invalid")]},
            {"id": format!("post {payload} {n}"), "type": "post", "at": at + 1, "account": account,
             "post": format!("{payload} post {n}"), "text": payload, "hashtags": [payload]},
            {"id": format!("search {payload} {n}"), "type": "search", "at": at + 2, "account": account, "query": payload},
            {"id": format!("follow {payload} {n}"), "type": "follow", "at": at + 3, "account": account, "target": "102"},
        ]);
        let (status, answer) = harness.post("/v1/events", Scope::Service, events).await;
        assert_eq!(status, StatusCode::OK, "{payload}: {answer}");
        assert_eq!(answer["stored"], 4, "{payload}: {answer}");
        stored += 4;
        // A report whose every string carries the payload; read back verbatim.
        let (status, report) = harness
            .post(
                "/v1/reports",
                Scope::Service,
                json!({"client_key": format!("{payload}{n}"), "reporter": account,
                       "subject": {"account": account}, "category": "spam", "text": payload}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{payload}: {report}");
        stored += 1;
        let id = report["id"].as_str().expect("a report id").to_string();
        let (status, read) = harness
            .call(
                "GET",
                &format!("/v1/reports/{id}"),
                Some(Scope::Reviewer),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{read}");
        assert_eq!(read["client_key"], format!("{payload}{n}"), "{read}");
        // In path segments (percent-encoded): unknown ids, never a 5xx.
        let encoded: String =
            form_urlencoded::byte_serialize(payload.as_bytes()).collect::<String>();
        for path in [
            format!("/v1/reports/{encoded}"),
            format!("/v1/entities/{encoded}"),
        ] {
            let (status, answer) = harness.call("GET", &path, Some(Scope::Admin), None).await;
            assert!(
                status.is_client_error() || status.is_success(),
                "{path}: {status} {answer}"
            );
        }
    }
    // The ledger holds exactly what was acknowledged, its chain intact, every table there.
    let (status, verified) = harness
        .call("GET", "/v1/ledger/verify", Some(Scope::Admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["ok"], true, "{verified}");
    let records = verified["records"].as_u64().expect("records");
    // Reports also store their triage and timers as events: at least what was sent.
    assert!(
        records >= before + stored,
        "{records} < {before} + {stored}"
    );
    let (status, decided) = harness
        .post(
            "/v1/decide/account_suggestions",
            Scope::Service,
            json!({"viewer": INJECTIONS[0], "candidates": [format!("{}-0", INJECTIONS[0]), "102"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(decided["verdicts"].as_array().map(Vec::len), Some(2));
}

/// CRC-32 (IEEE) as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffff_u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG that declares `width` × `height` pixels in a few dozen bytes (a decompression
/// bomb's header: the pixels are never there).
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    // One IDAT chunk holding an empty zlib stream: decoders read the header up to it.
    let mut idat = b"IDAT".to_vec();
    idat.extend_from_slice(&[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    png.extend_from_slice(&8u32.to_be_bytes());
    png.extend_from_slice(&idat);
    png.extend_from_slice(&crc32(&idat).to_be_bytes());
    png.extend_from_slice(&[0, 0, 0, 0]);
    png.extend_from_slice(b"IEND");
    png.extend_from_slice(&crc32(b"IEND").to_be_bytes());
    png
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_and_pixel_limits_refuse_before_decoding() {
    let harness = Harness::start(ServeConfig {
        body_limit: 64 * 1024,
        rate_limit: None,
        ..ServeConfig::default()
    })
    .await;
    harness.ready().await;
    let service = format!("Bearer {}", harness.token(Scope::Service));
    // (declared width, height) → refused for its pixels, or decoded (and then refused
    // only because the body holds no pixel data).
    let table = [
        (100_000_u32, 100_000_u32, true),
        (50_000, 1_001, true),
        (7_071, 7_071, false),
        (7_072, 7_072, true),
        (64, 64, false),
    ];
    for (width, height, over) in table {
        let (status, _, answer) = send_bytes(
            &harness,
            "POST",
            "/v1/media/hash",
            Some(&service),
            Some(("image/png", png_declaring(width, height))),
        )
        .await;
        let text = answer.to_string();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{width}x{height}: {text}");
        assert_eq!(
            text.contains("over the limit"),
            over,
            "{width}x{height}: {text}"
        );
    }
    // A body over the limit is 413 before anything reads it.
    let big = vec![b'x'; 65 * 1024];
    let (status, _, answer) = send(
        &harness,
        "POST",
        "/v1/media/hash",
        Some(&service),
        Some(&String::from_utf8_lossy(&big)),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
}

/// A multipart body with one file part named `file_name`.
fn upload(field: &str, file_name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "security-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_names_never_touch_the_filesystem() {
    let harness = Harness::start(ServeConfig {
        rate_limit: None,
        ..ServeConfig::default()
    })
    .await;
    harness.ready().await;
    let service = format!("Bearer {}", harness.token(Scope::Service));
    let marker = format!("guardrail-upload-{}", std::process::id());
    let outside = std::env::temp_dir().join(&marker);
    let names = [
        format!("../../../../../../{}", outside.display()),
        outside.display().to_string(),
        format!("..\\..\\{marker}"),
        format!("{marker}; rm -rf ."),
        marker.clone(),
    ];
    let cwd_before: BTreeSet<_> = std::fs::read_dir(".")
        .expect("the working directory")
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    for name in &names {
        for path in ["/h/hash", "/m/lookup"] {
            let (content_type, body) = upload("video", name, b"not really a video");
            let (status, _, answer) = send_bytes(
                &harness,
                "POST",
                path,
                Some(&service),
                Some((&content_type, body)),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{path} with {name:?}: {answer}");
        }
        assert!(!outside.exists(), "{name:?} wrote {}", outside.display());
    }
    let cwd_after: BTreeSet<_> = std::fs::read_dir(".")
        .expect("the working directory")
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    assert_eq!(cwd_before, cwd_after, "an upload created a file here");
}
