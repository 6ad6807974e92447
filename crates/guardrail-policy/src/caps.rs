//! Caps on automated actions: a rule that restricts more than its hourly budget is
//! stopped and raises an alert, so a bad rule cannot take down thousands of innocent
//! accounts or hashtags before a person looks. Time is logical (seconds, passed in).

use std::collections::{BTreeMap, BTreeSet};

use guardrail_types::Timestamp;
use serde::Serialize;

/// The budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ActionCaps {
    /// Automated actions one rule may take per hour before it is stopped.
    pub per_rule_per_hour: u32,
}

impl Default for ActionCaps {
    fn default() -> Self {
        ActionCaps {
            per_rule_per_hour: 1_000,
        }
    }
}

/// Raised when a rule hits its cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// The rule that was stopped.
    pub rule: String,
    /// When (logical seconds).
    pub at: Timestamp,
    /// Actions it had taken in that hour.
    pub actions_this_hour: u32,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "rule {rule:?} is stopped: it exceeded {cap} automated actions in an hour; an admin must release it"
)]
pub struct CapTripped {
    /// The stopped rule.
    pub rule: String,
    /// Its hourly cap.
    pub cap: u32,
}

/// Counts actions per rule per hour and stops runaway rules.
#[derive(Debug, Clone, Default)]
pub struct ActionLimiter {
    caps: ActionCaps,
    counts: BTreeMap<(String, u64), u32>,
    stopped: BTreeSet<String>,
    alerts: Vec<Alert>,
}

impl ActionLimiter {
    /// A limiter with a budget.
    pub fn new(caps: ActionCaps) -> ActionLimiter {
        ActionLimiter {
            caps,
            ..ActionLimiter::default()
        }
    }

    /// Asks to take one automated action for `rule` at logical time `at` (seconds).
    pub fn try_act(&mut self, rule: &str, at: Timestamp) -> Result<(), CapTripped> {
        let refused = || CapTripped {
            rule: rule.to_string(),
            cap: self.caps.per_rule_per_hour,
        };
        if self.stopped.contains(rule) {
            return Err(refused());
        }
        let hour = at.seconds() / 3_600;
        let count = self.counts.entry((rule.to_string(), hour)).or_insert(0);
        if *count >= self.caps.per_rule_per_hour {
            let actions_this_hour = *count;
            self.stopped.insert(rule.to_string());
            self.alerts.push(Alert {
                rule: rule.to_string(),
                at,
                actions_this_hour,
            });
            return Err(refused());
        }
        *count += 1;
        Ok(())
    }

    /// Whether a rule is stopped.
    pub fn is_stopped(&self, rule: &str) -> bool {
        self.stopped.contains(rule)
    }

    /// An admin lets a stopped rule act again.
    pub fn release(&mut self, rule: &str) {
        self.stopped.remove(rule);
    }

    /// Alerts raised so far.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runaway_rule_is_stopped_with_an_alert_until_released() {
        let mut limiter = ActionLimiter::new(ActionCaps {
            per_rule_per_hour: 3,
        });
        for second in 0..3 {
            assert!(limiter.try_act("r", Timestamp(second)).is_ok());
        }
        assert!(
            limiter.try_act("other", Timestamp(4)).is_ok(),
            "caps are per rule"
        );
        let refused = limiter
            .try_act("r", Timestamp(5))
            .expect_err("fourth action in the hour");
        assert_eq!(refused.cap, 3);
        assert_eq!(limiter.alerts().len(), 1);
        // Stopped until released, even in a later hour.
        assert!(limiter.try_act("r", Timestamp(7_200)).is_err());
        limiter.release("r");
        assert!(limiter.try_act("r", Timestamp(7_201)).is_ok());
    }
}
