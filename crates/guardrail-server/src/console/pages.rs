//! The console's reading pages: login, the queue, a case, an account.
//!
//! What it is for: turning the ledger's folded state, the report's original event and the
//! live snapshot into what a reviewer reads — in priority order, with SLA countdowns, the
//! text guard's matches highlighted in the original text, hash matches, and the network
//! neighbourhood.
//!
//! What it must never do: change state on a GET (reads only; the audited media reveal is a
//! POST in [`super::actions`]) or hand account text to a template as markup.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use guardrail_ledger::event::{Payload, Subject};
use guardrail_ledger::state::{LedgerState, ReportRecord};
use guardrail_reports::{CATEGORIES, ReportState, category};
use guardrail_text::{Policy, check};
use guardrail_types::{AccountId, TextPlace};
use serde::Deserialize;

use super::draw::{self, Drawing};
use super::session::{
    LOGIN_CSRF_COOKIE, LoginRefused, SESSION_COOKIE, SESSION_SECONDS, cookie, random_token,
    same_token, set_cookie,
};
use super::{
    Chrome, PageResult, Shared, Viewer, duration_words, error_page, ledger, render, time_words,
};
use crate::auth::{Scope, nobody, verify_password};
use crate::routes::reports::entity_of;
use crate::service::{Service, unix_now};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    csrf: String,
    message: Option<String>,
}

fn login_page(status: StatusCode, message: Option<String>) -> Response {
    let csrf = random_token();
    let mut response = render(&LoginPage {
        chrome: Chrome::anonymous(),
        csrf: csrf.clone(),
        message,
    });
    *response.status_mut() = status;
    if let Ok(value) = set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3_600).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /login`.
pub async fn login_form() -> Response {
    login_page(StatusCode::OK, None)
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /login`: checks the CSRF pair, the lockout and the password; opens a session.
pub async fn login(
    State(service): Shared,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let cookie_csrf = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| cookie(h, LOGIN_CSRF_COOKIE))
        .unwrap_or("");
    if !same_token(&form.csrf, cookie_csrf) {
        return login_page(
            StatusCode::FORBIDDEN,
            Some("The form was refused: its CSRF token is missing or stale. Try again.".into()),
        );
    }
    let now = unix_now();
    let name = form.username.trim().to_string();
    if let Some(until) = service.console.sessions.locked_until(&name, now) {
        return login_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some(format!(
                "Too many failed logins for this name: locked for {} more.",
                duration_words(until - now)
            )),
        );
    }
    let user = service
        .ledger()
        .and_then(|state| state.users.get(&name).cloned());
    let password = form.password;
    let user = user.unwrap_or_else(|| nobody().clone());
    let role = tokio::task::spawn_blocking(move || verify_password(&user, &password))
        .await
        .ok()
        .flatten();
    let Some(role) = role.filter(|r| *r != Scope::Service) else {
        let message = match service.console.sessions.fail(&name, now) {
            LoginRefused::BadCredentials => "Wrong user name or password.".to_string(),
            LoginRefused::LockedOut { until } => format!(
                "Too many failed logins for this name: locked for {}.",
                duration_words(until - now)
            ),
        };
        tracing::info!(user = %name, "console login refused");
        return login_page(StatusCode::UNAUTHORIZED, Some(message));
    };
    let (id, _) = service.console.sessions.open(&name, role, now);
    tracing::info!(user = %name, role = role.name(), "console login");
    let mut response = Redirect::to("/queue").into_response();
    let headers = response.headers_mut();
    for value in [
        set_cookie(SESSION_COOKIE, &id, SESSION_SECONDS),
        set_cookie(LOGIN_CSRF_COOKIE, "", 0),
    ] {
        if let Ok(value) = value.parse() {
            headers.append(header::SET_COOKIE, value);
        }
    }
    response
}

/// A form that carries only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    /// The session's token.
    pub csrf: Option<String>,
}

/// `POST /logout`.
pub async fn logout(
    State(service): Shared,
    headers: HeaderMap,
    viewer: Viewer,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    viewer.check_csrf(form.csrf.as_deref())?;
    if let Some(id) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| cookie(h, SESSION_COOKIE))
    {
        service.console.sessions.close(id);
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) = set_cookie(SESSION_COOKIE, "", 0).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// One row of the queue.
#[derive(Debug, Clone)]
pub struct QueueRow {
    id: String,
    category: String,
    state: String,
    priority: u8,
    subject: String,
    received: String,
    sla: String,
    overdue: bool,
    claimed_by: String,
    can_claim: bool,
    can_release: bool,
}

/// A detection without a report: a mapped suspect.
#[derive(Debug, Clone)]
pub struct DetectionRow {
    account: String,
    handle: String,
    role: String,
    score: String,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    rows: Vec<QueueRow>,
    detections: Vec<DetectionRow>,
    categories: Vec<(String, bool)>,
    states: Vec<(String, bool)>,
    shown: usize,
    total: usize,
    refresh: String,
    now: String,
}

/// The queue's filters.
#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    category: Option<String>,
    state: Option<String>,
}

/// The report's SLA: when its next timer runs out, and whether it has.
pub fn sla(record: &ReportRecord, now: u64) -> (String, bool) {
    let Some(category) = category(&record.category) else {
        return ("no timer (unknown category)".into(), false);
    };
    let state: Option<ReportState> = record.state.parse().ok();
    let due = match state {
        Some(ReportState::Closed) => return ("done".into(), false),
        Some(ReportState::Received) => record.received_at + category.first_action_within,
        _ => record.received_at + category.final_within,
    };
    if now > due {
        (format!("overdue by {}", duration_words(now - due)), true)
    } else {
        (format!("due in {}", duration_words(due - now)), false)
    }
}

fn subject_words(state: &LedgerState, subject: &Subject) -> String {
    match subject {
        Subject::Account(id) => match state.account_id(id).and_then(|a| state.account(a)) {
            Some(record) => format!("account {id} (@{})", record.handle),
            None => format!("account {id}"),
        },
        Subject::Post(id) => format!("post {id}"),
    }
}

/// Who has the report, when it is in review: the actor of the move into `in_review`.
pub fn claimed_by(record: &ReportRecord) -> Option<String> {
    (record.state == "in_review")
        .then(|| record.history.iter().rev().find(|t| t.to == "in_review"))
        .flatten()
        .map(|t| t.actor.trim_start_matches("person:").to_string())
}

/// `GET /queue`: reports in priority order (then the nearest deadline), filtered by
/// category and state, with mapped suspects nobody has reported yet.
pub async fn queue(
    State(service): Shared,
    viewer: Viewer,
    Query(query): Query<QueueQuery>,
) -> PageResult {
    viewer.require(Scope::Reviewer)?;
    let state = ledger(&service, &viewer)?;
    let now = unix_now();
    let wanted_category = query.category.filter(|c| !c.is_empty());
    let wanted_state = query
        .state
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "open".into());
    let mut records: Vec<&ReportRecord> = state
        .reports
        .values()
        .filter(|r| wanted_category.as_ref().is_none_or(|c| *c == r.category))
        .filter(|r| match wanted_state.as_str() {
            "open" => r.state != "closed",
            "all" => true,
            other => r.state == other,
        })
        .collect();
    let deadline = |r: &ReportRecord| {
        let c = category(&r.category);
        r.received_at
            + c.map_or(u64::MAX / 4, |c| {
                if r.state == "received" {
                    c.first_action_within
                } else {
                    c.final_within
                }
            })
    };
    records.sort_by_key(|r| (r.priority, deadline(r), r.report.clone()));
    let total = records.len();
    let rows: Vec<QueueRow> = records
        .into_iter()
        .take(500)
        .map(|r| {
            let (sla, overdue) = sla(r, now);
            let claimed = claimed_by(r);
            QueueRow {
                id: r.report.clone(),
                category: r.category.clone(),
                state: r.state.clone(),
                priority: r.priority,
                subject: subject_words(&state, &r.subject),
                received: time_words(r.received_at),
                sla,
                overdue,
                can_claim: matches!(r.state.as_str(), "received" | "triaged"),
                can_release: claimed.as_deref() == Some(viewer.session.user.as_str()),
                claimed_by: claimed.unwrap_or_default(),
            }
        })
        .collect();
    let detections = detections(&service, &state);
    let categories = CATEGORIES
        .iter()
        .map(|c| (c.id.to_string(), wanted_category.as_deref() == Some(c.id)))
        .collect();
    let states = ["open", "all"]
        .into_iter()
        .chain(ReportState::ALL.iter().map(|s| s.name()))
        .map(|s| (s.to_string(), s == wanted_state))
        .collect();
    let refresh = format!(
        "/queue?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("category", wanted_category.as_deref().unwrap_or(""))
            .append_pair("state", &wanted_state)
            .finish()
    );
    Ok(render(&QueuePage {
        chrome: viewer.chrome("queue"),
        refresh,
        now: time_words(now),
        shown: rows.len(),
        rows,
        detections,
        categories,
        states,
        total,
    }))
}

/// The map's strongest tied suspects that no report names yet (at most 20).
fn detections(service: &Service, state: &LedgerState) -> Vec<DetectionRow> {
    let Some(guard) = service.guard() else {
        return Vec::new();
    };
    let snapshot = guard.snapshot();
    let Ok(map) = snapshot.map() else {
        return Vec::new();
    };
    let reported: std::collections::BTreeSet<&str> = state
        .reports
        .values()
        .filter_map(|r| match &r.subject {
            Subject::Account(id) => Some(id.as_str()),
            Subject::Post(_) => None,
        })
        .collect();
    map.suspects
        .iter()
        .filter(|s| s.tied && s.role.in_network())
        .filter_map(|s| {
            let external = draw::external_of(state, &s.account);
            if reported.contains(external.as_str()) {
                return None;
            }
            let handle = state
                .account_id(&external)
                .and_then(|a| state.account(a))
                .map_or_else(String::new, |r| r.handle.clone());
            Some(DetectionRow {
                account: external,
                handle,
                role: s.role.name().to_string(),
                score: format!("{:.2}", s.score),
            })
        })
        .take(20)
        .collect()
}

/// A piece of text, highlighted when a rule matched it.
#[derive(Debug, Clone)]
pub struct Segment {
    /// The text (escaped by the template).
    pub text: String,
    /// The rule that matched it.
    pub rule: Option<String>,
}

/// Splits `text` at the text guard's matches in `place` (byte spans of the original).
pub fn highlight(policy: Option<&Policy>, place: TextPlace, text: &str) -> Vec<Segment> {
    let mut spans: Vec<(usize, usize, String)> = policy
        .map(|p| check(p, place, text).matches)
        .unwrap_or_default()
        .into_iter()
        .map(|m| (m.span.start, m.span.end, m.rule.to_string()))
        .filter(|(s, e, _)| {
            s < e && *e <= text.len() && text.is_char_boundary(*s) && text.is_char_boundary(*e)
        })
        .collect();
    spans.sort();
    let mut segments = Vec::new();
    let mut at = 0;
    for (start, end, rule) in spans {
        if start < at {
            continue;
        }
        if start > at {
            segments.push(Segment {
                text: text[at..start].to_string(),
                rule: None,
            });
        }
        segments.push(Segment {
            text: text[start..end].to_string(),
            rule: Some(rule),
        });
        at = end;
    }
    if at < text.len() {
        segments.push(Segment {
            text: text[at..].to_string(),
            rule: None,
        });
    }
    segments
}

/// What the case and account pages show about an account.
#[derive(Debug, Clone)]
pub struct AccountView {
    external: String,
    handle: Vec<Segment>,
    bio: Vec<Segment>,
    declared_age: u8,
    created: String,
    signals: Vec<(String, String)>,
    drawing: Drawing,
    linked: Vec<(String, String)>,
    actions: Vec<String>,
}

/// Builds the account view from the state and the live snapshot.
pub fn account_view(
    service: &Service,
    state: &LedgerState,
    account: AccountId,
) -> Option<AccountView> {
    let record = state.account(account)?;
    let policy = service.policy();
    let guard = service.guard();
    let snapshot = guard.map(|g| g.snapshot());
    let map = snapshot.as_ref().and_then(|s| s.map().ok());
    let mut signals = Vec::new();
    if let Some(snapshot) = &snapshot {
        let own = snapshot.signals_of(account);
        if let Some(network) = &own.network {
            signals.push((
                "network".to_string(),
                format!(
                    "score {:.2}, {}, role {}",
                    network.score,
                    if network.member {
                        "member"
                    } else {
                        "not a member"
                    },
                    network.role.map_or("none", |r| r.name())
                ),
            ));
        }
        if let Some(text) = &own.text {
            signals.push((
                "text".to_string(),
                if text.rules.is_empty() {
                    format!("risk {:.2}; no rule matched", text.risk_score)
                } else {
                    format!(
                        "risk {:.2}; rules {}",
                        text.risk_score,
                        text.rules.join(", ")
                    )
                },
            ));
        }
        if let Some(hash) = &own.hash {
            signals.push((
                "hash".to_string(),
                if hash.banks.is_empty() {
                    format!("{} matches", hash.matches)
                } else {
                    format!("{} matches; banks {}", hash.matches, hash.banks.join(", "))
                },
            ));
        }
        if own.flagged == Some(true) {
            signals.push((
                "flagged".into(),
                "a reviewer or an enforcement action flagged it".into(),
            ));
        }
    }
    let entity = entity_of(state, account);
    let linked = entity
        .links
        .iter()
        .map(|l| {
            (
                l.get("to")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
                l.get("evidence")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let actions = entity
        .actions
        .iter()
        .map(|a| {
            let what = a
                .get("label")
                .or_else(|| a.get("action"))
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            format!(
                "{} on {}{}",
                what,
                a.get("account")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default(),
                a.get("reason")
                    .and_then(|v| v.as_str())
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    Some(AccountView {
        external: record.external.clone(),
        handle: highlight(policy, TextPlace::Username, &record.handle),
        bio: highlight(policy, TextPlace::Bio, &record.bio),
        declared_age: record.declared_age,
        created: time_words(record.created_at),
        signals,
        drawing: draw::neighbourhood(state, map, account),
        linked,
        actions,
    })
}

/// One media item of a case.
#[derive(Debug, Clone)]
pub struct MediaView {
    /// Its position in the case.
    pub index: usize,
    /// The PDQ hash, hex.
    pub hash: String,
    /// Bank matches: (bank, content id, distance).
    pub matches: Vec<(String, String, u32)>,
    /// Whether this viewer revealed it.
    pub revealed: bool,
}

/// The case's media: the report's hashes, then the reported post's.
pub fn case_media(
    service: &Service,
    state: &LedgerState,
    viewer: &Viewer,
    report: &str,
    hashes: &[String],
) -> Vec<MediaView> {
    let actor = viewer.actor();
    let mut seen = Vec::new();
    hashes
        .iter()
        .map(|h| h.strip_prefix("pdq:").unwrap_or(h).to_ascii_lowercase())
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .filter(|h| {
            let new = !seen.contains(h);
            seen.push(h.clone());
            new
        })
        .enumerate()
        .map(|(index, hash)| {
            let what = media_what(index, &hash);
            let revealed = state
                .evidence_views
                .iter()
                .any(|(a, _, s, w, _, _)| *a == actor && s == report && *w == what);
            MediaView {
                index,
                matches: service
                    .hma()
                    .match_pdq(&hash)
                    .into_iter()
                    .map(|(bank, content, distance)| (bank, content.to_string(), distance))
                    .collect(),
                hash,
                revealed,
            }
        })
        .collect()
}

/// How a media reveal is named in `evidence_viewed`.
pub fn media_what(index: usize, hash: &str) -> String {
    format!("media {index} pdq:{hash}")
}

/// What the report's own event says beyond the folded record.
#[derive(Debug, Clone, Default)]
pub struct ReportOriginal {
    /// The reporter's words.
    pub text: String,
    /// Media hashes sent with it.
    pub media_hashes: Vec<String>,
    /// Triage reasons.
    pub triage: Vec<String>,
}

/// Reads the report's `report_received` event back from the store.
pub async fn report_original(service: &Service, received_seq: u64) -> ReportOriginal {
    let Ok(records) = service.store.read(received_seq.saturating_sub(1), 1).await else {
        return ReportOriginal::default();
    };
    records
        .into_iter()
        .filter(|r| r.seq == received_seq)
        .find_map(|r| {
            match guardrail_ledger::event::Event::from_body(&r.body)
                .ok()?
                .payload
            {
                Payload::ReportReceived(report) => Some(ReportOriginal {
                    text: report.text,
                    media_hashes: report.media_hashes,
                    triage: report.triage,
                }),
                _ => None,
            }
        })
        .unwrap_or_default()
}

/// The report's subject account (the author, for a post).
pub fn subject_account(state: &LedgerState, subject: &Subject) -> Option<AccountId> {
    state.subject_account(subject)
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    csrf: String,
    id: String,
    category: String,
    state: String,
    priority: u8,
    subject: String,
    received: String,
    sla: String,
    overdue: bool,
    claimed_by: String,
    text: Vec<Segment>,
    triage: Vec<String>,
    history: Vec<(String, String, String, String, String)>,
    account: Option<AccountView>,
    media: Vec<MediaView>,
    can_claim: bool,
    can_release: bool,
    can_decide: bool,
    can_close: bool,
    referral_open: bool,
}

/// `GET /cases/{id}`.
pub async fn case(State(service): Shared, viewer: Viewer, Path(id): Path<String>) -> PageResult {
    viewer.require(Scope::Reviewer)?;
    let received_seq = {
        let state = ledger(&service, &viewer)?;
        let record = state.reports.get(&id).ok_or_else(|| {
            error_page(
                Some(&viewer),
                StatusCode::NOT_FOUND,
                &format!("There is no report {id}."),
            )
        })?;
        record.received_seq
    };
    // The case shows the report's text with its matched spans: evidence, so the view is
    // recorded first, and not shown if it cannot be.
    super::actions::audit_view(
        &service,
        &viewer,
        &id,
        "case page: the report's text with matched spans, media blurred".to_string(),
        "opened the case",
    )
    .await
    .map_err(|e| {
        error_page(
            Some(&viewer),
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("This view of the case could not be recorded, so it is not shown ({e})."),
        )
    })?;
    let original = report_original(&service, received_seq).await;
    let state = ledger(&service, &viewer)?;
    let Some(record) = state.reports.get(&id) else {
        return Err(error_page(
            Some(&viewer),
            StatusCode::NOT_FOUND,
            &format!("There is no report {id}."),
        ));
    };
    let account = subject_account(&state, &record.subject);
    let mut hashes = original.media_hashes.clone();
    if let Subject::Post(post) = &record.subject
        && let Some(post) = state.post_id(post).and_then(|p| state.posts.get(p.index()))
    {
        hashes.extend(post.media_hashes.iter().cloned());
    }
    let (sla, overdue) = sla(record, unix_now());
    let claimed = claimed_by(record);
    let referral_open = record.state == "referred"
        && !state
            .referrals
            .values()
            .any(|r| r.report == id && r.finished());
    let page = CasePage {
        chrome: viewer.chrome("queue"),
        csrf: viewer.session.csrf.clone(),
        id: id.clone(),
        category: record.category.clone(),
        state: record.state.clone(),
        priority: record.priority,
        subject: subject_words(&state, &record.subject),
        received: time_words(record.received_at),
        sla,
        overdue,
        can_claim: matches!(record.state.as_str(), "received" | "triaged"),
        can_release: claimed.as_deref() == Some(viewer.session.user.as_str()),
        can_decide: matches!(record.state.as_str(), "in_review" | "escalated"),
        can_close: matches!(
            record.state.as_str(),
            "actioned" | "no_violation" | "duplicate"
        ) || (record.state == "referred" && !referral_open),
        referral_open,
        claimed_by: claimed.unwrap_or_default(),
        text: highlight(service.policy(), TextPlace::Comment, &original.text),
        triage: original.triage,
        history: record
            .history
            .iter()
            .map(|t| {
                (
                    time_words(t.at),
                    t.from.clone(),
                    t.to.clone(),
                    t.actor.clone(),
                    t.reason.clone(),
                )
            })
            .collect(),
        account: account.and_then(|a| account_view(&service, &state, a)),
        media: case_media(&service, &state, &viewer, &id, &hashes),
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    account: AccountView,
    reports: Vec<(String, String, String)>,
}

/// `GET /accounts/{id}`: an account's evidence and the reports that name it (the map's
/// drill-down).
pub async fn account(State(service): Shared, viewer: Viewer, Path(id): Path<String>) -> PageResult {
    viewer.require(Scope::Reviewer)?;
    let not_found = || {
        error_page(
            Some(&viewer),
            StatusCode::NOT_FOUND,
            &format!("There is no account {id}."),
        )
    };
    if ledger(&service, &viewer)?.account_id(&id).is_none() {
        return Err(not_found());
    }
    // The account's evidence (matched text, network role, reports naming it): recorded
    // before it is shown, and not shown if it cannot be.
    super::actions::audit_view(
        &service,
        &viewer,
        &format!("account {id}"),
        "account page: matched text, network evidence and reports".to_string(),
        "opened the account",
    )
    .await
    .map_err(|e| {
        error_page(
            Some(&viewer),
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("This view of the account could not be recorded, so it is not shown ({e})."),
        )
    })?;
    let state = ledger(&service, &viewer)?;
    let dense = state.account_id(&id).ok_or_else(not_found)?;
    let account = account_view(&service, &state, dense).ok_or_else(not_found)?;
    let reports = state
        .reports
        .values()
        .filter(|r| subject_account(&state, &r.subject) == Some(dense))
        .map(|r| (r.report.clone(), r.category.clone(), r.state.clone()))
        .collect();
    Ok(render(&AccountPage {
        chrome: viewer.chrome(""),
        account,
        reports,
    }))
}
