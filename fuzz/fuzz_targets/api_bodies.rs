//! Fuzzes every API body of the service (`guardrail_server::router`) the way a request
//! meets it: bytes through the whole router (body limit, JSON extraction, the route's
//! own checks, the ledger) of a real service over a SQLite ledger, with a token that may
//! call every route. Whatever the body, the answer is never a panic and never a 5xx other
//! than 503 (a decision is never answered with 5xx at all: it fails closed), and an error
//! answer from a `/v1` route is the API's error shape.
//!
//! Left out: `/v1/admin/remap` and `/v1/ledger/verify` (no body; each re-reads the whole
//! ledger), the console (HTML forms behind a password login), and the HMA routes (the
//! `hma_api` target fuzzes them without the ledger in between).
//!
//! Must never: write outside its temporary directory, or reach the network (no
//! clearing house is configured; `common/http.rs` keeps URLs out of requests).
#![no_main]

#[path = "common/http.rs"]
mod http;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::to_bytes;
use axum::http::{HeaderValue, Method};
use guardrail_server::{Scope, ServeConfig, Service, new_token, router, unix_now};
use guardrail_store::{DbUrl, Store, StoreOptions};
use http::{HOSTILE, Input, Route, requests};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

const ROUTES: &[Route] = &[
    (Method::POST, "/v1/events", Input::Json),
    (Method::POST, "/v1/decide/account_suggestions", Input::Json),
    (Method::POST, "/v1/decide/similar_accounts", Input::Json),
    (Method::POST, "/v1/decide/feed", Input::Json),
    (Method::POST, "/v1/decide/search", Input::Json),
    (Method::POST, "/v1/decide/autocomplete", Input::Json),
    (Method::POST, "/v1/decide/related_hashtags", Input::Json),
    (Method::POST, "/v1/decide/message_requests", Input::Json),
    (Method::POST, "/v1/decide/{a}", Input::Json),
    (Method::POST, "/v1/text/check", Input::Json),
    (Method::POST, "/v1/autocomplete/filter", Input::Json),
    (Method::POST, "/v1/signup/decide", Input::Json),
    (Method::POST, "/v1/media/hash", Input::Octets),
    (Method::POST, "/v1/media/match", Input::Json),
    (Method::POST, "/v1/reports", Input::Json),
    (Method::GET, "/v1/reports/check", Input::Query),
    (Method::GET, "/v1/transparency", Input::Query),
    (Method::POST, "/v1/admin/sweep", Input::Json),
    (Method::POST, "/v1/ads/{a}", Input::Json),
    (Method::POST, "/v1/ads/{a}/deliver", Input::Json),
    (Method::GET, "/v1/ads/{a}/monitor", Input::Query),
    (Method::POST, "/v1/admin/rules/{a}/reset", Input::Json),
    (Method::GET, "/v1/reports/{a}", Input::Query),
    (Method::POST, "/v1/reports/{a}/transitions", Input::Json),
    (Method::POST, "/v1/reports/{a}/referral", Input::Json),
    (Method::GET, "/v1/referrals/{a}", Input::Query),
    (Method::POST, "/v1/enforcement", Input::Json),
    (Method::GET, "/v1/entities/{a}", Input::Query),
    (Method::GET, "/v1/network/map", Input::Query),
    (Method::GET, "/v1/accounts/{a}/risk", Input::Query),
    (Method::GET, "/readyz", Input::Query),
];

struct Fixture {
    params: Vec<String>,
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    authorization: HeaderValue,
    _dir: tempfile::TempDir,
    _service: Arc<Service>,
}

/// A small platform for the decisions to read (invented placeholder accounts).
const PLATFORM: &str = r#"{"id":"a1","type":"account_created","at":1764400000,"account":"101","handle":"kid_one","declared_age":14,"bio":"school and games"}
{"id":"a2","type":"account_created","at":1764400001,"account":"102","handle":"grown_up","declared_age":35,"bio":"cooking"}
{"id":"f1","type":"follow","at":1764400003,"account":"102","target":"101"}
{"id":"p1","type":"post","at":1764400005,"account":"102","post":"p-1","text":"dinner","hashtags":["food"]}
"#;

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        // A RAM disk where there is one: the ledger's fsyncs would otherwise dominate.
        let dir = tempfile::tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("a scratch directory");
        let url = DbUrl::sqlite(dir.path().join("ledger.db"));
        let (service, token, app) = runtime.block_on(async {
            let store = Store::open(&url, StoreOptions::default())
                .await
                .expect("a new ledger");
            let batch = guardrail_ledger::parse_batch(
                PLATFORM.as_bytes(),
                &guardrail_ledger::ParseLimits {
                    now: unix_now(),
                    max_future_seconds: 86_400,
                },
            );
            assert!(batch.errors.is_empty(), "{:?}", batch.errors);
            let mut events: Vec<_> = batch.events.into_iter().map(|(_, e)| e).collect();
            let token = new_token(Scope::Admin, unix_now(), None, "fuzz");
            events.push(token.event);
            store.append(events).await.expect("stored");
            let config = ServeConfig {
                decision_log: false,
                sweep_every: Duration::from_secs(3_600),
                ..ServeConfig::default()
            };
            let service = Service::new(store, config).expect("a service");
            service.start();
            for _ in 0..800 {
                if service.fresh_guard().is_ok() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            assert!(
                service.fresh_guard().is_ok(),
                "the service never became ready"
            );
            let app = router(service.clone());
            (service, token.token, app)
        });
        // Path parameters: the seeds' report (its id comes from its client key), accounts,
        // a rule, an ad, then hostile values.
        let known = [
            guardrail_reports::intake::report_id("k-1"),
            "101".to_string(),
            "102".to_string(),
            "blocked-query".to_string(),
            "ad-1".to_string(),
        ];
        Fixture {
            params: known
                .into_iter()
                .chain(HOSTILE.iter().map(|h| h.to_string()))
                .collect(),
            runtime,
            app,
            authorization: HeaderValue::from_str(&format!("Bearer {token}")).expect("a header"),
            _dir: dir,
            _service: service,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let params: Vec<&str> = fixture.params.iter().map(String::as_str).collect();
    fixture.runtime.block_on(async {
        for mut request in requests(data, ROUTES, &params) {
            request
                .headers_mut()
                .insert("authorization", fixture.authorization.clone());
            let what = format!("{} {}", request.method(), request.uri());
            let decision = request.uri().path().starts_with("/v1/decide/");
            let response = fixture
                .app
                .clone()
                .oneshot(request)
                .await
                .expect("the router answers");
            let status = response.status();
            let body = to_bytes(response.into_body(), 64 << 20)
                .await
                .expect("a body");
            let text = String::from_utf8_lossy(&body);
            assert!(
                status.as_u16() < 500 || (status.as_u16() == 503 && !decision),
                "{what} answered {status}: {text}"
            );
            if status.is_client_error() && what.contains(" /v1/") {
                let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
                    panic!("{what} answered {status} without JSON ({e}): {text}")
                });
                assert!(
                    value["error"]["code"].is_string() && value["error"]["message"].is_string(),
                    "{what} answered {status} outside the error shape: {text}"
                );
            }
        }
    });
});
