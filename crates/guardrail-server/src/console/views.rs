//! The console's overview pages: the network map, the transparency metrics, the audit
//! log, and ads.
//!
//! What it is for: investigators read the suspected network (ranked suspects, roles,
//! communities, the size estimate) and drill down to an account and its cases; everyone
//! reads the transparency figures (from the ledger, recomputable by anyone holding it) and
//! the service's counters; admins read the audit log — who viewed which evidence, every
//! decision and publish, and whether the hash chain verifies.
//!
//! What it must never do: compute a figure from anything but the ledger and the live
//! snapshot, or hide a failed chain verification.

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use guardrail_ledger::event::{Event, Payload};
use guardrail_reports::metrics::transparency;

use super::draw::{self, Bar};
use super::{Chrome, PageResult, Shared, Viewer, ledger, render, time_words};
use crate::auth::Scope;
use crate::service::{Service, unix_now};

/// One suspect row.
#[derive(Debug, Clone)]
pub struct SuspectRow {
    rank: usize,
    account: String,
    handle: String,
    role: String,
    score: String,
    community: u32,
    tied: bool,
    evidence: String,
    reports: usize,
}

#[derive(Template)]
#[template(path = "network.html")]
struct NetworkPage {
    chrome: Chrome,
    reason: Option<String>,
    snapshot: u64,
    map_version: u64,
    covered: usize,
    seeds: Vec<(String, String)>,
    suspects: Vec<SuspectRow>,
    suspects_total: usize,
    communities: Vec<(u32, usize, usize, String, usize)>,
    size: Vec<(String, String)>,
}

/// `GET /network` (investigator).
pub async fn network(State(service): Shared, viewer: Viewer) -> PageResult {
    viewer.require(Scope::Investigator)?;
    let state = ledger(&service, &viewer)?;
    let guard = service.guard();
    let snapshot = guard.map(|g| g.snapshot());
    let (map_version, covered) = snapshot.as_ref().map_or((0, 0), |s| s.map_coverage());
    let mut page = NetworkPage {
        chrome: viewer.chrome("network"),
        reason: None,
        snapshot: snapshot.as_ref().map_or(0, |s| s.version()),
        map_version,
        covered,
        seeds: Vec::new(),
        suspects: Vec::new(),
        suspects_total: 0,
        communities: Vec::new(),
        size: Vec::new(),
    };
    let map = match snapshot.as_ref().map(|s| s.map()) {
        None => {
            page.reason = Some("The first snapshot is still being derived.".into());
            return Ok(render(&page));
        }
        Some(Err(error)) => {
            page.reason = Some(format!("No network map yet: {error}."));
            return Ok(render(&page));
        }
        Some(Ok(map)) => map,
    };
    let handle = |external: &str| {
        state
            .account_id(external)
            .and_then(|a| state.account(a))
            .map_or_else(String::new, |r| r.handle.clone())
    };
    page.seeds = map
        .seeds
        .iter()
        .map(|s| {
            let external = draw::external_of(&state, s);
            let h = handle(&external);
            (external, h)
        })
        .collect();
    page.suspects_total = map.suspects.len();
    page.suspects = map
        .suspects
        .iter()
        .take(200)
        .enumerate()
        .map(|(index, s)| {
            let external = draw::external_of(&state, &s.account);
            let dense = state.account_id(&external);
            let mut evidence: Vec<String> = s
                .evidence
                .signals
                .iter()
                .map(|(name, share)| format!("{name} +{share:.2}"))
                .collect();
            if !s.evidence.linked_seeds.is_empty() {
                let seeds: Vec<String> = s
                    .evidence
                    .linked_seeds
                    .iter()
                    .map(|d| draw::external_of(&state, d))
                    .collect();
                evidence.push(format!("linked to seeds {}", seeds.join(", ")));
            }
            SuspectRow {
                rank: index + 1,
                handle: handle(&external),
                role: s.role.name().to_string(),
                score: format!("{:.2}", s.score),
                community: s.community,
                tied: s.tied,
                evidence: evidence.join("; "),
                reports: state
                    .reports
                    .values()
                    .filter(|r| {
                        super::pages::subject_account(&state, &r.subject) == dense
                            && dense.is_some()
                    })
                    .count(),
                account: external,
            }
        })
        .collect();
    page.communities = map
        .seed_communities
        .iter()
        .map(|c| {
            (
                c.community,
                c.size,
                c.seeds,
                format!("{:.1}", c.enrichment),
                c.suspects,
            )
        })
        .collect();
    page.size = vec![
        ("accounts".into(), map.size.accounts.to_string()),
        ("sellers".into(), map.size.sellers.to_string()),
        ("aggregators".into(), map.size.aggregators.to_string()),
        ("buyers".into(), map.size.buyers.to_string()),
        (
            "unique followers of sellers".into(),
            map.size.unique_followers_of_sellers.to_string(),
        ),
        ("method".into(), map.size.method.clone()),
    ];
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "transparency.html")]
struct TransparencyPage {
    chrome: Chrome,
    categories: Vec<(String, usize, usize, usize)>,
    received_bars: Vec<Bar>,
    processed_bars: Vec<Bar>,
    chart_height: usize,
    figures: Vec<(String, String)>,
    counters: Vec<(String, String)>,
}

fn seconds(value: Option<u64>) -> String {
    value.map_or_else(|| "no data yet".to_string(), super::duration_words)
}

/// `GET /transparency`: the transparency metrics and the service's counters.
pub async fn transparency_page(State(service): Shared, viewer: Viewer) -> PageResult {
    viewer.require(Scope::Reviewer)?;
    let state = ledger(&service, &viewer)?;
    let figures = transparency(&state);
    let categories: Vec<(String, usize, usize, usize)> = figures
        .by_category
        .iter()
        .map(|(id, f)| (id.clone(), f.received, f.processed, f.actioned))
        .collect();
    let received_bars = draw::bars(
        categories
            .iter()
            .map(|c| (c.0.clone(), c.1 as f64))
            .collect(),
    );
    let processed_bars = draw::bars(
        categories
            .iter()
            .map(|c| (c.0.clone(), c.2 as f64))
            .collect(),
    );
    let gauges = service.gauges();
    let stats = service.guard().map(|g| g.stats()).unwrap_or_default();
    Ok(render(&TransparencyPage {
        chrome: viewer.chrome("transparency"),
        chart_height: categories.len().max(1) * 24,
        categories,
        received_bars,
        processed_bars,
        figures: vec![
            (
                "time to first action, median".into(),
                seconds(figures.first_action_p50),
            ),
            (
                "time to first action, 90th percentile".into(),
                seconds(figures.first_action_p90),
            ),
            (
                "time to final state, median".into(),
                seconds(figures.final_state_p50),
            ),
            (
                "time to final state, 90th percentile".into(),
                seconds(figures.final_state_p90),
            ),
            (
                "share of decided reports actioned or referred".into(),
                format!("{:.0}%", figures.actioned_share * 100.0),
            ),
            (
                "referrals opened".into(),
                figures.referrals_opened.to_string(),
            ),
            (
                "referrals confirmed by the clearing house".into(),
                figures.referrals_finished.to_string(),
            ),
        ],
        counters: vec![
            (
                "decisions made by this process".into(),
                stats.decisions.to_string(),
            ),
            (
                "of which dropped a candidate".into(),
                stats.drops.to_string(),
            ),
            (
                "of which failed closed".into(),
                stats.fail_closed.to_string(),
            ),
            (
                "decisions in the ledger's decision log".into(),
                state.decisions_logged.to_string(),
            ),
            (
                "snapshot version".into(),
                gauges.snapshot_version.to_string(),
            ),
            (
                "snapshot age".into(),
                format!("{:.1} s", gauges.snapshot_age_seconds),
            ),
            ("ledger events folded".into(), gauges.folded_seq.to_string()),
            (
                "decision log dropped (queue full)".into(),
                gauges.decision_log_dropped.to_string(),
            ),
        ],
    }))
}

/// Five columns of text: one row of an audit table.
type Row = (String, String, String, String, String);

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    chain_ok: bool,
    chain: String,
    scanning: Option<String>,
    views: Vec<(String, String, String, String, String)>,
    decisions: Vec<(String, String, String, String, String)>,
    labels: Vec<(String, String, String, String, String)>,
    publishes: Vec<(String, String, String, String)>,
}

/// `GET /audit` (admin): evidence views, decisions, publishes, and the chain's check.
pub async fn audit(State(service): Shared, viewer: Viewer) -> PageResult {
    viewer.require(Scope::Admin)?;
    start_audit_reads(&service, false);
    // A small ledger is read at once; a large one finishes in the background and the
    // page says so.
    for _ in 0..40 {
        if !lock(&service.console.audit).busy() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cache = lock(&service.console.audit).clone();
    let (chain_ok, mut chain) = match &cache.chain {
        Some(status) => (
            status.ok,
            format!("As of {}: {}", time_words(status.at), status.words),
        ),
        None => (true, "The hash chain is being verified.".to_string()),
    };
    if cache.verifying && cache.chain.is_some() {
        chain.push_str(" A new check is running; reload for its result.");
    }
    let scanning = cache.scanning.then(|| {
        format!(
            "Still reading the ledger for publishes (up to sequence {} so far); reload for the rest.",
            cache.scanned
        )
    });
    let publishes = cache.publishes.iter().rev().cloned().collect();
    let state = ledger(&service, &viewer)?;
    let views = state
        .evidence_views
        .iter()
        .rev()
        .take(500)
        .map(|(actor, role, subject, what, _why, at)| {
            (
                time_words(*at),
                actor.clone(),
                role.clone(),
                subject.clone(),
                what.clone(),
            )
        })
        .collect();
    // Latest first; moves of one report in the same second keep their order.
    let mut decisions: Vec<((u64, usize), Row)> = state
        .reports
        .values()
        .flat_map(|r| {
            r.history.iter().enumerate().map(move |(step, t)| {
                (
                    (t.at, step),
                    (
                        time_words(t.at),
                        r.report.clone(),
                        format!("{} → {}", t.from, t.to),
                        t.actor.clone(),
                        t.reason.clone(),
                    ),
                )
            })
        })
        .collect();
    decisions.sort_by_key(|d| std::cmp::Reverse(d.0));
    let labels = state
        .labels
        .iter()
        .rev()
        .take(500)
        .map(|l| {
            (
                time_words(l.applied_at),
                state
                    .account(l.account)
                    .map_or_else(String::new, |a| a.external.clone()),
                l.label.clone(),
                l.actor.clone(),
                l.expires_at.map_or_else(|| "never".into(), time_words),
            )
        })
        .collect();
    Ok(render(&AuditPage {
        chrome: viewer.chrome("audit"),
        chain_ok,
        chain,
        scanning,
        views,
        decisions: decisions.into_iter().take(500).map(|(_, d)| d).collect(),
        labels,
        publishes,
    }))
}

/// One composition row with its plot geometry (shares as percentages of the plot width).
struct ShareLine {
    category: String,
    eligible: String,
    delivered: String,
    y: f64,
    eligible_width: f64,
    delivered_width: f64,
    low_x: f64,
    high_x: f64,
}

/// One ad on the page.
struct AdView {
    ad: String,
    features_minor: bool,
    control: bool,
    eligible: u64,
    impressions: u64,
    gender_distance: String,
    age_distance: String,
    gender: Vec<ShareLine>,
    age: Vec<ShareLine>,
    gender_height: f64,
    age_height: f64,
    alerts: Vec<String>,
    risk_excluded: u64,
    excluded: Vec<(String, u64)>,
}

const SHARE_PLOT_WIDTH: f64 = 300.0;

fn share_lines(rows: &[guardrail_ads::monitor::ShareRow]) -> Vec<ShareLine> {
    let percent = |p: &guardrail_ads::Proportion| {
        format!(
            "{:.1}% ({:.1}–{:.1})",
            p.value * 100.0,
            p.low * 100.0,
            p.high * 100.0
        )
    };
    rows.iter()
        .enumerate()
        .map(|(index, row)| ShareLine {
            category: row.category.clone(),
            eligible: format!("{} people, {}", row.eligible, percent(&row.eligible_share)),
            delivered: format!(
                "{} impressions, {}",
                row.delivered,
                percent(&row.delivered_share)
            ),
            y: index as f64 * 30.0,
            eligible_width: row.eligible_share.value * SHARE_PLOT_WIDTH,
            delivered_width: row.delivered_share.value * SHARE_PLOT_WIDTH,
            low_x: 110.0 + row.delivered_share.low * SHARE_PLOT_WIDTH,
            high_x: 110.0 + row.delivered_share.high * SHARE_PLOT_WIDTH,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "ads.html")]
struct AdsPage {
    chrome: Chrome,
    ads: Vec<AdView>,
}

/// `GET /ads` (investigator): each ad's delivered against eligible composition by gender
/// and age range with 95% intervals, the distances, alerts, and what the guardrails
/// excluded (the risk-flagged impressions an ad featuring a minor never reached).
pub async fn ads(State(service): Shared, viewer: Viewer) -> PageResult {
    viewer.require(Scope::Investigator)?;
    let ads = service
        .ads
        .summaries()
        .into_iter()
        .map(|summary| {
            let gender = share_lines(&summary.report.gender.rows);
            let age = share_lines(&summary.report.age.rows);
            let risk_excluded = summary
                .excluded
                .iter()
                .filter(|(why, _)| {
                    !why.starts_with("delivery control") && !why.starts_with("unknown viewer")
                })
                .map(|(_, n)| n)
                .sum();
            AdView {
                ad: summary.ad,
                features_minor: summary.features_minor,
                control: summary.control,
                eligible: summary.report.eligible,
                impressions: summary.report.impressions,
                gender_distance: format!("{:.3}", summary.report.gender.total_variation),
                age_distance: format!("{:.3}", summary.report.age.total_variation),
                gender_height: gender.len() as f64 * 30.0 + 10.0,
                age_height: age.len() as f64 * 30.0 + 10.0,
                gender,
                age,
                alerts: summary
                    .report
                    .alerts
                    .iter()
                    .map(|a| {
                        format!(
                            "{}: total variation {:.3} over the bound {:.2} after {} impressions",
                            a.dimension, a.total_variation, a.bound, a.impressions
                        )
                    })
                    .collect(),
                risk_excluded,
                excluded: summary.excluded.into_iter().collect(),
            }
        })
        .collect();
    Ok(render(&AdsPage {
        chrome: viewer.chrome("ads"),
        ads,
    }))
}

/// When the chain was last verified, whether it held, and what the check said.
#[derive(Debug, Clone)]
pub(crate) struct ChainStatus {
    at: u64,
    ok: bool,
    words: String,
}

/// What the audit log read from the whole ledger, kept between views.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditCache {
    chain: Option<ChainStatus>,
    verifying: bool,
    /// Publishes found so far, oldest first: (when, what, version, who).
    publishes: Vec<(String, String, String, String)>,
    /// The last sequence number read for publishes.
    scanned: u64,
    scanning: bool,
}

impl AuditCache {
    fn busy(&self) -> bool {
        self.verifying || self.scanning
    }
}

/// A verification older than this is redone when the audit log is opened.
const VERIFY_EVERY_SECONDS: u64 = 600;

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Starts, in the background, a chain verification (when none ran lately, or `verify`)
/// and the reading of publishes stored since the last read.
fn start_audit_reads(service: &Arc<Service>, verify: bool) {
    let now = unix_now();
    let mut cache = lock(&service.console.audit);
    let due = cache
        .chain
        .as_ref()
        .is_none_or(|c| verify || now >= c.at + VERIFY_EVERY_SECONDS);
    if due && !cache.verifying {
        cache.verifying = true;
        let service = service.clone();
        tokio::spawn(async move {
            let (ok, words) = match service.store.verify().await {
                Ok(records) => (
                    true,
                    format!(
                        "the hash chain verifies: {records} records, each linked to the one before."
                    ),
                ),
                Err(error) => (false, format!("the hash chain does NOT verify: {error}")),
            };
            let mut cache = lock(&service.console.audit);
            cache.chain = Some(ChainStatus {
                at: unix_now(),
                ok,
                words,
            });
            cache.verifying = false;
        });
    }
    if !cache.scanning {
        cache.scanning = true;
        let after = cache.scanned;
        let service = service.clone();
        tokio::spawn(async move {
            let mut pages = service.store.pages(after, 10_000);
            while let Ok(Some(records)) = pages.next_page().await {
                let mut found = Vec::new();
                let mut last = after;
                for record in records {
                    last = record.seq;
                    // Publishes are not kept in the folded state beyond the latest: only
                    // bodies that name one are decoded.
                    if !record.body.windows(10).any(|w| w == b"_published") {
                        continue;
                    }
                    let Ok(event) = Event::from_body(&record.body) else {
                        continue;
                    };
                    let (kind, version, actor) = match &event.payload {
                        Payload::RulesPublished(p) => {
                            ("discovery rules", p.version, p.actor.clone())
                        }
                        Payload::PolicyPublished(p) => ("text policy", p.version, p.actor.clone()),
                        _ => continue,
                    };
                    found.push((
                        time_words(event.at),
                        kind.to_string(),
                        format!("v{version}"),
                        actor,
                    ));
                }
                let mut cache = lock(&service.console.audit);
                cache.publishes.extend(found);
                cache.scanned = cache.scanned.max(last);
            }
            lock(&service.console.audit).scanning = false;
        });
    }
}

/// `POST /audit/verify` (admin): verifies the chain again now.
pub async fn verify_now(
    State(service): Shared,
    viewer: Viewer,
    Form(form): Form<super::pages::CsrfForm>,
) -> PageResult {
    viewer.require(Scope::Admin)?;
    viewer.check_csrf(form.csrf.as_deref())?;
    start_audit_reads(&service, true);
    Ok(Redirect::to("/audit").into_response())
}
