//! The rules page: the discovery rules per surface, edited by admins without an engineer.
//!
//! What it is for: an admin edits the rule file; publishing stores a `rules_published`
//! event with the next version. Every rule that is new or changed goes out in shadow mode
//! (evaluated and recorded in verdicts, never acting), whatever the edit said; the page
//! shows, for each shadow rule, its backfill — how many of the newest decisions in the
//! ledger's decision log (every replica's) it would have changed if enforced, with samples — and the caps on
//! automated actions. Promotion to enforce is one click, and another publish.
//!
//! A publish is in force as soon as the service folds it: the follower installs the
//! ledger's last published rules (on every replica, each as it folds the event), and the
//! page shows the running rules beside the published ones, so an admin sees a replica that
//! has not caught up.
//!
//! What it must never do: publish a rule file that does not load, let a new or changed
//! rule enforce without going through shadow first, or publish without an admin.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use guardrail_ledger::event::{Event, Payload, RulesPublished};
use guardrail_policy::backfill::{RecordedRequest, backfill};
use guardrail_policy::{DEFAULT_RULES_TOML, Engine, Mode, Rule, RuleSet};
use guardrail_store::AppendOutcome;
use guardrail_types::Surface;
use serde::Deserialize;

use super::{Chrome, PageResult, Refused, Shared, Viewer, error_page, ledger, render};
use crate::auth::Scope;
use crate::service::{Service, unix_now};

/// One rule as the page lists it.
#[derive(Debug, Clone)]
pub struct RuleRow {
    id: String,
    action: String,
    shadow: bool,
    when: String,
    unless: String,
    description: String,
}

/// A shadow rule's backfill.
#[derive(Debug, Clone)]
pub struct Backfill {
    rule: String,
    requests: usize,
    changes: usize,
    samples: Vec<String>,
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    chrome: Chrome,
    published: String,
    running: String,
    surfaces: Vec<(String, Vec<RuleRow>)>,
    backfills: Vec<Backfill>,
    cap_per_hour: u32,
    cap_alerts: Vec<String>,
    toml: String,
    message: Option<String>,
}

/// The rules as published (version 0: the shipped defaults, never published).
fn published(service: &Service, viewer: &Viewer) -> Result<(u64, String), Refused> {
    let state = ledger(service, viewer)?;
    Ok(state
        .rules
        .clone()
        .unwrap_or_else(|| (0, DEFAULT_RULES_TOML.to_string())))
}

fn row(rule: &Rule) -> RuleRow {
    let names = |p: &[guardrail_policy::Predicate]| {
        p.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
    };
    RuleRow {
        id: rule.id.clone(),
        action: rule.action.name().to_string(),
        shadow: rule.mode == Mode::Shadow,
        when: names(&rule.when),
        unless: names(&rule.unless),
        description: rule.description.clone(),
    }
}

/// What enforcing `rule` would change over the recent decisions.
fn backfill_of(
    service: &Service,
    rules: &RuleSet,
    rule: &str,
    log: &[RecordedRequest],
) -> Backfill {
    let policy = service
        .policy()
        .cloned()
        .unwrap_or_else(guardrail_text::Policy::default_policy);
    let mut enforced = rules.clone();
    for r in &mut enforced.rules {
        if r.id == rule {
            r.mode = Mode::Enforce;
        }
    }
    let current = Engine::new(rules.clone(), policy.clone());
    let proposed = Engine::new(enforced, policy);
    let report = backfill(&current, &proposed, log);
    Backfill {
        rule: rule.to_string(),
        requests: report.requests,
        changes: report.changes.len(),
        samples: report
            .changes
            .iter()
            .take(5)
            .map(|c| {
                let request = &log[c.request];
                let who = request
                    .account
                    .as_ref()
                    .map(|a| format!(" account {}", a.shown()))
                    .or_else(|| request.text.as_ref().map(|t| format!(" text {t:?}")))
                    .or_else(|| request.query.as_ref().map(|q| format!(" query {q:?}")))
                    .unwrap_or_default();
                format!(
                    "{}{who}: {} → {} (decided by {})",
                    request.surface.name(),
                    c.before.name(),
                    c.after.name(),
                    c.decided_by.as_deref().unwrap_or("none")
                )
            })
            .collect(),
    }
}

/// The page's notice after a publish.
#[derive(Debug, Deserialize)]
pub struct Notice {
    published: Option<u64>,
}

/// `GET /rules` (admin).
pub async fn page(
    State(service): Shared,
    viewer: Viewer,
    Query(notice): Query<Notice>,
) -> PageResult {
    viewer.require(Scope::Admin)?;
    let (version, toml) = published(&service, &viewer)?;
    let rules = RuleSet::from_toml(&toml, "the published rules").map_err(|e| {
        error_page(
            Some(&viewer),
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("The published rules do not load: {e}"),
        )
    })?;
    let surfaces = Surface::ALL
        .iter()
        .map(|surface| {
            (
                surface.name().to_string(),
                rules
                    .rules
                    .iter()
                    .filter(|r| r.surfaces.contains(surface))
                    .map(row)
                    .collect(),
            )
        })
        .collect();
    let (log, unreadable) = service
        .logged_decisions(crate::decision_log::BACKFILL_DECISIONS)
        .await
        .map_err(|e| {
            error_page(
                Some(&viewer),
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("The decision log could not be read from the ledger ({e})."),
            )
        })?;
    if unreadable > 0 {
        tracing::warn!(
            unreadable,
            "logged decisions that do not read back as requests were left out of the backfill"
        );
    }
    let backfills = rules
        .rules
        .iter()
        .filter(|r| r.mode == Mode::Shadow)
        .map(|r| backfill_of(&service, &rules, &r.id, &log))
        .collect();
    let running = match service.live_rules() {
        Some(live) if live == rules => {
            format!("the running service enforces this version (v{version})")
        }
        Some(live) => format!(
            "this replica still enforces other rules ({}, {} rules): it has not folded v{version} yet, or v{version} does not load (see its log)",
            live.name,
            live.rules.len()
        ),
        None => "the service is still loading".to_string(),
    };
    let mut cap_alerts: Vec<String> = service
        .guard()
        .map(|g| {
            g.snapshot()
                .alerts()
                .iter()
                .map(|a| {
                    format!(
                        "rule {} stopped after {} actions in an hour",
                        a.rule, a.actions_this_hour
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    // Automated enforcement through the API: a breaker is open from its last trip until
    // an admin's reset.
    if let Some(state) = service.ledger() {
        let mut last: std::collections::BTreeMap<&str, (&str, u64)> = Default::default();
        for (subject, kind, at) in &state.other_alerts {
            if let Some(rule) = subject.strip_prefix("rule:")
                && (kind == guardrail_reports::CAP_TRIPPED || kind == guardrail_reports::CAP_RESET)
            {
                last.insert(rule, (kind.as_str(), *at));
            }
        }
        cap_alerts.extend(
            last.into_iter()
                .filter(|(_, (kind, _))| *kind == guardrail_reports::CAP_TRIPPED)
                .map(|(rule, (_, at))| {
                    format!(
                        "rule {rule}'s enforcement is stopped since {} (over {} actions in an hour); reset it with POST /v1/admin/rules/{rule}/reset",
                        super::time_words(at),
                        service.config.rule_cap_per_hour
                    )
                }),
        );
    }
    Ok(render(&RulesPage {
        chrome: viewer.chrome("rules"),
        published: if version == 0 {
            "the shipped defaults (never published)".to_string()
        } else {
            format!("v{version}")
        },
        running,
        surfaces,
        backfills,
        cap_per_hour: service.config.rule_cap_per_hour as u32,
        cap_alerts,
        toml,
        message: notice
            .published
            .map(|v| format!("Published v{v}. New and changed rules are in shadow.")),
    }))
}

/// Why an edited rule file cannot be published.
fn refused(viewer: &Viewer, why: String) -> Refused {
    error_page(
        Some(viewer),
        StatusCode::BAD_REQUEST,
        &format!("Nothing was published: {why}"),
    )
}

/// Rewrites `edited` so that every rule that is new or differs from `current` (in
/// anything but its mode) is in shadow mode; answers the file to publish.
pub fn shadow_new_and_changed(current: &RuleSet, edited: &str) -> Result<String, String> {
    let compiled = RuleSet::from_toml(edited, "the edited rules").map_err(|e| e.to_string())?;
    let mut table: toml::Table = edited.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let unchanged = |rule: &Rule| {
        current.rules.iter().any(|c| {
            let mut c = c.clone();
            c.mode = rule.mode;
            c == *rule
        })
    };
    if let Some(toml::Value::Array(specs)) = table.get_mut("rule") {
        for (spec, rule) in specs.iter_mut().zip(&compiled.rules) {
            if !unchanged(rule)
                && let toml::Value::Table(spec) = spec
            {
                spec.insert("mode".into(), toml::Value::String("shadow".into()));
            }
        }
    }
    let out = toml::to_string(&table).map_err(|e| e.to_string())?;
    RuleSet::from_toml(&out, "the rules to publish").map_err(|e| e.to_string())?;
    Ok(out)
}

/// Stores the next version of the rules.
async fn publish_version(
    service: &Service,
    viewer: &Viewer,
    version: u64,
    toml: String,
) -> PageResult {
    let event = Event::new(
        // One id per version: two admins publishing at once conflict instead of both
        // claiming the same version.
        format!("rules-published:v{version}"),
        unix_now(),
        Payload::RulesPublished(RulesPublished {
            version,
            toml,
            actor: viewer.actor(),
        }),
    );
    let outcomes = service.append(vec![event]).await.map_err(|e| {
        error_page(
            Some(viewer),
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("Nothing was published: the ledger refused the write ({e})."),
        )
    })?;
    if matches!(
        outcomes.first(),
        Some(AppendOutcome::Conflict { .. } | AppendOutcome::Duplicate { .. })
    ) {
        return Err(error_page(
            Some(viewer),
            StatusCode::CONFLICT,
            &format!(
                "Version {version} was published by someone else meanwhile; reload the page and edit again."
            ),
        ));
    }
    Ok(Redirect::to(&format!("/rules?published={version}")).into_response())
}

/// The edit form.
#[derive(Debug, Deserialize)]
pub struct PublishForm {
    csrf: Option<String>,
    #[serde(default)]
    toml: String,
    /// The version the admin edited (refused if another was published since).
    #[serde(default)]
    base: Option<u64>,
}

/// `POST /rules/publish` (admin): new and changed rules go out in shadow.
pub async fn publish(
    State(service): Shared,
    viewer: Viewer,
    Form(form): Form<PublishForm>,
) -> PageResult {
    viewer.require(Scope::Admin)?;
    viewer.check_csrf(form.csrf.as_deref())?;
    let (version, current_toml) = published(&service, &viewer)?;
    if form.base.is_some_and(|b| b != version) {
        return Err(refused(
            &viewer,
            format!(
                "v{version} was published after the version you edited; reload and edit again."
            ),
        ));
    }
    let current = RuleSet::from_toml(&current_toml, "the published rules")
        .map_err(|e| refused(&viewer, e.to_string()))?;
    let toml = shadow_new_and_changed(&current, &form.toml).map_err(|e| refused(&viewer, e))?;
    publish_version(&service, &viewer, version + 1, toml).await
}

/// The promote form.
#[derive(Debug, Deserialize)]
pub struct PromoteForm {
    csrf: Option<String>,
    #[serde(default)]
    rule: String,
}

/// `POST /rules/promote` (admin): one shadow rule starts enforcing.
pub async fn promote(
    State(service): Shared,
    viewer: Viewer,
    Form(form): Form<PromoteForm>,
) -> PageResult {
    viewer.require(Scope::Admin)?;
    viewer.check_csrf(form.csrf.as_deref())?;
    let (version, current_toml) = published(&service, &viewer)?;
    let mut table: toml::Table = current_toml
        .parse()
        .map_err(|e: toml::de::Error| refused(&viewer, e.to_string()))?;
    let mut found = false;
    if let Some(toml::Value::Array(specs)) = table.get_mut("rule") {
        for spec in specs.iter_mut() {
            if let toml::Value::Table(spec) = spec
                && spec.get("id").and_then(|v| v.as_str()) == Some(form.rule.as_str())
            {
                spec.insert("mode".into(), toml::Value::String("enforce".into()));
                found = true;
            }
        }
    }
    if !found {
        return Err(refused(
            &viewer,
            format!("there is no rule {:?} in v{version}.", form.rule),
        ));
    }
    let toml = toml::to_string(&table).map_err(|e| refused(&viewer, e.to_string()))?;
    RuleSet::from_toml(&toml, "the rules to publish")
        .map_err(|e| refused(&viewer, e.to_string()))?;
    publish_version(&service, &viewer, version + 1, toml).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_and_changed_rules_go_out_in_shadow() {
        let current = RuleSet::default_rules();
        let edited = DEFAULT_RULES_TOML.replace(
            "id = \"flagged-account\"",
            "id = \"flagged-account\"\nhelp_resources = true",
        ) + "\n[[rule]]\nid = \"new-rule\"\nsurfaces = [\"feed\"]\nwhen = [\"candidate.flagged\"]\naction = \"drop\"\nmode = \"enforce\"\n";
        let out = shadow_new_and_changed(&current, &edited).expect("publishable");
        let rules = RuleSet::from_toml(&out, "out").expect("loads");
        let mode = |id: &str| rules.rules.iter().find(|r| r.id == id).map(|r| r.mode);
        assert_eq!(mode("new-rule"), Some(Mode::Shadow));
        assert_eq!(mode("flagged-account"), Some(Mode::Shadow));
        assert_eq!(mode("blocked-query"), Some(Mode::Enforce));
        assert!(shadow_new_and_changed(&current, "[[rule]]\nid = 3").is_err());
    }
}
