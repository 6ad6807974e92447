//! Fuzzes bank files (`guardrail_hashindex::BankBytes`, the memory-mapped format) both
//! ways:
//! - arbitrary bytes as a bank file: either refused with an error or validated, and then
//!   every entry reads without panicking, the bank rewritten (`Bank::compact`) reads back
//!   to the same settings and entries, every entry matches itself at distance 0, and the
//!   multi-index finds exactly what the flat scan finds;
//! - the same bytes cut into entries and written with `encode_bank`: the bytes read back
//!   to exactly those entries.
//!
//! Must never: write files (banks are built in memory).
#![no_main]

use guardrail_hashindex::{
    AlignedBytes, Bank, BankBytes, BankConfig, BankKind, Entry, Storage, Strategy, encode_bank,
};
use guardrail_pdq::PdqHash;
use libfuzzer_sys::fuzz_target;

fn read_back(bytes: &[u8], origin: &str) -> (BankConfig, Vec<Entry>) {
    let bank = BankBytes::new(AlignedBytes::from(bytes), origin)
        .unwrap_or_else(|e| panic!("a bank we wrote does not read back: {e}"));
    let entries = (0..bank.len()).map(|i| bank.entry(i)).collect();
    (bank.config().clone(), entries)
}

/// Checks a validated bank: entries, the rewrite, self-matches and the two strategies.
fn check_bank(bank_bytes: BankBytes<AlignedBytes>) {
    let config = bank_bytes.config().clone();
    let entries: Vec<Entry> = (0..bank_bytes.len()).map(|i| bank_bytes.entry(i)).collect();
    let mut bank = Bank::new(config.clone(), Box::new(bank_bytes));
    let (config_again, entries_again) = read_back(&bank.compact(), "compacted");
    assert_eq!(config, config_again, "settings changed in the rewrite");
    assert_eq!(entries, entries_again, "entries changed in the rewrite");
    // Bounded so that one input stays fast; positions beyond are covered by the scan.
    let queries: Vec<PdqHash> = entries.iter().take(16).map(|e| e.hash).collect();
    if queries.is_empty() {
        return;
    }
    let flat = bank.search(&queries, 8, Strategy::Flat, false);
    for (query, hash) in queries.iter().enumerate() {
        assert!(
            flat.iter()
                .any(|m| m.query == query && m.distance == 0 && entries[m.position].hash == *hash),
            "entry {query} does not match itself"
        );
    }
    if bank.build_multi_index().is_ok() {
        let mut indexed = bank.search(&queries, 8, Strategy::MultiIndex, false);
        let mut flat = flat;
        let key = |m: &guardrail_hashindex::scan::RawMatch| (m.position, m.query, m.distance);
        indexed.sort_by_key(key);
        flat.sort_by_key(key);
        assert_eq!(indexed, flat, "the multi-index and the flat scan disagree");
    }
}

/// Reads the input front to back; past its end, reads give zeros and empty slices.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(n.min(self.0.len()));
        self.0 = tail;
        head
    }

    fn byte(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    /// A short string (lossy UTF-8, as the reader gives strings back).
    fn text(&mut self) -> String {
        let len = self.byte() as usize % 24;
        String::from_utf8_lossy(self.take(len)).into_owned()
    }
}

/// Entries cut out of the input: 32 bytes of hash, a length-prefixed source and id, and
/// eight bytes of time.
fn entries_from(data: &[u8]) -> (BankConfig, Vec<Entry>) {
    let mut input = Bytes(data);
    let flags = input.byte();
    let config = BankConfig {
        name: input.text(),
        kind: if flags & 1 == 0 {
            BankKind::Positive
        } else {
            BankKind::Negative
        },
        threshold: u32::from(flags >> 1),
        quality_floor: u32::from(flags >> 4),
    };
    let mut entries = Vec::new();
    while input.0.len() >= 32 && entries.len() < 64 {
        let mut hash = [0u8; 32];
        hash.copy_from_slice(input.take(32));
        let source = input.text();
        let entry_id = input.text();
        let mut time = [0u8; 8];
        let bytes = input.take(8);
        time[..bytes.len()].copy_from_slice(bytes);
        entries.push(Entry {
            hash: PdqHash(hash),
            source,
            entry_id,
            added_at: i64::from_le_bytes(time),
        });
    }
    (config, entries)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(bank) = BankBytes::new(AlignedBytes::from(data), "fuzz.bank") {
        check_bank(bank);
    }
    let (config, entries) = entries_from(data);
    let written = encode_bank(&config, &entries);
    let (config_again, entries_again) = read_back(&written, "encoded");
    assert_eq!(config, config_again);
    assert_eq!(entries, entries_again);
});
