//! Data-driven tests of the routes' quirks and error bodies (one table, one state, in
//! order), and of the journal: every change recorded before it is applied, a refused
//! change not applied, and a replay that rebuilds the same state. No image is hashed
//! here (the replay test does that); content goes in as raw signals.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use tower::ServiceExt;

use crate::{BankChange, HmaConfig, HmaState, MemoryJournal, NoJournal, router};

const BRIDGE: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
const EDIT: &str = "58d871ceecf4e84d82368232078f27f0b76e26f592621e9d33e6338d4e9c9b22";
const DOG: &str = "2c8b8a05f302cbf219e06c95c73ec65f5868098d77327698d196da6d99e7d38a";

struct Reply {
    status: u16,
    media_type: String,
    body: String,
}

async fn call(app: &Router, method: &str, uri: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if !content_type.is_empty() {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let request = request.body(Body::from(body)).expect("request");
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status().as_u16();
    let media_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    Reply {
        status,
        media_type,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn json_call(app: &Router, method: &str, uri: &str, body: &str) -> Reply {
    call(
        app,
        method,
        uri,
        "application/json",
        body.as_bytes().to_vec(),
    )
    .await
}

const BOUNDARY: &str = "test-boundary";

/// A multipart body: `(field, Some(file name) | None, content)` per part.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (field, file_name, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = match file_name {
            Some(name) => format!("form-data; name=\"{field}\"; filename=\"{name}\""),
            None => format!("form-data; name=\"{field}\""),
        };
        body.extend_from_slice(format!("Content-Disposition: {disposition}\r\n").as_bytes());
        // The Ruby client's part headers, which the parser must tolerate.
        body.extend_from_slice(
            format!(
                "Content-Length: {}\r\nContent-Transfer-Encoding: binary\r\n\r\n",
                content.len()
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn in_memory() -> HmaState {
    HmaState::new(HmaConfig::default(), Arc::new(NoJournal)).expect("state")
}

/// One request and the exact answer HMA gives (status, body).
struct Case {
    method: &'static str,
    uri: String,
    body: String,
    status: u16,
    expected: String,
}

fn case(method: &'static str, uri: &str, body: &str, status: u16, expected: &str) -> Case {
    Case {
        method,
        uri: uri.to_string(),
        body: body.to_string(),
        status,
        expected: expected.to_string(),
    }
}

fn message(text: &str) -> String {
    serde_json::json!({ "message": text }).to_string()
}

#[tokio::test]
async fn routes_answer_with_hma_quirks_and_error_bodies() {
    let app = router(in_memory());
    let lookup = |query: &str| format!("/m/lookup?signal={BRIDGE}&signal_type=pdq{query}");
    let raw = |query: &str| format!("/m/raw_lookup?signal={BRIDGE}&signal_type=pdq{query}");
    let cases = vec![
        // Banks: 201 on create, ratios are floats, numbers and booleans as strings.
        case(
            "POST",
            "/c/banks",
            r#"{"name":"TEST_BANK","enabled":"true","matching_enabled_ratio":1.0}"#,
            201,
            r#"{"matching_enabled_ratio":1.0,"name":"TEST_BANK"}"#,
        ),
        case(
            "POST",
            "/c/banks",
            r#"{"name":"TEST_BANK"}"#,
            403,
            &message("Bank already exists"),
        ),
        case(
            "POST",
            "/c/banks",
            r#"{"name":"test_bank"}"#,
            400,
            &message("Bank names must be UPPER_WITH_UNDERSCORE"),
        ),
        case(
            "POST",
            "/c/banks",
            r#"{"name":"COOP","enabled_ratio":"0.5"}"#,
            201,
            r#"{"matching_enabled_ratio":0.5,"name":"COOP"}"#,
        ),
        case(
            "POST",
            "/c/banks",
            r#"{"name":"OFF","enabled":"false"}"#,
            201,
            r#"{"matching_enabled_ratio":0.0,"name":"OFF"}"#,
        ),
        case(
            "POST",
            "/c/banks",
            r#"{"name":"BAD","enabled_ratio":"lots"}"#,
            400,
            &message("Invalid float: 'lots'"),
        ),
        case(
            "POST",
            "/c/banks",
            r#"{"name":"BAD","enabled":"maybe"}"#,
            400,
            &message("invalid boolean parameter - prefer true/false"),
        ),
        case("POST", "/c/banks", "{}", 400, &message("name is required")),
        case(
            "POST",
            "/c/banks",
            "[1]",
            400,
            &message("this endpoint expects a json object payload"),
        ),
        case(
            "GET",
            "/c/bank/NOPE",
            "",
            404,
            &message("bank 'NOPE' not found"),
        ),
        case(
            "PUT",
            "/c/bank/NOPE",
            r#"{"enabled":true}"#,
            404,
            &message("Bank not found"),
        ),
        case(
            "PUT",
            "/c/bank/COOP",
            r#"{"name":"TEST_BANK"}"#,
            403,
            &message("Bank name already exists"),
        ),
        case(
            "PUT",
            "/c/bank/COOP",
            r#"{"name":"Coop"}"#,
            400,
            &message("Bank names must be UPPER_WITH_UNDERSCORE"),
        ),
        case(
            "PUT",
            "/c/bank/COOP",
            r#"{"enabled_ratio":1}"#,
            200,
            r#"{"matching_enabled_ratio":1.0,"name":"COOP"}"#,
        ),
        case(
            "GET",
            "/c/banks",
            "",
            200,
            r#"[{"matching_enabled_ratio":1.0,"name":"TEST_BANK"},{"matching_enabled_ratio":1.0,"name":"COOP"},{"matching_enabled_ratio":0.0,"name":"OFF"}]"#,
        ),
        // Content by signal: 200 (not 201), ids from 1, hashes validated as pytx does.
        case(
            "POST",
            "/c/bank/TEST_BANK/signal",
            &format!(r#"{{"pdq":"{BRIDGE}"}}"#),
            200,
            &format!(r#"{{"id":1,"signals":{{"pdq":"{BRIDGE}"}}}}"#),
        ),
        case(
            "POST",
            "/c/bank/TEST_BANK/signal",
            &format!(r#"{{"pdq":"{}"}}"#, BRIDGE.to_uppercase()),
            400,
            &message("Invalid pdq signal: invalid PDQ hash"),
        ),
        case(
            "POST",
            "/c/bank/TEST_BANK/signal",
            "{}",
            400,
            &message("No signals given"),
        ),
        case(
            "POST",
            "/c/bank/TEST_BANK/signal",
            r#"{"sha1":"ab"}"#,
            400,
            &message("No such signal type sha1"),
        ),
        case(
            "POST",
            "/c/bank/NOPE/signal",
            &format!(r#"{{"pdq":"{BRIDGE}"}}"#),
            404,
            &message("bank 'NOPE' not found"),
        ),
        case(
            "POST",
            "/c/bank/OFF/signal",
            &format!(r#"{{"pdq":"{EDIT}","note":"edit"}}"#),
            200,
            &format!(r#"{{"id":2,"signals":{{"pdq":"{EDIT}"}}}}"#),
        ),
        // Lookups: distances as strings, sorted bank keys, ratio 0 off unless bypassed.
        case(
            "GET",
            &lookup(""),
            "",
            200,
            r#"{"TEST_BANK":[{"bank_content_id":1,"distance":"0"}]}"#,
        ),
        case(
            "GET",
            &lookup("&bypass_coinflip=true"),
            "",
            200,
            r#"{"OFF":[{"bank_content_id":2,"distance":"26"}],"TEST_BANK":[{"bank_content_id":1,"distance":"0"}]}"#,
        ),
        case(
            "GET",
            &lookup("&bypass_coinflip=1&banks=OFF,NOPE"),
            "",
            200,
            r#"{"OFF":[{"bank_content_id":2,"distance":"26"}]}"#,
        ),
        case(
            "GET",
            &format!("/m/lookup?signal={DOG}&signal_type=pdq"),
            "",
            200,
            "{}",
        ),
        case("GET", &raw(""), "", 200, r#"{"matches":[1,2]}"#),
        case(
            "GET",
            &raw("&include_distance=yes"),
            "",
            200,
            r#"{"matches":[{"bank_content_id":1,"distance":"0"},{"bank_content_id":2,"distance":"26"}]}"#,
        ),
        case(
            "GET",
            &raw("&include_distance=false&banks=TEST_BANK"),
            "",
            200,
            r#"{"matches":[1]}"#,
        ),
        case(
            "GET",
            &raw("&include_distance=maybe"),
            "",
            400,
            &message("include_distance: invalid boolean parameter - prefer true/false"),
        ),
        case(
            "GET",
            "/m/raw_lookup?signal_type=pdq",
            "",
            400,
            &message("signal is required"),
        ),
        case(
            "GET",
            &format!("/m/lookup?signal={BRIDGE}&signal_type=sha1"),
            "",
            400,
            &message("No such SignalType 'sha1'"),
        ),
        case(
            "GET",
            "/m/lookup?signal=F00D&signal_type=pdq",
            "",
            400,
            &message("invalid signal: invalid PDQ hash"),
        ),
        case(
            "GET",
            "/m/lookup",
            "",
            400,
            &message("Either url or both signal and signal_type are required"),
        ),
        case(
            "POST",
            "/m/compare",
            &format!(r#"{{"pdq":["{BRIDGE}","{EDIT}"]}}"#),
            200,
            r#"{"pdq":[true,{"distance":26}]}"#,
        ),
        // Content: disable, read, delete; a disabled item drops out of /m/lookup only.
        case(
            "PUT",
            "/c/bank/TEST_BANK/content/1",
            r#"{"disable_until_ts":"0"}"#,
            200,
            r#"{"bank":{"matching_enabled_ratio":1.0,"name":"TEST_BANK"},"collab_metadata":{},"disable_until_ts":0,"id":1,"note":null,"original_media_uri":null,"user_metadata":null}"#,
        ),
        case(
            "PUT",
            "/c/bank/TEST_BANK/content/1",
            r#"{"disable_until_ts":-5}"#,
            400,
            &message("disable_until_ts must be a non-negative integer"),
        ),
        case(
            "PUT",
            "/c/bank/TEST_BANK/content/1",
            r#"{"disable_until_ts":"soon"}"#,
            400,
            &message("Invalid int: 'soon'"),
        ),
        case("GET", &lookup(""), "", 200, "{}"),
        case("GET", &raw(""), "", 200, r#"{"matches":[1,2]}"#),
        case(
            "GET",
            "/c/bank/OFF/content/2?include_signals=true",
            "",
            200,
            &format!(
                r#"{{"bank":{{"matching_enabled_ratio":0.0,"name":"OFF"}},"disable_until_ts":1,"id":2,"note":"edit","original_media_uri":null,"signals":{{"pdq":"{EDIT}"}}}}"#
            ),
        ),
        case(
            "GET",
            "/c/bank/TEST_BANK/content/2",
            "",
            404,
            &message("content '2' not found"),
        ),
        case(
            "GET",
            "/c/bank/TEST_BANK/content/99",
            "",
            404,
            &message("content '99' not found"),
        ),
        case(
            "DELETE",
            "/c/bank/TEST_BANK/content/1",
            "",
            200,
            r#"{"deleted":1}"#,
        ),
        case(
            "DELETE",
            "/c/bank/TEST_BANK/content/1",
            "",
            200,
            r#"{"deleted":0}"#,
        ),
        case("DELETE", "/c/bank/NOPE", "", 200, &message("Done")),
        case("DELETE", "/c/bank/OFF", "", 200, &message("Done")),
        case("GET", &raw(""), "", 200, r#"{"matches":[]}"#),
        // Hashing and adding content: HMA's 400s, checked before anything is fetched.
        case("GET", "/h/hash", "", 400, &message("url is required")),
        case(
            "GET",
            "/h/hash?url=http://127.0.0.1:9/a.jpg",
            "",
            400,
            &message("Invalid or unsafe URL provided"),
        ),
        case(
            "GET",
            "/h/hash?url=ftp://example.org/a.jpg",
            "",
            400,
            &message("Invalid or unsafe URL provided"),
        ),
        case(
            "POST",
            "/h/hash",
            "",
            400,
            &message("Missing multipart/form-data file upload"),
        ),
        case(
            "POST",
            "/c/bank/TEST_BANK/content",
            "",
            400,
            &message("Neither `url` nor multipart file upload was received"),
        ),
        case(
            "POST",
            "/c/bank/NOPE/content?url=http://127.0.0.1:9/a.jpg",
            "",
            404,
            &message("bank 'NOPE' not found"),
        ),
        // Exchanges, minimally.
        case(
            "GET",
            "/c/exchanges/apis",
            "",
            200,
            r#"["sample","ncmec","stop_ncii"]"#,
        ),
        case(
            "GET",
            "/c/exchanges/api/nope",
            "",
            400,
            &message("no such Exchange API 'nope'"),
        ),
        case(
            "POST",
            "/c/exchanges/api/ncmec",
            r#"{"credential_json":{"user":"u","password":"p"}}"#,
            200,
            r#"{"has_set_authentification":true,"supports_authentification":true}"#,
        ),
        case(
            "POST",
            "/c/exchanges/api/ncmec",
            r#"{"credential_json":{}}"#,
            200,
            r#"{"has_set_authentification":false,"supports_authentification":true}"#,
        ),
        case(
            "POST",
            "/c/exchanges",
            r#"{"api":"sample","bank":"new_one","api_json":{}}"#,
            400,
            &message("Field `bank` must match /^[A-Z0-9_]+$/"),
        ),
        case(
            "POST",
            "/c/exchanges",
            r#"{"api":"fb","bank":"NEW_ONE"}"#,
            400,
            &message("No such exchange type 'fb'"),
        ),
        case(
            "POST",
            "/c/exchanges",
            r#"{"api":"sample","bank":"TEST_BANK","api_json":{}}"#,
            403,
            &message("Bank already exists"),
        ),
        case(
            "POST",
            "/c/exchanges",
            r#"{"api":"sample","bank":"SAMPLE_X","api_json":{}}"#,
            201,
            &message("Created successfully"),
        ),
        case(
            "GET",
            "/c/exchange/SAMPLE_X",
            "",
            200,
            r#"{"name":"SAMPLE_X","api":"sample","enabled":true}"#,
        ),
        case(
            "GET",
            "/c/exchange/NOPE/status",
            "",
            404,
            &message("Exchange 'NOPE' not found"),
        ),
    ];
    for (number, case) in cases.iter().enumerate() {
        let reply = json_call(&app, case.method, &case.uri, &case.body).await;
        let what = format!("case {number}: {} {} {}", case.method, case.uri, case.body);
        assert_eq!(reply.status, case.status, "{what}: body {}", reply.body);
        assert_eq!(reply.body, case.expected, "{what}");
        assert_eq!(reply.media_type, "application/json", "{what}");
    }
}

#[tokio::test]
async fn status_and_uploads_follow_hma() {
    let state = in_memory();
    let app = router(state.clone());
    let reply = call(&app, "GET", "/status", "", Vec::new()).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "I-AM-ALIVE"));
    assert_eq!(reply.media_type, "text/html; charset=utf-8");
    state.set_index_stale(true);
    let reply = call(&app, "GET", "/status", "", Vec::new()).await;
    assert_eq!((reply.status, reply.body.as_str()), (503, "INDEX-STALE"));

    let form = format!("multipart/form-data; boundary={BOUNDARY}");
    json_call(&app, "POST", "/c/banks", r#"{"name":"B"}"#).await;
    let uploads: Vec<(&str, Vec<u8>, u16, String)> = vec![
        (
            "/h/hash",
            multipart(&[("audio", Some("a.wav"), b"x")]),
            400,
            message("no such content_type: 'audio'"),
        ),
        (
            "/h/hash",
            multipart(&[
                ("photo", Some("a.jpg"), b"x"),
                ("photo", Some("b.jpg"), b"y"),
            ]),
            400,
            message("Only one file allowed per request"),
        ),
        (
            "/h/hash",
            multipart(&[("metadata", None, b"{}")]),
            400,
            message("Missing multipart/form-data file upload"),
        ),
        (
            "/h/hash",
            multipart(&[("video", Some("v.mp4"), b"")]),
            200,
            r#"{"video_md5":"d41d8cd98f00b204e9800998ecf8427e"}"#.to_string(),
        ),
        (
            "/m/lookup",
            multipart(&[("video", Some("v.mp4"), b"")]),
            200,
            r#"{"video_md5":{}}"#.to_string(),
        ),
        (
            "/c/bank/B/content",
            multipart(&[
                ("photo", Some("a.jpg"), b"x"),
                ("metadata", None, b"not json"),
            ]),
            400,
            message("metadata form field must be valid JSON"),
        ),
        (
            "/c/bank/B/content",
            multipart(&[
                ("photo", Some("a.jpg"), b"x"),
                ("metadata", None, br#"{"owner":"x"}"#),
            ]),
            400,
            message(
                "Invalid metadata: 1 validation error for BankedContentMetadata\nowner\n  Extra inputs are not permitted [type=extra_forbidden]",
            ),
        ),
        (
            "/c/bank/B/content",
            multipart(&[
                ("video", Some("v.mp4"), b""),
                ("metadata", None, br#"{"content_id":"c-1","collab":{}}"#),
            ]),
            200,
            r#"{"id":1,"signals":{"video_md5":"d41d8cd98f00b204e9800998ecf8427e"}}"#.to_string(),
        ),
        (
            "/m/lookup",
            multipart(&[("video", Some("v.mp4"), b"")]),
            200,
            r#"{"video_md5":{"B":[{"bank_content_id":1,"distance":"-"}]}}"#.to_string(),
        ),
    ];
    for (number, (path, body, status, expected)) in uploads.into_iter().enumerate() {
        let reply = call(&app, "POST", path, &form, body).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (status, expected.as_str()),
            "upload {number} to {path}"
        );
    }
    let reply = call(&app, "GET", "/c/bank/B/content/1", "", Vec::new()).await;
    assert_eq!(
        reply.body,
        r#"{"bank":{"matching_enabled_ratio":1.0,"name":"B"},"disable_until_ts":1,"id":1,"metadata":{"collab":null,"content_id":"c-1","content_uri":null,"json":null},"original_media_uri":null}"#
    );
}

#[tokio::test]
async fn every_change_is_journalled_and_a_replay_rebuilds_the_same_state() {
    let journal = Arc::new(MemoryJournal::new());
    let state = HmaState::new(HmaConfig::default(), journal.clone()).expect("state");
    let app = router(state);
    let writes = [
        (
            "POST",
            "/c/banks".to_string(),
            r#"{"name":"A"}"#.to_string(),
        ),
        (
            "POST",
            "/c/banks".to_string(),
            r#"{"name":"B","enabled_ratio":"0.5"}"#.to_string(),
        ),
        (
            "POST",
            "/c/bank/A/signal".to_string(),
            format!(r#"{{"pdq":"{BRIDGE}"}}"#),
        ),
        (
            "POST",
            "/c/bank/B/signal".to_string(),
            format!(r#"{{"pdq":"{EDIT}"}}"#),
        ),
        (
            "POST",
            "/c/bank/A/signal".to_string(),
            format!(r#"{{"pdq":"{DOG}"}}"#),
        ),
        ("DELETE", "/c/bank/A/content/3".to_string(), String::new()),
        (
            "PUT",
            "/c/bank/B".to_string(),
            r#"{"name":"B2","enabled":true}"#.to_string(),
        ),
        (
            "PUT",
            "/c/bank/B2/content/2".to_string(),
            r#"{"note":"kept"}"#.to_string(),
        ),
        (
            "POST",
            "/c/exchanges".to_string(),
            r#"{"api":"sample","bank":"X"}"#.to_string(),
        ),
        ("DELETE", "/c/bank/NONE".to_string(), String::new()),
    ];
    for (method, uri, body) in &writes {
        let reply = json_call(&app, method, uri, body).await;
        assert!(
            reply.status < 300,
            "{method} {uri}: {} {}",
            reply.status,
            reply.body
        );
    }
    let changes = journal.changes();
    // The delete of a missing bank changed nothing, so it recorded nothing.
    assert_eq!(changes.len(), writes.len() - 1);
    assert!(
        matches!(&changes[6], BankChange::BankUpdated { new_name, matching_enabled_ratio, .. } if new_name == "B2" && *matching_enabled_ratio == 1.0)
    );

    // Through JSON, as the ledger stores them.
    let stored: Vec<String> = changes
        .iter()
        .map(|c| serde_json::to_string(c).expect("json"))
        .collect();
    let restored: Vec<BankChange> = stored
        .iter()
        .map(|t| serde_json::from_str(t).expect("parse"))
        .collect();
    assert_eq!(restored, changes);
    let rebuilt = HmaState::new(HmaConfig::default(), Arc::new(NoJournal)).expect("state");
    assert_eq!(rebuilt.replay(restored), Ok(changes.len()));
    let rebuilt_app = router(rebuilt);
    let reads = [
        "/c/banks".to_string(),
        format!("/m/raw_lookup?signal={BRIDGE}&signal_type=pdq&include_distance=true"),
        format!("/m/raw_lookup?signal={DOG}&signal_type=pdq"),
        format!("/m/lookup?signal={BRIDGE}&signal_type=pdq"),
        "/c/bank/B2/content/2".to_string(),
        "/c/exchange/X".to_string(),
    ];
    for uri in &reads {
        let before = json_call(&app, "GET", uri, "").await;
        let after = json_call(&rebuilt_app, "GET", uri, "").await;
        assert_eq!(
            (after.status, &after.body),
            (before.status, &before.body),
            "GET {uri}"
        );
    }
    // Ids are never reused, not even the removed one's.
    let added = json_call(
        &rebuilt_app,
        "POST",
        "/c/bank/A/signal",
        &format!(r#"{{"pdq":"{DOG}"}}"#),
    )
    .await;
    assert!(added.body.starts_with(r#"{"id":4,"#), "{}", added.body);
}

#[tokio::test]
async fn a_change_the_journal_refuses_is_not_applied() {
    let journal = Arc::new(MemoryJournal::new());
    let app = router(HmaState::new(HmaConfig::default(), journal.clone()).expect("state"));
    journal.refuse_with(Some("disk full"));
    let reply = json_call(&app, "POST", "/c/banks", r#"{"name":"A"}"#).await;
    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.body,
        message("journal could not record the change: disk full")
    );
    assert_eq!(json_call(&app, "GET", "/c/bank/A", "").await.status, 404);
    journal.refuse_with(None);
    assert_eq!(
        json_call(&app, "POST", "/c/banks", r#"{"name":"A"}"#)
            .await
            .status,
        201
    );
    assert_eq!(journal.changes().len(), 1);
}

#[test]
fn a_replay_that_does_not_fit_names_the_change_and_replaces_nothing() {
    let state = in_memory();
    let changes = vec![
        BankChange::BankCreated {
            name: "A".into(),
            matching_enabled_ratio: 1.0,
        },
        BankChange::ContentAdded {
            id: 1,
            bank: "MISSING".into(),
            signals: [("pdq".to_string(), BRIDGE.to_string())].into(),
            user_metadata: None,
            note: None,
            added_at: 0,
        },
    ];
    let error = state
        .replay(changes)
        .expect_err("content in a missing bank");
    assert_eq!(error.position, 1);
    assert!(error.reason.contains("MISSING"), "{error}");
    assert_eq!(state.bank_count(), 0);
}
