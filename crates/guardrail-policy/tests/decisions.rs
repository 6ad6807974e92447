//! The decision table: who may be shown what on which surface, and which rule says so.

use guardrail_policy::{
    AccountId, AccountSignals, Action, AgeBand, Candidate, Context, Engine, HashSignal,
    NetworkRole, NetworkSignal, Relationship, RuleSet, Source, Surface, TextSignal,
};
use guardrail_text::Tier;

fn adult(id: u32) -> AccountSignals {
    AccountSignals::clean_adult(AccountId(id))
}

fn minor(id: u32) -> AccountSignals {
    let mut account = adult(id);
    account.age = Some(AgeBand::Minor);
    account
}

fn network_member(id: u32) -> AccountSignals {
    let mut account = adult(id);
    account.network = Some(NetworkSignal {
        score: 0.9,
        member: true,
        role: Some(NetworkRole::Seller),
    });
    account
}

fn risky_adult(id: u32) -> AccountSignals {
    let mut account = adult(id);
    account.network = Some(NetworkSignal {
        score: 0.3,
        member: false,
        role: None,
    });
    account
}

fn high_risk_adult(id: u32) -> AccountSignals {
    let mut account = adult(id);
    account.blocks_reports_from_minors = Some(5);
    account
}

fn parent_account(id: u32) -> AccountSignals {
    let mut account = adult(id);
    account.features_minors = Some(true);
    account
}

fn stranger() -> Option<Relationship> {
    Some(Relationship::default())
}

fn follows() -> Option<Relationship> {
    Some(Relationship {
        viewer_follows: true,
        ..Relationship::default()
    })
}

struct Row {
    what: &'static str,
    surface: Surface,
    viewer: Option<AccountSignals>,
    query: Option<&'static str>,
    account: Option<AccountSignals>,
    text: Option<&'static str>,
    relationship: Option<Relationship>,
    expected: Action,
    decided_by: Option<&'static str>,
    fail_closed: bool,
}

fn row(
    what: &'static str,
    surface: Surface,
    viewer: Option<AccountSignals>,
    account: Option<AccountSignals>,
    relationship: Option<Relationship>,
) -> Row {
    Row {
        what,
        surface,
        viewer,
        query: None,
        account,
        text: None,
        relationship,
        expected: Action::Allow,
        decided_by: None,
        fail_closed: false,
    }
}

impl Row {
    fn expect(mut self, action: Action, rule: Option<&'static str>) -> Row {
        self.expected = action;
        self.decided_by = rule;
        self
    }
    fn fail_closed(mut self) -> Row {
        self.fail_closed = true;
        self
    }
    fn query(mut self, query: &'static str) -> Row {
        self.query = Some(query);
        self
    }
    fn text(mut self, text: &'static str) -> Row {
        self.text = Some(text);
        self
    }
}

fn check(engine: &Engine, row: &Row) {
    let context = Context {
        surface: row.surface,
        viewer: row.viewer.as_ref(),
        query: row.query,
    };
    let candidate = Candidate {
        account: row.account.as_ref(),
        text: row.text,
        relationship: row.relationship,
        ..Candidate::default()
    };
    let verdict = engine.decide(&context, &candidate);
    assert_eq!(
        (
            verdict.action,
            verdict.decided_by.as_deref(),
            verdict.fail_closed
        ),
        (row.expected, row.decided_by, row.fail_closed),
        "{}: {verdict:#?}",
        row.what
    );
    if verdict.action != Action::Allow {
        assert!(
            !verdict.conditions.is_empty(),
            "{}: a decision names its conditions",
            row.what
        );
    }
}

/// The golden corpus: every case the shipped rules must decide as documented.
fn decision_table() -> Vec<Row> {
    use Surface::*;
    vec![
        row(
            "clean adult suggested to an adult",
            AccountSuggestions,
            Some(adult(1)),
            Some(adult(2)),
            stranger(),
        ),
        row(
            "network member suggested",
            AccountSuggestions,
            Some(adult(1)),
            Some(network_member(2)),
            stranger(),
        )
        .expect(Action::Drop, Some("network-member")),
        row(
            "network member in similar accounts",
            SimilarAccounts,
            Some(adult(1)),
            Some(network_member(2)),
            follows(),
        )
        .expect(Action::Drop, Some("network-member")),
        row(
            "network member in feed",
            Feed,
            Some(adult(1)),
            Some(network_member(2)),
            follows(),
        )
        .expect(Action::Drop, Some("network-member")),
        row(
            "minor suggested to an unconnected adult",
            AccountSuggestions,
            Some(adult(1)),
            Some(minor(2)),
            stranger(),
        )
        .expect(Action::Drop, Some("minors-to-unconnected-adults")),
        row(
            "minor suggested to a connected adult",
            AccountSuggestions,
            Some(adult(1)),
            Some(minor(2)),
            follows(),
        ),
        row(
            "minor suggested to a minor",
            AccountSuggestions,
            Some(minor(1)),
            Some(minor(2)),
            stranger(),
        ),
        row(
            "minor suggested to a risky connected adult",
            AccountSuggestions,
            Some(risky_adult(1)),
            Some(minor(2)),
            follows(),
        )
        .expect(Action::Drop, Some("minors-to-risky-adults")),
        row(
            "parent account (features minors) to a risky adult",
            AccountSuggestions,
            Some(risky_adult(1)),
            Some(parent_account(2)),
            stranger(),
        )
        .expect(Action::Drop, Some("minor-content-to-risky-adults")),
        row(
            "parent account to a clean adult",
            AccountSuggestions,
            Some(adult(1)),
            Some(parent_account(2)),
            stranger(),
        ),
        row(
            "risky adult suggested to a high-risk adult",
            AccountSuggestions,
            Some(high_risk_adult(1)),
            Some(risky_adult(2)),
            stranger(),
        )
        .expect(Action::Drop, Some("risky-adults-to-each-other")),
        row(
            "high-risk adult suggested to anyone",
            AccountSuggestions,
            Some(adult(1)),
            Some(high_risk_adult(2)),
            stranger(),
        )
        .expect(Action::Drop, Some("high-risk-account")),
        row(
            "blocked pair",
            AccountSuggestions,
            Some(adult(1)),
            Some(adult(2)),
            Some(Relationship {
                blocked: true,
                ..Relationship::default()
            }),
        )
        .expect(Action::Drop, Some("blocked-relationship")),
        row(
            "risky adult messages a minor",
            MessageRequests,
            Some(risky_adult(1)),
            Some(minor(2)),
            stranger(),
        )
        .expect(Action::Drop, Some("risky-adult-messages-minor")),
        row(
            "clean adult messages a minor",
            MessageRequests,
            Some(adult(1)),
            Some(minor(2)),
            stranger(),
        ),
        row(
            "unknown age minor-check fails closed",
            AccountSuggestions,
            Some(adult(1)),
            Some({
                let mut a = adult(2);
                a.age = None;
                a
            }),
            stranger(),
        )
        .expect(Action::Drop, Some("minors-to-unconnected-adults"))
        .fail_closed(),
        row(
            "signals unavailable (dependency error) fail closed",
            AccountSuggestions,
            Some(adult(1)),
            Some(AccountSignals::unknown(AccountId(2))),
            stranger(),
        )
        .expect(Action::Drop, Some("flagged-account"))
        .fail_closed(),
        row(
            "missing relationship fails closed",
            AccountSuggestions,
            Some(adult(1)),
            Some(minor(2)),
            None,
        )
        .expect(Action::Drop, Some("blocked-relationship"))
        .fail_closed(),
        row("blocked search", Search, Some(adult(1)), None, None)
            .query("#pedobait")
            .expect(Action::Drop, Some("blocked-query")),
        row(
            "disguised blocked search",
            Search,
            Some(adult(1)),
            None,
            None,
        )
        .query("p.e.d.o b.a.i.t")
        .expect(Action::Drop, Some("blocked-query")),
        row("ordinary search result", Search, Some(adult(1)), None, None)
            .query("embroidery")
            .text("#embroidery"),
        row(
            "autocomplete of a variant",
            Autocomplete,
            Some(adult(1)),
            None,
            None,
        )
        .query("pe")
        .text("pedo bait links")
        .expect(Action::Drop, Some("restricted-item")),
        row(
            "autocomplete of an ordinary word",
            Autocomplete,
            Some(adult(1)),
            None,
            None,
        )
        .query("pe")
        .text("pets"),
        row(
            "flagged account suggested",
            AccountSuggestions,
            Some(adult(1)),
            Some({
                let mut a = adult(2);
                a.flagged = Some(true);
                a
            }),
            stranger(),
        )
        .expect(Action::Drop, Some("flagged-account")),
        row(
            "account of an actioned person (a backup) suggested",
            AccountSuggestions,
            Some(adult(1)),
            Some({
                let mut a = adult(2);
                a.entity_actioned = Some(true);
                a
            }),
            stranger(),
        )
        .expect(Action::Drop, Some("actioned-entity")),
    ]
}

#[test]
fn the_default_rules_decide_as_documented() {
    let engine = Engine::default_engine();
    let mut failures = Vec::new();
    for row in &decision_table() {
        // Every row is checked before the test fails, so one run shows every regression.
        if let Err(panic) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&engine, row)))
        {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {message}", row.what));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_decision_table_names_its_cases_once_and_covers_every_shipped_rule() {
    let table = decision_table();
    let mut names: Vec<&str> = table.iter().map(|row| row.what).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "case names must be unique");
    let decided: std::collections::HashSet<&str> =
        table.iter().filter_map(|row| row.decided_by).collect();
    let missing: Vec<String> = RuleSet::default_rules()
        .rules
        .iter()
        .map(|rule| rule.id.clone())
        .filter(|id| !decided.contains(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "rules of the shipped discovery.toml that decide no case of the table: {missing:?}"
    );
}

#[test]
fn blocked_searches_get_help_resources_and_no_way_around() {
    let engine = Engine::default_engine();
    let viewer = adult(1);
    let context = Context {
        surface: Surface::Search,
        viewer: Some(&viewer),
        query: Some("#PreTeenSex"),
    };
    let results: Vec<AccountSignals> = (2..10).map(adult).collect();
    let candidates: Vec<Candidate> = results
        .iter()
        .map(|a| Candidate {
            account: Some(a),
            relationship: stranger(),
            ..Candidate::default()
        })
        .collect();
    for verdict in engine.decide_batch(&context, &candidates) {
        assert_eq!(verdict.action, Action::Drop);
        assert!(verdict.help_resources);
        // `drop` is not an interstitial: there is no "see results anyway".
        assert_ne!(verdict.action, Action::Interstitial);
    }
}

#[test]
fn verdicts_carry_the_evidence_of_each_condition() {
    let engine = Engine::default_engine();
    let viewer = adult(1);
    let mut seller = network_member(2);
    seller.text = Some(TextSignal {
        worst_tier: Some(Tier::Signal),
        risk_score: 0.5,
        rules: vec!["s3ller".into()],
    });
    seller.hash = Some(HashSignal {
        matches: 2,
        banks: vec!["ncmec".into()],
    });
    let context = Context {
        surface: Surface::AccountSuggestions,
        viewer: Some(&viewer),
        query: None,
    };
    let verdict = engine.decide(
        &context,
        &Candidate {
            account: Some(&seller),
            relationship: stranger(),
            ..Candidate::default()
        },
    );
    assert_eq!(verdict.decided_by.as_deref(), Some("network-member"));
    let evidence = &verdict.conditions[0].evidence;
    assert!(
        evidence
            .iter()
            .any(|p| p.source == Source::NetworkMap && p.detail.contains(", network member,")),
        "{evidence:?}"
    );
}

#[test]
fn shadow_mode_records_exactly_what_enforcement_would_do() {
    let enforced = Engine::default_engine();
    let shadow = Engine::new(
        RuleSet::default_rules().all_shadow(),
        guardrail_text::Policy::default_policy(),
    );
    let viewers = [adult(1), minor(2), risky_adult(3), high_risk_adult(4)];
    let candidates = [
        adult(10),
        minor(11),
        network_member(12),
        parent_account(13),
        high_risk_adult(14),
        AccountSignals::unknown(AccountId(15)),
    ];
    let relationships = [stranger(), follows(), None];
    for surface in Surface::ALL {
        for viewer in &viewers {
            for account in &candidates {
                for relationship in relationships {
                    let context = Context {
                        surface,
                        viewer: Some(viewer),
                        query: None,
                    };
                    let candidate = Candidate {
                        account: Some(account),
                        relationship,
                        ..Candidate::default()
                    };
                    let on = enforced.decide(&context, &candidate);
                    let recorded = shadow.decide(&context, &candidate);
                    assert_eq!(recorded.action, Action::Allow, "shadow never acts");
                    let first_drop = recorded
                        .shadow
                        .iter()
                        .find(|h| h.would == Action::Drop)
                        .map(|h| h.rule.as_str());
                    if on.action == Action::Drop {
                        assert_eq!(
                            first_drop,
                            on.decided_by.as_deref(),
                            "{surface} {} -> {}",
                            viewer.id,
                            account.id
                        );
                    } else {
                        assert_eq!(first_drop, None);
                    }
                }
            }
        }
    }
}

#[test]
fn index_gating_agrees_with_serving() {
    let engine = Engine::default_engine();
    for account in [adult(1), minor(2), network_member(3), high_risk_adult(4)] {
        let gate = engine.index_gate(Surface::AccountSuggestions, &account);
        let expected = matches!(account.id.0, 3 | 4);
        assert_eq!(
            gate.action == Action::Drop,
            expected,
            "{}: {gate:?}",
            account.id
        );
        // Minors are not kept out of the index (connected adults and minors may see
        // them); viewer-dependent rules decide at serving time.
    }
}

#[test]
fn backfill_reports_what_a_new_rule_would_change() {
    use guardrail_policy::backfill::{RecordedRequest, backfill};
    let current = Engine::new(
        RuleSet::from_toml("", "empty.toml").expect("an empty rule set loads"),
        guardrail_text::Policy::default_policy(),
    );
    let proposed = Engine::default_engine();
    let request = |account: AccountSignals| RecordedRequest {
        surface: Surface::AccountSuggestions,
        viewer: Some(adult(1)),
        query: None,
        account: Some(account),
        text: None,
        variant_restricted: None,
        features_minors: None,
        relationship: stranger(),
    };
    let log = vec![
        request(adult(2)),
        request(network_member(3)),
        request(minor(4)),
        request(adult(5)),
    ];
    let report = backfill(&current, &proposed, &log);
    assert_eq!(report.requests, 4);
    let changed: Vec<usize> = report.changes.iter().map(|c| c.request).collect();
    assert_eq!(changed, [1, 2]);
    assert_eq!(report.changes_by_rule.get("network-member"), Some(&1));
    assert_eq!(
        report.changes_by_rule.get("minors-to-unconnected-adults"),
        Some(&1)
    );
}

#[test]
fn bad_rule_files_name_file_line_and_field() {
    let rows = [
        (
            "[[rule]]\nid = \"a\"\nsurfaces = [\"feeds\"]\naction = \"drop\"\n",
            "rules.toml:3:13: field `rule[0].surfaces[0]`: unknown surface \"feeds\"",
        ),
        (
            "[[rule]]\nid = \"a\"\nsurfaces = [\"feed\"]\nwhen = [\"viewer.old\"]\naction = \"drop\"\n",
            "rules.toml:4:9: field `rule[0].when[0]`: unknown condition \"viewer.old\"",
        ),
        (
            "[[rule]]\nid = \"a\"\nsurfaces = [\"feed\"]\naction = \"hide\"\n",
            "rules.toml:4:10: field `rule[0].action`: expected one of",
        ),
        (
            "[[rule]]\nid = \"a\"\nsurfaces = [\"feed\"]\naction = \"drop\"\nmode = \"dry\"\n",
            "rules.toml:5:8: field `rule[0].mode`",
        ),
        (
            "[[rule]]\nid = \"a\"\nsurfaces = [\"feed\"]\naction = \"drop\"\n[[rule]]\nid = \"a\"\nsurfaces = [\"feed\"]\naction = \"drop\"\n",
            "rules.toml:6:6: field `rule[1].id`: rule ids must be unique",
        ),
        (
            "[[rule]]\nid = \"a\"\nsurfaces = [\"feed\"]\naction = \"drop\"\ncolour = 1\n",
            "rules.toml:5:1: unknown field `colour`",
        ),
        (
            "[thresholds]\nhigh_risk_network_score = 2.0\n",
            "rules.toml:2:27: field `thresholds.high_risk_network_score`",
        ),
    ];
    for (source, expected) in rows {
        let error = RuleSet::from_toml(source, "rules.toml")
            .expect_err("bad rules are refused")
            .to_string();
        assert!(
            error.starts_with(expected),
            "got {error:?}, wanted {expected:?}"
        );
    }
}
