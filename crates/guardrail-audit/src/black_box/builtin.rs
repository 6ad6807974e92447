//! The built-in platform behind the black-box contract: the co-engagement recommender and
//! the search index of [`Platform`], answering the contract's calls as the platform did
//! (no safety logic, the exact ban list's interstitial with results anyway).
//!
//! What it is for: running the black-box experiments and the report's series without a
//! server, and checking the black-box harness against the built-in experiments on the same
//! world. What it must never do: consult a guardrail layer — that is [`super::Guarded`]'s
//! place, in front of whichever system is audited.

use std::collections::{HashMap, HashSet};

use guardrail_recommend::{
    AllowAll, Engagement, EngagementKind, ExactBanList, QueryDecision, RecommendConfig, feed,
    similar_accounts, suggested_for_you,
};
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_types::{AccountId, PostId};
use guardrail_world::World;

use super::{ContractEvent, DiscoverySystem, Persona, SearchAnswer, SystemError};
use crate::experiments::Platform;

/// The built-in platform as a [`DiscoverySystem`].
#[derive(Debug, Clone)]
pub struct BuiltIn {
    started: State,
    state: State,
    ban_list: ExactBanList,
}

#[derive(Debug, Clone)]
struct State {
    platform: Platform,
    accounts: u32,
    posts: u32,
    post_author: HashMap<PostId, AccountId>,
    blocked: HashSet<(AccountId, AccountId)>,
}

impl BuiltIn {
    /// The platform built from the world's public tables.
    pub fn build(world: &World, recommend: &RecommendConfig) -> BuiltIn {
        let state = State {
            platform: Platform::build(world, recommend),
            accounts: world.accounts.len() as u32,
            posts: world.posts.len() as u32,
            post_author: world.posts.iter().map(|p| (p.id, p.author)).collect(),
            blocked: HashSet::new(),
        };
        BuiltIn {
            started: state.clone(),
            state,
            ban_list: ExactBanList::new(BANNED_BASES),
        }
    }

    fn known(&self, route: &str, field: &str, account: AccountId) -> Result<(), SystemError> {
        if account.0 < self.state.accounts {
            Ok(())
        } else {
            Err(SystemError::Refused {
                route: route.to_string(),
                status: 400,
                detail: format!("{field}: unknown account {}", account.0),
            })
        }
    }
}

impl DiscoverySystem for BuiltIn {
    fn describe(&self) -> String {
        "the built-in platform (co-engagement recommender)".to_string()
    }

    fn reset(&mut self) -> Result<(), SystemError> {
        self.state = self.started.clone();
        Ok(())
    }

    fn create_persona(&mut self, _persona: &Persona) -> Result<AccountId, SystemError> {
        let id = AccountId(self.state.accounts);
        self.state.accounts += 1;
        let count = self.state.accounts as usize;
        self.state.platform.index.grow_to(count);
        if self.state.platform.posts_by_author.len() < count {
            self.state
                .platform
                .posts_by_author
                .resize(count, Vec::new());
        }
        Ok(id)
    }

    fn send_events(&mut self, events: &[ContractEvent]) -> Result<Vec<PostId>, SystemError> {
        // All or nothing, as the contract says: validate the batch before applying any.
        for (i, event) in events.iter().enumerate() {
            self.known("POST /events", &format!("[{i}].account"), event.account())?;
            let target = match event {
                ContractEvent::Follow(_, t)
                | ContractEvent::View(_, t)
                | ContractEvent::Report(_, t)
                | ContractEvent::Block(_, t) => Some(*t),
                _ => None,
            };
            if let Some(target) = target {
                self.known("POST /events", &format!("[{i}].target"), target)?;
            }
            if let ContractEvent::Like(_, post) = event
                && !self.state.post_author.contains_key(post)
            {
                return Err(SystemError::Refused {
                    route: "POST /events".to_string(),
                    status: 400,
                    detail: format!("[{i}].target: unknown post {}", post.0),
                });
            }
        }
        let now = self.state.platform.now;
        let mut created = Vec::new();
        for event in events {
            let engagement = |actor, target, kind| Engagement {
                actor,
                target,
                kind,
                at: now,
            };
            let state = &mut self.state;
            match event {
                ContractEvent::Follow(a, t) => state
                    .platform
                    .index
                    .add(&engagement(*a, *t, EngagementKind::Follow), &AllowAll),
                ContractEvent::View(a, t) => state
                    .platform
                    .index
                    .add(&engagement(*a, *t, EngagementKind::View), &AllowAll),
                ContractEvent::Report(a, t) => state
                    .platform
                    .index
                    .add(&engagement(*a, *t, EngagementKind::Report), &AllowAll),
                ContractEvent::Like(a, post) => {
                    if let Some(&author) = state.post_author.get(post) {
                        state
                            .platform
                            .index
                            .add(&engagement(*a, author, EngagementKind::Like), &AllowAll);
                    }
                }
                ContractEvent::Block(a, t) => {
                    state.blocked.insert((*a, *t));
                }
                ContractEvent::Search(..) => {}
                ContractEvent::Post {
                    account,
                    hashtags,
                    caption,
                } => {
                    let post = PostId(state.posts);
                    state.posts += 1;
                    state.post_author.insert(post, *account);
                    state
                        .platform
                        .search
                        .add_post(post, *account, hashtags, caption);
                    if let Some(own) = state.platform.posts_by_author.get_mut(account.index()) {
                        own.push((post, now));
                    }
                    created.push(post);
                }
            }
        }
        Ok(created)
    }

    fn suggestions(&mut self, account: AccountId, k: usize) -> Result<Vec<AccountId>, SystemError> {
        self.known("GET /suggestions", "account", account)?;
        let state = &self.state;
        let ranked = suggested_for_you(
            &state.platform.index,
            account,
            state.platform.now,
            k + state.blocked.len().min(k),
            &AllowAll,
        );
        Ok(ranked
            .into_iter()
            .map(|s| s.account)
            .filter(|&a| !state.blocked.contains(&(account, a)))
            .take(k)
            .collect())
    }

    fn similar(
        &mut self,
        account: AccountId,
        viewer: AccountId,
        k: usize,
    ) -> Result<Vec<AccountId>, SystemError> {
        self.known("GET /similar", "account", account)?;
        self.known("GET /similar", "viewer", viewer)?;
        let state = &self.state;
        Ok(similar_accounts(
            &state.platform.index,
            account,
            Some(viewer),
            state.platform.now,
            k,
            &AllowAll,
        )
        .into_iter()
        .map(|s| s.account)
        .filter(|&a| a != viewer && !state.blocked.contains(&(viewer, a)))
        .collect())
    }

    fn feed(&mut self, account: AccountId, k: usize) -> Result<Vec<PostId>, SystemError> {
        self.known("GET /feed", "account", account)?;
        let state = &self.state;
        Ok(feed(
            &state.platform.index,
            &state.platform.posts_by_author,
            account,
            state.platform.now,
            k,
            &AllowAll,
        )
        .into_iter()
        .map(|(post, _)| post)
        .collect())
    }

    fn search(&mut self, account: AccountId, query: &str) -> Result<SearchAnswer, SystemError> {
        self.known("GET /search", "account", account)?;
        let outcome = self.state.platform.search.search(
            &self.ban_list,
            &AllowAll,
            Some(account),
            query,
            true,
        );
        Ok(SearchAnswer {
            accounts: outcome.results.accounts,
            posts: outcome.results.posts,
            interstitial: outcome.decision == QueryDecision::Interstitial,
        })
    }

    fn autocomplete(
        &mut self,
        account: AccountId,
        prefix: &str,
        k: usize,
    ) -> Result<Vec<String>, SystemError> {
        self.known("GET /autocomplete", "account", account)?;
        Ok(self
            .state
            .platform
            .search
            .autocomplete(&self.ban_list, prefix, k)
            .hashtags)
    }
}
