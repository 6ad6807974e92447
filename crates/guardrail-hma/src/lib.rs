//! Meta's Hasher-Matcher-Actioner (HMA 2.x, "OpenMediaMatch") routes, served under HMA's
//! own paths, parameters and response shapes so that HMA's clients (the Ruby gem
//! `hasher_matcher_actioner_api`, Coop's `hmaService`, scripts written against HMA) can
//! point at Guardrail unchanged. `docs/hma-compat.md` is the spec; the acceptance test
//! replays 59 recordings of a live HMA (`scripts/hma_replay.py`, `tests/replay.rs`).
//!
//! - [`router`] builds the routes over an [`HmaState`]: `/status`, `/h/hash`,
//!   `/m/lookup`, `/m/raw_lookup`, `/m/index/status`, `/m/compare`, banks and bank
//!   content under `/c/...`, the exchange routes (answered minimally; nothing is ever
//!   fetched from an exchange) and the configuration listings.
//! - [`HmaState`] holds the banks in memory and records every change as a [`BankChange`]
//!   in a [`BankJournal`] before the route answers; [`HmaState::replay`] rebuilds the state
//!   from those changes on start.
//! - Hashing is `guardrail-pdq` (bit-exact with pdqhash) and matching is
//!   `guardrail-hashindex` (one exact index over every bank: multi-index plus flat scan
//!   of recent additions), at HMA's threshold, distance ≤ 31.
//!
//! The router never authenticates (the server wraps it), never fetches a URL it was not
//! given or one that points inside the network (unless the [`FetchPolicy`] allows it),
//! and never answers 5xx for a malformed request.

mod coerce;
mod error;
mod fetch;
mod journal;
mod json;
mod routes;
mod signals;
mod state;
mod store;

pub use coerce::{bank_name_ok, exchange_name_ok, json_bool, json_float, lax_bool};
pub use error::{ApiError, JournalError, ReplayError};
pub use fetch::{DEFAULT_MAX_FETCH_BYTES, FetchPolicy, FetcherSetupError, is_public, tls_config};
pub use journal::{BankChange, BankJournal, MemoryJournal, NoJournal};
pub use routes::{not_found_page, router};
pub use signals::{ContentType, PDQ_MATCH_THRESHOLD, SignalType};
pub use state::{HmaConfig, HmaState};
