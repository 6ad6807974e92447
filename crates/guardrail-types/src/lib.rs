//! `guardrail-types`: the vocabulary every Guardrail crate shares, and nothing else.
//!
//! Layer 0 of the house (DESIGN.md §5). Every other crate speaks these words, so that no
//! border needs translation glue:
//! - [`AccountId`] and [`PostId`]: one width (32 bits, dense indexes) everywhere;
//! - [`Surface`]: the seven discovery surfaces that ask for decisions;
//! - [`TextPlace`]: where a text sits (a search query, a hashtag, a bio...), which is not a
//!   surface;
//! - [`Timestamp`] and [`Day`]: time in seconds, logical days, and the one place that
//!   converts between them;
//! - [`TextDecision`], [`AgeBand`], [`Gender`], [`NetworkRole`], [`EngagementKind`]: the values engines
//!   hand each other;
//! - [`Provenance`] and [`Source`]: evidence, written as words a reviewer reads;
//! - [`SourceError`] and [`Locator`]: one `file:line:column: field: message` error for every
//!   parser of configuration (text policies, discovery rules, world configs).
//!
//! What it must never hold: behaviour. Data, names, parsing of names and display only; no
//! IO, no clocks, no global state, no dependency besides `serde` and `thiserror`.

mod evidence;
mod ids;
mod names;
mod source;
mod surface;
mod time;
mod values;

pub use evidence::{Provenance, Source};
pub use ids::{AccountId, PostId};
pub use names::UnknownName;
pub use source::{Locator, SourceError, SourceErrorKind};
pub use surface::{Surface, TextPlace};
pub use time::{Day, SECONDS_PER_DAY, Timestamp};
pub use values::{AgeBand, EngagementKind, Gender, NetworkRole, TextDecision};
