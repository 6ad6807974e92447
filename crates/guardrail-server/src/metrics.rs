//! Prometheus metrics: requests and their latencies per route, decisions per surface,
//! action and rule, and the gauges an operator pages on (snapshot age, follower lag,
//! queue depths).
//!
//! What it is for: `GET /metrics` renders these as Prometheus text (exposition format
//! 0.0.4). Counters live behind one short lock per request; the gauges are read when
//! rendered.
//!
//! What it must never do: put a caller's data (ids, queries, tokens) into a label: labels
//! are route templates, surfaces, actions and rule ids only, so the number of series stays
//! bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, count) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// One route template's requests: counts by method and status (a handful per route,
/// scanned), and the latency histogram.
#[derive(Debug, Default)]
struct RouteCounters {
    answers: Vec<(String, u16, u64)>,
    latency: Histogram,
}

#[derive(Debug, Default)]
struct Inner {
    /// By route template. Looked up by `&str`, so a request to a route seen before
    /// allocates nothing under the lock.
    routes: BTreeMap<String, RouteCounters>,
    decisions: BTreeMap<(String, String, String), u64>,
    fail_closed: BTreeMap<(String, String), u64>,
    events: BTreeMap<&'static str, u64>,
}

/// The service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Gauges read at render time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    /// The published snapshot's version (0 before the first).
    pub snapshot_version: u64,
    /// Seconds since the snapshot was last brought up to date with the ledger.
    pub snapshot_age_seconds: f64,
    /// Whether the service is ready (a fresh snapshot is loaded).
    pub ready: bool,
    /// The last sequence number folded.
    pub folded_seq: u64,
    /// Records stored but not yet folded, as of the follower's last look.
    pub follower_lag: u64,
    /// Decisions waiting to be written to the ledger.
    pub decision_log_queue: u64,
    /// Decisions the log dropped because its queue was full.
    pub decision_log_dropped: u64,
    /// Decisions written to the ledger.
    pub decision_log_written: u64,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Counters are plain numbers: a panic elsewhere cannot leave them inconsistent.
        match self.inner.lock() {
            Ok(inner) => inner,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Counts a request to a route template with its status and latency.
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let mut inner = self.lock();
        if !inner.routes.contains_key(route) {
            inner
                .routes
                .insert(route.to_string(), RouteCounters::default());
        }
        let Some(counters) = inner.routes.get_mut(route) else {
            return;
        };
        match counters
            .answers
            .iter_mut()
            .find(|(m, s, _)| *s == status && m == method)
        {
            Some((_, _, count)) => *count += 1,
            None => counters.answers.push((method.to_string(), status, 1)),
        }
        counters.latency.observe(seconds);
    }

    /// Counts decisions on a surface, by action and deciding rule.
    pub fn decisions<'a>(
        &self,
        surface: &str,
        decided: impl IntoIterator<Item = (&'a str, Option<&'a str>, bool)>,
    ) {
        let mut inner = self.lock();
        for (action, rule, fail_closed) in decided {
            *inner
                .decisions
                .entry((
                    surface.to_string(),
                    action.to_string(),
                    rule.unwrap_or("none").to_string(),
                ))
                .or_default() += 1;
            if fail_closed {
                *inner
                    .fail_closed
                    .entry((surface.to_string(), rule.unwrap_or("none").to_string()))
                    .or_default() += 1;
            }
        }
    }

    /// Counts events by outcome (`stored`, `duplicate`, `conflict`, `refused`).
    pub fn events(&self, outcome: &'static str, count: u64) {
        *self.lock().events.entry(outcome).or_default() += count;
    }

    /// Prometheus text.
    pub fn render(&self, gauges: &Gauges) -> String {
        let inner = self.lock();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP guardrail_http_requests_total Requests answered, by route template, method and status.\n# TYPE guardrail_http_requests_total counter"
        );
        for (route, counters) in &inner.routes {
            let mut answers: Vec<&(String, u16, u64)> = counters.answers.iter().collect();
            answers.sort();
            for (method, status, count) in answers {
                let _ = writeln!(
                    out,
                    "guardrail_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {count}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP guardrail_http_request_duration_seconds Request latency by route template.\n# TYPE guardrail_http_request_duration_seconds histogram"
        );
        for (route, counters) in &inner.routes {
            let histogram = &counters.latency;
            let route = escape(route);
            for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
                let _ = writeln!(
                    out,
                    "guardrail_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "guardrail_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\nguardrail_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\nguardrail_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count, histogram.sum, histogram.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP guardrail_decisions_total Decisions by surface, action and the rule that decided.\n# TYPE guardrail_decisions_total counter"
        );
        for ((surface, action, rule), count) in &inner.decisions {
            let _ = writeln!(
                out,
                "guardrail_decisions_total{{surface=\"{surface}\",action=\"{action}\",rule=\"{}\"}} {count}",
                escape(rule)
            );
        }
        let _ = writeln!(
            out,
            "# HELP guardrail_decisions_fail_closed_total Decisions that rested on a missing signal taken as unsafe.\n# TYPE guardrail_decisions_fail_closed_total counter"
        );
        for ((surface, rule), count) in &inner.fail_closed {
            let _ = writeln!(
                out,
                "guardrail_decisions_fail_closed_total{{surface=\"{surface}\",rule=\"{}\"}} {count}",
                escape(rule)
            );
        }
        let _ = writeln!(
            out,
            "# HELP guardrail_events_total Events received, by outcome.\n# TYPE guardrail_events_total counter"
        );
        for (outcome, count) in &inner.events {
            let _ = writeln!(
                out,
                "guardrail_events_total{{outcome=\"{outcome}\"}} {count}"
            );
        }
        let gauge = |out: &mut String, name: &str, help: &str, value: f64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        gauge(
            &mut out,
            "guardrail_snapshot_version",
            "The published snapshot's version.",
            gauges.snapshot_version as f64,
        );
        gauge(
            &mut out,
            "guardrail_snapshot_age_seconds",
            "Seconds since the snapshot was last brought up to date with the ledger.",
            gauges.snapshot_age_seconds,
        );
        gauge(
            &mut out,
            "guardrail_ready",
            "1 when a fresh snapshot is loaded and decisions read it.",
            if gauges.ready { 1.0 } else { 0.0 },
        );
        gauge(
            &mut out,
            "guardrail_ledger_folded_seq",
            "The last ledger sequence number folded into derived state.",
            gauges.folded_seq as f64,
        );
        gauge(
            &mut out,
            "guardrail_follower_lag_events",
            "Records stored but not yet folded.",
            gauges.follower_lag as f64,
        );
        gauge(
            &mut out,
            "guardrail_decision_log_queue",
            "Decisions waiting to be written to the ledger.",
            gauges.decision_log_queue as f64,
        );
        gauge(
            &mut out,
            "guardrail_decision_log_dropped_total",
            "Decisions the log dropped because its queue was full.",
            gauges.decision_log_dropped as f64,
        );
        gauge(
            &mut out,
            "guardrail_decision_log_written_total",
            "Decisions written to the ledger.",
            gauges.decision_log_written as f64,
        );
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let metrics = Metrics::default();
        metrics.request("/v1/decide/{surface}", "POST", 200, 0.003);
        metrics.request("/v1/decide/{surface}", "POST", 200, 0.000_05);
        metrics.decisions(
            "account_suggestions",
            [
                ("drop", Some("adult_minor_unconnected"), false),
                ("allow", None, false),
            ],
        );
        let text = metrics.render(&Gauges {
            snapshot_version: 7,
            ready: true,
            ..Gauges::default()
        });
        for expected in [
            "guardrail_http_requests_total{route=\"/v1/decide/{surface}\",method=\"POST\",status=\"200\"} 2",
            "guardrail_http_request_duration_seconds_bucket{route=\"/v1/decide/{surface}\",le=\"0.0001\"} 1",
            "guardrail_http_request_duration_seconds_bucket{route=\"/v1/decide/{surface}\",le=\"0.005\"} 2",
            "guardrail_http_request_duration_seconds_count{route=\"/v1/decide/{surface}\"} 2",
            "guardrail_decisions_total{surface=\"account_suggestions\",action=\"drop\",rule=\"adult_minor_unconnected\"} 1",
            "guardrail_decisions_total{surface=\"account_suggestions\",action=\"allow\",rule=\"none\"} 1",
            "guardrail_snapshot_version 7",
            "guardrail_ready 1",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }
}
