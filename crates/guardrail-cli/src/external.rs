//! The black-box contract over HTTP: an external discovery system as a
//! [`DiscoverySystem`] (`docs/external-contract.openapi.yaml`).
//!
//! What it is for: letting `guardrail audit run --external URL` and `guardrail audit report
//! --external URL` drive a system the harness does not own, exactly through the contract's
//! routes. Answers are checked against the contract's shapes; an answer that breaks them is
//! an error naming the route and what was wrong, never a guess.
//!
//! What it must never do: send anything but the contract's requests (the world's ground
//! truth never leaves the harness), or retry a write (a retried event batch could apply
//! twice).

use std::time::Duration;

use guardrail_audit::black_box::{
    ContractEvent, DiscoverySystem, Persona, SearchAnswer, SystemError,
};
use guardrail_types::{AccountId, PostId};
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};

/// An external system behind the contract.
#[derive(Debug)]
pub struct HttpSystem {
    base: String,
    client: Client,
}

/// How long one call may take (training happens before the system answers `/healthz`).
const TIMEOUT: Duration = Duration::from_secs(120);

impl HttpSystem {
    /// A client for the system at `base` (`http://host:port`), checked with `GET /healthz`.
    pub fn connect(base: &str) -> Result<HttpSystem, SystemError> {
        // The project's one TLS configuration (rustls over ring), for https:// systems.
        let tls = guardrail_hma::tls_config().map_err(|detail| SystemError::Unreachable {
            route: "client".to_string(),
            detail,
        })?;
        let client = Client::builder()
            .tls_backend_preconfigured(tls)
            .no_proxy()
            .timeout(TIMEOUT)
            .pool_max_idle_per_host(4)
            .build()
            .map_err(|e| SystemError::Unreachable {
                route: "client".to_string(),
                detail: e.to_string(),
            })?;
        let system = HttpSystem {
            base: base.trim_end_matches('/').to_string(),
            client,
        };
        let health = system.call("GET /healthz", system.client.get(system.url("/healthz")))?;
        if health.get("status").and_then(Value::as_str) != Some("ok") {
            return Err(SystemError::Contract {
                route: "GET /healthz".to_string(),
                detail: format!("expected {{\"status\": \"ok\"}}, got {health}"),
            });
        }
        Ok(system)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn call(&self, route: &str, request: RequestBuilder) -> Result<Value, SystemError> {
        let response = request.send().map_err(|e| SystemError::Unreachable {
            route: route.to_string(),
            detail: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let text = response.text().map_err(|e| SystemError::Unreachable {
            route: route.to_string(),
            detail: format!("reading the answer: {e}"),
        })?;
        let body: Value = serde_json::from_str(&text).map_err(|e| SystemError::Contract {
            route: route.to_string(),
            detail: format!("the answer (status {status}) is not JSON: {e}"),
        })?;
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(SystemError::Refused {
                route: route.to_string(),
                status,
                detail: body
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("(no error message)")
                    .to_string(),
            })
        }
    }

    fn get(&self, route: &str, path: &str, query: &[(&str, String)]) -> Result<Value, SystemError> {
        self.call(route, self.client.get(self.url(path)).query(query))
    }
}

fn contract(route: &str, detail: String) -> SystemError {
    SystemError::Contract {
        route: route.to_string(),
        detail,
    }
}

fn ids(route: &str, body: &Value, field: &str) -> Result<Vec<u32>, SystemError> {
    let list = body
        .get(field)
        .and_then(Value::as_array)
        .ok_or_else(|| contract(route, format!("`{field}` missing or not a list")))?;
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| contract(route, format!("{field}[{i}]: expected an id, got {v}")))
        })
        .collect()
}

fn accounts(route: &str, body: &Value) -> Result<Vec<AccountId>, SystemError> {
    Ok(ids(route, body, "accounts")?
        .into_iter()
        .map(AccountId)
        .collect())
}

fn event_json(event: &ContractEvent) -> Value {
    match event {
        ContractEvent::Follow(a, t) => json!({"type": "follow", "account": a.0, "target": t.0}),
        ContractEvent::View(a, t) => json!({"type": "view", "account": a.0, "target": t.0}),
        ContractEvent::Like(a, p) => json!({"type": "like", "account": a.0, "target": p.0}),
        ContractEvent::Report(a, t) => json!({"type": "report", "account": a.0, "target": t.0}),
        ContractEvent::Block(a, t) => json!({"type": "block", "account": a.0, "target": t.0}),
        ContractEvent::Search(a, q) => json!({"type": "search", "account": a.0, "query": q}),
        ContractEvent::Post {
            account,
            hashtags,
            caption,
        } => {
            json!({"type": "post", "account": account.0, "hashtags": hashtags, "caption": caption})
        }
    }
}

impl DiscoverySystem for HttpSystem {
    fn describe(&self) -> String {
        format!("external system at {}", self.base)
    }

    fn reset(&mut self) -> Result<(), SystemError> {
        match self.call(
            "POST /reset",
            self.client.post(self.url("/reset")).json(&json!({})),
        ) {
            Ok(_) => Ok(()),
            Err(SystemError::Refused {
                status: 404 | 405, ..
            }) => Err(SystemError::Unsupported { feature: "reset" }),
            Err(other) => Err(other),
        }
    }

    fn create_persona(&mut self, persona: &Persona) -> Result<AccountId, SystemError> {
        let route = "POST /personas";
        let body = self.call(route, self.client.post(self.url("/personas")).json(persona))?;
        body.get("account")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .map(AccountId)
            .ok_or_else(|| contract(route, format!("expected {{\"account\": ID}}, got {body}")))
    }

    fn send_events(&mut self, events: &[ContractEvent]) -> Result<Vec<PostId>, SystemError> {
        let route = "POST /events";
        let batch: Vec<Value> = events.iter().map(event_json).collect();
        let has_posts = events
            .iter()
            .any(|e| matches!(e, ContractEvent::Post { .. }));
        let body = match self.call(route, self.client.post(self.url("/events")).json(&batch)) {
            Ok(body) => body,
            // A system without the extension names the event type it does not know.
            Err(SystemError::Refused {
                status: 400,
                detail,
                ..
            }) if has_posts && detail.contains("type") => {
                return Err(SystemError::Unsupported {
                    feature: "post events",
                });
            }
            Err(other) => return Err(other),
        };
        if !has_posts {
            return Ok(Vec::new());
        }
        let posts = ids(route, &body, "posts")?;
        let expected = events
            .iter()
            .filter(|e| matches!(e, ContractEvent::Post { .. }))
            .count();
        if posts.len() != expected {
            return Err(contract(
                route,
                format!(
                    "{expected} post events answered with {} post ids",
                    posts.len()
                ),
            ));
        }
        Ok(posts.into_iter().map(PostId).collect())
    }

    fn suggestions(&mut self, account: AccountId, k: usize) -> Result<Vec<AccountId>, SystemError> {
        let route = "GET /suggestions";
        let body = self.get(
            route,
            "/suggestions",
            &[("account", account.0.to_string()), ("k", k.to_string())],
        )?;
        accounts(route, &body)
    }

    fn similar(
        &mut self,
        account: AccountId,
        viewer: AccountId,
        k: usize,
    ) -> Result<Vec<AccountId>, SystemError> {
        let route = "GET /similar";
        let body = self.get(
            route,
            "/similar",
            &[
                ("account", account.0.to_string()),
                ("viewer", viewer.0.to_string()),
                ("k", k.to_string()),
            ],
        )?;
        accounts(route, &body)
    }

    fn feed(&mut self, account: AccountId, k: usize) -> Result<Vec<PostId>, SystemError> {
        let route = "GET /feed";
        let body = self.get(
            route,
            "/feed",
            &[("account", account.0.to_string()), ("k", k.to_string())],
        )?;
        Ok(ids(route, &body, "posts")?
            .into_iter()
            .map(PostId)
            .collect())
    }

    fn search(&mut self, account: AccountId, query: &str) -> Result<SearchAnswer, SystemError> {
        let route = "GET /search";
        let body = self.get(
            route,
            "/search",
            &[("account", account.0.to_string()), ("q", query.to_string())],
        )?;
        let interstitial = body
            .get("interstitial")
            .and_then(Value::as_bool)
            .ok_or_else(|| {
                contract(route, "`interstitial` missing or not a boolean".to_string())
            })?;
        Ok(SearchAnswer {
            accounts: accounts(route, &body)?,
            posts: ids(route, &body, "posts")?
                .into_iter()
                .map(PostId)
                .collect(),
            interstitial,
        })
    }

    fn autocomplete(
        &mut self,
        account: AccountId,
        prefix: &str,
        k: usize,
    ) -> Result<Vec<String>, SystemError> {
        let route = "GET /autocomplete";
        let body = self.get(
            route,
            "/autocomplete",
            &[
                ("account", account.0.to_string()),
                ("prefix", prefix.to_string()),
                ("k", k.to_string()),
            ],
        )?;
        let list = body
            .get("suggestions")
            .and_then(Value::as_array)
            .ok_or_else(|| contract(route, "`suggestions` missing or not a list".to_string()))?;
        list.iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    contract(
                        route,
                        format!("suggestions[{i}]: expected a string, got {v}"),
                    )
                })
            })
            .collect()
    }
}
