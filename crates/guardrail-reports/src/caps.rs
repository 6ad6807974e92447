//! Caps on automated enforcement: each rule may act a bounded number of times per hour;
//! past it, its circuit breaker opens, an alert is raised, and the rule stays stopped until
//! a person resets it.
//!
//! What it is for: a bad rule (a term list that matches a common word, a threshold set the
//! wrong way) must not be able to take down or label thousands of innocent accounts
//! before anyone looks. The breaker's state is in the ledger (`alert_raised` events of
//! kind `cap_tripped` and `cap_reset` on the subject `rule:<name>`), so every replica
//! agrees and the history says who reset it and why.
//!
//! What it must never do: let a rule act while its breaker is open, or close a breaker by
//! itself (only a person's reset does).

use guardrail_ledger::event::{AlertRaised, Event, Payload};
use guardrail_ledger::state::LedgerState;

/// The alert kind of a tripped breaker.
pub const CAP_TRIPPED: &str = "cap_tripped";
/// The alert kind of a person's reset.
pub const CAP_RESET: &str = "cap_reset";

/// The subject alerts about a rule carry.
pub fn rule_subject(rule: &str) -> String {
    format!("rule:{rule}")
}

/// What the cap says about one more action by a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum CapCheck {
    /// Under the cap: the action may go ahead.
    Allowed {
        /// Actions the rule took in the last hour, before this one.
        last_hour: usize,
    },
    /// This action would pass the cap: store the alert, refuse the action.
    Trips {
        /// The `cap_tripped` alert to store.
        alert: Box<Event>,
        /// Why, in words.
        reason: String,
    },
    /// The breaker is open since a trip no person has reset: refuse.
    Open {
        /// Why, in words.
        reason: String,
    },
}

/// Checks one more action by `rule` at `now` against `per_hour`.
pub fn check_cap(state: &LedgerState, rule: &str, now: u64, per_hour: usize) -> CapCheck {
    let subject = rule_subject(rule);
    let last = state
        .other_alerts
        .iter()
        .rfind(|(s, kind, _)| *s == subject && (kind == CAP_TRIPPED || kind == CAP_RESET));
    if let Some((_, kind, at)) = last
        && kind == CAP_TRIPPED
    {
        return CapCheck::Open {
            reason: format!(
                "rule {rule}'s circuit breaker has been open since {at} (it passed {per_hour} actions in an hour); a person must reset it (POST /v1/admin/rules/{rule}/reset)"
            ),
        };
    }
    // A reset starts the count again: the actions before it were what the person looked at.
    let since = last.map_or(0, |(_, _, at)| *at);
    let last_hour = state.rule_actions.get(rule).map_or(0, |times| {
        times
            .iter()
            .filter(|&&t| t + 3_600 > now && t <= now && (since == 0 || t > since))
            .count()
    });
    if last_hour < per_hour {
        return CapCheck::Allowed { last_hour };
    }
    let reason = format!(
        "rule {rule} took {last_hour} enforcement actions in the last hour, its cap is {per_hour}: its circuit breaker opens and its actions are refused until a person resets it"
    );
    CapCheck::Trips {
        alert: Box::new(Event::new(
            format!("cap-tripped:{rule}:{now}"),
            now,
            Payload::AlertRaised(AlertRaised {
                subject,
                kind: CAP_TRIPPED.to_string(),
                detail: reason.clone(),
            }),
        )),
        reason,
    }
}

/// The `cap_reset` event of a person's reset of `rule`'s breaker.
pub fn reset_event(rule: &str, actor: &str, reason: &str, now: u64) -> Event {
    Event::new(
        format!("cap-reset:{rule}:{now}:{actor}"),
        now,
        Payload::AlertRaised(AlertRaised {
            subject: rule_subject(rule),
            kind: CAP_RESET.to_string(),
            detail: format!("reset by {actor}: {reason}"),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardrail_ledger::event::EnforcementAction;

    fn action(n: u64, at: u64) -> Event {
        Event::new(
            format!("e-{n}"),
            at,
            Payload::Enforcement(EnforcementAction {
                account: "45".into(),
                action: "restrict".into(),
                actor: "rule".into(),
                reason: "matched".into(),
                rule: Some("bad-rule".into()),
            }),
        )
    }

    fn fold(events: &[Event]) -> LedgerState {
        let mut state = LedgerState::new();
        for (seq, event) in events.iter().enumerate() {
            state.apply(seq as u64 + 1, event);
        }
        state
    }

    #[test]
    fn the_breaker_trips_past_the_cap_stays_open_and_only_a_reset_closes_it() {
        let created = Event::new(
            "a",
            0,
            Payload::AccountCreated(guardrail_ledger::event::AccountCreated {
                account: "45".into(),
                handle: "h".into(),
                declared_age: 30,
                bio: String::new(),
                emails: vec![],
                phones: vec![],
                devices: vec![],
                payment_handles: vec![],
                gender: None,
                country: None,
                interests: vec![],
                business: false,
            }),
        );
        let mut events = vec![created];
        events.extend((0..3).map(|n| action(n, 1_000 + n)));
        let state = fold(&events);
        // (now, cap, expected)
        assert_eq!(
            check_cap(&state, "bad-rule", 1_010, 4),
            CapCheck::Allowed { last_hour: 3 }
        );
        assert!(matches!(
            check_cap(&state, "bad-rule", 1_010, 3),
            CapCheck::Trips { .. }
        ));
        // An hour later the old actions no longer count.
        assert_eq!(
            check_cap(&state, "bad-rule", 4_700, 3),
            CapCheck::Allowed { last_hour: 0 }
        );
        assert_eq!(
            check_cap(&state, "other-rule", 1_010, 1),
            CapCheck::Allowed { last_hour: 0 }
        );
        let CapCheck::Trips { alert, .. } = check_cap(&state, "bad-rule", 1_010, 3) else {
            panic!("trips");
        };
        events.push(*alert);
        let tripped = fold(&events);
        // Open, even an hour later and under any cap, until a person resets it.
        assert!(matches!(
            check_cap(&tripped, "bad-rule", 9_000, 100),
            CapCheck::Open { .. }
        ));
        events.push(reset_event(
            "bad-rule",
            "person:admin",
            "the term list is fixed",
            9_100,
        ));
        let reset = fold(&events);
        assert_eq!(
            check_cap(&reset, "bad-rule", 9_200, 100),
            CapCheck::Allowed { last_hour: 0 }
        );
    }
}
