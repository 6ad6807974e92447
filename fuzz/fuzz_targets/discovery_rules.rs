//! Fuzzes the discovery-rules parser (`RuleSet::from_toml`): any text either loads or
//! gives an error whose line and column lie inside the text; a rule set that loads is
//! written back out as TOML and must load again to the same rules (the round trip), and
//! an engine over it decides for every surface without panicking.
//!
//! Must never: write files or keep state between inputs.
#![no_main]

use std::fmt::Write;
use std::sync::OnceLock;

use guardrail_policy::{
    AccountId, AccountSignals, AgeBand, Candidate, Context, Engine, Mode, Relationship, RuleSet,
    Surface,
};
use libfuzzer_sys::fuzz_target;

/// A TOML basic string: every character that TOML does not take literally is escaped.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.map(quoted).collect();
    format!("[{}]", items.join(", "))
}

/// The rule set as a rule file (the schema `from_toml` reads).
fn to_toml(rules: &RuleSet) -> String {
    let t = &rules.thresholds;
    let mut out = format!(
        "name = {}\n[thresholds]\nhigh_risk_network_score = {:?}\nrisk_signal_network_score = {:?}\nrisk_signal_text_score = {:?}\nhigh_risk_minor_reports = {}\n",
        quoted(&rules.name),
        t.high_risk_network_score,
        t.risk_signal_network_score,
        t.risk_signal_text_score,
        t.high_risk_minor_reports,
    );
    for rule in &rules.rules {
        let _ = write!(
            out,
            "[[rule]]\nid = {}\nsurfaces = {}\nwhen = {}\nunless = {}\naction = {}\nmode = {}\nhelp_resources = {}\ndescription = {}\n",
            quoted(&rule.id),
            list(rule.surfaces.iter().map(|s| s.name())),
            list(rule.when.iter().map(|p| p.name())),
            list(rule.unless.iter().map(|p| p.name())),
            quoted(rule.action.name()),
            quoted(match rule.mode {
                Mode::Enforce => "enforce",
                Mode::Shadow => "shadow",
            }),
            rule.help_resources,
            quoted(&rule.description),
        );
    }
    out
}

fn text_policy() -> &'static guardrail_text::Policy {
    static POLICY: OnceLock<guardrail_text::Policy> = OnceLock::new();
    POLICY.get_or_init(guardrail_text::Policy::default_policy)
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    match RuleSet::from_toml(source, "fuzz.toml") {
        Ok(rules) => {
            let written = to_toml(&rules);
            let again = RuleSet::from_toml(&written, "again.toml").unwrap_or_else(|e| {
                panic!("a loaded rule set written back does not load: {e}\n{written}")
            });
            assert_eq!(rules, again, "round trip changed the rules:\n{written}");
            let engine = Engine::new(rules, text_policy().clone());
            let viewer = AccountSignals::clean_adult(AccountId(1));
            let mut minor = AccountSignals::clean_adult(AccountId(2));
            minor.age = Some(AgeBand::Minor);
            for surface in Surface::ALL {
                let context = Context {
                    surface,
                    viewer: Some(&viewer),
                    query: Some(source.get(..source.len().min(64)).unwrap_or("")),
                };
                for account in [None, Some(&minor), Some(&viewer)] {
                    let candidate = Candidate {
                        account,
                        relationship: Some(Relationship::default()),
                        ..Candidate::default()
                    };
                    let _ = engine.decide(&context, &candidate);
                }
            }
        }
        Err(error) => {
            assert!(
                error.line >= 1 && error.line <= source.lines().count().max(1) + 1,
                "error line {} outside the text: {error}",
                error.line
            );
            assert!(error.column >= 1, "error column 0: {error}");
        }
    }
});
