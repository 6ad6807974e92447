//! Small inline-SVG charts for the report: lines over a shared x axis, and grouped bars.
//!
//! What it is for: figures a browser draws with nothing but the page itself. What it must
//! never do: take text it has not escaped, or reach for anything outside the page.

use std::fmt::Write as _;

use crate::ads_report::escape;

/// One line of a line chart.
pub struct Line<'a> {
    /// Legend text.
    pub label: &'a str,
    /// CSS colour.
    pub colour: &'a str,
    /// One y value per x (0..=1).
    pub values: &'a [f64],
}

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 130.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 36.0;

fn y(value: f64) -> f64 {
    HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * value.clamp(0.0, 1.0)
}

fn axes(s: &mut String, title: &str, x_label: &str) {
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="11"><title>{t}</title><text x="{LEFT}" y="15" font-size="13">{t}</text>"##,
        t = escape(title)
    );
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{tick:.2}</text>"##,
            WIDTH - RIGHT,
            LEFT - 4.0,
            y(tick) + 4.0,
            y = y(tick)
        );
    }
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 4.0,
        escape(x_label)
    );
}

/// Lines over x = 0..n, values in [0, 1], with an optional horizontal reference line.
pub fn lines(
    title: &str,
    x_label: &str,
    series: &[Line<'_>],
    reference: Option<(f64, &str)>,
) -> String {
    let mut s = String::new();
    axes(&mut s, title, x_label);
    let points = series.iter().map(|l| l.values.len()).max().unwrap_or(0);
    let step = (WIDTH - LEFT - RIGHT) / (points.max(2) - 1) as f64;
    let x = |i: usize| LEFT + step * i as f64;
    for i in 0..points {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{i}</text>"##,
            x(i),
            HEIGHT - BOTTOM + 14.0
        );
    }
    if let Some((value, label)) = reference {
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#888" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" fill="#555">{}</text>"##,
            WIDTH - RIGHT,
            WIDTH - RIGHT + 4.0,
            y(value) + 4.0,
            escape(label),
            y = y(value)
        );
    }
    for (n, line) in series.iter().enumerate() {
        let path: Vec<String> = line
            .values
            .iter()
            .enumerate()
            .map(|(i, &v)| format!("{:.1},{:.1}", x(i), y(v)))
            .collect();
        let _ = write!(
            s,
            r##"<polyline fill="none" stroke="{c}" stroke-width="2" points="{}"/>"##,
            path.join(" "),
            c = escape(line.colour)
        );
        for (i, &v) in line.values.iter().enumerate() {
            let _ = write!(
                s,
                r##"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{c}"><title>{}: {i} → {v:.3}</title></circle>"##,
                x(i),
                y(v),
                escape(line.label),
                c = escape(line.colour)
            );
        }
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{c}"/><text x="{:.1}" y="{:.1}">{}</text>"##,
            WIDTH - RIGHT + 8.0,
            TOP + 16.0 * n as f64 + 24.0,
            WIDTH - RIGHT + 22.0,
            TOP + 16.0 * n as f64 + 33.0,
            escape(line.label),
            c = escape(line.colour)
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars, one per label, values in [0, `max`], with an optional reference.
pub fn bars(
    title: &str,
    rows: &[(String, f64)],
    max: f64,
    reference: Option<(f64, &str)>,
) -> String {
    let row_height = 16.0;
    let label_width = 200.0;
    let width = 620.0;
    let height = TOP + row_height * rows.len() as f64 + 30.0;
    let scale =
        |v: f64| (width - label_width - 70.0) * (v / max.max(f64::MIN_POSITIVE)).clamp(0.0, 1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height:.0}" font-family="sans-serif" font-size="11"><title>{t}</title><text x="4" y="15" font-size="13">{t}</text>"##,
        t = escape(title)
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let top = TOP + row_height * i as f64;
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect x="{label_width}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#4a78b5"/><text x="{:.1}" y="{:.1}">{}</text>"##,
            label_width - 6.0,
            top + 11.0,
            escape(label),
            top + 2.0,
            scale(*value),
            row_height - 4.0,
            label_width + scale(*value) + 4.0,
            top + 11.0,
            if max <= 1.0 {
                format!("{value:.3}")
            } else {
                format!("{value:.0}")
            }
        );
    }
    if let Some((value, label)) = reference {
        let x = label_width + scale(value);
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{:.1}" stroke="#c33" stroke-dasharray="4 3"/><text x="{x:.1}" y="{:.1}" fill="#c33" text-anchor="middle">{}</text>"##,
            height - 24.0,
            height - 10.0,
            escape(label)
        );
    }
    s.push_str("</svg>");
    s
}
