//! The console's gates in process: sessions, CSRF and roles over the whole router and a
//! real SQLite ledger, as a table of (who, method, path, form) → status.
//!
//! The browser tests (tests/browser, scripts/browser_test.sh) drive the same pages in
//! Chromium; these check the gates without a browser, on every `cargo test`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use guardrail_ledger::event::Event;
use guardrail_server::{Scope, ServeConfig, Service, new_user, router, unix_now};
use guardrail_store::{DbUrl, Store, StoreOptions};
use serde_json::json;
use tower::ServiceExt;

const PASSWORD: &str = "a long enough test password";

struct Console {
    _dir: tempfile::TempDir,
    service: Arc<Service>,
}

struct Answer {
    status: StatusCode,
    location: String,
    cookies: Vec<String>,
    policy: String,
    body: String,
}

impl Console {
    async fn start() -> Console {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = DbUrl::sqlite(dir.path().join("ledger.db"));
        let store = Store::open(&url, StoreOptions::default())
            .await
            .expect("a new ledger");
        let now = unix_now();
        let mut events: Vec<Event> = [Scope::Reviewer, Scope::Investigator, Scope::Admin]
            .into_iter()
            .map(|role| new_user(role.name(), role, PASSWORD, now, "test").expect("a user"))
            .collect();
        let lines = [
            json!({"id": "a1", "type": "account_created", "at": now - 100, "account": "301", "handle": "<i>h</i>", "declared_age": 30, "bio": "<script>x()</script>"}),
            json!({"id": "r1", "type": "report_received", "at": now - 50, "report": "r-1", "client_key": "k1", "reporter": "9", "subject": {"account": "301"}, "category": "harassment", "text": "words", "media_hashes": [], "priority": 2, "triage": [], "body_hash": "h"}),
            json!({"id": "r2", "type": "report_received", "at": now - 40, "report": "r-2", "client_key": "k2", "reporter": "9", "subject": {"account": "301"}, "category": "child_grooming", "text": "words", "media_hashes": [], "priority": 0, "triage": [], "body_hash": "h2"}),
            json!({"id": "r3", "type": "report_received", "at": now - 30, "report": "r-3", "client_key": "k3", "reporter": "9", "subject": {"account": "301"}, "category": "spam", "text": "words", "media_hashes": [], "priority": 4, "triage": [], "body_hash": "h3"}),
        ];
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let batch = guardrail_ledger::event::parse_batch(
            text.as_bytes(),
            &guardrail_ledger::event::ParseLimits {
                now,
                max_future_seconds: 86_400,
            },
        );
        assert!(batch.errors.is_empty(), "{:?}", batch.errors);
        events.extend(batch.events.into_iter().map(|(_, e)| e));
        store.append(events).await.expect("stored");
        let service = Service::new(store, ServeConfig::default()).expect("a service");
        service.start();
        for _ in 0..400 {
            if service.fresh_guard().is_ok() {
                return Console { _dir: dir, service };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the service never became ready");
    }

    async fn call(&self, method: &str, path: &str, cookie: &str, form: &str) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if !cookie.is_empty() {
            request = request.header(header::COOKIE, cookie);
        }
        if method == "POST" {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let response = router(self.service.clone())
            .oneshot(
                request
                    .body(Body::from(form.to_string()))
                    .expect("a request"),
            )
            .await
            .expect("an answer");
        let header_text = |name| {
            response
                .headers()
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let location = header_text(header::LOCATION).join("");
        let cookies = header_text(header::SET_COOKIE);
        let policy = header_text(header::CONTENT_SECURITY_POLICY).join("");
        let status = response.status();
        let body = to_bytes(response.into_body(), 16 << 20)
            .await
            .expect("a body");
        Answer {
            status,
            location,
            cookies,
            policy,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    /// Logs in through the form; answers the session cookie and the session's CSRF token.
    async fn login(&self, name: &str, password: &str) -> Option<(String, String)> {
        let form = self.call("GET", "/login", "", "").await;
        let login_csrf = csrf_in(&form.body);
        let cookie = format!("guardrail_login_csrf={login_csrf}");
        let body = format!(
            "username={name}&password={}&csrf={login_csrf}",
            password.replace(' ', "+")
        );
        let answer = self.call("POST", "/login", &cookie, &body).await;
        if answer.status != StatusCode::SEE_OTHER {
            return None;
        }
        let session = answer
            .cookies
            .iter()
            .find(|c| c.starts_with("guardrail_session="))?
            .split(';')
            .next()?
            .to_string();
        let queue = self.call("GET", "/queue", &session, "").await;
        Some((session, csrf_in(&queue.body)))
    }
}

fn csrf_in(body: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    body.find(marker)
        .map(|at| body[at + marker.len()..].chars().take(64).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_sessions_and_csrf_gate_every_page_and_action() {
    let console = Console::start().await;
    let mut sessions = std::collections::BTreeMap::new();
    for role in ["reviewer", "investigator", "admin"] {
        sessions.insert(role, console.login(role, PASSWORD).await.expect("logs in"));
    }
    // (who, method, path, form with the session's token?, expected status)
    let cases: &[(&str, &str, &str, bool, u16)] = &[
        ("nobody", "GET", "/queue", false, 303),
        ("nobody", "GET", "/rules", false, 303),
        ("nobody", "POST", "/queue/r-1/claim", false, 303),
        ("reviewer", "GET", "/queue", false, 200),
        ("reviewer", "GET", "/cases/r-1", false, 200),
        ("reviewer", "GET", "/cases/r-404", false, 404),
        ("reviewer", "GET", "/accounts/301", false, 200),
        ("reviewer", "GET", "/transparency", false, 200),
        ("reviewer", "GET", "/network", false, 403),
        ("reviewer", "GET", "/ads", false, 403),
        ("reviewer", "GET", "/rules", false, 403),
        ("reviewer", "GET", "/audit", false, 403),
        ("investigator", "GET", "/network", false, 200),
        ("investigator", "GET", "/ads", false, 200),
        ("investigator", "GET", "/rules", false, 403),
        ("investigator", "GET", "/audit", false, 403),
        ("admin", "GET", "/rules", false, 200),
        ("admin", "GET", "/audit", false, 200),
        ("admin", "GET", "/network", false, 200),
        // Writes: the role first, then the session's token.
        ("reviewer", "POST", "/rules/promote", true, 403),
        ("admin", "POST", "/rules/promote", false, 403),
        ("reviewer", "POST", "/queue/r-1/claim", false, 403),
        ("reviewer", "POST", "/queue/r-1/claim", true, 303),
        ("reviewer", "POST", "/queue/r-1/claim", true, 409),
        ("reviewer", "POST", "/cases/r-1/decide", true, 400),
    ];
    for &(who, method, path, with_token, expected) in cases {
        let (cookie, token) = sessions
            .get(who)
            .cloned()
            .unwrap_or_else(|| (String::new(), String::new()));
        let form = if with_token {
            format!("csrf={token}&from=")
        } else {
            "from=".to_string()
        };
        let answer = console.call(method, path, &cookie, &form).await;
        assert_eq!(
            answer.status.as_u16(),
            expected,
            "{who} {method} {path} (token: {with_token}): {}",
            answer.body.chars().take(400).collect::<String>()
        );
        if expected == 303 && who == "nobody" {
            assert_eq!(answer.location, "/login");
        }
        if answer.status == StatusCode::OK {
            assert!(answer.body.contains("<!doctype html>"));
        }
    }
    let (reviewer, _) = &sessions["reviewer"];
    let case = console.call("GET", "/cases/r-1", reviewer, "").await;
    assert!(
        case.body.contains("in_review"),
        "the claim moved the report"
    );
    // Account text is escaped, never markup.
    assert!(
        case.body.contains("@&#60;i&#62;h&#60;/i&#62;</dd>"),
        "{}",
        case.body
    );
    assert!(case.body.contains("&#60;script&#62;x()&#60;/script&#62;"));
    assert!(!case.body.contains("<script>x()"));
    // The audit log verifies the chain (in the background; a small ledger at once).
    let (admin, _) = &sessions["admin"];
    let audit = console.call("GET", "/audit", admin, "").await;
    assert!(
        audit.body.contains("the hash chain verifies"),
        "{}",
        audit.body
    );
    assert!(audit.body.contains("claimed by reviewer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_set_strict_cookies_refuse_bad_forms_and_lock_out() {
    let console = Console::start().await;
    let form = console.call("GET", "/login", "", "").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"username\""));
    assert!(form.body.contains("name=\"password\""));
    let token = csrf_in(&form.body);
    assert_eq!(token.len(), 64);
    // Without the matching cookie the login form's token is refused.
    let refused = console
        .call(
            "POST",
            "/login",
            "",
            &format!("username=admin&password={PASSWORD}&csrf={token}"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Cookies are HttpOnly and SameSite=Strict.
    let (session, _) = console.login("admin", PASSWORD).await.expect("logs in");
    assert!(session.starts_with("guardrail_session="));
    let answer = {
        let form = console.call("GET", "/login", "", "").await;
        let csrf = csrf_in(&form.body);
        console
            .call(
                "POST",
                "/login",
                &format!("guardrail_login_csrf={csrf}"),
                &format!(
                    "username=admin&password={}&csrf={csrf}",
                    PASSWORD.replace(' ', "+")
                ),
            )
            .await
    };
    let cookie = answer
        .cookies
        .iter()
        .find(|c| c.starts_with("guardrail_session="))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    // Five wrong passwords lock the name; then the right one is refused too.
    for _ in 0..5 {
        assert!(
            console
                .login("reviewer", "wrong password, long")
                .await
                .is_none()
        );
    }
    assert!(console.login("reviewer", PASSWORD).await.is_none());
    assert!(console.login("investigator", PASSWORD).await.is_some());
    // Every console page carries the strict policy.
    let page = console.call("GET", "/login", "", "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.policy.contains("script-src 'self'"), "{}", page.policy);
    assert!(!page.policy.contains("unsafe-inline"));
    // The JSON API keeps its own answers: no console policy there.
    let api = console.call("GET", "/healthz", "", "").await;
    assert!(api.policy.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_are_ledger_events_with_the_reviewer_and_the_reason() {
    let console = Console::start().await;
    let (reviewer, token) = console.login("reviewer", PASSWORD).await.expect("logs in");
    let (investigator, other) = console
        .login("investigator", PASSWORD)
        .await
        .expect("logs in");
    let post = |cookie: &str, path: &str, form: String| {
        let (cookie, path) = (cookie.to_string(), path.to_string());
        let console = &console;
        async move {
            console
                .call("POST", &path, &cookie, &form)
                .await
                .status
                .as_u16()
        }
    };
    let moves: Vec<(&str, &str, String, u16)> = vec![
        // r-1: claimed, released only by its holder, escalated, then actioned with a label.
        (&reviewer, "/queue/r-1/claim", format!("csrf={token}"), 303),
        (
            &investigator,
            "/queue/r-1/release",
            format!("csrf={other}"),
            403,
        ),
        (
            &reviewer,
            "/queue/r-1/release",
            format!("csrf={token}"),
            303,
        ),
        (
            &reviewer,
            "/queue/r-1/claim",
            format!("csrf={token}&from=triaged"),
            303,
        ),
        (
            &reviewer,
            "/cases/r-1/decide",
            format!("csrf={token}&decision=escalate&reason=needs+a+specialist"),
            303,
        ),
        (
            &reviewer,
            "/cases/r-1/decide",
            format!("csrf={token}&decision=action&label=restricted&expires_days=0&reason=x"),
            400,
        ),
        (
            &reviewer,
            "/cases/r-1/decide",
            format!(
                "csrf={token}&decision=action&label=restricted&expires_days=10&reason=abusive+messages"
            ),
            303,
        ),
        (
            &reviewer,
            "/cases/r-1/decide",
            format!("csrf={token}&decision=close&reason=done"),
            303,
        ),
        // r-2: referred; it cannot close before the clearing house confirms.
        (&reviewer, "/queue/r-2/claim", format!("csrf={token}"), 303),
        (
            &reviewer,
            "/cases/r-2/decide",
            format!("csrf={token}&decision=refer&reason=reportable"),
            303,
        ),
        (
            &reviewer,
            "/cases/r-2/decide",
            format!("csrf={token}&decision=close&reason=too+early"),
            409,
        ),
        // r-3: a decision from a state the report left is refused.
        (
            &reviewer,
            "/cases/r-3/decide",
            format!("csrf={token}&decision=no_violation&reason=fine"),
            409,
        ),
        (
            &reviewer,
            "/cases/r-3/decide",
            format!("csrf={token}&decision=nonsense&reason=fine"),
            400,
        ),
    ];
    for (cookie, path, form, expected) in moves {
        assert_eq!(
            post(cookie, path, form.clone()).await,
            expected,
            "{path} {form}"
        );
    }
    let state = console.service.ledger().expect("loaded");
    let r1 = &state.reports["r-1"];
    assert_eq!(r1.state, "closed");
    let moves: Vec<(&str, &str)> = r1
        .history
        .iter()
        .map(|t| (t.to.as_str(), t.actor.as_str()))
        .collect();
    assert_eq!(
        moves,
        [
            ("in_review", "person:reviewer"),
            ("triaged", "person:reviewer"),
            ("in_review", "person:reviewer"),
            ("escalated", "person:reviewer"),
            ("actioned", "person:reviewer"),
            ("closed", "person:reviewer"),
        ]
    );
    assert_eq!(r1.history[4].reason, "abusive messages");
    let label = state.labels.last().expect("a label on the entity");
    assert_eq!(
        (label.label.as_str(), label.actor.as_str()),
        ("restricted", "person:reviewer")
    );
    let days = label.expires_at.map(|at| (at - label.applied_at) / 86_400);
    assert_eq!(days, Some(10));
    assert_eq!(state.reports["r-2"].state, "referred");
    assert!(
        state
            .referrals
            .values()
            .any(|r| r.report == "r-2" && !r.finished())
    );
    assert_eq!(state.reports["r-3"].state, "received");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_goes_live_in_shadow_and_a_promotion_enforces() {
    let console = Console::start().await;
    let (admin, token) = console.login("admin", PASSWORD).await.expect("logs in");
    let edited = format!(
        "{}\n[[rule]]\nid = \"live-test\"\nsurfaces = [\"feed\"]\nwhen = [\"viewer.minor\"]\naction = \"drop\"\nmode = \"enforce\"\n",
        guardrail_policy::DEFAULT_RULES_TOML
    );
    let form = |pairs: &[(&str, &str)]| {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            serializer.append_pair(key, value);
        }
        serializer.finish()
    };
    let mode = |console: &Console| {
        console.service.live_rules().and_then(|rules| {
            rules
                .rules
                .iter()
                .find(|r| r.id == "live-test")
                .map(|r| r.mode)
        })
    };
    let refused = console
        .call(
            "POST",
            "/rules/publish",
            &admin,
            &form(&[("csrf", &token), ("toml", "[[rule]]\nid = 1")]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(mode(&console), None);
    let published = console
        .call(
            "POST",
            "/rules/publish",
            &admin,
            &form(&[("csrf", &token), ("toml", &edited)]),
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );
    assert_eq!(published.location, "/rules?published=1");
    assert_eq!(mode(&console), Some(guardrail_policy::Mode::Shadow));
    let page = console.call("GET", "/rules", &admin, "").await;
    assert!(page.body.contains("id=\"backfill-live-test\""));
    assert!(
        page.body.contains("enforces this version (v1)"),
        "{}",
        page.body
    );
    let promoted = console
        .call(
            "POST",
            "/rules/promote",
            &admin,
            &form(&[("csrf", &token), ("rule", "live-test")]),
        )
        .await;
    assert_eq!(promoted.location, "/rules?published=2");
    assert_eq!(mode(&console), Some(guardrail_policy::Mode::Enforce));
    // Each publish is its own version in the ledger.
    let state = console.service.ledger().expect("loaded").rules.clone();
    assert_eq!(state.map(|(v, _)| v), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ads_page_shows_each_ads_composition_and_what_was_excluded() {
    let console = Console::start().await;
    let token = guardrail_server::new_token(Scope::Service, unix_now(), None, "test");
    let mut events = vec![token.event];
    events.extend((0..6).map(|i| {
        guardrail_ledger::event::Event::new(
            format!("fit-{i}"),
            unix_now() - 10,
            guardrail_ledger::event::Payload::AccountCreated(
                guardrail_ledger::event::AccountCreated {
                    account: format!("f{i}"),
                    handle: format!("fit_{i}"),
                    declared_age: 30,
                    bio: String::new(),
                    emails: vec![],
                    phones: vec![],
                    devices: vec![],
                    payment_handles: vec![],
                    gender: Some(if i % 2 == 0 { "woman" } else { "man" }.to_string()),
                    country: None,
                    interests: vec!["fitness".into()],
                    business: false,
                },
            ),
        )
    }));
    console.service.append(events).await.expect("stored");
    let api = |path: &str, body: serde_json::Value| {
        Request::builder()
            .method("POST")
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", token.token))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("a request")
    };
    for request in [
        api(
            "/v1/ads/ad-7",
            json!({"target_interests": ["fitness"], "declared_features_minor": true}),
        ),
        api(
            "/v1/ads/ad-7/deliver",
            json!({"impressions": ["f0", "f1", "f2", "nobody"]}),
        ),
    ] {
        let answer = router(console.service.clone())
            .oneshot(request)
            .await
            .expect("an answer");
        assert!(answer.status().is_success(), "{}", answer.status());
    }
    let (investigator, _) = console
        .login("investigator", PASSWORD)
        .await
        .expect("logs in");
    let page = console.call("GET", "/ads", &investigator, "").await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in [
        "ad-7",
        "6 people",
        "Risk-flagged impressions excluded",
        "unknown viewer: not in the ledger",
        "<svg",
    ] {
        assert!(
            page.body.contains(expected),
            "{expected:?} in {}",
            page.body
        );
    }
    assert!(!page.body.contains("fit_0"), "counts only");
}

/// The ledger's record of evidence views: (actor, role, subject, what).
async fn evidence_views(
    console: &Console,
    at_least: usize,
) -> Vec<(String, String, String, String)> {
    for _ in 0..400 {
        let views: Vec<_> = console
            .service
            .ledger()
            .map(|state| {
                state
                    .evidence_views
                    .iter()
                    .map(|(actor, role, subject, what, _, _)| {
                        (actor.clone(), role.clone(), subject.clone(), what.clone())
                    })
                    .collect()
            })
            .unwrap_or_default();
        if views.len() >= at_least {
            return views;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fewer than {at_least} evidence views were recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_of_evidence_needs_its_role_and_is_recorded_first() {
    let console = Console::start().await;
    // Without a session: no evidence, and nothing recorded as seen.
    for path in ["/cases/r-1", "/accounts/301"] {
        let answer = console.call("GET", path, "", "").await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        assert!(answer.location.starts_with("/login"), "{path}");
        assert!(!answer.body.contains("words"), "{path}");
    }
    // (who, path, subject recorded, what recorded begins with)
    let (reviewer, _) = console.login("reviewer", PASSWORD).await.expect("logs in");
    let (investigator, _) = console
        .login("investigator", PASSWORD)
        .await
        .expect("logs in");
    let table = [
        (&reviewer, "/cases/r-1", "r-1", "case page"),
        (&investigator, "/cases/r-2", "r-2", "case page"),
        (&reviewer, "/accounts/301", "account 301", "account page"),
    ];
    for (n, (cookie, path, subject, what)) in table.iter().enumerate() {
        let answer = console.call("GET", path, cookie, "").await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        let views = evidence_views(&console, n + 1).await;
        let (actor, role, seen, described) = &views[n];
        assert_eq!(seen, subject, "{views:?}");
        assert!(described.starts_with(what), "{views:?}");
        let name = if *cookie == &reviewer {
            "reviewer"
        } else {
            "investigator"
        };
        assert!(actor.contains(name), "{actor}");
        assert_eq!(role, name, "{views:?}");
    }
    // A case that does not exist is not a view of evidence.
    let missing = console.call("GET", "/cases/r-404", &reviewer, "").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(evidence_views(&console, 3).await.len(), 3);
}
