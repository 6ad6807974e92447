//! Drawings: an account's network neighbourhood as positioned nodes and edges (the
//! templates turn them into inline SVG), simple bar charts, and the abstract stand-in
//! images the console shows for media hashes.
//!
//! What it is for: a reviewer sees at a glance how an account ties to the network — the
//! account, the seeds that tie it, the accounts on the path from a seed, its follows, each
//! coloured by its role, with the evidence in a hover title.
//!
//! What it must never do: draw a picture of anything. Media stand-ins are shapes and noise
//! derived from the hash's bits (Guardrail keeps hashes, never images); text is never
//! written into SVG here (templates escape it).

use std::collections::BTreeMap;
use std::f64::consts::TAU;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use guardrail_graph::map::NetworkMap;
use guardrail_ledger::state::LedgerState;
use guardrail_types::AccountId;

use super::Viewer;
use crate::auth::Scope;

/// One node of a drawing.
#[derive(Debug, Clone)]
pub struct DrawNode {
    /// Centre.
    pub x: f64,
    /// Centre.
    pub y: f64,
    /// Radius.
    pub r: f64,
    /// CSS class (`role-seed`, `role-seller`, ..., `role-none`; `centre` added for the
    /// account itself).
    pub class: String,
    /// The account's handle (or id).
    pub label: String,
    /// The hover text: role, community, score, evidence.
    pub title: String,
    /// Where a click goes.
    pub href: String,
}

/// One edge.
#[derive(Debug, Clone)]
pub struct DrawEdge {
    /// From.
    pub x1: f64,
    /// From.
    pub y1: f64,
    /// To.
    pub x2: f64,
    /// To.
    pub y2: f64,
    /// CSS class (`follow`, `seed-path`).
    pub class: &'static str,
}

/// A neighbourhood drawing.
#[derive(Debug, Clone, Default)]
pub struct Drawing {
    /// Nodes, the account first.
    pub nodes: Vec<DrawNode>,
    /// Edges.
    pub edges: Vec<DrawEdge>,
    /// The account's community in the map, if it is listed.
    pub community: Option<u32>,
    /// The roles present, for the legend.
    pub legend: Vec<&'static str>,
}

/// Width and height of the neighbourhood drawing's view box.
pub const SIZE: f64 = 480.0;
/// The most neighbours drawn besides seeds and path.
const MAX_NEIGHBOURS: usize = 14;

/// What the map says of one account (by dense id).
struct MapEntry {
    role: &'static str,
    community: u32,
    score: f64,
    linked_seeds: Vec<String>,
    path: Vec<String>,
    signals: Vec<(String, f64)>,
}

fn map_entries(map: Option<&NetworkMap>) -> BTreeMap<String, MapEntry> {
    let mut entries = BTreeMap::new();
    let Some(map) = map else {
        return entries;
    };
    for suspect in &map.suspects {
        entries.insert(
            suspect.account.clone(),
            MapEntry {
                role: suspect.role.name(),
                community: suspect.community,
                score: suspect.score,
                linked_seeds: suspect.evidence.linked_seeds.clone(),
                path: suspect.evidence.path_from_seed.clone(),
                signals: suspect.evidence.signals.clone(),
            },
        );
    }
    for seed in &map.seeds {
        if let Some(entry) = entries.get_mut(seed) {
            entry.role = "seed";
        } else {
            entries.insert(
                seed.clone(),
                MapEntry {
                    role: "seed",
                    community: u32::MAX,
                    score: 0.0,
                    linked_seeds: Vec::new(),
                    path: Vec::new(),
                    signals: Vec::new(),
                },
            );
        }
    }
    entries
}

/// The neighbourhood of `centre`: the seeds it is linked with, its path from a seed, and
/// the accounts it follows or is followed by (at most [`MAX_NEIGHBOURS`]).
pub fn neighbourhood(state: &LedgerState, map: Option<&NetworkMap>, centre: AccountId) -> Drawing {
    let entries = map_entries(map);
    let dense = |a: AccountId| a.index().to_string();
    let resolve = |name: &str| -> Option<AccountId> {
        name.parse::<usize>()
            .ok()
            .filter(|&i| i < state.accounts.len())
            .map(|i| AccountId(i as u32))
    };
    let mut order: Vec<AccountId> = vec![centre];
    let push = |order: &mut Vec<AccountId>, a: AccountId| {
        if !order.contains(&a) {
            order.push(a);
        }
    };
    let own = entries.get(&dense(centre));
    let mut path_edges: Vec<(AccountId, AccountId)> = Vec::new();
    if let Some(entry) = own {
        for seed in &entry.linked_seeds {
            if let Some(a) = resolve(seed) {
                push(&mut order, a);
                path_edges.push((a, centre));
            }
        }
        let path: Vec<AccountId> = entry.path.iter().filter_map(|p| resolve(p)).collect();
        for pair in path.windows(2) {
            push(&mut order, pair[0]);
            push(&mut order, pair[1]);
            path_edges.push((pair[0], pair[1]));
        }
    }
    let mut follow_edges: Vec<(AccountId, AccountId)> = Vec::new();
    for (&(src, dst), _) in state.follows.iter() {
        if follow_edges.len() >= MAX_NEIGHBOURS {
            break;
        }
        if src == centre || dst == centre {
            follow_edges.push((src, dst));
            push(&mut order, if src == centre { dst } else { src });
        }
    }
    let centre_xy = SIZE / 2.0;
    let ring = SIZE / 2.0 - 48.0;
    let others = order.len().saturating_sub(1).max(1) as f64;
    let position = |index: usize| -> (f64, f64) {
        if index == 0 {
            return (centre_xy, centre_xy);
        }
        let angle = TAU * (index - 1) as f64 / others - TAU / 4.0;
        (
            centre_xy + ring * angle.cos(),
            centre_xy + ring * angle.sin(),
        )
    };
    let index_of: BTreeMap<AccountId, usize> =
        order.iter().enumerate().map(|(i, a)| (*a, i)).collect();
    let mut legend: Vec<&'static str> = Vec::new();
    let nodes = order
        .iter()
        .enumerate()
        .map(|(index, &account)| {
            let record = state.account(account);
            let external = record.map_or_else(|| dense(account), |r| r.external.clone());
            let handle = record.map_or_else(String::new, |r| r.handle.clone());
            let entry = entries.get(&dense(account));
            let role = entry.map_or("none", |e| e.role);
            if !legend.contains(&role) {
                legend.push(role);
            }
            let (x, y) = position(index);
            let mut title = format!("account {external} (@{handle}); role: {role}");
            if let Some(entry) = entry {
                if entry.community != u32::MAX {
                    title.push_str(&format!("; community {}", entry.community));
                }
                if entry.score > 0.0 {
                    title.push_str(&format!("; score {:.2}", entry.score));
                }
                for (signal, share) in &entry.signals {
                    title.push_str(&format!("; {signal} +{share:.2}"));
                }
                if !entry.linked_seeds.is_empty() {
                    let seeds: Vec<String> = entry
                        .linked_seeds
                        .iter()
                        .map(|s| external_of(state, s))
                        .collect();
                    title.push_str(&format!("; linked to seeds {}", seeds.join(", ")));
                }
            }
            DrawNode {
                x,
                y,
                r: if index == 0 { 22.0 } else { 14.0 },
                class: if index == 0 {
                    format!("node role-{role} centre")
                } else {
                    format!("node role-{role}")
                },
                label: if handle.is_empty() {
                    external.clone()
                } else {
                    handle
                },
                title,
                href: format!("/accounts/{external}"),
            }
        })
        .collect();
    let edge = |(a, b): (AccountId, AccountId), class: &'static str| {
        let (x1, y1) = position(index_of[&a]);
        let (x2, y2) = position(index_of[&b]);
        DrawEdge {
            x1,
            y1,
            x2,
            y2,
            class,
        }
    };
    let mut edges: Vec<DrawEdge> = follow_edges
        .into_iter()
        .map(|e| edge(e, "follow"))
        .collect();
    edges.extend(path_edges.into_iter().map(|e| edge(e, "seed-path")));
    Drawing {
        nodes,
        edges,
        community: own.map(|e| e.community).filter(|&c| c != u32::MAX),
        legend,
    }
}

/// The platform's id of a dense id the map uses.
pub fn external_of(state: &LedgerState, dense: &str) -> String {
    dense
        .parse::<usize>()
        .ok()
        .and_then(|i| state.accounts.get(i))
        .map_or_else(|| dense.to_string(), |a| a.external.clone())
}

/// One bar of a chart.
#[derive(Debug, Clone)]
pub struct Bar {
    /// What it counts.
    pub label: String,
    /// The count.
    pub value: f64,
    /// Its width in the chart's units (0..=[`BAR_WIDTH`]).
    pub width: f64,
    /// Its row's y.
    pub y: f64,
}

/// The longest bar's width.
pub const BAR_WIDTH: f64 = 300.0;

/// Bars scaled to the largest value.
pub fn bars(items: Vec<(String, f64)>) -> Vec<Bar> {
    let max = items.iter().map(|(_, v)| *v).fold(0.0, f64::max);
    items
        .into_iter()
        .enumerate()
        .map(|(index, (label, value))| Bar {
            width: if max > 0.0 {
                value / max * BAR_WIDTH
            } else {
                0.0
            },
            y: index as f64 * 24.0,
            label,
            value,
        })
        .collect()
}

/// `GET /media/{hex}.svg`: the abstract stand-in for a media hash — circles, bars and
/// noise whose positions and shades come from the hash's bits. Reviewer role and up.
pub async fn media(viewer: Viewer, Path(file): Path<String>) -> Response {
    if let Err(page) = viewer.require(Scope::Reviewer) {
        return page.into_response();
    }
    let Some(hex) = file
        .strip_suffix(".svg")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
    else {
        return (StatusCode::NOT_FOUND, "no such media stand-in").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        stand_in_svg(hex),
    )
        .into_response()
}

/// The stand-in SVG for a 64-hex-digit hash (only numbers are written into it).
pub fn stand_in_svg(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    let at = |i: usize| u32::from(bytes.get(i % bytes.len().max(1)).copied().unwrap_or(0));
    let mut svg = String::from(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 256 256\" width=\"256\" height=\"256\">",
    );
    svg.push_str(&format!(
        "<rect width=\"256\" height=\"256\" fill=\"hsl({},40%,{}%)\"/>",
        at(0) * 360 / 256,
        30 + at(1) % 40
    ));
    for i in 0..6 {
        svg.push_str(&format!(
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"hsl({},60%,55%)\" fill-opacity=\"0.7\"/>",
            at(2 + 3 * i),
            at(3 + 3 * i),
            10 + at(4 + 3 * i) % 60,
            at(20 + i) * 360 / 256
        ));
    }
    for i in 0..4 {
        svg.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"hsl({},50%,45%)\" fill-opacity=\"0.6\"/>",
            at(26 + i),
            at(30 + i),
            8 + at(12 + i) % 80,
            8 + at(16 + i) % 80,
            at(8 + i) * 360 / 256
        ));
    }
    // Noise: a 16 x 16 grid of faint cells, one bit of the hash each.
    for (i, byte) in bytes.iter().enumerate() {
        for bit in 0..8 {
            if byte >> bit & 1 == 1 {
                let cell = i * 8 + bit;
                svg.push_str(&format!(
                    "<rect x=\"{}\" y=\"{}\" width=\"16\" height=\"16\" fill=\"#fff\" fill-opacity=\"0.08\"/>",
                    (cell % 16) * 16,
                    (cell / 16) * 16
                ));
            }
        }
    }
    svg.push_str("</svg>");
    svg
}
