//! Fuzzes the HMA 2.x routes (`guardrail_hma::router`) with request sequences: every
//! route and body, in any order, over a state reset before each input. The routes must
//! never answer 5xx to a request (HMA's contract: malformed input is a 4xx), never panic,
//! and every change they make must be one that replays: the journal's changes rebuild a
//! state that the same requests answer identically (`/c/banks` compared).
//!
//! Must never: fetch (no `url` reaches a route; see `common/http.rs`), write files.
#![no_main]

#[path = "common/http.rs"]
mod http;

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode};
use guardrail_hma::{BankChange, BankJournal, HmaConfig, HmaState, JournalError, router};
use guardrail_pdq::DecodeOptions;
use http::{HOSTILE, Input, Route, requests};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

const ROUTES: &[Route] = &[
    (Method::GET, "/status", Input::Query),
    (Method::POST, "/h/hash", Input::Multipart),
    (Method::GET, "/m/raw_lookup", Input::Query),
    (Method::GET, "/m/lookup", Input::Query),
    (Method::POST, "/m/lookup", Input::Multipart),
    (Method::GET, "/m/index/status", Input::Query),
    (Method::POST, "/m/compare", Input::Json),
    (Method::GET, "/c/banks", Input::Query),
    (Method::POST, "/c/banks", Input::Json),
    (Method::GET, "/c/bank/{a}", Input::Query),
    (Method::PUT, "/c/bank/{a}", Input::Json),
    (Method::DELETE, "/c/bank/{a}", Input::Query),
    (Method::POST, "/c/bank/{a}/content", Input::Multipart),
    (Method::POST, "/c/bank/{a}/content", Input::Json),
    (Method::GET, "/c/bank/{a}/content/{b}", Input::Query),
    (Method::PUT, "/c/bank/{a}/content/{b}", Input::Json),
    (Method::DELETE, "/c/bank/{a}/content/{b}", Input::Query),
    (Method::POST, "/c/bank/{a}/signal", Input::Json),
    (Method::POST, "/c/bank/{a}/signal", Input::Form),
    (Method::GET, "/c/signal_type/index", Input::Query),
    (Method::GET, "/c/exchanges/api/{a}", Input::Query),
    (Method::POST, "/c/exchanges/api/{a}", Input::Json),
    (Method::GET, "/c/exchanges", Input::Query),
    (Method::POST, "/c/exchanges", Input::Json),
    (Method::GET, "/c/exchange/{a}", Input::Query),
    (Method::PUT, "/c/exchange/{a}", Input::Json),
    (Method::DELETE, "/c/exchange/{a}", Input::Query),
    (Method::GET, "/c/exchange/{a}/status", Input::Query),
];

/// Path parameters: bank and exchange names, content ids, then hostile values.
const NAMES: [&str; 7] = [
    "FUZZ_BANK",
    "TEST_BANK",
    "1",
    "2",
    "EX_ONE",
    "sample",
    "ncmec",
];

struct Fixture {
    params: Vec<&'static str>,
    runtime: tokio::runtime::Runtime,
    live: (HmaState, axum::Router),
    journal: Arc<Recorder>,
    replayed: (HmaState, axum::Router),
}

/// The changes of the current input (drained after each, so memory stays flat).
#[derive(Default)]
struct Recorder(Mutex<Vec<BankChange>>);

impl Recorder {
    fn take(&self) -> Vec<BankChange> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl BankJournal for Recorder {
    fn record(&self, change: &BankChange) -> Result<(), JournalError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(change.clone());
        Ok(())
    }
}

fn config() -> HmaConfig {
    HmaConfig {
        // Uploads stay small and fast; the decoder's limits are image_decode's subject.
        max_upload_bytes: 1 << 20,
        decode: DecodeOptions {
            max_pixels: 1 << 20,
            max_alloc_bytes: 64 << 20,
            squash_512: false,
        },
        max_concurrent_hashes: 1,
        ..HmaConfig::default()
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let journal = Arc::new(Recorder::default());
        let state = HmaState::new(config(), journal.clone()).expect("an HMA state");
        let replayed =
            HmaState::new(config(), Arc::new(guardrail_hma::NoJournal)).expect("an HMA state");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        Fixture {
            params: NAMES.iter().chain(HOSTILE.iter()).copied().collect(),
            runtime,
            live: (state.clone(), router(state)),
            journal,
            replayed: (replayed.clone(), router(replayed)),
        }
    })
}

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let body = to_bytes(response.into_body(), 64 << 20)
        .await
        .expect("a body");
    (status, body.to_vec())
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    fixture.live.0.replay(Vec::new()).expect("reset");
    fixture.journal.take();
    fixture.runtime.block_on(async {
        for request in requests(data, ROUTES, &fixture.params) {
            let what = format!("{} {}", request.method(), request.uri());
            let (status, body) = send(&fixture.live.1, request).await;
            assert!(
                status.as_u16() < 500,
                "{what} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
    });
    // Everything the requests changed replays to the same banks.
    let changes = fixture.journal.take();
    for change in &changes {
        let json = serde_json::to_string(change).expect("a change as JSON");
        let back: BankChange = serde_json::from_str(&json).expect("JSON back");
        assert_eq!(
            &back, change,
            "a journal change does not survive JSON: {json}"
        );
    }
    fixture
        .replayed
        .0
        .replay(changes)
        .unwrap_or_else(|e| panic!("the journal of accepted requests does not replay: {e}"));
    fixture.runtime.block_on(async {
        let list = || {
            Request::builder()
                .uri("/c/banks")
                .body(Body::empty())
                .expect("a request")
        };
        let live = send(&fixture.live.1, list()).await;
        let replayed = send(&fixture.replayed.1, list()).await;
        assert_eq!(live, replayed, "the replayed state lists other banks");
    });
});
