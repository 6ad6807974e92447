//! Hashtag states, as well-run servers keep them: a tag may be *usable* (can be posted),
//! *listable* (appears in search and autocomplete) and *trendable* (can be promoted as
//! trending). The text guard's verdict decides the first two; trending also needs a
//! human: a new tag cannot trend until a reviewer has looked at it, because a variant
//! of a banned tag that no list names yet looks clean to every automatic check.

use serde::Serialize;

use crate::policy::Policy;
use guardrail_types::{TextDecision, TextPlace};

use crate::verdict::{TextVerdict, check};

/// What a hashtag may do on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HashtagState {
    /// May be posted.
    pub usable: bool,
    /// Appears in search results and autocomplete.
    pub listable: bool,
    /// May be promoted as trending.
    pub trendable: bool,
}

/// Whether a person has reviewed the tag, and what they decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    /// Nobody has looked at it yet.
    Unreviewed,
    /// A reviewer approved it for trending.
    Approved,
    /// A reviewer kept it out of trends (it may still be usable and listable).
    Rejected,
}

/// The state of a hashtag, with the verdict that decided it.
pub fn hashtag_state(policy: &Policy, tag: &str, review: Review) -> (HashtagState, TextVerdict) {
    let verdict = check(policy, TextPlace::Hashtag, tag);
    let state = state_for(verdict.decision, review);
    (state, verdict)
}

fn state_for(decision: TextDecision, review: Review) -> HashtagState {
    let usable = decision != TextDecision::Block;
    let listable = decision == TextDecision::Allow;
    HashtagState {
        usable,
        listable,
        trendable: listable && review == Review::Approved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_the_verdict_and_the_review() {
        let policy = Policy::default_policy();
        // (tag, review, usable, listable, trendable)
        let rows = [
            ("#embroidery", Review::Unreviewed, true, true, false),
            ("#embroidery", Review::Approved, true, true, true),
            ("#embroidery", Review::Rejected, true, true, false),
            ("#PedoBait", Review::Approved, false, false, false),
            ("#🗺chapter14", Review::Approved, true, false, false),
        ];
        for (tag, review, usable, listable, trendable) in rows {
            let (state, verdict) = hashtag_state(&policy, tag, review);
            assert_eq!(
                state,
                HashtagState {
                    usable,
                    listable,
                    trendable
                },
                "{tag} ({review:?}): {verdict:?}"
            );
        }
    }
}
