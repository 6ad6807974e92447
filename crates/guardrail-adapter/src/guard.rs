//! The guard: Guardrail's decision engine over a live snapshot of derived state, one call
//! per candidate a discovery surface is about to show.
//!
//! What it is for: the decisions themselves — an account candidate for a viewer on a
//! surface ([`GuardView::decide_account`]), a text candidate (an autocomplete suggestion or
//! related hashtag) for what the user typed ([`GuardView::decide_text`]), a search query
//! ([`GuardView::decide_query`]), and an ad impression for a viewer. A guard is
//! `Send + Sync`: many threads decide at once, each on the snapshot it loaded, while a
//! writer publishes the next snapshot ([`Guard::publish`], or a takedown). Every decision
//! is counted and offered to the [`DecisionSink`] its owner passed in.
//!
//! What it must never do: let an unknown account through (a new account has no signals
//! until it is mapped, and the engine fails closed on it), or change a snapshot a request
//! is reading.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwap, Guard as Loaded};
use guardrail_policy::backfill::RecordedRequest;
use guardrail_policy::{Action, Candidate, Context, Engine, RuleSet, Verdict};
use guardrail_text::Policy;
use guardrail_types::{AccountId, Surface};
use guardrail_world::World;

use crate::derive::{Deriver, Signup, SignupProbe};

/// An entity as [`Guard::entity`] reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityView {
    /// Its accounts.
    pub members: Vec<AccountId>,
    /// The evidence touching the account asked about, strongest first.
    pub links: Vec<guardrail_policy::entities::Link>,
    /// Labels in force that reach the account, each with its chain.
    pub labels: Vec<guardrail_policy::entities::InheritedLabel>,
}
use crate::replay::{DecisionRecord, DecisionSink};
use crate::snapshot::Snapshot;

/// Decisions counted over a guard's life.
#[derive(Debug, Default)]
struct Counters {
    decisions: AtomicU64,
    drops: AtomicU64,
    fail_closed: AtomicU64,
}

/// How many decisions a guard made, dropped, and dropped because a signal was missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecisionStats {
    /// Decisions made.
    pub decisions: u64,
    /// Decisions that dropped the candidate.
    pub drops: u64,
    /// Decisions that rested on a missing signal taken as unsafe.
    pub fail_closed: u64,
}

/// The decision engine over a swappable snapshot, and the one writer of snapshots.
#[derive(Debug)]
pub struct Guard {
    engine: Engine,
    snapshot: ArcSwap<Snapshot>,
    // Writers (takedowns, ledger events, re-maps) take turns here; readers never wait for
    // it: they read the published snapshot.
    writer: Mutex<Deriver>,
    sink: Arc<dyn DecisionSink>,
    counters: Counters,
}

impl Guard {
    /// A guard over what `deriver` derived, with the engine over `rules` and `policy`,
    /// logging to `sink`.
    pub fn new(
        deriver: Deriver,
        policy: Policy,
        rules: RuleSet,
        sink: Arc<dyn DecisionSink>,
    ) -> Guard {
        Guard {
            engine: Engine::new(rules, policy),
            snapshot: ArcSwap::from_pointee(deriver.snapshot()),
            writer: Mutex::new(deriver),
            sink,
            counters: Counters::default(),
        }
    }

    /// Derives the snapshot from a world's public tables and a guard over it.
    pub fn build(
        world: &World,
        policy: Policy,
        rules: RuleSet,
        sink: Arc<dyn DecisionSink>,
    ) -> Guard {
        let deriver = Deriver::from_world(world, &policy);
        Guard::new(deriver, policy, rules, sink)
    }

    /// Changes the derived state under the writer's lock and publishes the result as the
    /// next version; requests in flight finish on the snapshot they loaded.
    pub fn write(&self, change: impl FnOnce(&mut Deriver)) {
        let mut deriver = match self.writer.lock() {
            Ok(deriver) => deriver,
            // A writer that panicked left the deriver as it was when it stopped; the
            // published snapshot is still whole, so keep serving and writing.
            Err(poisoned) => poisoned.into_inner(),
        };
        change(&mut deriver);
        let next = deriver.next_snapshot();
        self.snapshot.store(Arc::new(next));
    }

    /// The sign-up decision's view of entities ([`Deriver::signup_probe`]), read under the
    /// writer's lock: it waits for a write in progress (a re-map included), so call it off
    /// the async workers.
    pub fn signup_probe(&self, signup: &Signup<'_>) -> SignupProbe {
        // Fault injection (tests only): the entity check faults.
        fail::fail_point!("guard::signup");
        let deriver = match self.writer.lock() {
            Ok(deriver) => deriver,
            Err(poisoned) => poisoned.into_inner(),
        };
        deriver.signup_probe(signup)
    }

    /// The entity behind `account` as the linker sees it now: its members, every piece of
    /// evidence touching the account (strong and weak), and the labels in force that reach
    /// it with their chains. Read under the writer's lock, like [`Guard::signup_probe`].
    pub fn entity(&self, account: AccountId) -> EntityView {
        let deriver = match self.writer.lock() {
            Ok(deriver) => deriver,
            Err(poisoned) => poisoned.into_inner(),
        };
        let entities = deriver.entities();
        EntityView {
            members: entities.members(account),
            links: entities.links(account),
            labels: entities.explain_labels(account, deriver.now()),
        }
    }

    /// Replaces the writer's state wholesale (a re-map) and publishes it.
    pub fn replace(&self, deriver: Deriver) {
        let mut writer = match self.writer.lock() {
            Ok(writer) => writer,
            Err(poisoned) => poisoned.into_inner(),
        };
        *writer = deriver;
        self.snapshot.store(Arc::new(writer.snapshot()));
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The snapshot decisions read now (it stays valid while held, whatever is published).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Decisions counted so far.
    pub fn stats(&self) -> DecisionStats {
        DecisionStats {
            decisions: self.counters.decisions.load(Ordering::Relaxed),
            drops: self.counters.drops.load(Ordering::Relaxed),
            fail_closed: self.counters.fail_closed.load(Ordering::Relaxed),
        }
    }

    /// A view on the current snapshot: every decision made through it reads that one
    /// snapshot, and can say which version it was.
    pub fn view(&self) -> GuardView<'_> {
        GuardView {
            guard: self,
            snapshot: self.snapshot.load(),
        }
    }

    /// [`GuardView::decide_account`] on the current snapshot.
    pub fn decide_account(
        &self,
        surface: Surface,
        viewer: Option<AccountId>,
        candidate: AccountId,
    ) -> Verdict {
        self.view().decide_account(surface, viewer, candidate)
    }

    /// [`GuardView::decide_text`] on the current snapshot.
    pub fn decide_text(&self, surface: Surface, query: &str, text: &str) -> Verdict {
        self.view().decide_text(surface, query, text)
    }

    /// [`GuardView::decide_query`] on the current snapshot.
    pub fn decide_query(&self, query: &str) -> Verdict {
        self.view().decide_query(query)
    }
}

/// A guard with one loaded snapshot.
#[derive(Debug)]
pub struct GuardView<'a> {
    guard: &'a Guard,
    snapshot: Loaded<Arc<Snapshot>>,
}

impl GuardView<'_> {
    /// The snapshot this view reads.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Decides an account candidate for a viewer on a surface, and records it.
    pub fn decide_account(
        &self,
        surface: Surface,
        viewer: Option<AccountId>,
        candidate: AccountId,
    ) -> Verdict {
        let viewer_signals = viewer.map(|v| self.snapshot.signals_of(v));
        let candidate_signals = self.snapshot.signals_of(candidate);
        let context = Context {
            surface,
            viewer: viewer_signals.as_deref(),
            query: None,
        };
        let candidate = Candidate {
            account: Some(&candidate_signals),
            // The item shown is the account itself (or, in the feed, its posts): it
            // features minors exactly when the account's content does.
            features_minors: candidate_signals.features_minors,
            relationship: viewer.map(|v| self.snapshot.relationship(v, candidate)),
            ..Candidate::default()
        };
        self.decide_and_record(&context, &candidate)
    }

    /// Decides a text candidate (an autocomplete suggestion or related hashtag) for what
    /// the user typed, and records it.
    pub fn decide_text(&self, surface: Surface, query: &str, text: &str) -> Verdict {
        let context = Context {
            surface,
            viewer: None,
            query: Some(query),
        };
        let candidate = Candidate {
            text: Some(text),
            variant_restricted: Some(self.snapshot.variant_restricted(text)),
            ..Candidate::default()
        };
        self.decide_and_record(&context, &candidate)
    }

    /// Decides a search query itself (no candidate), and records it.
    pub fn decide_query(&self, query: &str) -> Verdict {
        let context = Context {
            surface: Surface::Search,
            viewer: None,
            query: Some(query),
        };
        self.decide_and_record(&context, &Candidate::default())
    }

    /// Decides whether content that does (or does not) feature minors may be delivered to
    /// a viewer (an ad impression, on the feed's rules), and records it.
    pub fn decide_delivery(&self, viewer: AccountId, features_minors: bool) -> Verdict {
        let viewer_signals = self.snapshot.signals_of(viewer);
        let context = Context {
            surface: Surface::Feed,
            viewer: Some(&viewer_signals),
            query: None,
        };
        let candidate = Candidate {
            features_minors: Some(features_minors),
            ..Candidate::default()
        };
        self.decide_and_record(&context, &candidate)
    }

    /// Decides with the engine, counts the verdict, and offers it to the sink (the request
    /// is copied only when the sink keeps it: the serving path reads signals in place).
    fn decide_and_record(&self, context: &Context, candidate: &Candidate) -> Verdict {
        // Fault injection (tests only): the decision engine faults mid-decision.
        fail::fail_point!("guard::decide");
        let guard = self.guard;
        let verdict = guard.engine.decide(context, candidate);
        guard.counters.decisions.fetch_add(1, Ordering::Relaxed);
        if verdict.action == Action::Drop {
            guard.counters.drops.fetch_add(1, Ordering::Relaxed);
        }
        if verdict.fail_closed {
            guard.counters.fail_closed.fetch_add(1, Ordering::Relaxed);
        }
        if guard.sink.accepts(&verdict) {
            guard.sink.record(DecisionRecord {
                request: RecordedRequest::record(context, candidate),
                action: verdict.action,
                decided_by: verdict.decided_by.clone(),
                snapshot: self.snapshot.version(),
            });
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guard_serves_many_threads() {
        fn shared_across_threads<T: Send + Sync>() {}
        shared_across_threads::<Guard>();
        shared_across_threads::<Snapshot>();
        shared_across_threads::<GuardView<'_>>();
    }
}
