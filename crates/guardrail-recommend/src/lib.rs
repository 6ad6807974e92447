//! Reference discovery systems as a large photo-sharing platform runs them, **without any
//! safety logic**: "suggested for you" from co-follow and co-view (item-to-item, where a
//! single profile view is a signal), profile "similar accounts", a feed from follows plus
//! recommendations, and hashtag search, autocomplete and related hashtags by popularity.
//!
//! This crate exists so the audit harness (`guardrail-sim`) can reproduce the published
//! failures on a synthetic platform, and so that a later guardrail layer can gate it. It
//! must never read ground truth: it only sees public engagement data (it does not even
//! depend on the crate that holds ground truth), and it must never contain a child-safety
//! rule of its own — every such decision goes through the two hooks below:
//!
//! - [`CandidateGate`]: consulted when an engagement enters the index (index time) and when a
//!   candidate is about to be shown (serving time). [`AllowAll`] is the platform's default.
//! - [`search::QueryPolicy`]: decides whether a search query is shown, shown behind an
//!   interstitial with "see results anyway", or blocked. [`search::ExactBanList`] is what the
//!   platform had: an exact list of banned terms with an interstitial.
//!
//! Pure: no IO, no clocks (time is a logical [`Day`] passed in), no randomness.

pub mod engagement;
pub mod search;

pub use engagement::{
    AllowAll, CandidateGate, Engagement, EngagementIndex, RecommendConfig, Scored, feed,
    similar_accounts, suggested_for_you,
};
pub use guardrail_types::{AccountId, Day, EngagementKind, PostId, Surface};
pub use search::{
    Autocomplete, ExactBanList, QueryDecision, QueryPolicy, SearchIndex, SearchOutcome,
    SearchResults,
};
