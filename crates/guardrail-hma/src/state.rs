//! [`HmaState`]: the banks in memory, the journal every change is recorded in before a
//! route answers, the URL fetcher, and the limits.
//!
//! Reads (lookups, bank and content reads) take a shared lock on the store and never wait
//! for a write's journal IO: a write holds a separate writer lock while it checks its
//! change against the store and records it (on a blocking thread), and takes the store's
//! exclusive lock only to apply it. So changes are recorded in the order they are applied,
//! and a change the journal refused is never applied. This module must never apply a
//! change that was not recorded, nor record one it then fails to apply.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use guardrail_pdq::DecodeOptions;
use tokio::sync::{Mutex, Semaphore};

use crate::error::{ApiError, ReplayError};
use crate::fetch::{DEFAULT_MAX_FETCH_BYTES, FetchPolicy, Fetcher, FetcherSetupError};
use crate::journal::{BankChange, BankJournal, NoJournal};
use crate::signals::{SignalType, hash_bytes};
use crate::store::Store;

/// Limits and policies of the HMA routes.
#[derive(Debug, Clone, PartialEq)]
pub struct HmaConfig {
    /// What `url=` fetches may do.
    pub fetch: FetchPolicy,
    /// Largest request body (multipart uploads), in bytes; beyond it 413.
    pub max_upload_bytes: usize,
    /// Image decoding limits for PDQ (pixels, decoder memory).
    pub decode: DecodeOptions,
    /// Images hashed at once; more wait. Each may hold about 1.2 GiB at the default limits.
    pub max_concurrent_hashes: usize,
}

impl Default for HmaConfig {
    fn default() -> Self {
        HmaConfig {
            fetch: FetchPolicy::default(),
            max_upload_bytes: DEFAULT_MAX_FETCH_BYTES as usize,
            decode: DecodeOptions::default(),
            max_concurrent_hashes: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2),
        }
    }
}

struct Inner {
    store: RwLock<Store>,
    writer: Mutex<()>,
    journal: Arc<dyn BankJournal>,
    fetcher: Fetcher,
    config: HmaConfig,
    hash_permits: Semaphore,
    index_stale: AtomicBool,
}

/// The state the HMA router serves. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct HmaState {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for HmaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmaState")
            .field("store", &*self.read())
            .field("config", &self.inner.config)
            .field("index_stale", &self.index_stale())
            .finish()
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

impl HmaState {
    /// An empty state whose changes go to `journal`.
    pub fn new(
        config: HmaConfig,
        journal: Arc<dyn BankJournal>,
    ) -> Result<HmaState, FetcherSetupError> {
        let fetcher = Fetcher::new(config.fetch.clone())?;
        Ok(HmaState {
            inner: Arc::new(Inner {
                store: RwLock::new(Store::new()),
                writer: Mutex::new(()),
                journal,
                fetcher,
                hash_permits: Semaphore::new(config.max_concurrent_hashes.max(1)),
                config,
                index_stale: AtomicBool::new(false),
            }),
        })
    }

    /// Every banked content a PDQ hash (64 lower-case hex digits) matches at HMA's
    /// threshold, as `(bank, content id, distance)`, nearest first. The same index as
    /// `/m/raw_lookup`; for Guardrail's own `/v1/media/match`.
    pub fn match_pdq(&self, hash: &str) -> Vec<(String, u64, u32)> {
        let store = self.read();
        let mut found: Vec<(String, u64, u32)> = store
            .query(SignalType::Pdq, hash)
            .into_iter()
            .filter_map(|m| {
                let bank = store.bank_of(m.bank_content_id)?.to_string();
                let distance = m.distance.parse().ok()?;
                Some((bank, m.bank_content_id, distance))
            })
            .collect();
        found.sort_by_key(|(bank, id, distance)| (*distance, bank.clone(), *id));
        found
    }

    /// An empty state with the default limits that records nothing (tests, demos).
    pub fn in_memory() -> Result<HmaState, FetcherSetupError> {
        HmaState::new(HmaConfig::default(), Arc::new(NoJournal))
    }

    /// Replaces the state with the one these recorded changes build, without recording
    /// them again, and builds the PDQ multi-index over the result. Call it on start,
    /// before serving. On an error nothing is replaced.
    pub fn replay(
        &self,
        changes: impl IntoIterator<Item = BankChange>,
    ) -> Result<usize, ReplayError> {
        let mut store = Store::new();
        let mut count = 0;
        for (position, change) in changes.into_iter().enumerate() {
            store
                .apply(&change)
                .map_err(|reason| ReplayError { position, reason })?;
            count += 1;
        }
        store.rebuild_pdq_index();
        *self.write() = store;
        Ok(count)
    }

    /// Applies changes another process recorded (a replica's, read back from the shared
    /// ledger), in the ledger's order, without recording them again: content they add is
    /// matched from now on (scanned flat until the next [`HmaState::reindex`]). Stops at
    /// the first change that does not fit this state (a bank that already exists, a
    /// content id this process handed out too) and answers it; the changes before it stay
    /// applied.
    pub async fn apply_recorded(&self, changes: &[BankChange]) -> Result<usize, ReplayError> {
        let _writer = self.inner.writer.lock().await;
        let mut store = self.write();
        for (position, change) in changes.iter().enumerate() {
            store
                .apply(change)
                .map_err(|reason| ReplayError { position, reason })?;
        }
        Ok(changes.len())
    }

    /// Rebuilds the PDQ index with its multi-index over everything banked so far (content
    /// added since the last rebuild is otherwise scanned flat). Writes wait; reads do not
    /// until the new index is swapped in.
    pub async fn reindex(&self) {
        let _writer = self.inner.writer.lock().await;
        let this = self.clone();
        // Building the multi-index of a large bank takes seconds: off the async threads.
        let rebuilt = tokio::task::spawn_blocking(move || this.read().rebuilt_pdq_index()).await;
        if let Ok(index) = rebuilt {
            self.write().replace_pdq_index(index);
        }
    }

    /// Marks the index stale (`GET /status` answers `503 INDEX-STALE`) or fresh. The
    /// routes keep the index current themselves; a server that serves from a snapshot
    /// with a freshness bound sets this when the bound is passed.
    pub fn set_index_stale(&self, stale: bool) {
        self.inner.index_stale.store(stale, Ordering::Relaxed);
    }

    /// Whether the index is marked stale.
    pub fn index_stale(&self) -> bool {
        self.inner.index_stale.load(Ordering::Relaxed)
    }

    /// The limits in force.
    pub fn config(&self) -> &HmaConfig {
        &self.inner.config
    }

    /// Number of banks.
    pub fn bank_count(&self) -> usize {
        self.read().banks().len()
    }

    /// Number of banked PDQ signals.
    pub fn pdq_count(&self) -> usize {
        self.read().signal_count(SignalType::Pdq)
    }

    pub(crate) fn fetcher(&self) -> &Fetcher {
        &self.inner.fetcher
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.inner
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.inner
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes one change: `plan` checks the request against the store and says what
    /// changes (nothing, for an idempotent delete of something absent) and what to
    /// answer; the change is recorded, then applied.
    pub(crate) async fn change<T>(
        &self,
        plan: impl FnOnce(&Store) -> Result<(Option<BankChange>, T), ApiError>,
    ) -> Result<T, ApiError> {
        let _writer = self.inner.writer.lock().await;
        let (change, answer) = plan(&self.read())?;
        let Some(change) = change else {
            return Ok(answer);
        };
        let journal = Arc::clone(&self.inner.journal);
        let recorded = change.clone();
        tokio::task::spawn_blocking(move || journal.record(&recorded))
            .await
            .map_err(|error| ApiError::Internal(format!("the journal task failed: {error}")))?
            .map_err(|error| ApiError::Internal(error.to_string()))?;
        self.write().apply(&change).map_err(|reason| {
            ApiError::Internal(format!("a recorded change did not apply: {reason}"))
        })?;
        Ok(answer)
    }

    /// Hashes bytes on a blocking thread, at most `max_concurrent_hashes` at once.
    pub(crate) async fn hash(
        &self,
        bytes: Vec<u8>,
        signal_types: Vec<SignalType>,
    ) -> Result<BTreeMap<String, String>, ApiError> {
        let _permit = self
            .inner
            .hash_permits
            .acquire()
            .await
            .map_err(|_| ApiError::Internal("the hasher is shut down".to_string()))?;
        let decode = self.inner.config.decode;
        tokio::task::spawn_blocking(move || hash_bytes(&bytes, &signal_types, &decode))
            .await
            .map_err(|error| ApiError::Internal(format!("the hashing task failed: {error}")))?
    }
}
