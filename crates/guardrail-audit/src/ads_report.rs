//! The advertiser report: for each ad of E5's pair, whom it targeted, whom the guardrail
//! excluded and why, whom it was eligible to reach and whom it reached, by gender and age
//! range; and E5's trade-off curve. JSON (the structs serialise), a CSV of the curve, and a
//! self-contained HTML page with inline SVG plots.
//!
//! What it is for: `guardrail audit ads-report`, the read-out an advertiser (or an auditor)
//! gets about one campaign.
//!
//! What it must never hold: personal data. Counts per group and per exclusion reason only:
//! no account id, handle or attribute of one person. It never reads ground truth.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use guardrail_ads::monitor::{Composition, MonitorReport};
use guardrail_ads::{Control, CreativeClass, Group, Monitor};
use guardrail_world::World;
use serde::Serialize;

use crate::experiments::ExperimentConfig;
use crate::experiments::e5_controller::{
    Setup, TradeoffPoint, VRS_BOUND, campaign, run_one, tradeoff,
};
use crate::guardrails::Guardrails;

/// The report on one ad.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdReport {
    /// `child photo` or `product only`.
    pub ad: &'static str,
    /// Whether the ad is treated as featuring a minor (declaration or classifier).
    pub features_minor: bool,
    /// The layer's delivery control: `none`, `split budget` or `controller`.
    pub control: &'static str,
    /// People the targeting selected (before the guardrail).
    pub targeted: u64,
    /// Of those, people the guardrail excluded, by the rule that excluded them.
    pub excluded: BTreeMap<String, usize>,
    /// Targeted people by gender and age range (before the guardrail).
    pub targeted_composition: TargetedComposition,
    /// Eligible audience vs delivered impressions, with intervals and distances.
    pub delivery: MonitorReport,
    /// Distinct people reached.
    pub reach: usize,
    /// Spend, in the market's price unit.
    pub spend: f64,
}

/// Targeted people by dimension, in the monitor's row shape: each row's `eligible` and
/// `eligible_share` count the *targeted* people (before the guardrail); its `delivered`
/// fields are 0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetedComposition {
    /// By gender.
    pub gender: Composition,
    /// By age range.
    pub age: Composition,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdsReport {
    /// `off` or `on`.
    pub guardrails: String,
    /// The world's seed.
    pub seed: u64,
    /// One report per ad.
    pub ads: Vec<AdReport>,
    /// E5's trade-off curve for the child photo.
    pub tradeoff: Vec<TradeoffRow>,
}

/// One trade-off point, serialisable (NaN margins become `null`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TradeoffRow {
    /// What was run.
    pub label: String,
    /// The controller's margin, if a controller.
    pub margin: Option<f64>,
    /// Gap in the share of men.
    pub gap: f64,
    /// Total variation, larger of gender and age.
    pub total_variation: f64,
    /// Reach kept.
    pub reach_kept: f64,
    /// Cost per person reached, ratio.
    pub cost_ratio: f64,
    /// Advertiser value kept.
    pub value_kept: f64,
}

impl From<TradeoffPoint> for TradeoffRow {
    fn from(p: TradeoffPoint) -> Self {
        TradeoffRow {
            label: p.label,
            margin: (!p.margin.is_nan()).then_some(p.margin),
            gap: p.gap,
            total_variation: p.total_variation,
            reach_kept: p.reach_kept,
            cost_ratio: p.cost_ratio,
            value_kept: p.value_kept,
        }
    }
}

fn control_name(control: Control) -> &'static str {
    match control {
        Control::None => "none",
        Control::SplitBudget => "split budget",
        Control::Controller(_) => "controller",
    }
}

/// Builds the report for E5's pair of ads on `world` through `layer`.
pub fn build(world: &World, config: &ExperimentConfig, layer: &dyn Guardrails) -> AdsReport {
    let setup = Setup::build(world);
    let mut rng = crate::experiments::rng_for_report(world);
    let control = layer.delivery_control();
    let mut ads = Vec::new();
    for (name, creative) in [
        ("child photo", CreativeClass::FeaturesMinor),
        ("product only", CreativeClass::ProductOnly),
    ] {
        let ad = campaign(config, creative, setup.all_topics());
        let outcome = run_one(&setup, config, layer, &ad, control, &mut rng);
        let d = &outcome.delivery;
        let group = |a: &guardrail_types::AccountId| setup.viewers[a.index()].group();
        let mut monitor = Monitor::new(d.eligible.iter().map(group), VRS_BOUND);
        for a in &d.impressions {
            monitor.record(group(a));
        }
        // Targeted = eligible + excluded; a monitor over them with no impressions gives
        // the composition rows.
        let targeted: Vec<Group> = d.eligible.iter().chain(&d.excluded).map(group).collect();
        let targeted_report = Monitor::new(targeted.iter().copied(), VRS_BOUND).report();
        ads.push(AdReport {
            ad: name,
            features_minor: ad.features_minor(),
            control: control_name(control),
            targeted: targeted.len() as u64,
            excluded: d.exclusion_reasons.clone(),
            targeted_composition: TargetedComposition {
                gender: targeted_report.gender,
                age: targeted_report.age,
            },
            delivery: monitor.report(),
            reach: outcome.reach,
            spend: outcome.spend,
        });
    }
    AdsReport {
        guardrails: layer.name().to_string(),
        seed: world.meta.seed,
        ads,
        tradeoff: tradeoff(world, config, layer)
            .into_iter()
            .map(TradeoffRow::from)
            .collect(),
    }
}

/// The trade-off curve as CSV.
pub fn tradeoff_csv(rows: &[TradeoffRow]) -> String {
    let mut out = String::from(
        "label,margin,gap_men_share,total_variation,reach_kept,cost_per_person_ratio,advertiser_value_kept\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{:.4},{:.4},{:.4},{:.4},{:.4}",
            r.label,
            r.margin.map_or(String::new(), |m| format!("{m:.2}")),
            r.gap,
            r.total_variation,
            r.reach_kept,
            r.cost_ratio,
            r.value_kept
        );
    }
    out
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The trade-off curve as an SVG: gap in the share of men (x) against reach kept and cost
/// per person reached (y), one point per run, the 5-point target as a line.
pub fn tradeoff_svg(rows: &[TradeoffRow]) -> String {
    let (w, h, left, bottom, top, right) = (640.0, 360.0, 60.0, 40.0, 30.0, 150.0);
    let max_gap = rows.iter().map(|r| r.gap).fold(0.1_f64, f64::max).min(1.0);
    let max_y = rows
        .iter()
        .flat_map(|r| [r.reach_kept, r.cost_ratio])
        .fold(1.2_f64, f64::max)
        .min(10.0);
    let x = |v: f64| left + (w - left - right) * (v / max_gap);
    let y = |v: f64| h - bottom - (h - bottom - top) * (v / max_y);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">"#
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="16" font-size="13">Child-photo ad: balance vs reach and cost</text>"#,
        left
    );
    // Axes.
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#333"/><line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="#333"/>"##,
        h - bottom,
        w - right,
        h - bottom,
        h - bottom
    );
    for i in 0..=4 {
        let gx = max_gap * f64::from(i) / 4.0;
        let gy = max_y * f64::from(i) / 4.0;
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{gx:.2}</text><text x="{:.1}" y="{:.1}" text-anchor="end">{gy:.2}</text>"#,
            x(gx),
            h - bottom + 14.0,
            left - 4.0,
            y(gy) + 4.0
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">|delivered - eligible| share of men</text>"#,
        (left + w - right) / 2.0,
        h - 6.0
    );
    // The 5-point target and the ratio 1 line.
    let _ = write!(
        s,
        r##"<line x1="{:.1}" y1="{top}" x2="{:.1}" y2="{:.1}" stroke="#2a2" stroke-dasharray="4 3"/><line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="2 3"/>"##,
        x(0.05),
        x(0.05),
        h - bottom,
        y(1.0),
        w - right,
        y(1.0)
    );
    for (_series, colour, value) in [
        (
            "reach kept",
            "#1f5fbf",
            (|r: &TradeoffRow| r.reach_kept) as fn(&TradeoffRow) -> f64,
        ),
        ("cost per person reached (ratio)", "#c0392b", |r| {
            r.cost_ratio
        }),
        ("advertiser value kept", "#8e44ad", |r| r.value_kept),
    ] {
        let mut controller: Vec<&TradeoffRow> =
            rows.iter().filter(|r| r.margin.is_some()).collect();
        controller.sort_by(|a, b| a.gap.total_cmp(&b.gap));
        let path: Vec<String> = controller
            .iter()
            .map(|r| format!("{:.1},{:.1}", x(r.gap), y(value(r).min(max_y))))
            .collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{colour}" points="{}"/>"#,
            path.join(" ")
        );
        for r in rows {
            let (px, py) = (x(r.gap), y(value(r).min(max_y)));
            if r.margin.is_some() {
                let _ = write!(
                    s,
                    r#"<circle cx="{px:.1}" cy="{py:.1}" r="3" fill="{colour}"><title>{}: {:.3}</title></circle>"#,
                    escape(&r.label),
                    value(r)
                );
            } else {
                let _ = write!(
                    s,
                    r#"<rect x="{:.1}" y="{:.1}" width="7" height="7" fill="none" stroke="{colour}"><title>{}: {:.3}</title></rect><text x="{:.1}" y="{:.1}" fill="{colour}">{}</text>"#,
                    px - 3.5,
                    py - 3.5,
                    escape(&r.label),
                    value(r),
                    px + 6.0,
                    py - 4.0,
                    escape(&r.label)
                );
            }
        }
    }
    for (i, (label, colour)) in [
        ("reach kept", "#1f5fbf"),
        ("cost per person (ratio)", "#c0392b"),
        ("advertiser value kept", "#8e44ad"),
        ("5-point target", "#2a2"),
    ]
    .iter()
    .enumerate()
    {
        let ly = top + 16.0 * i as f64;
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/><text x="{:.1}" y="{:.1}">{label}</text>"#,
            w - right + 10.0,
            ly,
            w - right + 24.0,
            ly + 9.0
        );
    }
    s.push_str("</svg>");
    s
}

/// Grouped bars for one dimension: eligible (or targeted) share vs delivered share, with
/// the delivered share's 95% interval as a whisker.
pub(crate) fn composition_svg(
    title: &str,
    composition: &Composition,
    targeted: &Composition,
) -> String {
    let rows = &composition.rows;
    let (w, h, left, bottom, top) = (520.0, 220.0, 40.0, 36.0, 26.0);
    let slot = (w - left - 10.0) / rows.len().max(1) as f64;
    let y = |v: f64| h - bottom - (h - bottom - top) * v;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11"><text x="{left}" y="16" font-size="13">{} (total variation {:.3})</text>"#,
        escape(title),
        composition.total_variation
    );
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333"/>"##,
        y(0.0),
        w - 10.0,
        y(0.0)
    );
    for v in [0.0, 0.5, 1.0] {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{v:.1}</text>"#,
            left - 4.0,
            y(v) + 4.0
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let x0 = left + slot * i as f64 + 4.0;
        let bw = (slot - 8.0) / 3.0;
        let targeted_share = targeted
            .rows
            .iter()
            .find(|r| r.category == row.category)
            .map_or(0.0, |r| r.eligible_share.value);
        for (k, (v, colour, label)) in [
            (targeted_share, "#bbb", "targeted"),
            (row.eligible_share.value, "#7fa7d9", "eligible"),
            (row.delivered_share.value, "#1f5fbf", "delivered"),
        ]
        .iter()
        .enumerate()
        {
            let bx = x0 + bw * k as f64;
            let _ = write!(
                s,
                r#"<rect x="{bx:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{} {label}: {v:.3}</title></rect>"#,
                y(*v),
                bw - 1.0,
                y(0.0) - y(*v),
                escape(&row.category)
            );
        }
        let cx = x0 + bw * 2.5;
        let _ = write!(
            s,
            r##"<line x1="{cx:.1}" y1="{:.1}" x2="{cx:.1}" y2="{:.1}" stroke="#000"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            y(row.delivered_share.low),
            y(row.delivered_share.high),
            x0 + bw * 1.5,
            h - bottom + 14.0,
            escape(&row.category)
        );
    }
    let _ = write!(
        s,
        r##"<text x="{left}" y="{:.1}" fill="#555">grey: targeted, light: eligible (after the guardrail), dark: delivered with 95% interval</text></svg>"##,
        h - 6.0
    );
    s
}

/// The report as one self-contained HTML page (inline SVG, no external assets).
pub fn html(report: &AdsReport) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Ad delivery report</title>\
         <style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}</style></head><body>\
         <h1>Ad delivery report</h1><p>Guardrails {}, world seed {}. Counts only: no personal data.</p>",
        escape(&report.guardrails),
        report.seed
    );
    for ad in &report.ads {
        let d = &ad.delivery;
        let _ = write!(
            s,
            "<h2>{}</h2><p>Features a minor: {}. Delivery control: {}.</p>\
             <table><tr><th>targeted</th><th>excluded by the guardrail</th><th>eligible</th>\
             <th>impressions</th><th>people reached</th><th>spend</th></tr>\
             <tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td></tr></table>",
            escape(ad.ad),
            if ad.features_minor { "yes" } else { "no" },
            escape(ad.control),
            ad.targeted,
            ad.excluded.values().sum::<usize>(),
            d.eligible,
            d.impressions,
            ad.reach,
            ad.spend
        );
        if !ad.excluded.is_empty() {
            s.push_str("<h3>Excluded, and why</h3><table><tr><th>rule</th><th>people</th></tr>");
            for (rule, n) in &ad.excluded {
                let _ = write!(s, "<tr><td>{}</td><td>{n}</td></tr>", escape(rule));
            }
            s.push_str("</table>");
        }
        for alert in &d.alerts {
            let _ = write!(
                s,
                "<p><strong>Alert:</strong> delivered {} composition is {:.3} total variation from the eligible audience (bound {:.2}).</p>",
                alert.dimension, alert.total_variation, alert.bound
            );
        }
        s.push_str(&composition_svg(
            "By gender",
            &d.gender,
            &ad.targeted_composition.gender,
        ));
        s.push_str(&composition_svg(
            "By age range",
            &d.age,
            &ad.targeted_composition.age,
        ));
    }
    s.push_str("<h2>Trade-off: balance against reach, cost and value (child photo)</h2>");
    s.push_str(&tradeoff_svg(&report.tradeoff));
    s.push_str("<table><tr><th>run</th><th>gap (men)</th><th>total variation</th><th>reach kept</th><th>cost per person ratio</th><th>value kept</th></tr>");
    for r in &report.tradeoff {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td></tr>",
            escape(&r.label),
            r.gap,
            r.total_variation,
            r.reach_kept,
            r.cost_ratio,
            r.value_kept
        );
    }
    s.push_str("</table></body></html>\n");
    s
}
