//! The running service: the store, the ledger's folded state, the guard over the live
//! snapshot, and the tasks that keep them current (the follower, the decision log, the
//! scheduled re-map).
//!
//! What it is for: one [`Service`] is shared by every request. At start it loads the
//! ledger (checkpoint plus tail) and derives the first snapshot in the background, so the
//! listener answers `/healthz` at once and `/readyz` turns true when decisions can be made.
//! The follower folds every record stored after the last one it saw —
//! written by this process or by any other replica on the same database — and publishes
//! the next snapshot; `POST /v1/events` wakes it and waits for the fold, so a caller reads
//! its own writes.
//!
//! What it must never do: serve a decision from a snapshot that is missing or older than
//! the configured bound (routes fail closed instead and readiness goes false), skip a
//! record it cannot read (the follower stops and the service goes unready), or block a
//! decision on the decision log (a full queue drops and counts).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::{ArcSwap, ArcSwapOption};
use guardrail_adapter::{DecisionRecord, DecisionSink, Deriver, Guard};
use guardrail_ledger::event::{DecisionLogged, Event, Payload};
use guardrail_ledger::state::{LedgerState, TokenRecord};
use guardrail_policy::RuleSet;
use guardrail_policy::backfill::RecordedRequest;
use guardrail_store::{AppendOutcome, Store, StoreError};
use guardrail_text::Policy;
use tokio::sync::{Notify, watch};

use guardrail_hma::{FetcherSetupError, HmaConfig, HmaState};

use crate::decision_log::DecisionLog;
use crate::ledger_io::{
    LoadError, Stored, fold_stored, ledger_policy, ledger_rules, live_state, read_event,
    read_stored,
};
use crate::map_engine::{DataflowMap, MapEngine};
use crate::metrics::{Gauges, Metrics};
use crate::routes::media::LedgerJournal;

/// Requests per second one token may make by default (twice that at once).
pub const DEFAULT_RATE_LIMIT_PER_SECOND: f64 = 1_000.0;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The largest request body accepted (413 beyond it).
    pub body_limit: usize,
    /// How long a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// A snapshot not brought up to date for this long is stale: decisions fail closed.
    pub stale_after: Duration,
    /// How often the follower looks for records other replicas stored.
    pub follow_every: Duration,
    /// Whether decisions are written to the ledger's decision log at all.
    pub decision_log: bool,
    /// Share of `allow` decisions written to the decision log (every other action is).
    pub allow_log_share: f64,
    /// Re-map on this period, if set.
    pub remap_every: Option<Duration>,
    /// How often report timers are swept for alerts that are due.
    pub sweep_every: Duration,
    /// Enforcement actions one automated rule may take per hour before its circuit breaker
    /// opens.
    pub rule_cap_per_hour: usize,
    /// The offender registry's key (none: sign-ups are not matched, and say so).
    pub registry_key: Option<crate::registry::RegistrySecret>,
    /// The clearing house's Reporting API, where referrals go (none: referrals stay open).
    pub clearing_house: Option<crate::referrals::ClearingHouseConfig>,
    /// The discovery rules.
    pub rules: RuleSet,
    /// The rules' version as recorded with logged decisions.
    pub rules_version: u64,
    /// A text policy to use instead of the one the ledger published last.
    pub policy: Option<Policy>,
    /// Let HMA's `/h/hash?url=` fetch loopback and private addresses (tests on one
    /// machine only; a deployment must never allow it).
    pub hma_fetch_private: bool,
    /// Requests one token may make (429 with `Retry-After` beyond it); `None`: no limit.
    pub rate_limit: Option<crate::rate::RateLimit>,
    /// The engine behind re-maps.
    pub map_engine: MapEngine,
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            body_limit: 16 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            stale_after: Duration::from_secs(120),
            follow_every: Duration::from_millis(250),
            decision_log: true,
            allow_log_share: 0.01,
            remap_every: None,
            sweep_every: Duration::from_secs(60),
            rule_cap_per_hour: guardrail_policy::caps::ActionCaps::default().per_rule_per_hour
                as usize,
            clearing_house: None,
            registry_key: None,
            rules: RuleSet::default_rules(),
            rules_version: 0,
            policy: None,
            hma_fetch_private: false,
            rate_limit: Some(crate::rate::RateLimit::per_second(
                DEFAULT_RATE_LIMIT_PER_SECOND,
            )),
            map_engine: MapEngine::Single,
        }
    }
}

/// The current Unix time in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Why decisions cannot read a snapshot right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unready {
    /// Still loading the ledger or deriving the first snapshot.
    Loading,
    /// Loading failed.
    Failed(String),
    /// The snapshot has not been brought up to date for too long.
    Stale {
        /// Seconds since it was.
        age_seconds: u64,
        /// Why, when the follower failed.
        reason: Option<String>,
    },
}

impl Unready {
    /// The reason in words, as fail-closed verdicts and `/readyz` give it.
    pub fn reason(&self) -> String {
        match self {
            Unready::Loading => {
                "snapshot not loaded yet: the service is still reading the ledger".into()
            }
            Unready::Failed(why) => format!("snapshot not loaded: {why}"),
            Unready::Stale {
                age_seconds,
                reason,
            } => format!(
                "snapshot stale: not brought up to date with the ledger for {age_seconds} s{}",
                reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// The state every request shares.
#[derive(Debug)]
pub struct Service {
    /// The ledger's database.
    pub store: Arc<Store>,
    /// How it runs.
    pub config: ServeConfig,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Each token's request budget.
    pub rate: crate::rate::RateLimiter,
    ledger: RwLock<LedgerState>,
    ledger_loaded: AtomicBool,
    /// Replaced whole when the ledger publishes new discovery rules (see
    /// [`Service::install_published_rules`]).
    guard: ArcSwapOption<Guard>,
    policy: OnceLock<Policy>,
    load_error: Mutex<Option<String>>,
    follow_error: Mutex<Option<String>>,
    started: Instant,
    fresh_at_ms: AtomicU64,
    head_seen: AtomicU64,
    folded: watch::Sender<u64>,
    nudge: Notify,
    log: DecisionLog,
    shutting_down: AtomicBool,
    hma: HmaState,
    tokens: ArcSwap<BTreeMap<String, TokenRecord>>,
    /// The offender registry in force, rebuilt when a new list is folded.
    pub registry: crate::registry::RegistryCache,
    /// Registered ads' delivery control and monitors (in this process).
    pub ads: crate::routes::ads::AdsState,
    /// The console's sessions, login failures and audit caches (in memory; see
    /// [`crate::console`]).
    pub console: crate::console::ConsoleState,
    /// Bank changes this process stored, until the follower reads them back.
    own_bank_changes: crate::routes::media::OwnBankChanges,
    /// Why this process's banks stopped following the ledger (a replica's change that
    /// does not fit them); media matching fails closed while it is set.
    bank_sync_error: Mutex<Option<String>>,
    /// The dataflow map following the ledger (with the dataflow engine, once loaded).
    dataflow: Mutex<Option<DataflowMap>>,
    /// Events this process stored, folded from memory instead of read back.
    own_writes: crate::own_writes::OwnWrites,
}

impl Service {
    /// A service over `store`; call [`Service::start`] to load and follow the ledger.
    /// Must be called inside a tokio runtime (the banks' journal writes through it).
    pub fn new(store: Store, config: ServeConfig) -> Result<Arc<Service>, FetcherSetupError> {
        let (folded, _) = watch::channel(0);
        let store = Arc::new(store);
        let own_bank_changes = crate::routes::media::OwnBankChanges::default();
        let journal = LedgerJournal::new(
            store.clone(),
            tokio::runtime::Handle::current(),
            own_bank_changes.clone(),
        );
        let mut hma_config = HmaConfig::default();
        hma_config.fetch.allow_private_addresses = config.hma_fetch_private;
        let hma = HmaState::new(hma_config, Arc::new(journal))?;
        Ok(Arc::new(Service {
            hma,
            tokens: ArcSwap::from_pointee(BTreeMap::new()),
            store,
            log: DecisionLog::new(config.allow_log_share),
            rate: crate::rate::RateLimiter::new(config.rate_limit),
            config,
            metrics: Metrics::default(),
            ledger: RwLock::new(LedgerState::new()),
            ledger_loaded: AtomicBool::new(false),
            guard: ArcSwapOption::empty(),
            policy: OnceLock::new(),
            load_error: Mutex::new(None),
            follow_error: Mutex::new(None),
            started: Instant::now(),
            fresh_at_ms: AtomicU64::new(0),
            head_seen: AtomicU64::new(0),
            folded,
            nudge: Notify::new(),
            shutting_down: AtomicBool::new(false),
            registry: crate::registry::RegistryCache::default(),
            ads: crate::routes::ads::AdsState::default(),
            console: crate::console::ConsoleState::default(),
            own_bank_changes,
            bank_sync_error: Mutex::new(None),
            dataflow: Mutex::new(None),
            own_writes: crate::own_writes::OwnWrites::default(),
        }))
    }

    /// The hash banks HMA's routes curate and `/v1/media/match` reads.
    pub fn hma(&self) -> &HmaState {
        &self.hma
    }

    /// Loads the ledger and derives the first snapshot in the background, then follows
    /// the ledger, writes the decision log, and re-maps on schedule.
    pub fn start(self: &Arc<Service>) {
        let service = self.clone();
        tokio::spawn(async move {
            // A database that is down at start, or a snapshot that fails to derive, is
            // retried with backoff; decisions fail closed, with the reason, until it loads.
            let mut wait = Duration::from_millis(200);
            while let Err(error) = service.load().await {
                tracing::error!(%error, retry_in_ms = wait.as_millis() as u64, "cannot load the ledger; decisions fail closed until it loads");
                *lock(&service.load_error) = Some(error.to_string());
                tokio::time::sleep(wait).await;
                if service.shutting_down.load(Ordering::Acquire) {
                    return;
                }
                wait = (wait * 2).min(Duration::from_secs(30));
            }
            *lock(&service.load_error) = None;
            tokio::spawn(service.clone().follow_forever());
            tokio::spawn(service.clone().write_decision_log());
            if let Some(every) = service.config.remap_every {
                tokio::spawn(service.clone().remap_on_schedule(every));
            }
            tokio::spawn(
                service
                    .clone()
                    .sweep_on_schedule(service.config.sweep_every),
            );
        });
    }

    async fn load(self: &Arc<Service>) -> Result<(), LoadError> {
        let started = Instant::now();
        let state = live_state(&self.store).await?;
        let policy = match &self.config.policy {
            Some(policy) => policy.clone(),
            None => ledger_policy(&state)?,
        };
        let rules = ledger_rules(&state, &self.config.rules)?;
        tracing::info!(
            events = state.last_seq,
            accounts = state.accounts.len(),
            seconds = started.elapsed().as_secs_f64(),
            "ledger folded"
        );
        let mut changes = Vec::with_capacity(state.bank_changes.len());
        for (index, value) in state.bank_changes.iter().enumerate() {
            changes.push(
                serde_json::from_value(value.clone()).map_err(|e| LoadError::Event {
                    seq: 0,
                    reason: format!("bank change {index} does not read back: {e}"),
                })?,
            );
        }
        let banked = self.hma.replay(changes).map_err(|e| LoadError::Event {
            seq: 0,
            reason: format!("the hash banks do not rebuild: {e}"),
        })?;
        tracing::info!(
            changes = banked,
            hashes = self.hma.pdq_count(),
            "hash banks rebuilt"
        );
        self.tokens.store(Arc::new(state.tokens.clone()));
        *write(&self.ledger) = state;
        self.ledger_loaded.store(true, Ordering::Release);
        let service = self.clone();
        let derive_policy = policy.clone();
        let guard = tokio::task::spawn_blocking(move || {
            let state = read(&service.ledger);
            let deriver = Deriver::from_ledger(&state, &derive_policy, None);
            if let MapEngine::Dataflow { workers } = service.config.map_engine {
                let dataflow = DataflowMap::start(&state, &derive_policy, workers)
                    .map_err(|e| format!("the dataflow map did not start: {e}"))?;
                *lock(&service.dataflow) = Some(dataflow);
            }
            Ok::<Guard, String>(Guard::new(
                deriver,
                derive_policy,
                rules,
                service.decision_sink(),
            ))
        })
        .await
        .map_err(|e| LoadError::Event {
            seq: 0,
            reason: format!("deriving the first snapshot failed: {e}"),
        })?
        .map_err(|reason| LoadError::Event { seq: 0, reason })?;
        let _ = self.policy.set(policy);
        self.guard.store(Some(Arc::new(guard)));
        self.mark_fresh();
        // `send_replace`, not `send`: the value must change even while nobody waits (a
        // waiter that subscribes later reads it; `send` drops it without receivers).
        self.folded.send_replace(read(&self.ledger).last_seq);
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "first snapshot published; ready"
        );
        Ok(())
    }

    fn mark_fresh(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.fresh_at_ms.store(ms.max(1), Ordering::Release);
    }

    /// The ledger's folded state (read-locked while held). `None` while it loads.
    pub fn ledger(&self) -> Option<RwLockReadGuard<'_, LedgerState>> {
        self.ledger_loaded
            .load(Ordering::Acquire)
            .then(|| read(&self.ledger))
    }

    /// The API tokens as the ledger has them (`None` while it loads). Read without the
    /// ledger's lock, so authentication never waits for the follower.
    pub fn tokens(&self) -> Option<arc_swap::Guard<Arc<BTreeMap<String, TokenRecord>>>> {
        self.ledger_loaded
            .load(Ordering::Acquire)
            .then(|| self.tokens.load())
    }

    fn refresh_tokens(&self) {
        let tokens = read(&self.ledger).tokens.clone();
        self.tokens.store(Arc::new(tokens));
    }

    /// The guard, once the first snapshot exists.
    pub fn guard(&self) -> Option<Arc<Guard>> {
        self.guard.load_full()
    }

    fn decision_sink(&self) -> Arc<dyn DecisionSink> {
        if self.config.decision_log {
            Arc::new(self.log.sink())
        } else {
            Arc::new(guardrail_adapter::NoLog)
        }
    }

    /// Whether `guard` is the one decisions use now.
    fn is_current(&self, guard: &Arc<Guard>) -> bool {
        self.guard
            .load()
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, guard))
    }

    /// Puts the discovery rules the ledger published last in force: a new guard over a
    /// copy of the current derived state, swapped in whole while the current one's writer
    /// is held (so no fold lands in the old one unseen). Called by the follower when it
    /// folds a `rules_published` event, so every replica installs a publish. Decision
    /// counters start again with the new guard; a rule file that does not load is logged
    /// and the running rules stay.
    fn install_published_rules(&self) {
        let Some((version, toml)) = read(&self.ledger).rules.clone() else {
            return;
        };
        let rules = match RuleSet::from_toml(
            &toml,
            &format!("the ledger's discovery rules v{version}"),
        ) {
            Ok(rules) => rules,
            Err(error) => {
                tracing::warn!(version, %error, "published discovery rules do not load; the running rules stay");
                return;
            }
        };
        let (Some(current), Some(policy)) = (self.guard.load_full(), self.policy.get().cloned())
        else {
            return;
        };
        if *current.engine().rules() == rules {
            return;
        }
        current.write(|deriver| {
            let next = Guard::new(deriver.clone(), policy, rules, self.decision_sink());
            self.guard.store(Some(Arc::new(next)));
        });
        tracing::info!(version, "published discovery rules in force");
    }

    /// The text policy decisions read.
    pub fn policy(&self) -> Option<&Policy> {
        self.policy.get()
    }

    /// The guard when its snapshot is fresh, else why not.
    pub fn fresh_guard(&self) -> Result<Arc<Guard>, Unready> {
        let Some(guard) = self.guard.load_full() else {
            return Err(match lock(&self.load_error).clone() {
                Some(why) => Unready::Failed(why),
                None => Unready::Loading,
            });
        };
        let age = self.snapshot_age();
        if age > self.config.stale_after {
            return Err(Unready::Stale {
                age_seconds: age.as_secs(),
                reason: lock(&self.follow_error).clone(),
            });
        }
        Ok(guard)
    }

    /// Time since the snapshot was last brought up to date.
    pub fn snapshot_age(&self) -> Duration {
        let fresh = self.fresh_at_ms.load(Ordering::Acquire);
        if fresh == 0 {
            return self.started.elapsed();
        }
        self.started
            .elapsed()
            .saturating_sub(Duration::from_millis(fresh))
    }

    /// The gauges `/metrics` shows.
    pub fn gauges(&self) -> Gauges {
        let folded_seq = *self.folded.borrow();
        Gauges {
            snapshot_version: self
                .guard
                .load()
                .as_ref()
                .map_or(0, |g| g.snapshot().version()),
            snapshot_age_seconds: self.snapshot_age().as_secs_f64(),
            ready: self.fresh_guard().is_ok(),
            folded_seq,
            follower_lag: self
                .head_seen
                .load(Ordering::Relaxed)
                .saturating_sub(folded_seq),
            decision_log_queue: self.log.queued.load(Ordering::Relaxed),
            decision_log_dropped: self.log.dropped.load(Ordering::Relaxed),
            decision_log_written: self.log.written.load(Ordering::Relaxed),
        }
    }

    /// Stores events durably, then waits (a bounded time) until the follower has folded
    /// them, so the caller's next request sees them.
    pub async fn append(&self, events: Vec<Event>) -> Result<Vec<AppendOutcome>, StoreError> {
        let outcomes = self.store.append(events.clone()).await?;
        self.own_writes.remember(
            events.into_iter().map(crate::own_writes::as_stored),
            &outcomes,
        );
        let highest = outcomes.iter().map(AppendOutcome::seq).max().unwrap_or(0);
        self.wait_folded(highest, Duration::from_secs(5)).await;
        Ok(outcomes)
    }

    /// Wakes the follower and waits until it folded `seq` (or `timeout` passed).
    pub async fn wait_folded(&self, seq: u64, timeout: Duration) -> bool {
        if self.guard.load().is_none() {
            return false;
        }
        // Subscribed before the follower is woken, so no fold can slip in between.
        let mut folded = self.folded.subscribe();
        self.nudge.notify_one();
        tokio::time::timeout(timeout, folded.wait_for(|&at| at >= seq))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The newest `limit` decisions of the ledger's decision log (every replica's, oldest
    /// first), as requests replayable through another rule set: what the console's
    /// backfill reads. Also answers how many logged decisions did not read back as
    /// requests (an older format): counted, never replayed as something they are not.
    pub async fn logged_decisions(
        &self,
        limit: usize,
    ) -> Result<(Vec<RecordedRequest>, usize), StoreError> {
        let records = self.store.latest_of_kind("decision_logged", limit).await?;
        let mut requests = Vec::with_capacity(records.len());
        let mut unreadable = 0;
        for record in records {
            let request =
                read_event(record.seq, &record.body)
                    .ok()
                    .and_then(|event| match event.payload {
                        Payload::DecisionLogged(logged) => {
                            serde_json::from_value(logged.request).ok()
                        }
                        _ => None,
                    });
            match request {
                Some(request) => requests.push(request),
                None => unreadable += 1,
            }
        }
        Ok((requests, unreadable))
    }

    /// The discovery rules the running guard enforces.
    pub fn live_rules(&self) -> Option<RuleSet> {
        self.guard
            .load()
            .as_ref()
            .map(|g| g.engine().rules().clone())
    }

    /// Stops the background tasks at their next turn.
    pub fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::Release);
        self.nudge.notify_one();
        self.log.close();
    }

    async fn follow_forever(self: Arc<Service>) {
        while !self.shutting_down.load(Ordering::Acquire) {
            match self.follow_once().await {
                Ok(folded) => {
                    *lock(&self.follow_error) = None;
                    self.mark_fresh();
                    if folded > 0 {
                        continue;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "the follower cannot read the ledger");
                    *lock(&self.follow_error) = Some(error.to_string());
                }
            }
            let _ = tokio::time::timeout(self.config.follow_every, self.nudge.notified()).await;
        }
    }

    /// Folds one page of records stored after the last one folded; answers how many.
    async fn follow_once(self: &Arc<Service>) -> Result<u64, LoadError> {
        let after = read(&self.ledger).last_seq;
        let (head, _) = self.store.head().await?;
        self.head_seen.store(head, Ordering::Relaxed);
        if head <= after {
            return Ok(0);
        }
        // This process's own writes continue the ledger most of the time; anything
        // else (a replica's write, a gap, what was stored before a restart) is read.
        let mut events = self.own_writes.take_after(after, head, 10_000);
        if events.is_empty() {
            let records = self.store.read(after, 1_000).await?;
            events.reserve(records.len());
            for record in &records {
                events.push((record.seq, read_stored(record.seq, &record.body)?));
            }
        }
        let (replicas_bank_changes, own_bank_changes) = self.split_bank_changes(&events);
        let count = events.len() as u64;
        let service = self.clone();
        // Folding and deriving are CPU work: off the async workers. Pages of events that
        // cannot change derived state (decisions logged, views, report bookkeeping) are
        // folded into the ledger's state without publishing a snapshot, except once a
        // second so the derived clock (label expiry) keeps up.
        let last = tokio::task::spawn_blocking(move || {
            let guard = service.guard.load_full()?;
            let relevant = events.iter().any(|(_, stored)| {
                matches!(stored, Stored::Event(event)
                    if guardrail_adapter::changes_derived_state(&event.payload))
            });
            let clock_due = service.snapshot_age() >= Duration::from_secs(1);
            let mut last = 0;
            let mut tokens_changed = false;
            let mut rules_changed = false;
            let mut fold_all = |state: &mut LedgerState, deriver: Option<&mut Deriver>| {
                let mut deriver = deriver;
                // Every event, relevant to other signals or not: views, likes and comments
                // are the map's edges.
                let mut dataflow = lock(&service.dataflow);
                for (seq, stored) in &events {
                    if *seq <= state.last_seq {
                        continue;
                    }
                    // Nothing derived reads a logged decision: only the ledger's clock and
                    // count move (the derived clock follows below).
                    let Stored::Event(event) = stored else {
                        fold_stored(state, *seq, stored);
                        continue;
                    };
                    tokens_changed |= matches!(
                        event.payload,
                        Payload::TokenCreated(_) | Payload::TokenRevoked(_)
                    );
                    rules_changed |= matches!(event.payload, Payload::RulesPublished(_));
                    let context = dataflow.as_ref().map(|_| DataflowMap::before(state, event));
                    let folded = state.fold(*seq, event);
                    if let (Some(dataflow), Some(context)) = (dataflow.as_mut(), context) {
                        dataflow.after(state, context, &folded);
                    }
                    if let Some(deriver) = deriver.as_deref_mut() {
                        deriver.follow(state, &folded);
                    }
                }
                if let Some(deriver) = deriver {
                    deriver.sync_clock(state);
                }
                last = state.last_seq;
            };
            let mut replaced = false;
            if relevant || clock_due {
                guard.write(|deriver| {
                    // A rules publish swapped the guard while this fold waited for its
                    // writer: fold into the new one on the next turn instead.
                    replaced = !service.is_current(&guard);
                    if !replaced {
                        fold_all(&mut write(&service.ledger), Some(deriver));
                    }
                });
            } else {
                fold_all(&mut write(&service.ledger), None);
            }
            if replaced {
                return None;
            }
            if tokens_changed {
                service.refresh_tokens();
            }
            if rules_changed {
                service.install_published_rules();
            }
            Some(last)
        })
        .await
        .map_err(|e| LoadError::Event {
            seq: after + 1,
            reason: format!("folding stopped: {e}"),
        })?;
        if let Some(last) = last {
            // Only once folded: a page that must be folded again next turn is split again.
            {
                let mut own = lock(&self.own_bank_changes);
                for id in &own_bank_changes {
                    own.remove(id);
                }
            }
            if !replicas_bank_changes.is_empty() {
                self.follow_bank_changes(replicas_bank_changes).await;
            }
            self.folded.send_replace(last);
        }
        Ok(count)
    }

    /// The bank changes in `events` that another replica made, in ledger order (one that
    /// does not read back is kept as an error, never skipped), and the ids of this
    /// process's own (already applied by the route that made them).
    fn split_bank_changes(
        &self,
        events: &[(u64, Stored)],
    ) -> (Vec<Result<guardrail_hma::BankChange, String>>, Vec<String>) {
        let own = lock(&self.own_bank_changes);
        let mut replicas = Vec::new();
        let mut mine = Vec::new();
        for (seq, stored) in events {
            let Stored::Event(event) = stored else {
                continue;
            };
            let Payload::BankChanged(changed) = &event.payload else {
                continue;
            };
            if own.contains(&event.id) {
                mine.push(event.id.clone());
            } else {
                replicas.push(serde_json::from_value(changed.change.clone()).map_err(|e| {
                    format!("the bank change stored at sequence {seq} does not read back: {e}")
                }));
            }
        }
        (replicas, mine)
    }

    /// Applies other replicas' bank changes to this process's banks, so a hash banked
    /// through any replica is matched on every one. A change that does not fit (two
    /// replicas handing out one content id) stops the banks from following: media
    /// matching then fails closed on this replica, with the reason, until it restarts and
    /// rebuilds its banks from the ledger.
    async fn follow_bank_changes(&self, changes: Vec<Result<guardrail_hma::BankChange, String>>) {
        if lock(&self.bank_sync_error).is_some() {
            return;
        }
        let mut readable = Vec::with_capacity(changes.len());
        let mut unreadable = None;
        for change in changes {
            match change {
                Ok(change) => readable.push(change),
                Err(why) => {
                    unreadable = Some(why);
                    break;
                }
            }
        }
        let failed = match self.hma.apply_recorded(&readable).await {
            Ok(applied) => {
                tracing::info!(applied, "bank changes from other replicas applied");
                unreadable
            }
            Err(error) => Some(format!(
                "a bank change from another replica does not fit this replica's banks ({}): {}",
                error.position, error.reason
            )),
        };
        if let Some(why) = failed {
            tracing::error!(reason = %why, "the banks stopped following the ledger; media matching fails closed until a restart");
            *lock(&self.bank_sync_error) = Some(why);
        }
    }

    /// Why this process's banks are behind the ledger, if they are.
    pub fn bank_sync_error(&self) -> Option<String> {
        lock(&self.bank_sync_error).clone()
    }

    /// Builds a fresh network map over the ledger and publishes it; answers the new
    /// snapshot version.
    pub async fn remap(self: &Arc<Service>) -> Result<u64, Unready> {
        let guard = self.fresh_guard()?.clone();
        let service = self.clone();
        let started = Instant::now();
        let version = tokio::task::spawn_blocking(move || {
            let mut failed = None;
            guard.write(|deriver| {
                let state = read(&service.ledger);
                let mut dataflow = lock(&service.dataflow);
                match dataflow.as_mut() {
                    Some(dataflow) => match dataflow.remap(state.last_seq) {
                        Ok(map) => deriver.set_map(map),
                        Err(e) => failed = Some(format!("the dataflow map failed: {e}")),
                    },
                    None => deriver.remap(&state),
                }
            });
            match failed {
                Some(why) => Err(why),
                None => Ok(guard.snapshot().version()),
            }
        })
        .await
        .map_err(|e| Unready::Failed(format!("the re-map failed: {e}")))?
        .map_err(Unready::Failed)?;
        tracing::info!(
            version,
            seconds = started.elapsed().as_secs_f64(),
            "re-mapped"
        );
        Ok(version)
    }

    async fn remap_on_schedule(self: Arc<Service>, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            if self.shutting_down.load(Ordering::Acquire) {
                return;
            }
            if let Err(why) = self.remap().await {
                tracing::warn!(reason = why.reason(), "scheduled re-map skipped");
            }
        }
    }

    /// Raises the report alerts that are due now (missed first-action and final-state
    /// timers), once each; answers how many were stored.
    pub async fn sweep(&self) -> Result<usize, StoreError> {
        let alerts = match self.ledger() {
            Some(state) => guardrail_reports::due_alerts(&state, unix_now()),
            None => return Ok(0),
        };
        if alerts.is_empty() {
            return Ok(0);
        }
        let outcomes = self.append(alerts).await?;
        Ok(outcomes
            .iter()
            .filter(|o| matches!(o, AppendOutcome::Stored { .. }))
            .count())
    }

    async fn sweep_on_schedule(self: Arc<Service>, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            if self.shutting_down.load(Ordering::Acquire) {
                return;
            }
            match self.sweep().await {
                Ok(0) => {}
                Ok(raised) => tracing::warn!(raised, "report timers missed; alerts raised"),
                Err(error) => {
                    tracing::error!(%error, "the report sweep could not store its alerts")
                }
            }
        }
    }

    async fn write_decision_log(self: Arc<Service>) {
        let Some(mut receiver) = lock(&self.log.receiver).take() else {
            return;
        };
        let prefix = format!("decision:{:016x}", rand::random::<u64>());
        let mut written: u64 = 0;
        let mut batch = Vec::with_capacity(1_000);
        while receiver.recv_many(&mut batch, 1_000).await > 0 {
            self.log
                .queued
                .fetch_sub(batch.len() as u64, Ordering::Relaxed);
            let now = unix_now();
            let events: Vec<Event> = batch
                .drain(..)
                .map(|record: DecisionRecord| {
                    written += 1;
                    Event::new(
                        format!("{prefix}:{written}"),
                        now,
                        Payload::DecisionLogged(DecisionLogged {
                            surface: record.request.surface.name().to_string(),
                            action: record.action.name().to_string(),
                            decided_by: record.decided_by,
                            rules_version: self.config.rules_version,
                            snapshot: record.snapshot,
                            request: serde_json::to_value(&record.request)
                                .unwrap_or(serde_json::Value::Null),
                        }),
                    )
                })
                .collect();
            let count = events.len() as u64;
            match self.store.append(events).await {
                Ok(outcomes) => {
                    // A logged decision folds by its time alone (see `read_stored`).
                    let folded_as = std::iter::repeat_with(|| Stored::LoggedDecision { at: now });
                    self.own_writes.remember(folded_as, &outcomes);
                    self.log.written.fetch_add(count, Ordering::Relaxed);
                }
                Err(error) => {
                    self.log.dropped.fetch_add(count, Ordering::Relaxed);
                    tracing::warn!(%error, count, "decisions could not be logged");
                }
            }
        }
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    match lock.read() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    match lock.write() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
