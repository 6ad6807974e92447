//! The report as one self-contained HTML page: every figure drawn as inline SVG next to the
//! published finding it answers to, and every table from the report's JSON.
//!
//! What it must never do: load anything from outside the page (no scripts, fonts, styles or
//! images by URL), or print a value without escaping it.

use std::fmt::Write as _;

use super::svg::{Line, bars, lines};
use super::{AuditReport, OffOn};
use crate::ads_report::{composition_svg, escape};
use crate::black_box::series::{LongitudinalRun, WeekPoint};
use crate::metrics::Metric;
use crate::targets::TABLE;

const OFF: &str = "#c0392b";
const ON: &str = "#2471a3";

fn published(metric: Metric) -> &'static str {
    TABLE
        .iter()
        .find(|row| row.metric == metric)
        .and_then(|row| row.published.or(row.target.map(|t| t.wanted)))
        .unwrap_or("no published figure")
}

fn figure(s: &mut String, title: &str, anchor: &str, svg: &str, caption: &str) {
    let _ = write!(
        s,
        "<section class=\"figure\"><h3>{}</h3><div class=\"pair\"><div>{svg}</div>\
         <aside><strong>Published anchor</strong><p>{}</p><p class=\"caption\">{}</p></aside></div></section>",
        escape(title),
        escape(anchor),
        escape(caption)
    );
}

fn value(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.3}"))
}

/// Renders the page.
pub fn render(report: &AuditReport) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Guardrail audit report</title><style>\
         body{{font-family:sans-serif;max-width:1150px;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse;margin:0.5em 0}}td,th{{border:1px solid #ccc;padding:2px 8px}}\
         td.n{{text-align:right;font-variant-numeric:tabular-nums}}.pair{{display:flex;gap:1.5em;align-items:flex-start}}\
         aside{{max-width:360px;font-size:0.92em}}.caption{{color:#555}}.met{{color:#1e7b34}}.missed{{color:#b03a2e}}\
         </style></head><body><h1>Guardrail audit report</h1>\
         <p>System audited: <strong>{}</strong> ({}). World seed {}, {} accounts. Guardrails off is the \
         system as it is; on is Guardrail standing in front of it, built from the world's public tables.</p>",
        escape(&report.system),
        report.kind,
        report.seed,
        report.accounts
    );
    if !report.notes.is_empty() {
        s.push_str("<h2>Read this first</h2><ul>");
        for note in &report.notes {
            let _ = write!(s, "<li>{}</li>", escape(note));
        }
        s.push_str("</ul>");
    }
    s.push_str(
        "<h2>Headline figures</h2><table><tr><th>experiment</th><th>metric</th><th>published</th>\
         <th>off</th><th>on</th><th>target (on)</th><th></th></tr>",
    );
    for row in &report.anchors {
        let (class, word) = match row.met {
            Some(true) => ("met", "met"),
            Some(false) => ("missed", "missed"),
            None => ("", ""),
        };
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"{class}\">{word}</td></tr>",
            row.experiment,
            escape(row.metric),
            escape(row.published.unwrap_or("")),
            value(row.off),
            value(row.on),
            escape(row.target.unwrap_or("")),
        );
    }
    s.push_str("</table><h2>Figures</h2>");
    follow_figure(&mut s, report);
    reach_figure(&mut s, report);
    weeks_figures(&mut s, &report.longitudinal);
    ads_figure(&mut s, report);
    rules_figure(&mut s, report);
    s.push_str("<h2>Every metric</h2>");
    for pair in &report.experiments {
        let _ = write!(
            s,
            "<h3>{}</h3><table><tr><th>metric</th><th>off</th><th>on</th></tr>",
            pair.experiment
        );
        let mut names: Vec<&Metric> = pair
            .metrics
            .off
            .keys()
            .chain(pair.metrics.on.keys())
            .collect();
        names.sort();
        names.dedup();
        for metric in names {
            let _ = write!(
                s,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                metric.name(),
                value(pair.metrics.off.get(metric).copied()),
                value(pair.metrics.on.get(metric).copied())
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</body></html>\n");
    s
}

fn follow_figure(s: &mut String, report: &AuditReport) {
    let curve = &report.follow_curve;
    let base = report
        .experiments
        .iter()
        .find_map(|p| p.metrics.off.get(&Metric::NetworkBaseRate).copied());
    let svg = lines(
        "Network share of suggestions over a new account's first follows",
        "follows after one view of a seller",
        &[
            Line {
                label: "guardrails off",
                colour: OFF,
                values: &curve.off.share,
            },
            Line {
                label: "guardrails on",
                colour: ON,
                values: &curve.on.share,
            },
        ],
        base.map(|b| (b, "network base rate")),
    );
    figure(
        s,
        "A new account's suggestions after one view, then each follow",
        published(Metric::NetworkShareTop10AfterOneView),
        &svg,
        &format!(
            "{} probes (adult, no history) each view one seller, then follow their top \
             suggestion; the share of network accounts in their top 10 after each step.",
            curve.off.probes
        ),
    );
}

fn reach_figure(s: &mut String, report: &AuditReport) {
    let rows: Vec<(String, f64)> = report
        .reach
        .communities
        .iter()
        .map(|c| {
            (
                format!(
                    "{} {} ({} accounts)",
                    c.role.replace('_', "-"),
                    c.group,
                    c.accounts
                ),
                c.kept,
            )
        })
        .collect();
    let svg = bars(
        "Suggestion reach kept per benign community (on / off)",
        &rows,
        1.0,
        Some((0.95, "95%")),
    );
    figure(
        s,
        "Reach kept by benign communities",
        published(Metric::ParentNicheAccountsLosingOver5pct),
        &svg,
        &format!(
            "Top-10 appearances of parent-run and niche accounts among sampled benign viewers, \
             with Guardrail in front over the system's own answer. {} accounts measured; total \
             kept {:.3}; smallest per account {:.3} (adults {:.3}).",
            report.reach.measured,
            report.reach.total_kept,
            report.reach.min_kept,
            report.reach.adult_min_kept
        ),
    );
}

/// One weekly figure: title, caption, the metric whose anchor it stands by, the value.
type WeekFigure = (&'static str, &'static str, Metric, fn(&WeekPoint) -> f64);

fn weeks_figures(s: &mut String, weeks: &OffOn<LongitudinalRun>) {
    let series = |run: &LongitudinalRun, pick: fn(&WeekPoint) -> f64| {
        run.weeks.iter().map(pick).collect::<Vec<f64>>()
    };
    let pairs: [WeekFigure; 3] = [
        (
            "Autocomplete offering variants of banned terms, week by week",
            "Share of banned-term prefixes whose autocomplete offers a variant; sellers coin a new variant of every banned term each week and post it.",
            Metric::AutocompleteVariantRate,
            |w| w.autocomplete_variant_rate,
        ),
        (
            "One view floods the suggestions, week by week",
            "Network share of a new account's top 10 after one view of an active seller, while weekly sweeps remove 30% of active sellers and most return.",
            Metric::NetworkShareTop10AfterOneView,
            |w| w.network_share_after_one_view,
        ),
        (
            "Returning sellers in buyers' suggestions, week by week",
            "Share of sampled buyers' suggestions that are accounts of sellers who returned after a sweep.",
            Metric::RebuildRate,
            |w| w.returned_share_in_buyer_suggestions,
        ),
    ];
    for (title, caption, metric, pick) in pairs {
        let (off, on) = (series(&weeks.off, pick), series(&weeks.on, pick));
        let svg = lines(
            title,
            "week",
            &[
                Line {
                    label: "guardrails off",
                    colour: OFF,
                    values: &off,
                },
                Line {
                    label: "guardrails on",
                    colour: ON,
                    values: &on,
                },
            ],
            None,
        );
        figure(s, title, published(metric), &svg, caption);
    }
}

fn ads_figure(s: &mut String, report: &AuditReport) {
    for (label, ads) in [("off", &report.ads.off), ("on", &report.ads.on)] {
        for ad in ads.ads.iter().filter(|a| a.features_minor) {
            let svg = composition_svg(
                &format!("{} — guardrails {label}: by gender", ad.ad),
                &ad.delivery.gender,
                &ad.targeted_composition.gender,
            );
            figure(
                s,
                &format!("Ad featuring a child, guardrails {label}: delivered vs eligible"),
                published(Metric::DeliveredShareMenChildPhoto),
                &svg,
                &format!(
                    "{} impressions to {} people; {} excluded by the guardrail. Delivered shares \
                     carry 95% Wilson intervals.",
                    ad.delivery.impressions,
                    ad.reach,
                    ad.excluded.values().sum::<usize>()
                ),
            );
        }
    }
}

fn rules_figure(s: &mut String, report: &AuditReport) {
    let mut rows: Vec<(String, f64)> = report
        .decisions_by_rule
        .iter()
        .map(|(rule, n)| (rule.clone(), *n as f64))
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let max = rows.first().map_or(1.0, |r| r.1);
    let svg = bars("Guardrail's decisions by action and rule", &rows, max, None);
    figure(
        s,
        "Decisions by rule",
        "Guardrail's own decisions over this report's runs (no published counterpart): which rule \
         acted, so each removal above can be traced to its reason.",
        &svg,
        &format!(
            "{} decisions logged (each run logs its first {}).",
            rows.iter().map(|r| r.1).sum::<f64>(),
            crate::guardrails::LOG_CAPACITY
        ),
    );
}
