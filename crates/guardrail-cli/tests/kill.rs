//! The kill test, once per `cargo test`: reports sent concurrently to a real `guardrail
//! serve`, the server killed with SIGKILL mid-stream and restarted on the same ledger; every
//! report it acknowledged (201) is present with its key and body, and `guardrail reports
//! check` passes with the acknowledged keys. `scripts/kill_test.py` does the same for many
//! runs and more reports (the figures in BENCHMARKS.md).
//!
//! The client is a few lines of HTTP/1.1 over a `TcpStream`, one connection per request, so
//! the test needs nothing but the binary under test.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{BINARY, Dir, guardrail, utf8};

/// A server started on a loopback port, killed with SIGKILL when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(db: &str) -> Server {
        let child = Command::new(BINARY)
            .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BINARY} serve: {e}"));
        // Owned by the guard at once, so a panic below still kills and reaps it.
        let mut server = Server {
            child,
            address: String::new(),
        };
        let stderr = server.child.stderr.take().expect("stderr is piped");
        let mut lines = BufReader::new(stderr).lines();
        let address = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("the server exited before saying where it serves"))
                .expect("the server's stderr reads");
            if let Some(at) = line.strip_prefix("guardrail: serving ")
                && let Some((_, url)) = at.rsplit_once(" on http://")
            {
                break url.trim().to_string();
            }
        };
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if matches!(http(&address, "GET", "/readyz", "", ""), Ok((200, _))) {
                server.address = address;
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server at {address} did not become ready");
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request on its own connection; the status and the body.
fn http(
    address: &str,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {answer:?}")))?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn report(sender: usize, index: usize) -> (String, String) {
    let key = format!("kill-{sender}-{index}");
    let body = serde_json::json!({
        "client_key": key,
        "reporter": (1000 + sender).to_string(),
        "subject": {"account": ((sender * 7919 + index) % 5000).to_string()},
        "category": if index.is_multiple_of(3) { "spam" } else { "child_sexual_exploitation" },
        "text": format!("report {index} from sender {sender}"),
    });
    (key, body.to_string())
}

#[test]
fn no_acknowledged_report_is_lost_when_the_server_is_killed() {
    let dir = Dir::new("kill");
    let db = format!("sqlite://{}", dir.arg("ledger.db"));
    let created = guardrail(&["token", "create", "--scope", "admin", "--db", &db]).ok();
    let token = created
        .stdout()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    let server = Server::start(&db);

    const SENDERS: usize = 8;
    const EACH: usize = 250;
    let acknowledged: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let dead = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (address, token) = (server.address.clone(), token.clone());
            let (acknowledged, dead) = (acknowledged.clone(), dead.clone());
            std::thread::spawn(move || {
                for index in 0..EACH {
                    if dead.load(Ordering::Acquire) {
                        return;
                    }
                    let (key, body) = report(sender, index);
                    match http(&address, "POST", "/v1/reports", &token, &body) {
                        Ok((201, answer)) => {
                            let id = serde_json::from_str::<serde_json::Value>(&answer)
                                .ok()
                                .and_then(|v| v["id"].as_str().map(str::to_string))
                                .unwrap_or_else(|| panic!("a 201 without an id: {answer}"));
                            acknowledged
                                .lock()
                                .expect("not poisoned")
                                .push((key, id, body));
                        }
                        Ok((status, answer)) => panic!("report {key}: {status} {answer}"),
                        Err(_) => return, // killed: nothing after this was acknowledged
                    }
                }
            })
        })
        .collect();
    // Kill it about half way through.
    let deadline = Instant::now() + Duration::from_secs(300);
    while acknowledged.lock().expect("not poisoned").len() < SENDERS * EACH / 2
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    server.kill();
    dead.store(true, Ordering::Release);
    for sender in senders {
        sender.join().expect("a sender does not panic");
    }
    let acknowledged = acknowledged.lock().expect("not poisoned").clone();
    assert!(
        acknowledged.len() >= SENDERS * EACH / 2,
        "too few acknowledged before the kill"
    );

    let server = Server::start(&db);
    for (key, id, body) in &acknowledged {
        let (status, stored) = http(
            &server.address,
            "GET",
            &format!("/v1/reports/{id}"),
            &token,
            "",
        )
        .unwrap_or_else(|e| panic!("GET {id}: {e}"));
        assert_eq!(
            status, 200,
            "acknowledged report {key} ({id}) is missing: {stored}"
        );
        let stored: serde_json::Value = serde_json::from_str(&stored).unwrap_or_default();
        assert_eq!(stored["client_key"], key.as_str(), "{stored}");
        // The same body under the same key is the same report; another body would be 409.
        let (status, again) = http(&server.address, "POST", "/v1/reports", &token, body)
            .unwrap_or_else(|e| panic!("POST {key} again: {e}"));
        assert_eq!(status, 201, "report {key}'s stored body differs: {again}");
    }
    drop(server);
    let keys: String = acknowledged
        .iter()
        .map(|(key, _, _)| format!("{key}\n"))
        .collect();
    let keys = dir.create("acknowledged.txt", keys);
    let check = guardrail(&[
        "reports",
        "check",
        "--db",
        &db,
        "--acknowledged",
        utf8(&keys),
    ])
    .ok();
    assert!(check.stdout().contains("0 problems"), "{}", check.stdout());
    guardrail(&["ledger", "verify", "--db", &db]).ok();
}
