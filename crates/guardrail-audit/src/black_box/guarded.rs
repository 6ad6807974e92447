//! Guardrail standing in front of an audited system: "guardrails on" for the black-box
//! experiments.
//!
//! What it is for: doing to an external recommender what a platform integrating Guardrail
//! would do. Events pass the layer's contamination control before they are forwarded
//! (engagement the layer would keep out of co-engagement never reaches the system's
//! training signal; searches for blocked queries are not forwarded), and every answer the
//! system would show passes the layer's decision layer for its surface. The system is
//! asked for a deeper candidate pool than it will show, as a re-ranker would be, so that
//! what the layer removes is replaced by the system's next candidates.
//!
//! What it must never do: add anything the system did not answer, or show an item whose
//! owner it cannot name (a post of unknown authorship is withheld: fail closed). Blocks are
//! always forwarded: they are the user's instruction, not a co-engagement signal.

use std::collections::{HashMap, HashSet};

use guardrail_recommend::{Engagement, EngagementKind, QueryDecision};
use guardrail_types::{AccountId, Day, PostId, Surface};
use guardrail_world::World;

use super::{ContractEvent, DiscoverySystem, Persona, SearchAnswer, SystemError};
use crate::guardrails::Guardrails;
use crate::metrics::Metrics;

/// Candidates asked of the system per candidate shown (at least [`MIN_POOL`]).
const POOL_FACTOR: usize = 5;
/// The smallest candidate pool asked for.
const MIN_POOL: usize = 50;
/// The contract's largest `k`.
const MAX_K: usize = 1000;

/// A guardrail layer in front of a [`DiscoverySystem`].
pub struct Guarded<'a> {
    inner: &'a mut dyn DiscoverySystem,
    layer: &'a mut dyn Guardrails,
    world: &'a World,
    now: Day,
    post_author: HashMap<PostId, AccountId>,
    /// Events the contamination control kept from the system.
    pub withheld_events: usize,
    /// Items the decision layer removed from the system's answers.
    pub withheld_items: usize,
}

impl std::fmt::Debug for Guarded<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guarded")
            .field("system", &self.inner.describe())
            .field("layer", &self.layer.name())
            .field("withheld_events", &self.withheld_events)
            .field("withheld_items", &self.withheld_items)
            .finish()
    }
}

impl<'a> Guarded<'a> {
    /// `layer` in front of `inner`; `world` is the public world both were built from (it
    /// names the authors of the world's posts).
    pub fn new(
        inner: &'a mut dyn DiscoverySystem,
        layer: &'a mut dyn Guardrails,
        world: &'a World,
    ) -> Guarded<'a> {
        Guarded {
            inner,
            layer,
            world,
            now: world.end(),
            post_author: HashMap::new(),
            withheld_events: 0,
            withheld_items: 0,
        }
    }

    fn author(&self, post: PostId) -> Option<AccountId> {
        self.world
            .post(post)
            .map(|p| p.author)
            .or_else(|| self.post_author.get(&post).copied())
    }

    /// Whether the layer lets this event reach the system.
    fn admits(&self, event: &ContractEvent) -> bool {
        let engagement = |actor, target, kind| Engagement {
            actor,
            target,
            kind,
            at: self.now,
        };
        let gate = self.layer.gate();
        match event {
            ContractEvent::Follow(a, t) => {
                gate.admit_engagement(&engagement(*a, *t, EngagementKind::Follow))
            }
            ContractEvent::View(a, t) => {
                gate.admit_engagement(&engagement(*a, *t, EngagementKind::View))
            }
            ContractEvent::Report(a, t) => {
                gate.admit_engagement(&engagement(*a, *t, EngagementKind::Report))
            }
            ContractEvent::Like(a, post) => self.author(*post).is_some_and(|author| {
                gate.admit_engagement(&engagement(*a, author, EngagementKind::Like))
            }),
            ContractEvent::Block(..) | ContractEvent::Post { .. } => true,
            ContractEvent::Search(_, query) => {
                self.layer.query_policy().decide(query) != QueryDecision::Block
            }
        }
    }

    fn allowed(&self, surface: Surface, viewer: AccountId, candidate: AccountId) -> bool {
        self.layer
            .gate()
            .allow_candidate(surface, Some(viewer), candidate)
    }

    fn keep_accounts(
        &mut self,
        surface: Surface,
        viewer: AccountId,
        answer: Vec<AccountId>,
        k: usize,
    ) -> Vec<AccountId> {
        let before = answer.len();
        let kept: Vec<AccountId> = answer
            .into_iter()
            .filter(|&a| self.allowed(surface, viewer, a))
            .collect();
        self.withheld_items += before - kept.len();
        kept.into_iter().take(k).collect()
    }
}

fn pool(k: usize) -> usize {
    // Never fewer than shown; the contract's `k` is at most MAX_K.
    (k * POOL_FACTOR).clamp(MIN_POOL, MAX_K).max(k)
}

impl DiscoverySystem for Guarded<'_> {
    fn describe(&self) -> String {
        format!(
            "{} with Guardrail ({}) in front",
            self.inner.describe(),
            self.layer.name()
        )
    }

    fn reset(&mut self) -> Result<(), SystemError> {
        self.post_author.clear();
        self.inner.reset()
    }

    fn create_persona(&mut self, persona: &Persona) -> Result<AccountId, SystemError> {
        self.inner.create_persona(persona)
    }

    fn send_events(&mut self, events: &[ContractEvent]) -> Result<Vec<PostId>, SystemError> {
        let admitted: Vec<ContractEvent> =
            events.iter().filter(|e| self.admits(e)).cloned().collect();
        self.withheld_events += events.len() - admitted.len();
        // New posts reach the layer too, as a platform's would: a new spelling posted
        // beside blocked tags is learned as a variant.
        for event in &admitted {
            if let ContractEvent::Post { hashtags, .. } = event {
                self.layer.observe_post(hashtags);
            }
        }
        if admitted.is_empty() {
            return Ok(Vec::new());
        }
        let created = self.inner.send_events(&admitted)?;
        let authors = admitted.iter().filter_map(|e| match e {
            ContractEvent::Post { account, .. } => Some(*account),
            _ => None,
        });
        for (post, author) in created.iter().zip(authors) {
            self.post_author.insert(*post, author);
        }
        Ok(created)
    }

    fn suggestions(&mut self, account: AccountId, k: usize) -> Result<Vec<AccountId>, SystemError> {
        let answer = self.inner.suggestions(account, pool(k))?;
        Ok(self.keep_accounts(Surface::AccountSuggestions, account, answer, k))
    }

    fn unguarded_suggestions(
        &mut self,
        account: AccountId,
        k: usize,
    ) -> Result<Vec<AccountId>, SystemError> {
        self.inner.suggestions(account, k)
    }

    fn similar(
        &mut self,
        account: AccountId,
        viewer: AccountId,
        k: usize,
    ) -> Result<Vec<AccountId>, SystemError> {
        let answer = self.inner.similar(account, viewer, pool(k))?;
        Ok(self.keep_accounts(Surface::SimilarAccounts, viewer, answer, k))
    }

    fn feed(&mut self, account: AccountId, k: usize) -> Result<Vec<PostId>, SystemError> {
        let answer = self.inner.feed(account, pool(k))?;
        let before = answer.len();
        let kept: Vec<PostId> = answer
            .into_iter()
            .filter(|&post| {
                self.author(post)
                    .is_some_and(|author| self.allowed(Surface::Feed, account, author))
            })
            .collect();
        self.withheld_items += before - kept.len();
        Ok(kept.into_iter().take(k).collect())
    }

    fn search(&mut self, account: AccountId, query: &str) -> Result<SearchAnswer, SystemError> {
        if self.layer.query_policy().decide(query) == QueryDecision::Block {
            // No results and no way around: the query is not even forwarded.
            return Ok(SearchAnswer::default());
        }
        let answer = self.inner.search(account, query)?;
        let before = answer.accounts.len() + answer.posts.len();
        let accounts: Vec<AccountId> = answer
            .accounts
            .into_iter()
            .filter(|&a| self.allowed(Surface::Search, account, a))
            .collect();
        let shown: HashSet<AccountId> = accounts.iter().copied().collect();
        let posts: Vec<PostId> = answer
            .posts
            .into_iter()
            .filter(|&p| {
                self.author(p).is_some_and(|author| {
                    shown.contains(&author) || self.allowed(Surface::Search, account, author)
                })
            })
            .collect();
        self.withheld_items += before - accounts.len() - posts.len();
        Ok(SearchAnswer {
            accounts,
            posts,
            interstitial: answer.interstitial,
        })
    }

    fn autocomplete(
        &mut self,
        account: AccountId,
        prefix: &str,
        k: usize,
    ) -> Result<Vec<String>, SystemError> {
        let answer = self.inner.autocomplete(account, prefix, pool(k))?;
        let before = answer.len();
        let policy = self.layer.query_policy();
        let kept: Vec<String> = answer
            .into_iter()
            .filter(|s| policy.allow_suggestion(prefix, s))
            .collect();
        self.withheld_items += before - kept.len();
        Ok(kept.into_iter().take(k).collect())
    }

    fn take_down(&mut self, accounts: &[AccountId]) {
        self.layer.take_down(accounts, self.now);
    }

    fn refuses_everywhere(&self, account: AccountId) -> bool {
        !self
            .layer
            .gate()
            .allow_candidate(Surface::AccountSuggestions, None, account)
    }

    fn layer_metrics(&self) -> Metrics {
        self.layer.run_metrics()
    }
}
