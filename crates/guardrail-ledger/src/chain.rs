//! The hash chain: each stored record commits to the one before it, so that altering,
//! removing, inserting or reordering a stored event is found by recomputing the chain.
//!
//! A record's hash is `blake3(previous hash ‖ seq ‖ len(id) ‖ id ‖ len(body) ‖ body)` with
//! integers as little-endian `u64`; the first record's previous hash is [`GENESIS`]. The
//! body is the event's canonical JSON ([`crate::event::canonical_body`]), so the chain
//! covers every field, known or not.
//!
//! What it must never do: accept a chain by trusting stored hashes. [`verify_chain`]
//! recomputes every hash from the bodies and compares.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A 32-byte chain hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChainHash(pub [u8; 32]);

/// The previous hash of the first record.
pub const GENESIS: ChainHash = ChainHash([0; 32]);

impl ChainHash {
    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// From 32 bytes, if the slice has exactly 32.
    pub fn from_slice(bytes: &[u8]) -> Option<ChainHash> {
        <[u8; 32]>::try_from(bytes).ok().map(ChainHash)
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({})", self.to_hex())
    }
}

impl fmt::Display for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Links one record to the chain: the hash a record with this sequence number, event id
/// and body has after `previous`.
pub fn link(previous: &ChainHash, seq: u64, event_id: &str, body: &[u8]) -> ChainHash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&previous.0);
    hasher.update(&seq.to_le_bytes());
    hasher.update(&(event_id.len() as u64).to_le_bytes());
    hasher.update(event_id.as_bytes());
    hasher.update(&(body.len() as u64).to_le_bytes());
    hasher.update(body);
    ChainHash(*hasher.finalize().as_bytes())
}

/// One stored record of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Position in the ledger, from 1, without gaps.
    pub seq: u64,
    /// The event's client-supplied id.
    pub event_id: String,
    /// The event's type (for indexes; also inside the body).
    pub kind: String,
    /// Platform time of the event, Unix seconds (also inside the body).
    pub at: u64,
    /// The event's canonical JSON.
    pub body: Vec<u8>,
    /// The chain hash after this record.
    pub hash: ChainHash,
}

/// Where and why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger chain broken at sequence {seq}: {why}")]
pub struct ChainBreak {
    /// The first sequence number that does not verify.
    pub seq: u64,
    /// What is wrong there.
    pub why: String,
}

/// Verifies a run of records that must follow `previous` (the hash after `expected_seq - 1`).
///
/// Detects an altered record (its hash no longer matches its body), a removed one (a gap
/// in sequence numbers, or a hash that no longer follows), an inserted one, and reordered
/// ones, naming the first bad sequence number.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    previous: ChainHash,
    next_seq: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier::new()
    }
}

impl ChainVerifier {
    /// A verifier at the start of the ledger.
    pub fn new() -> ChainVerifier {
        ChainVerifier {
            previous: GENESIS,
            next_seq: 1,
        }
    }

    /// A verifier that continues after a trusted point (a checkpoint).
    pub fn resume(previous: ChainHash, next_seq: u64) -> ChainVerifier {
        ChainVerifier { previous, next_seq }
    }

    /// Checks the next record.
    pub fn check(&mut self, record: &Record) -> Result<(), ChainBreak> {
        if record.seq != self.next_seq {
            return Err(ChainBreak {
                seq: self.next_seq.min(record.seq),
                why: format!(
                    "expected sequence {} next, found {} (a record was removed, inserted or moved)",
                    self.next_seq, record.seq
                ),
            });
        }
        let expected = link(&self.previous, record.seq, &record.event_id, &record.body);
        if expected != record.hash {
            return Err(ChainBreak {
                seq: record.seq,
                why: format!(
                    "stored hash {} does not match the record's content (expected {expected}): the record or one before it was altered",
                    record.hash
                ),
            });
        }
        self.previous = record.hash;
        self.next_seq += 1;
        Ok(())
    }

    /// The hash after the last record checked.
    pub fn head(&self) -> ChainHash {
        self.previous
    }

    /// Records checked so far (the last sequence number).
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }
}

/// Verifies a whole ledger from its first record.
pub fn verify_chain<'a>(records: impl IntoIterator<Item = &'a Record>) -> Result<u64, ChainBreak> {
    let mut verifier = ChainVerifier::new();
    for record in records {
        verifier.check(record)?;
    }
    Ok(verifier.last_seq())
}

/// Appends records to a chain: assigns sequence numbers and hashes in order.
#[derive(Debug, Clone)]
pub struct ChainWriter {
    head: ChainHash,
    next_seq: u64,
}

impl ChainWriter {
    /// A writer after `head` (the hash of record `next_seq - 1`, or [`GENESIS`]).
    pub fn new(head: ChainHash, next_seq: u64) -> ChainWriter {
        ChainWriter { head, next_seq }
    }

    /// Seals the next record.
    pub fn seal(&mut self, event_id: String, kind: String, at: u64, body: Vec<u8>) -> Record {
        let seq = self.next_seq;
        let hash = link(&self.head, seq, &event_id, &body);
        self.head = hash;
        self.next_seq += 1;
        Record {
            seq,
            event_id,
            kind,
            at,
            body,
            hash,
        }
    }

    /// The hash after the last sealed record.
    pub fn head(&self) -> ChainHash {
        self.head
    }

    /// The sequence number the next record gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<Record> {
        let mut writer = ChainWriter::new(GENESIS, 1);
        (0..n)
            .map(|i| {
                writer.seal(
                    format!("e-{i}"),
                    "follow".into(),
                    1_000 + i,
                    format!("{{\"n\":{i}}}").into_bytes(),
                )
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let records = chain(5);
        assert_eq!(verify_chain(&records), Ok(5));
        assert_eq!(verify_chain(&[]), Ok(0));
    }

    #[test]
    fn every_kind_of_tampering_names_the_first_bad_sequence() {
        type Tamper = fn(&mut Vec<Record>);
        let cases: &[(&str, Tamper, u64)] = &[
            ("altered body", |r| r[2].body = b"{\"n\":99}".to_vec(), 3),
            ("altered id", |r| r[3].event_id = "e-x".into(), 4),
            (
                "removed",
                |r| {
                    r.remove(1);
                },
                2,
            ),
            (
                "removed last but one and renumbered",
                |r| {
                    r.remove(3);
                    r[3].seq = 4;
                },
                4,
            ),
            (
                "inserted",
                |r| {
                    let mut extra = r[1].clone();
                    extra.event_id = "e-new".into();
                    r.insert(2, extra);
                },
                2,
            ),
            ("reordered", |r| r.swap(1, 2), 2),
            (
                "reordered and renumbered",
                |r| {
                    r.swap(1, 2);
                    r[1].seq = 2;
                    r[2].seq = 3;
                },
                2,
            ),
        ];
        for (what, tamper, first_bad) in cases {
            let mut records = chain(5);
            tamper(&mut records);
            let error = verify_chain(&records).expect_err(what);
            assert_eq!(error.seq, *first_bad, "{what}: {error}");
        }
    }

    #[test]
    fn resume_continues_after_a_trusted_point() {
        let records = chain(6);
        let mut verifier = ChainVerifier::resume(records[2].hash, 4);
        for record in &records[3..] {
            verifier.check(record).expect("continues");
        }
        assert_eq!(verifier.head(), records[5].hash);
    }
}
