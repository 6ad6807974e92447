//! Discovery guardrails: the decision point each discovery surface calls before it
//! suggests, ranks, autocompletes or returns anything.
//!
//! A [`RuleSet`] (TOML data, editable without an engineer) holds ordered rules per
//! [`Surface`]; an [`Engine`] evaluates them over [`AccountSignals`] (text-guard
//! matches, hash matches, network-map scores and roles, declared age, minor-featuring
//! content, entity links), the [`Relationship`] between viewer and candidate, and the
//! text guard's reading of the query and of candidate texts. Every [`Verdict`] names
//! the rule that decided and the evidence behind each condition it read.
//!
//! Around the engine: [`entities`] links accounts into the people behind them (ban
//! evasion), [`variants`] restricts hashtags that travel with blocked ones,
//! [`contamination`] keeps views, reports and reviews of flagged accounts out of
//! co-engagement signals, [`caps`] stops a runaway automated rule, and [`backfill`]
//! replays past requests through a new rule set before it goes live.
//!
//! What this crate must never do: let a missing signal or a failing dependency turn
//! into an `allow`. Unknown is unsafe, and the verdict says so.
//!
//! ```
//! use guardrail_policy::{AccountId, AccountSignals, AgeBand, Action, Candidate, Context, Engine, Relationship, Surface};
//!
//! let engine = Engine::default_engine();
//! let viewer = AccountSignals::clean_adult(AccountId(1));
//! let mut minor = AccountSignals::clean_adult(AccountId(2));
//! minor.age = Some(AgeBand::Minor);
//! let context = Context { surface: Surface::AccountSuggestions, viewer: Some(&viewer), query: None };
//! let candidate = Candidate { account: Some(&minor), relationship: Some(Relationship::default()), ..Candidate::default() };
//! let verdict = engine.decide(&context, &candidate);
//! assert_eq!(verdict.action, Action::Drop);
//! assert_eq!(verdict.decided_by.as_deref(), Some("minors-to-unconnected-adults"));
//! ```
//!
//! This crate is pure: no IO, no clocks (time is passed in), no global state.

pub mod backfill;
pub mod caps;
pub mod contamination;
mod decide;
pub mod entities;
mod predicates;
mod rules;
mod signals;
pub mod variants;

pub use decide::{Candidate, ConditionUse, Context, Engine, ShadowHit, Verdict};
pub use guardrail_types::{
    AccountId, AgeBand, NetworkRole, Provenance, Source, SourceError, Surface,
};
pub use predicates::{Predicate, Scope, Tristate};
pub use rules::{Action, DEFAULT_RULES_TOML, Mode, Rule, RuleSet, Thresholds};
pub use signals::{AccountSignals, HashSignal, NetworkSignal, Relationship, TextSignal};
