//! The harness the service's end-to-end tests share: a small platform as events, and a
//! service over a real SQLite ledger in a temporary directory with a token per scope,
//! driven through the whole router in process.

// Each test file uses a different part of the harness.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use guardrail_ledger::event::Event;
pub use guardrail_server::{Scope, ServeConfig, Service, new_token, router, unix_now};
use guardrail_store::{DbUrl, Store, StoreOptions};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const T0: u64 = 1_764_400_000;

/// A small platform: a minor, adults, follows between them, a post, a search.
pub fn platform_events() -> Vec<Event> {
    let lines = [
        json!({"id": "a1", "type": "account_created", "at": T0, "account": "101", "handle": "kid_one", "declared_age": 14, "bio": "school and games"}),
        json!({"id": "a2", "type": "account_created", "at": T0 + 1, "account": "102", "handle": "grown_up", "declared_age": 35, "bio": "cooking", "emails": ["shared@example.invalid"]}),
        json!({"id": "a3", "type": "account_created", "at": T0 + 2, "account": "103", "handle": "another_adult", "declared_age": 41, "bio": "hiking", "emails": ["shared@example.invalid"]}),
        // A bio with a term from the default policy's block list: the map's seed.
        json!({"id": "a5", "type": "account_created", "at": T0 + 2, "account": "105", "handle": "seller_x", "declared_age": 30, "bio": "mnsfw trades"}),
        json!({"id": "f0", "type": "follow", "at": T0 + 3, "account": "105", "target": "102"}),
        json!({"id": "f1", "type": "follow", "at": T0 + 3, "account": "103", "target": "101"}),
        json!({"id": "f2", "type": "follow", "at": T0 + 4, "account": "102", "target": "103"}),
        json!({"id": "p1", "type": "post", "at": T0 + 5, "account": "102", "post": "p-1", "text": "dinner", "hashtags": ["food"]}),
        json!({"id": "s1", "type": "search", "at": T0 + 6, "account": "101", "query": "games"}),
    ];
    parse_events(&json!(lines))
}

/// Events as the store takes them, from a JSON array of events in the ledger's schema
/// (what another replica would append).
pub fn parse_events(lines: &Value) -> Vec<Event> {
    let batch = guardrail_ledger::event::parse_batch(
        lines.to_string().as_bytes(),
        &guardrail_ledger::event::ParseLimits {
            now: unix_now(),
            max_future_seconds: 86_400,
        },
    );
    assert!(batch.errors.is_empty(), "{:?}", batch.errors);
    batch.events.into_iter().map(|(_, e)| e).collect()
}

pub struct Harness {
    pub _dir: tempfile::TempDir,
    pub service: Arc<Service>,
    pub tokens: Vec<(Scope, String)>,
}

impl Harness {
    pub async fn start(config: ServeConfig) -> Harness {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = DbUrl::sqlite(dir.path().join("ledger.db"));
        let store = Store::open(&url, StoreOptions::default())
            .await
            .expect("a new ledger");
        let mut events = platform_events();
        let mut tokens = Vec::new();
        for scope in Scope::ALL {
            let token = new_token(scope, unix_now(), None, "test");
            events.push(token.event);
            tokens.push((scope, token.token));
        }
        store.append(events).await.expect("stored");
        let service = Service::new(store, config).expect("a service");
        service.start();
        Harness {
            _dir: dir,
            service,
            tokens,
        }
    }

    pub async fn ready(&self) {
        for _ in 0..400 {
            if self.service.fresh_guard().is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the service never became ready");
    }

    pub fn token(&self, scope: Scope) -> &str {
        self.tokens
            .iter()
            .find(|(s, _)| *s == scope)
            .map(|(_, t)| t.as_str())
            .expect("a token per scope")
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        scope: Option<Scope>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(scope) = scope {
            request = request.header("authorization", format!("Bearer {}", self.token(scope)));
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(body.map_or_else(Body::empty, Body::from))
            .expect("a request");
        let response = router(self.service.clone())
            .oneshot(request)
            .await
            .expect("an answer");
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 64 << 20)
            .await
            .expect("a body");
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    pub async fn post(&self, path: &str, scope: Scope, body: Value) -> (StatusCode, Value) {
        self.call(
            "POST",
            path,
            Some(scope),
            Some(body.to_string().into_bytes()),
        )
        .await
    }
}
