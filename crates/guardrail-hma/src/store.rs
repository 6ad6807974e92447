//! The HMA state in memory: banks, banked content, exchanges, and the indexes lookups
//! read (PDQ through `guardrail-hashindex`, `video_md5` exactly).
//!
//! Every change goes through [`Store::apply`] with a [`BankChange`], whether it comes
//! from a route (after the journal recorded it) or from a replay, so the state a
//! replay rebuilds is the state the routes built. Routes check a change against the
//! store *before* recording it ([`Store`]'s read methods), so `apply` only fails on a
//! journal that does not fit (a replay of someone else's log). This module never does
//! IO and never looks at a clock: times come in as arguments.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use guardrail_hashindex::{Bank, BankConfig, Entry, Strategy};
use guardrail_pdq::PdqHash;
use serde::Serialize;
use serde_json::Value;

use crate::coerce;
use crate::journal::BankChange;
use crate::signals::{PDQ_MATCH_THRESHOLD, SignalType};

/// `disable_until_ts` of enabled content (HMA's `BankContentConfig.ENABLED`).
pub const CONTENT_ENABLED: i64 = 1;
/// `disable_until_ts` of content disabled for good (HMA's `DISABLED`).
pub const CONTENT_DISABLED: i64 = 0;

/// Banks at least this large are scanned with the thread pool.
const THREADED_SCAN_FROM: usize = 200_000;

/// A bank as HMA shows it (`{"matching_enabled_ratio": 1.0, "name": "X"}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BankView {
    /// Matching ratio: 1.0 always matches, 0.0 never, in between a per-request coin flip.
    pub matching_enabled_ratio: f64,
    /// The bank's name.
    pub name: String,
}

#[derive(Debug, Clone)]
struct BankRecord {
    ratio: f64,
    created: u64,
    content: BTreeSet<u64>,
}

/// One banked item.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentRecord {
    /// Its id.
    pub id: u64,
    /// Its bank's name.
    pub bank: String,
    /// Signal type name to signal.
    pub signals: BTreeMap<String, String>,
    /// 0 disabled, 1 enabled, else disabled until then (Unix seconds).
    pub disable_until_ts: i64,
    /// User metadata (`content_id`, `content_uri`, `json`).
    pub user_metadata: Option<Value>,
    /// Free-text note.
    pub note: Option<String>,
    /// When it was added (Unix seconds).
    pub added_at: i64,
}

impl ContentRecord {
    /// Whether lookups return it at time `now` (HMA's `BankContentConfig.enabled`).
    pub fn enabled_at(&self, now: i64) -> bool {
        match self.disable_until_ts {
            CONTENT_DISABLED => false,
            CONTENT_ENABLED => true,
            until => until <= now,
        }
    }
}

/// A configured exchange. Guardrail never fetches from it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeRecord {
    /// Its name (also its bank's).
    pub name: String,
    /// Its type.
    pub api: String,
    /// Whether fetching is enabled.
    pub enabled: bool,
    /// Type-specific settings.
    pub config: BTreeMap<String, Value>,
    created: u64,
}

/// One match of a lookup: HMA's `{"bank_content_id": 4, "distance": "0"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchView {
    /// The content id.
    pub bank_content_id: u64,
    /// The distance as HMA prints it (`"26"`; `"-"` for exact-only types).
    pub distance: String,
}

/// The PDQ index: one `guardrail-hashindex` bank over every banked PDQ signal, whatever
/// HMA bank it is in (HMA's index is one per signal type too), with the content id of
/// each entry number.
pub(crate) struct PdqIndex {
    bank: Bank,
    content_at: Vec<u64>,
    entry_of: HashMap<u64, usize>,
}

impl std::fmt::Debug for PdqIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdqIndex")
            .field("live", &self.entry_of.len())
            .field("multi_index", &self.bank.multi_index_memory().is_some())
            .finish()
    }
}

fn pdq_bank_config() -> BankConfig {
    BankConfig::positive("hma-pdq")
}

impl PdqIndex {
    fn empty() -> PdqIndex {
        PdqIndex::build(Vec::new())
    }

    /// An index over these (content id, hash, added at), with the multi-index built over
    /// all of them, so only later additions are scanned flat.
    fn build(entries: Vec<(u64, PdqHash, i64)>) -> PdqIndex {
        let content_at: Vec<u64> = entries.iter().map(|(id, _, _)| *id).collect();
        let entry_of = content_at
            .iter()
            .enumerate()
            .map(|(number, id)| (*id, number))
            .collect();
        let mut bank = Bank::from_entries(
            pdq_bank_config(),
            entries.into_iter().map(|(id, hash, added_at)| Entry {
                hash,
                source: "hma".to_string(),
                entry_id: id.to_string(),
                added_at,
            }),
        );
        if !content_at.is_empty() {
            // Past u32::MAX entries the multi-index cannot be built; the flat scan is exact too.
            let _ = bank.build_multi_index();
        }
        PdqIndex {
            bank,
            content_at,
            entry_of,
        }
    }

    fn add(&mut self, id: u64, hash: PdqHash, added_at: i64) {
        let number = self.bank.add(Entry {
            hash,
            source: "hma".to_string(),
            entry_id: id.to_string(),
            added_at,
        });
        if self.content_at.len() <= number {
            self.content_at.resize(number + 1, 0);
        }
        self.content_at[number] = id;
        self.entry_of.insert(id, number);
    }

    fn remove(&mut self, id: u64) {
        if let Some(number) = self.entry_of.remove(&id) {
            self.bank.remove(number);
        }
    }

    fn search(&self, hash: PdqHash) -> Vec<(u64, u32)> {
        let threads = self.entry_of.len() >= THREADED_SCAN_FROM;
        self.bank
            .search(&[hash], PDQ_MATCH_THRESHOLD, Strategy::MultiIndex, threads)
            .into_iter()
            .filter_map(|m| Some((*self.content_at.get(m.position)?, m.distance)))
            .collect()
    }
}

/// The whole HMA state.
#[derive(Debug)]
pub struct Store {
    banks: HashMap<String, BankRecord>,
    contents: HashMap<u64, ContentRecord>,
    next_content_id: u64,
    pdq: PdqIndex,
    md5: HashMap<String, BTreeSet<u64>>,
    exchanges: HashMap<String, ExchangeRecord>,
    credentials: BTreeMap<String, bool>,
    created: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    /// An empty store; content ids start at 1.
    pub fn new() -> Store {
        Store {
            banks: HashMap::new(),
            contents: HashMap::new(),
            next_content_id: 1,
            pdq: PdqIndex::empty(),
            md5: HashMap::new(),
            exchanges: HashMap::new(),
            credentials: BTreeMap::new(),
            created: 0,
        }
    }

    // -- reads ------------------------------------------------------------------------

    /// A bank by name.
    pub fn bank(&self, name: &str) -> Option<BankView> {
        self.banks.get(name).map(|record| BankView {
            matching_enabled_ratio: record.ratio,
            name: name.to_string(),
        })
    }

    /// Every bank, in creation order (HMA lists them in database order).
    pub fn banks(&self) -> Vec<BankView> {
        let mut records: Vec<(&String, &BankRecord)> = self.banks.iter().collect();
        records.sort_by_key(|(_, record)| record.created);
        records
            .into_iter()
            .map(|(name, record)| BankView {
                matching_enabled_ratio: record.ratio,
                name: name.clone(),
            })
            .collect()
    }

    /// Content by id, if it is in the named bank.
    pub fn content_in(&self, bank: &str, id: u64) -> Option<&ContentRecord> {
        self.contents.get(&id).filter(|record| record.bank == bank)
    }

    /// The id the next added content gets.
    pub fn next_content_id(&self) -> u64 {
        self.next_content_id
    }

    /// Number of banked signals of a type (for `/m/index/status`).
    pub fn signal_count(&self, signal_type: SignalType) -> usize {
        match signal_type {
            SignalType::Pdq => self.pdq.entry_of.len(),
            SignalType::VideoMd5 => self.md5.values().map(BTreeSet::len).sum(),
        }
    }

    /// Newest `added_at` of any banked content of a type (-1 when none).
    pub fn newest_added_at(&self, signal_type: SignalType) -> i64 {
        self.contents
            .values()
            .filter(|record| record.signals.contains_key(signal_type.name()))
            .map(|record| record.added_at)
            .max()
            .unwrap_or(-1)
    }

    /// An exchange by name.
    pub fn exchange(&self, name: &str) -> Option<&ExchangeRecord> {
        self.exchanges.get(name)
    }

    /// Every exchange name, in creation order.
    pub fn exchange_names(&self) -> Vec<String> {
        let mut records: Vec<&ExchangeRecord> = self.exchanges.values().collect();
        records.sort_by_key(|record| record.created);
        records.into_iter().map(|r| r.name.clone()).collect()
    }

    /// Whether credentials were set for an exchange type.
    pub fn credentials_set(&self, api: &str) -> bool {
        self.credentials.get(api).copied().unwrap_or(false)
    }

    /// Every content matching a validated signal, with HMA's distance text, in index
    /// order. Asks the index only: no enabled or bank filtering (`/m/raw_lookup`).
    pub fn query(&self, signal_type: SignalType, signal: &str) -> Vec<MatchView> {
        match signal_type {
            SignalType::Pdq => match coerce::pdq_signal(signal) {
                Some(hash) => self
                    .pdq
                    .search(hash)
                    .into_iter()
                    .map(|(id, distance)| MatchView {
                        bank_content_id: id,
                        distance: distance.to_string(),
                    })
                    .collect(),
                None => Vec::new(),
            },
            // pytx's TrivialSignalTypeIndex: exact match, no distance ("-").
            SignalType::VideoMd5 => self
                .md5
                .get(signal)
                .into_iter()
                .flatten()
                .map(|id| MatchView {
                    bank_content_id: *id,
                    distance: "-".to_string(),
                })
                .collect(),
        }
    }

    /// The bank of a content id.
    pub fn bank_of(&self, id: u64) -> Option<&str> {
        self.contents.get(&id).map(|record| record.bank.as_str())
    }

    /// HMA's `lookup()`: index matches, minus disabled content, grouped by bank, minus
    /// banks whose ratio is below the coin flip `coin` (0 ≤ coin < 1; 0 when bypassed),
    /// intersected with `only_banks` when given. No bank appears without a match.
    pub fn lookup(
        &self,
        signal_type: SignalType,
        signal: &str,
        coin: f64,
        only_banks: Option<&BTreeSet<String>>,
        now: i64,
    ) -> BTreeMap<String, Vec<MatchView>> {
        let mut by_bank: BTreeMap<String, Vec<MatchView>> = BTreeMap::new();
        for found in self.query(signal_type, signal) {
            let Some(record) = self.contents.get(&found.bank_content_id) else {
                continue;
            };
            if !record.enabled_at(now) {
                continue;
            }
            let Some(bank) = self.banks.get(&record.bank) else {
                continue;
            };
            if bank.ratio < coin {
                continue;
            }
            if only_banks.is_some_and(|names| !names.contains(&record.bank)) {
                continue;
            }
            by_bank.entry(record.bank.clone()).or_default().push(found);
        }
        by_bank
    }

    /// Every live content's (id, hash, added at) with a PDQ signal, for a rebuild.
    fn pdq_entries(&self) -> Vec<(u64, PdqHash, i64)> {
        let mut entries: Vec<(u64, PdqHash, i64)> = self
            .contents
            .values()
            .filter_map(|record| {
                let hash = coerce::pdq_signal(record.signals.get(SignalType::Pdq.name())?)?;
                Some((record.id, hash, record.added_at))
            })
            .collect();
        entries.sort_by_key(|(id, _, _)| *id);
        entries
    }

    /// Rebuilds the PDQ index from the live content with a multi-index over all of it
    /// (additions since the last rebuild are otherwise scanned flat).
    pub fn rebuild_pdq_index(&mut self) {
        self.pdq = self.rebuilt_pdq_index();
    }

    /// A fresh PDQ index over the live content, built without changing the store.
    pub(crate) fn rebuilt_pdq_index(&self) -> PdqIndex {
        PdqIndex::build(self.pdq_entries())
    }

    /// Swaps in an index built by [`Store::rebuilt_pdq_index`] from this same state.
    pub(crate) fn replace_pdq_index(&mut self, index: PdqIndex) {
        self.pdq = index;
    }

    // -- the one way to change the store ------------------------------------------------

    /// Applies one change. Fails, leaving the store as it was, when the change does not
    /// fit the store (a bank that already exists, content in a missing bank, a reused id).
    pub fn apply(&mut self, change: &BankChange) -> Result<(), String> {
        match change {
            BankChange::BankCreated {
                name,
                matching_enabled_ratio,
            } => {
                if self.banks.contains_key(name) {
                    return Err(format!("bank {name} already exists"));
                }
                self.insert_bank(name, *matching_enabled_ratio);
            }
            BankChange::BankUpdated {
                name,
                new_name,
                matching_enabled_ratio,
            } => {
                if name != new_name && self.banks.contains_key(new_name) {
                    return Err(format!("cannot rename bank {name}: {new_name} exists"));
                }
                let mut record = self
                    .banks
                    .remove(name)
                    .ok_or_else(|| format!("bank {name} does not exist"))?;
                record.ratio = *matching_enabled_ratio;
                for id in &record.content {
                    if let Some(content) = self.contents.get_mut(id) {
                        content.bank = new_name.clone();
                    }
                }
                self.banks.insert(new_name.clone(), record);
            }
            BankChange::BankDeleted { name } => {
                if let Some(record) = self.banks.remove(name) {
                    for id in record.content {
                        self.remove_content(id);
                    }
                }
            }
            BankChange::ContentAdded {
                id,
                bank,
                signals,
                user_metadata,
                note,
                added_at,
            } => self.add_content(ContentRecord {
                id: *id,
                bank: bank.clone(),
                signals: signals.clone(),
                disable_until_ts: CONTENT_ENABLED,
                user_metadata: user_metadata.clone(),
                note: note.clone(),
                added_at: *added_at,
            })?,
            BankChange::ContentUpdated {
                id,
                bank,
                disable_until_ts,
                note,
            } => {
                let record = self
                    .contents
                    .get_mut(id)
                    .filter(|record| &record.bank == bank)
                    .ok_or_else(|| format!("content {id} is not in bank {bank}"))?;
                record.disable_until_ts = *disable_until_ts;
                record.note = note.clone();
            }
            BankChange::ContentRemoved { id, bank } => {
                if self.content_in(bank, *id).is_some() {
                    self.remove_content(*id);
                }
            }
            BankChange::ExchangeCreated {
                name,
                api,
                enabled,
                config,
            } => {
                if self.banks.contains_key(name) || self.exchanges.contains_key(name) {
                    return Err(format!("bank or exchange {name} already exists"));
                }
                self.insert_bank(name, 1.0);
                self.exchanges.insert(
                    name.clone(),
                    ExchangeRecord {
                        name: name.clone(),
                        api: api.clone(),
                        enabled: *enabled,
                        config: config.clone(),
                        created: self.created,
                    },
                );
            }
            BankChange::ExchangeUpdated { name, enabled } => {
                let record = self
                    .exchanges
                    .get_mut(name)
                    .ok_or_else(|| format!("exchange {name} does not exist"))?;
                record.enabled = *enabled;
            }
            BankChange::ExchangeDeleted { name } => {
                self.exchanges.remove(name);
            }
            BankChange::ExchangeCredentialsSet { api, set } => {
                self.credentials.insert(api.clone(), *set);
            }
        }
        Ok(())
    }

    fn insert_bank(&mut self, name: &str, ratio: f64) {
        self.created += 1;
        self.banks.insert(
            name.to_string(),
            BankRecord {
                ratio,
                created: self.created,
                content: BTreeSet::new(),
            },
        );
    }

    fn add_content(&mut self, record: ContentRecord) -> Result<(), String> {
        let id = record.id;
        if self.contents.contains_key(&id) || id == 0 {
            return Err(format!("content id {id} is already taken or invalid"));
        }
        if !self.banks.contains_key(&record.bank) {
            return Err(format!("bank {} does not exist", record.bank));
        }
        // Validate every signal before touching an index, so a bad change leaves no trace.
        let mut pdq = None;
        let mut md5 = None;
        for (name, signal) in &record.signals {
            match SignalType::from_name(name) {
                Some(SignalType::Pdq) => {
                    pdq = Some(
                        coerce::pdq_signal(signal)
                            .ok_or_else(|| format!("content {id}: invalid PDQ hash"))?,
                    );
                }
                Some(SignalType::VideoMd5) => {
                    md5 = Some(
                        coerce::md5_signal(signal)
                            .ok_or_else(|| format!("content {id}: invalid MD5 hash"))?,
                    );
                }
                None => return Err(format!("content {id}: no such signal type {name}")),
            }
        }
        if let Some(hash) = pdq {
            self.pdq.add(id, hash, record.added_at);
        }
        if let Some(text) = md5 {
            self.md5.entry(text).or_default().insert(id);
        }
        if let Some(bank) = self.banks.get_mut(&record.bank) {
            bank.content.insert(id);
        }
        self.next_content_id = self.next_content_id.max(id.saturating_add(1));
        self.contents.insert(id, record);
        Ok(())
    }

    fn remove_content(&mut self, id: u64) {
        let Some(record) = self.contents.remove(&id) else {
            return;
        };
        self.pdq.remove(id);
        if let Some(signal) = record.signals.get(SignalType::VideoMd5.name())
            && let Some(ids) = self.md5.get_mut(signal)
        {
            ids.remove(&id);
            if ids.is_empty() {
                self.md5.remove(signal);
            }
        }
        if let Some(bank) = self.banks.get_mut(&record.bank) {
            bank.content.remove(&id);
        }
    }
}
