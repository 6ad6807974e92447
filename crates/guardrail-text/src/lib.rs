//! The text guard: decides whether a hashtag, search query, autocomplete suggestion,
//! bio, caption, comment or username may be shown, suggested or searched.
//!
//! People who trade in child sexual exploitation disguise their words: separators
//! (`p.e.d.o`, also emoji and symbols: `p🍕e🍕d🍕o`), digits and symbols for letters
//! (`s3ller`, `p€do`, `v.3.x.n.0.r`), look-alike letters from other scripts,
//! fullwidth and mathematical alphabets, small capitals, negative enclosed letters and
//! regional indicators (`ᴘᴇᴅᴏ`, `🅿🅴🅳🅾`, `🇵🇪🇩🇴`), zero-width characters, combining
//! marks, HTML character references, text reversed inside right-to-left overrides,
//! emoji codes, CamelCase and concatenated hashtags. The guard undoes all of that in a staged
//! [`normalize`] pipeline that keeps, for every character, the bytes of the original
//! input it came from; a [`Policy`] (terms and patterns as TOML data, compiled once)
//! then finds every rule in the normalised views, and [`check`] turns the matches into
//! a [`TextVerdict`] for a [`TextPlace`], with every match's span, tier, category, rule
//! and the stages that were needed to see it.
//!
//! Two things the guard must never do: fail on content (bad input gets a verdict and a
//! [`Diagnostic`], never an error or a panic), and flag a word for merely containing a
//! term (`torpedo` is not `pedo`: word terms match whole words, or parts of
//! concatenated hashtags whose other parts are known words; an `anywhere` term never
//! spans the space between two ordinary words; a term's doubled letter is never
//! matched by a single one, nor one lone doubled letter by a term that has it once).
//! Every match carries the [`Stage`]s that revealed it, with [`Stage::reason`] in
//! words a reviewer reads.
//!
//! ```
//! use guardrail_text::{Policy, TextDecision, TextPlace, check};
//!
//! let policy = Policy::default_policy();
//! let verdict = check(&policy, TextPlace::Hashtag, "#P\u{0435}doBa1t");
//! assert_eq!(verdict.decision, TextDecision::Block);
//! assert_eq!(&*verdict.matches[0].rule, "pedobait");
//! assert_eq!(verdict.matches[0].span.start, 1); // after the `#`
//! ```
//!
//! This crate is pure: no IO, no clocks, no global state.

mod autocomplete;
mod hashtag;
mod lexicon;
mod matcher;
pub mod normalize;
mod policy;
mod verdict;

pub use autocomplete::{CandidateOutcome, Suggestions, filter_suggestions};
pub use guardrail_types::{SourceError, TextDecision, TextPlace};
pub use hashtag::{HashtagState, Review, hashtag_state};
pub use matcher::Match;
pub use normalize::{
    Diagnostic, DiagnosticKind, NormalizeOptions, NormalizedText, Span, Stage, StageSet, normalize,
    normalize_str,
};
pub use policy::{
    DEFAULT_POLICY_TOML, MatchMode, PatternRule, Policy, RuleKind, Scoring, TermRule, Tier,
};
pub use verdict::{MAX_LISTED_MATCHES, TextVerdict, check, check_bytes, normalize_options};
