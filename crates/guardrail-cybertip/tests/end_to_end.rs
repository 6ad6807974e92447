//! The whole referral flow against the local API server
//! (`tools/cybertipline-server/server.py`), over real HTTP with a tiny blocking client
//! written here on `std::net::TcpStream`: submit, two uploads and their file details,
//! finish, with injected failures (an upload refused once, a finish whose answer is
//! lost), then the server's journal checked for what arrived.
//!
//! Without python3, lxml or the shared schema these tests print why and pass, except
//! under `GUARDRAIL_REQUIRE_PEERS=1` (`scripts/test.sh`, CI), where they fail.
//!
//! Files are generated noise (no images); only their names, sizes and digests reach
//! the report.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use guardrail_cybertip::{
    Evidence, FinishConfirmation, FlowStatus, FormPart, HttpOutcome, Md5, NextStep, ReferralFlow,
    RequestBody, ResponseCode, Sha1, StepState, parse_report_response,
};
use serde_json::Value;

const USER: &str = "test-user";
const PASSWORD: &str = "test-pass";

/// The server process, killed when the test ends (also on panic).
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let mut child = Command::new("python3")
        .arg(tools_dir().join("server.py"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--user",
            USER,
            "--password",
            PASSWORD,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 starts server.py");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("server prints its address");
    let address = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line from server.py: {line:?}"))
        .to_string();
    Server { child, address }
}

/// A response: status, headers (lowercase names), body.
struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), read to the end.
fn http(
    server: &Server,
    method: &str,
    path: &str,
    auth: Option<(&str, &str)>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Reply, String> {
    let mut stream =
        TcpStream::connect(&server.address).map_err(|error| format!("connect: {error}"))?;
    let timeout = Some(Duration::from_secs(20));
    stream
        .set_read_timeout(timeout)
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(timeout)
        .map_err(|e| e.to_string())?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.address,
        body.len()
    );
    if let Some((user, password)) = auth {
        head.push_str(&format!(
            "Authorization: Basic {}\r\n",
            base64(format!("{user}:{password}").as_bytes())
        ));
    }
    if let Some(content_type) = content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .map_err(|error| format!("send: {error}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|error| format!("receive: {error}"))?;
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| format!("no complete response ({} bytes)", raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line in {head:?}"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let value = chunk.iter().enumerate().fold(0u32, |acc, (i, byte)| {
            acc | u32::from(*byte) << (16 - 8 * i)
        });
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(value >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Deterministic noise (xorshift): stands in for a file's bytes.
fn noise(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// MD5 and SHA-1 of `bytes`, from Python's hashlib (the crate computes no digests:
/// the platform hands them in).
fn digests(bytes: &[u8]) -> (Md5, Sha1) {
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import hashlib,sys; d=sys.stdin.buffer.read(); print(hashlib.md5(d).hexdigest(), hashlib.sha1(d).hexdigest())",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(bytes)
        .expect("write to python3");
    let output = child.wait_with_output().expect("python3 finishes");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut words = text.split_whitespace();
    let md5 = Md5::parse(words.next().unwrap_or_default()).expect("md5 from hashlib");
    let sha1 = Sha1::parse(words.next().unwrap_or_default()).expect("sha1 from hashlib");
    (md5, sha1)
}

/// Encodes a step's form as multipart/form-data, taking file bytes from `contents`.
fn multipart(parts: &[FormPart], contents: &HashMap<String, Vec<u8>>) -> (String, Vec<u8>) {
    let mut boundary = "guardrail-cybertip-boundary".to_string();
    while contents.values().any(|bytes| {
        bytes
            .windows(boundary.len())
            .any(|w| w == boundary.as_bytes())
    }) {
        boundary.push('x');
    }
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part {
            FormPart::Text { name, value } => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                        .as_bytes(),
                );
            }
            FormPart::File {
                name,
                file_name,
                file_key,
                content_type,
                ..
            } => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(&contents[file_key]);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Performs a step's request and turns what happened into an outcome for the flow.
fn perform(
    server: &Server,
    request: &guardrail_cybertip::StepRequest,
    contents: &HashMap<String, Vec<u8>>,
) -> HttpOutcome {
    let (content_type, body) = match &request.body {
        RequestBody::Xml(xml) => (
            request.body.content_type().to_string(),
            xml.as_bytes().to_vec(),
        ),
        RequestBody::Form(parts) => multipart(parts, contents),
    };
    match http(
        server,
        "POST",
        &request.path,
        Some((USER, PASSWORD)),
        Some(&content_type),
        &body,
    ) {
        Ok(reply) => HttpOutcome::Response {
            status: reply.status,
            body: String::from_utf8_lossy(&reply.body).into_owned(),
        },
        Err(reason) => HttpOutcome::NoResponse { reason },
    }
}

/// Runs the flow to a final state or a step that needs a person; at most 20 requests.
fn drive(server: &Server, flow: &mut ReferralFlow, contents: &HashMap<String, Vec<u8>>) {
    for _ in 0..20 {
        match flow.next_step() {
            NextStep::Run(request) => {
                let outcome = perform(server, &request, contents);
                flow.record(&request.step, &outcome)
                    .expect("the flow accepts the outcome of its own step");
            }
            NextStep::Done => return,
            NextStep::NeedsAttention { step, failure } => {
                panic!("step {step:?} needs attention: {failure:?}")
            }
        }
    }
    panic!("flow did not finish in 20 requests: {:?}", flow.status());
}

fn control(server: &Server, command: &str) {
    let reply = http(
        server,
        "POST",
        "/_control",
        None,
        Some("application/json"),
        command.as_bytes(),
    )
    .expect("control request");
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

fn journal(server: &Server) -> Vec<Value> {
    let reply = http(server, "GET", "/_journal", None, None, b"").expect("journal request");
    let value: Value = serde_json::from_slice(&reply.body).expect("journal is JSON");
    value.as_array().expect("journal is a list").clone()
}

#[test]
fn a_referral_with_files_survives_injected_failures() {
    if !peers_available() {
        return;
    }
    let server = start_server();

    // Two files of noise, described by name, size and digests only.
    let mut referral = full_referral();
    let mut contents = HashMap::new();
    let Evidence::Files(files) = &mut referral.evidence else {
        unreachable!("fixture has files")
    };
    for (seed, file) in files.iter_mut().enumerate() {
        let bytes = noise(seed as u64 + 7, 70_000 + seed * 1_234);
        let (md5, sha1) = digests(&bytes);
        file.size_bytes = bytes.len() as u64;
        file.md5 = md5;
        file.sha1 = sha1;
        contents.insert(file.key.clone(), bytes);
    }
    let declared: Vec<_> = files.clone();

    // The first upload is refused by a failing front end; the finish goes through but
    // its answer is lost (the connection drops).
    control(&server, r#"{"fail": "upload", "times": 1, "status": 500}"#);
    control(
        &server,
        r#"{"fail": "finish", "times": 1, "when": "after", "drop": true}"#,
    );

    let mut flow = ReferralFlow::start(referral, now()).expect("valid referral");
    drive(&server, &mut flow, &contents);

    let FlowStatus::Finished(report) = flow.status() else {
        panic!("not finished: {:?}", flow.status())
    };
    assert_eq!(report.report_id.0, 1000, "first id of the server's counter");
    assert_eq!(report.confirmation, FinishConfirmation::AlreadyFinished);
    assert_eq!(report.file_ids.len(), 2);
    assert!(report.unexpected_file_ids.is_empty() && report.missing_file_ids.is_empty());
    let attempts: Vec<(String, u32)> = flow
        .steps()
        .into_iter()
        .map(|row| match row.state {
            StepState::Succeeded { attempts } => (row.name, attempts),
            other => panic!("{} {:?}: {other:?}", row.name, row.file),
        })
        .collect();
    let expected: Vec<(String, u32)> = [
        ("submit", 1),
        ("upload", 2),
        ("fileinfo", 1),
        ("upload", 1),
        ("fileinfo", 1),
        ("finish", 2),
    ]
    .iter()
    .map(|(name, attempts)| (name.to_string(), *attempts))
    .collect();
    assert_eq!(attempts, expected);

    // What arrived, in order.
    let entries = journal(&server);
    let summary: Vec<(String, Value, Value)> = entries
        .iter()
        .map(|entry| {
            (
                entry["path"].as_str().unwrap_or_default().to_string(),
                entry["injected"].clone(),
                entry["response_code"].clone(),
            )
        })
        .collect();
    let expected: Vec<(String, Value, Value)> = [
        ("/submit", Value::Null, Value::from(0)),
        ("/upload", Value::from("before"), Value::from(1000)),
        ("/upload", Value::Null, Value::from(0)),
        ("/fileinfo", Value::Null, Value::from(0)),
        ("/upload", Value::Null, Value::from(0)),
        ("/fileinfo", Value::Null, Value::from(0)),
        ("/finish", Value::from("after"), Value::Null),
        ("/finish", Value::Null, Value::from(5102)),
    ]
    .into_iter()
    .map(|(path, injected, code)| (path.to_string(), injected, code))
    .collect();
    assert_eq!(summary, expected, "journal:\n{entries:#?}");
    assert_eq!(entries[6]["effective_response_code"], Value::from(0));

    // The submitted report is the writer's document; uploads arrived whole under the
    // declared names and digests; file details name the ids the server gave.
    assert_eq!(
        entries[0]["xml"].as_str(),
        Some(guardrail_cybertip::report_xml(flow.referral()).as_str())
    );
    for (entry, file) in [(&entries[2], &declared[0]), (&entries[4], &declared[1])] {
        let received = &entry["files"][0];
        assert_eq!(received["name"].as_str(), Some(file.file_name.as_str()));
        assert_eq!(received["size"].as_u64(), Some(file.size_bytes));
        assert_eq!(received["md5"].as_str(), Some(file.md5.as_hex()));
        assert_eq!(received["sha1"].as_str(), Some(file.sha1.as_hex()));
        assert_eq!(entry["fields"]["id"].as_str(), Some("1000"));
    }
    for (entry, file_id) in [
        (&entries[3], &report.file_ids[0]),
        (&entries[5], &report.file_ids[1]),
    ] {
        assert_eq!(entry["file_id"].as_str(), Some(file_id.as_str()));
        let xml = entry["xml"].as_str().unwrap_or_default();
        assert!(xml.contains("<reportId>1000</reportId>"), "{xml}");
    }
    // The server kept digests, not contents: its whole journal is smaller than one file.
    let journal_size = serde_json::to_string(&entries)
        .map(|text| text.len())
        .unwrap_or(0);
    assert!(journal_size < 70_000, "journal is {journal_size} bytes");
}

#[test]
fn a_text_only_referral_finishes_without_uploads() {
    if !peers_available() {
        return;
    }
    let server = start_server();
    let mut flow = ReferralFlow::start(text_only_referral(), now()).expect("valid referral");
    drive(&server, &mut flow, &HashMap::new());
    let FlowStatus::Finished(report) = flow.status() else {
        panic!("not finished: {:?}", flow.status())
    };
    assert!(report.file_ids.is_empty());
    assert_eq!(report.confirmation, FinishConfirmation::DoneResponse);
    let paths: Vec<String> = journal(&server)
        .iter()
        .map(|entry| entry["path"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(paths, ["/submit", "/finish"]);
}

#[test]
fn the_server_answers_as_documented() {
    if !peers_available() {
        return;
    }
    let server = start_server();
    let auth = Some((USER, PASSWORD));

    let status = http(&server, "GET", "/status", auth, None, b"").expect("status");
    let response =
        parse_report_response(&String::from_utf8_lossy(&status.body)).expect("status XML");
    assert_eq!((status.status, response.code), (200, ResponseCode::Success));
    assert_eq!(
        response.description,
        format!("Remote User : {USER}, Remote Ip : 127.0.0.1")
    );
    assert!(
        status.headers.contains_key("request-id"),
        "{:?}",
        status.headers
    );

    let unauthorised =
        http(&server, "GET", "/status", Some((USER, "wrong")), None, b"").expect("status");
    let response =
        parse_report_response(&String::from_utf8_lossy(&unauthorised.body)).expect("401 XML");
    assert_eq!(
        (unauthorised.status, response.code),
        (401, ResponseCode::AuthenticationRequired)
    );
    assert!(unauthorised.headers.contains_key("www-authenticate"));

    let xsd = http(&server, "GET", "/xsd", auth, None, b"").expect("xsd");
    let reference = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/reference/cybertipline/cybertipline-report.xsd"),
    )
    .expect("shared schema");
    assert_eq!(xsd.body, reference);

    // A report the schema refuses: 4100 with the validator's message.
    let valid = guardrail_cybertip::report_xml(&minimal_referral());
    let invalid = valid.replace("<reporter>", "<unknownElement/>\n  <reporter>");
    let refused = http(
        &server,
        "POST",
        "/submit",
        auth,
        Some("text/xml; charset=utf-8"),
        invalid.as_bytes(),
    )
    .expect("submit");
    let response =
        parse_report_response(&String::from_utf8_lossy(&refused.body)).expect("4100 XML");
    assert_eq!(
        (refused.status, response.code),
        (400, ResponseCode::ValidationFailed)
    );
    assert!(
        response.description.contains("unknownElement"),
        "{}",
        response.description
    );
    let malformed = http(
        &server,
        "POST",
        "/submit",
        auth,
        Some("text/xml"),
        b"<report>",
    )
    .expect("submit");
    let response =
        parse_report_response(&String::from_utf8_lossy(&malformed.body)).expect("4110 XML");
    assert_eq!(response.code, ResponseCode::MalformedXml);

    // Steps on a report that does not exist, and finishing twice.
    let (content_type, body) = multipart(
        &[FormPart::Text {
            name: "id".to_string(),
            value: "999999".to_string(),
        }],
        &HashMap::new(),
    );
    let missing =
        http(&server, "POST", "/finish", auth, Some(&content_type), &body).expect("finish");
    let response =
        parse_report_response(&String::from_utf8_lossy(&missing.body)).expect("5001 XML");
    assert_eq!(response.code, ResponseCode::ReportDoesNotExist);

    let opened = http(
        &server,
        "POST",
        "/submit",
        auth,
        Some("text/xml; charset=utf-8"),
        valid.as_bytes(),
    )
    .expect("submit");
    let report_id = parse_report_response(&String::from_utf8_lossy(&opened.body))
        .expect("submit XML")
        .report_id
        .expect("report id");
    let (content_type, body) = multipart(
        &[FormPart::Text {
            name: "id".to_string(),
            value: report_id.to_string(),
        }],
        &HashMap::new(),
    );
    let retract = http(
        &server,
        "POST",
        "/retract",
        auth,
        Some(&content_type),
        &body,
    )
    .expect("retract");
    let response =
        parse_report_response(&String::from_utf8_lossy(&retract.body)).expect("retract XML");
    assert_eq!(
        (response.code, response.report_id),
        (ResponseCode::Success, Some(report_id))
    );
    let again = http(&server, "POST", "/finish", auth, Some(&content_type), &body).expect("finish");
    let response = parse_report_response(&String::from_utf8_lossy(&again.body)).expect("5101 XML");
    assert_eq!(response.code, ResponseCode::ReportAlreadyRetracted);
}
